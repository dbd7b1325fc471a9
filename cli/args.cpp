#include <algorithm>

#include "commands.hpp"
#include "ctrnn/error.hpp"

namespace ctrnn::cli {

Args Args::parse(int argc, char** argv, int first, const std::vector<std::string>& flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    const std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      if (std::find(flags.begin(), flags.end(), s) == flags.end())
        throw InvalidArgument(s, "one of the command's options (see ctrnn --help)", "unknown option");
      if (i + 1 >= argc) throw InvalidArgument(s, "a value after it", "nothing");
      a.options[s] = argv[++i];
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string Args::get(const std::string& flag, const std::string& fallback) const {
  auto it = options.find(flag);
  return it == options.end() ? fallback : it->second;
}

}  // namespace ctrnn::cli
