#include "stop_signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <csignal>

namespace ctrnn::cli {

namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
volatile std::sig_atomic_t g_received = 0;
struct sigaction g_previous[3];

void on_signal(int signal) {
  if (g_received == 0) {
    g_received = signal;
    return;
  }
  // Async-signal-safe only: write(2) and _exit(2).
  static const char kLine[] = "ctrnn: stopped at once by a second signal (the last saved checkpoint is kept)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, kLine, sizeof kLine - 1);
  (void)ignored;
  ::_exit(128 + signal);
}

}  // namespace

StopSignals::StopSignals() {
  g_received = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int k = 0; k < 3; ++k) ::sigaction(kSignals[k], &action, &g_previous[k]);
}

StopSignals::~StopSignals() {
  for (int k = 0; k < 3; ++k) ::sigaction(kSignals[k], &g_previous[k], nullptr);
}

int StopSignals::received() const { return g_received; }

}  // namespace ctrnn::cli
