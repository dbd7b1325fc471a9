// The output policy (run_folder.hpp): run folders, single output files and metrics.csv.
#include "ctrnn/run_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/error.hpp"
#include "folder_lock.hpp"

namespace ctrnn {

namespace fs = std::filesystem;

namespace {

using detail::kFolderLockName;
using detail::lock_file;

// Why `path` cannot be used, in words ("a file in the path: 'a/b'", "a loop of symbolic
// links"), from the error of the call that failed on it; empty when nothing is wrong with it.
std::string path_problem(const std::string& path, int error) {
  if (error == ENAMETOOLONG) return "a name too long for the file system";
  if (error == ELOOP) return "a loop of symbolic links";
  if (error == EACCES || error == EPERM) return "permission denied";
  if (error == EROFS) return "a read-only file system";
  if (error == ENOTDIR || error == EEXIST) {
    // The first ancestor that exists but is not a folder.
    fs::path prefix;
    for (const fs::path& part : fs::path(path)) {
      prefix /= part;
      struct stat st {};
      if (::stat(prefix.c_str(), &st) != 0) break;
      if (!S_ISDIR(st.st_mode) && prefix != fs::path(path)) return "'" + prefix.string() + "' in its path is a file, not a folder";
    }
  }
  return error ? std::strerror(error) : "";
}

// "'PATH'" for a message; a path longer than 300 bytes is shortened, so a hostile argument is
// not echoed back whole.
std::string quoted(const std::string& path) {
  if (path.size() <= 300) return "'" + path + "'";
  return "'" + path.substr(0, 150) + "...' (" + std::to_string(path.size()) + " bytes)";
}

[[noreturn]] void refuse_path(const std::string& option, const std::string& expected, const std::string& path,
                              const std::string& problem) {
  throw InvalidArgument(option, expected, quoted(path) + ": " + problem);
}

// What is at `path` without following a final symbolic link: 0 when nothing, else st_mode.
// Refuses a path that cannot even be looked up (too long, a loop, a file in the path).
mode_t lstat_mode(const std::string& path, const std::string& option, const std::string& expected) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return st.st_mode;
  if (errno == ENOENT) return 0;
  refuse_path(option, expected, path, path_problem(path, errno));
}

const char* kind_of(mode_t m) {
  return S_ISDIR(m) ? "a folder" : S_ISLNK(m) ? "a symbolic link" : S_ISFIFO(m) ? "a pipe" : "a device or socket";
}

[[noreturn]] void refuse_locked(const std::string& option, const std::string& dir) {
  throw InvalidArgument(option, "a folder no other run is using",
                        quoted(dir) + ", locked by another ctrnn run (" + dir + "/" + kFolderLockName + ")");
}

}  // namespace

namespace detail {

int lock_file(const std::string& lock_path, bool create) {
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd < 0) return -2;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace detail

RunFolder::RunFolder(const std::string& dir, const std::string& resumed, bool overwrite, const std::string& option)
    : dir_(dir) {
  const std::string expected = "a folder for the run's checkpoint and metrics (created when missing)";
  if (dir.empty()) throw InvalidArgument(option, expected, "an empty path");
  const mode_t m = lstat_mode(dir, option, expected);
  struct stat st {};
  if (m && ::stat(dir.c_str(), &st) != 0) refuse_path(option, expected, dir, path_problem(dir, errno));
  if (m && !S_ISDIR(st.st_mode)) refuse_path(option, expected, dir, "an existing file, not a folder");
  std::error_code ec;
  if (!m) {
    fs::create_directories(dir, ec);
    if (ec) refuse_path(option, expected, dir, "cannot be created: " + path_problem(dir, ec.value()));
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) refuse_path(option, expected, dir, "not writable: " + path_problem(dir, errno));
  lock_fd_ = lock_file(dir + "/" + kFolderLockName, true);
  if (lock_fd_ == -1) refuse_locked(option, dir);
  if (lock_fd_ < 0) refuse_path(option, expected, dir, "cannot create its lock file: " + path_problem(dir, errno));
  try {
    // Found now, not at the first save after training: what sits where the run's files go.
    const std::string ck = checkpoint(), csv = metrics();
    const mode_t ck_mode = lstat_mode(ck, option, expected);
    if (ck_mode && !S_ISREG(ck_mode))
      refuse_path(option, "a folder whose checkpoint.safetensors is a regular file (or absent)", ck, kind_of(ck_mode));
    const mode_t csv_mode = lstat_mode(csv, option, expected);
    if (csv_mode && S_ISDIR(csv_mode))
      refuse_path(option, "a folder whose metrics.csv is a file (or absent)", csv, "a folder");
    continues_ = ck_mode && !resumed.empty() && fs::equivalent(resumed, ck, ec);
    if (!overwrite && !continues_ && (ck_mode || csv_mode)) {
      const std::string earlier = ck_mode ? ck : csv;
      throw InvalidArgument(option, "a folder without an earlier run's files",
                            quoted(dir) + " holds " + earlier +
                                (ck_mode ? " (continue it with --resume " + ck + ", or pass --overwrite to replace it)"
                                         : " of a run that saved no checkpoint (pass --overwrite to replace it)"));
    }
  } catch (...) {
    ::close(lock_fd_);
    throw;
  }
}

RunFolder::~RunFolder() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void RunFolder::save(const Network& net, const Trainer& trainer, const std::map<std::string, std::string>& extra) const {
  try {
    save_checkpoint(checkpoint(), net, &trainer, extra);
  } catch (const WriteError&) {
    throw;
  } catch (const FileError& e) {
    throw WriteError(std::string(e.what()) + " (checkpoint not saved)");
  }
}

OutputFile::OutputFile(const std::string& path, const std::string& option, bool overwrite) : path_(path) {
  const std::string expected = "the path of an output file";
  if (path.empty()) throw InvalidArgument(option, expected, "an empty path");
  const mode_t m = lstat_mode(path, option, expected);
  if (m && !S_ISREG(m)) refuse_path(option, "the path of a regular output file", path, kind_of(m));
  const fs::path parent = fs::path(path).parent_path();
  const std::string folder = parent.empty() ? "." : parent.string();
  struct stat st {};
  if (::stat(folder.c_str(), &st) != 0)
    refuse_path(option, "a file in an existing folder", path, "its folder " + quoted(folder) + ": " + path_problem(folder, errno));
  if (!S_ISDIR(st.st_mode)) refuse_path(option, "a file in an existing folder", path, path_problem(path, ENOTDIR));
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    refuse_path(option, "a file in a writable folder", path, "its folder " + quoted(folder) + ": " + path_problem(folder, errno));
  // A run folder's lock (present only in folders a run has used): held while this file is written.
  lock_fd_ = lock_file(folder + "/" + kFolderLockName, false);
  if (lock_fd_ == -1) refuse_locked(option, folder);
  existed_ = m != 0;
  if (existed_ && !overwrite) {
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw InvalidArgument(option, "a path where no file exists (or --overwrite to replace it)", quoted(path) + ", an existing file");
  }
}

OutputFile::~OutputFile() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

namespace {

std::string metrics_header() {
  std::string h = "step,network,loss";
  for (int k = 0; k < kNumLossTerms; ++k) h += std::string(",") + kLossTermNames[k];
  return h + ",grad_norm,diverged,val_loss,val_accuracy,elapsed_s\n";
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

}  // namespace

MetricsCsv::MetricsCsv(const RunFolder& folder, int64_t resume_step) : path_(folder.metrics()) {
  std::string kept = metrics_header();
  if (folder.continues_checkpoint() && resume_step > 0) {
    std::ifstream in(path_);
    std::string line;
    if (std::getline(in, line) && line + "\n" == kept)
      while (std::getline(in, line))
        if (!line.empty() && std::strtoll(line.c_str(), nullptr, 10) <= resume_step) kept += line + "\n";
  }
  out_ = std::fopen(path_.c_str(), "w");
  if (!out_) throw WriteError("ctrnn: cannot write '" + path_ + "': " + std::strerror(errno));
  put(kept);
}

MetricsCsv::~MetricsCsv() {
  if (out_) std::fclose(out_);
}

void MetricsCsv::put(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fflush(out_) != 0)
    throw WriteError("ctrnn: I/O error writing '" + path_ + "': " + std::strerror(errno));
}

void MetricsCsv::write(int64_t step, const LossReport& r, const Validation& v, double elapsed_s) {
  std::string rows;
  for (size_t e = 0; e < r.total.size(); ++e) {
    rows += std::to_string(step) + "," + std::to_string(e) + "," + number(r.total[e]);
    for (double t : r.terms[e]) rows += "," + number(t);
    rows += "," + (e < r.grad_norm.size() ? number(r.grad_norm[e]) : std::string());
    rows += std::string(",") + (e < r.diverged.size() && r.diverged[e] ? "1" : "0") + ",";
    if (e < v.loss.size()) rows += number(v.loss[e]);
    rows += ",";
    if (e < v.accuracy.size() && !std::isnan(v.accuracy[e])) rows += number(v.accuracy[e]);
    rows += "," + number(elapsed_s) + "\n";
  }
  put(rows);
}

}  // namespace ctrnn
