#include "output_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"

namespace ctrnn::cli {

namespace fs = std::filesystem;

OutputFolder::OutputFolder(const std::string& dir, const std::string& resumed, bool overwrite) : dir_(dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InvalidArgument("--out", "a folder (created when missing)", "'" + dir + "', an existing file");
  fs::create_directories(dir, ec);
  const std::string lock_path = dir + "/.ctrnn.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (ec || lock_fd_ < 0) throw FileError("ctrnn: output folder '" + dir + "' is not writable");
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw InvalidArgument("--out", "a folder no other run is using",
                          "'" + dir + "', locked by another ctrnn run (" + lock_path + ")");
  }
  const std::string ck = checkpoint();
  const bool continues_it = !resumed.empty() && fs::exists(resumed, ec) && fs::equivalent(resumed, ck, ec);
  if (!overwrite && !continues_it && fs::exists(ck, ec)) {
    ::close(lock_fd_);
    throw InvalidArgument("--out", "a folder without an earlier run's checkpoint",
                          "'" + dir + "' holds " + ck + " (continue it with --resume " + ck +
                              ", or pass --overwrite to replace it)");
  }
}

OutputFolder::~OutputFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace ctrnn::cli
