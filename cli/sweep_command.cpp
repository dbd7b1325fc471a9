// `ctrnn sweep SWEEP.json --out DIR`: plans the sweep (ctrnn/sweep.hpp), runs its unfinished packs
// as child processes of this program (`ctrnn train PACK/config.json --out PACK --resume-or-start`,
// `--workers` at a time, the cores' threads split between them), one line per pack event and an
// overall progress line, then collects results.csv. `--ray ADDRESS` hands the sweep to the Python
// package's Ray backend. `ctrnn extract`: one network of a pack as a checkpoint of its own.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/device.hpp"
#include "ctrnn/sweep.hpp"
#include "options.hpp"
#include "stop_signals.hpp"

extern char** environ;

namespace ctrnn::cli {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string duration(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string pack_name(int64_t pack) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "pack %03lld", (long long)pack);
  return buf;
}

// The last non-empty line of a pack's log (its error line), without the "ctrnn: " prefix.
std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.rfind("ctrnn: ", 0) == 0 ? last.substr(7) : last;
}

// Runs `argv` with `env` added to the environment, stdout and stderr appended to `log`. The child
// dies with this process (PR_SET_PDEATHSIG), so that a killed sweep leaves no pack running that
// would hold its folder's lock against the rerun.
pid_t start_child(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    bool replaced = false;
    for (const std::string& x : env) replaced = replaced || std::strncmp(*e, x.c_str(), x.find('=') + 1) == 0;
    if (!replaced) env_text.emplace_back(*e);
  }
  env_text.insert(env_text.end(), env.begin(), env.end());
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env_text) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError("ctrnn: cannot write '" + log + "': " + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // async-signal-safe calls only until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
  if (pid < 0) throw std::runtime_error(std::string("ctrnn: cannot start a pack: ") + std::strerror(errno));
  return pid;
}

// This program's own path, for its children.
std::string self_path() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("/proc/self/exe") : p.string();
}

// `--ray ADDRESS`: the Python package runs the sweep on the Ray cluster (python -m ctrnn sweep).
int run_on_ray(const SweepOptions& o) {
  const std::string check = "python3 -c 'import ctrnn.sweep, ray' >/dev/null 2>&1";
  if (std::system(check.c_str()) != 0)
    throw InvalidArgument("--ray", "the Python package ctrnn with Ray importable by python3 (pip install .[ray])",
                          "'import ctrnn.sweep, ray' fails");
  std::vector<std::string> argv{"python3", "-m", "ctrnn", "sweep", o.spec, "--out", o.out, "--ray", o.ray};
  if (!o.workers.empty()) argv.insert(argv.end(), {"--workers", o.workers});
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  std::cout << std::flush;
  ::execvp("python3", args.data());
  throw std::runtime_error(std::string("ctrnn: cannot run python3: ") + std::strerror(errno));
}

struct Counts {
  int64_t packs_done = 0, networks_done = 0;
};

}  // namespace

int sweep_command(const SweepOptions& o) {
  if (!o.ray.empty()) return run_on_ray(o);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int64_t workers_option = o.workers.empty() ? 0 : parse_integer(o.workers, "--workers", 1, 4096);
  parse_device(o.device);  // refused here, not in every pack
  std::ifstream in(o.spec, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || !fs::is_regular_file(o.spec))
    throw InvalidArgument("SWEEP.json", "a readable sweep spec file", "'" + o.spec + "'");
  const std::string base_dir = fs::path(o.spec).parent_path().empty() ? "." : fs::path(o.spec).parent_path().string();
  SweepFolderLock lock;  // held until the sweep ends: a second sweep into o.out is refused
  const SweepPlan plan = plan_sweep(text.str(), base_dir, o.out, &lock);

  // What the folder already holds: finished packs are skipped, a failed one is tried again.
  const std::vector<SweepResult> before = collect_sweep(o.out);
  std::deque<const SweepPack*> queue;
  Counts counts;
  size_t row = 0;
  for (const SweepPack& p : plan.packs) {
    bool finished = true;
    for (size_t k = 0; k < p.networks.size(); ++k, ++row)
      finished = finished && (before[row].status == "done" || before[row].status == "diverged");
    if (finished) {
      ++counts.packs_done;
      counts.networks_done += int64_t(p.networks.size());
    } else {
      queue.push_back(&p);
    }
  }
  const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(workers_option ? workers_option : cores, int64_t(queue.size())));
  const int threads = int(std::max<int64_t>(1, int64_t(cores) / workers));
  const int64_t total_packs = int64_t(plan.packs.size());
  std::cout << "ctrnn sweep: " << plan.networks << " networks in " << total_packs << " packs | " << counts.packs_done
            << " already done | " << workers << " workers x " << threads << " threads | " << o.out << "\n"
            << std::flush;

  const StopSignals signals;
  const std::string self = self_path();
  const auto start = Clock::now();
  const int64_t networks_before = counts.networks_done;
  std::map<pid_t, std::pair<const SweepPack*, Clock::time_point>> running;
  int64_t failed = 0, interrupted = 0;
  bool stopping = false;
  const auto progress = [&] {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const int64_t now_done = counts.networks_done - networks_before;
    const int64_t left = plan.networks - counts.networks_done;
    std::cout << "sweep: packs " << counts.packs_done << "/" << total_packs << " | networks " << counts.networks_done
              << "/" << plan.networks << " | elapsed " << duration(elapsed) << " | ETA "
              << (now_done > 0 ? duration(elapsed / double(now_done) * double(left)) : std::string("-")) << "\n"
              << std::flush;
  };
  while (!queue.empty() || !running.empty()) {
    if (signals.received() && !stopping) {
      stopping = true;
      queue.clear();
      for (const auto& r : running) ::kill(r.first, SIGTERM);  // each saves its checkpoint and exits
    }
    while (!stopping && !queue.empty() && int64_t(running.size()) < workers) {
      const SweepPack* p = queue.front();
      queue.pop_front();
      clear_pack_outcome(p->dir);
      const pid_t pid = start_child({self, "train", p->dir + "/config.json", "--out", p->dir, "--resume-or-start",
                                     "--device", o.device},
                                    {"OPENBLAS_NUM_THREADS=" + std::to_string(threads)}, p->dir + "/train.log");
      running[pid] = {p, Clock::now()};
      std::cout << pack_name(p->index) << " started: " << p->networks.size() << " networks, log " << p->dir
                << "/train.log\n"
                << std::flush;
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const SweepPack& p = *it->second.first;
    const double seconds = std::chrono::duration<double>(Clock::now() - it->second.second).count();
    running.erase(it);
    const std::string log = p.dir + "/train.log";
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char took[32];
    std::snprintf(took, sizeof took, " in %.1f s", seconds);
    if (code == kSuccess || code == kNonFiniteLoss) {
      if (code == kNonFiniteLoss) record_pack_outcome(p.dir, "diverged", last_line(log));
      ++counts.packs_done;
      counts.networks_done += int64_t(p.networks.size());
      std::cout << pack_name(p.index) << (code == kSuccess ? " done" : " stopped: every network diverged") << took
                << "\n";
      progress();
    } else if (code > 128) {
      ++interrupted;
      std::cout << pack_name(p.index) << " stopped by signal " << code - 128 << took
                << " (its checkpoint stays; rerun the sweep to continue)\n"
                << std::flush;
    } else {
      ++failed;
      const std::string why = last_line(log);
      record_pack_outcome(p.dir, "failed", why);
      std::cout << pack_name(p.index) << " failed" << took << ": " << why << " (log " << log << ")\n" << std::flush;
    }
  }
  const std::vector<SweepResult> rows = collect_sweep(o.out);
  std::map<std::string, int64_t> by_status;
  for (const SweepResult& r : rows) ++by_status[r.status];
  std::cout << "sweep: " << rows.size() << " networks: " << by_status["done"] << " done, " << by_status["diverged"]
            << " diverged, " << by_status["failed"] << " failed, " << by_status["pending"] << " pending | results "
            << o.out << "/results.csv\n"
            << std::flush;
  if (signals.received()) {
    std::cerr << printable_message("sweep stopped by a signal; rerun the same command to continue") << "\n";
    return 128 + signals.received();
  }
  if (failed > 0 || interrupted > 0) {
    std::cerr << printable_message(std::to_string(failed + interrupted) +
                                   " packs did not finish (see their train.log); rerun the same command to retry them")
              << "\n";
    return kFailure;
  }
  return kSuccess;
}

int extract_command(const ExtractOptions& o) {
  const int64_t network = parse_integer(o.network, "--network", 0, int64_t(1) << 24);
  extract_network(o.checkpoint, network, o.out, o.overwrite);
  std::cout << "network " << network << " of " << o.checkpoint << " written to " << o.out
            << " (its train_config trains it alone with ctrnn train)\n";
  return kSuccess;
}

}  // namespace ctrnn::cli
