#pragma once
// The exclusive lock that keeps two processes out of one output folder (a run folder, a sweep
// folder): an flock on FOLDER/.ctrnn.lock, which the system releases when its holder dies.
#include <string>

namespace ctrnn::detail {

inline constexpr const char* kFolderLockName = ".ctrnn.lock";

// Takes the exclusive lock of `lock_path` without waiting and returns its descriptor (close it to
// release); -1 when another process holds it, -2 when the file cannot be opened (errno says why).
// `create`: make the lock file when missing.
int lock_file(const std::string& lock_path, bool create);

}  // namespace ctrnn::detail
