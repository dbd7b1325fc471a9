#include "input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ctrnn/error.hpp"

namespace ctrnn::detail {

namespace {

std::string with_errno(const std::string& what, const std::string& path) {
  return "ctrnn: cannot read " + what + " '" + path + "': " + std::strerror(errno);
}

struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

}  // namespace

std::string read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer before fstat refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw FileError(with_errno(what, path));
  const Fd guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw FileError(with_errno(what, path));
  if (!S_ISREG(st.st_mode))
    throw FileError("ctrnn: cannot read " + what + " '" + path + "': not a regular file (" +
                    (S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a pipe" : "a device or socket") + ")");
  const uint64_t size = uint64_t(st.st_size);
  if (size > max_bytes)
    throw FileError("ctrnn: cannot read " + what + " '" + path + "': " + std::to_string(size) +
                    " bytes, more than the limit of " + std::to_string(max_bytes));
  std::string bytes(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, bytes.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw FileError(with_errno(what, path));
    if (n == 0) break;  // shrank while being read: parse what is there
    done += size_t(n);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace ctrnn::detail
