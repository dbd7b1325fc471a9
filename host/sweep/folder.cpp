// The sweep folder: DIR/sweep.json (the normalized spec, its fingerprint, the plan),
// DIR/packs/NNN/config.json, each pack's outcome.txt; created or checked by plan_sweep; and the
// lock of the process running the sweep (SweepFolderLock).
#include "sweep/folder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ctrnn/error.hpp"
#include "ctrnn/sweep.hpp"
#include "folder_lock.hpp"
#include "json_input.hpp"
#include "sweep/spec.hpp"

namespace ctrnn {

namespace fs = std::filesystem;
using nlohmann::json;

namespace detail {

void write_text_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const auto fail = [&](const char* what) {
    const std::string reason = std::strerror(errno);
    ::unlink(tmp.c_str());
    throw WriteError("ctrnn: cannot " + std::string(what) + " '" + path + "': " + reason);
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("create");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("write");
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("sync");
  }
  if (::close(fd) != 0) fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename into");
}

std::string read_text_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  if (!in) throw InvalidArgument(what, "a readable file", "'" + path + "'");
  return s.str();
}

}  // namespace detail

namespace {

constexpr const char* kFormat = "ctrnn-sweep";
constexpr int kFormatVersion = 1;

std::string fingerprint(const json& normalized) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : normalized.dump()) h = (h ^ c) * 1099511628211ull;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
  return buf;
}

// The first path where two specs differ ("space.training.lr"), with both values; empty if none.
bool first_difference(const json& a, const json& b, const std::string& path, std::string& where, json& va, json& vb) {
  if (a == b) return false;
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items())
      if (!b.contains(k) || first_difference(v, b[k], path.empty() ? k : path + "." + k, where, va, vb)) {
        if (!b.contains(k)) where = path.empty() ? k : path + "." + k, va = v, vb = json();
        return true;
      }
    for (const auto& [k, v] : b.items())
      if (!a.contains(k)) {
        where = path.empty() ? k : path + "." + k, va = json(), vb = v;
        return true;
      }
  }
  where = path, va = a, vb = b;
  return true;
}

std::string shown(const json& v) { return v.is_null() ? "nothing" : detail::brief(v); }

json plan_json(const detail::SweepSpec& s) {
  json packs = json::array();
  for (const SweepPack& p : s.plan.packs) {
    json networks = json::array();
    for (const SweepNetwork& n : p.networks) {
      json values = json::array();
      for (const auto& [name, v] : n.values) values.push_back({name, json::parse(v)});
      networks.push_back({{"index", n.index}, {"point", n.point}, {"seed", n.seed}, {"values", values}});
    }
    packs.push_back({{"index", p.index}, {"dir", p.dir}, {"networks", networks}});
  }
  return {{"format", kFormat},          {"format_version", kFormatVersion},
          {"spec", s.normalized},       {"fingerprint", fingerprint(s.normalized)},
          {"parameters", s.plan.parameters}, {"networks", s.plan.networks},
          {"packs", packs}};
}

[[noreturn]] void refuse_folder(const std::string& out, const std::string& problem) {
  throw InvalidArgument("--out", "a new or empty folder, or one holding this same sweep", "'" + out + "' " + problem);
}

json read_sweep_json(const std::string& out) {
  const std::string path = out + "/sweep.json";
  const json j = detail::parse_json_input(detail::read_text_file(path, "--out"), path);
  if (!j.is_object() || j.find("format") == j.end() || *j.find("format") != kFormat || !j.contains("spec") ||
      !j.contains("packs"))
    refuse_folder(out, "holds a sweep.json that ctrnn sweep did not write");
  const json version = j.contains("format_version") ? j["format_version"] : json();
  if (!version.is_number_integer() || version.get<int64_t>() > kFormatVersion)
    refuse_folder(out, "holds a sweep.json of format version " + detail::brief(version) + " (this ctrnn reads " +
                           std::to_string(kFormatVersion) + ")");
  return j;
}

}  // namespace

SweepPlan load_sweep(const std::string& out) {
  const json j = read_sweep_json(out);
  SweepPlan plan;
  plan.dir = out;
  try {
    plan.parameters = j.at("parameters").get<std::vector<std::string>>();
    plan.networks = j.at("networks").get<int64_t>();
    for (const json& p : j.at("packs")) {
      SweepPack pack;
      pack.index = p.at("index").get<int64_t>();
      pack.dir = out + "/" + p.at("dir").get<std::string>();
      pack.config_text = detail::read_text_file(pack.dir + "/config.json", "--out");
      int64_t k = 0;
      for (const json& n : p.at("networks")) {
        SweepNetwork net;
        net.index = n.at("index").get<int64_t>();
        net.point = n.at("point").get<int64_t>();
        net.seed = n.at("seed").get<int64_t>();
        net.pack = pack.index;
        net.index_in_pack = k++;
        for (const json& v : n.at("values")) net.values.emplace_back(v.at(0).get<std::string>(), v.at(1).dump());
        pack.networks.push_back(std::move(net));
      }
      plan.packs.push_back(std::move(pack));
    }
  } catch (const json::exception&) {
    refuse_folder(out, "holds a sweep.json whose plan is damaged");
  }
  return plan;
}

void SweepFolderLock::acquire(const std::string& out) {
  if (fd_ >= 0) throw StateError("ctrnn: a SweepFolderLock holds one folder's lock at most");
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  if (fs::exists(st) && !fs::is_directory(st)) refuse_folder(out, "is not a folder");
  fs::create_directories(out, ec);
  if (ec) refuse_folder(out, "cannot be created: " + ec.message());
  const std::string path = out + "/" + detail::kFolderLockName;
  fd_ = detail::lock_file(path, true);
  if (fd_ == -1)
    throw InvalidArgument("--out", "a sweep folder no other sweep is running in",
                          "'" + out + "', locked by another ctrnn sweep (" + path + ")");
  if (fd_ < 0) refuse_folder(out, "cannot hold its lock file " + path + ": " + std::strerror(errno));
}

SweepFolderLock::~SweepFolderLock() { release(); }

void SweepFolderLock::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

SweepPlan plan_sweep(const std::string& spec_text, const std::string& base_dir, const std::string& out,
                     SweepFolderLock* lock) {
  const detail::SweepSpec spec = detail::parse_sweep_spec(spec_text, base_dir);
  if (out.empty()) throw InvalidArgument("--out", "a folder for the sweep", "an empty path");
  if (lock) lock->acquire(out);
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);
  if (fs::exists(st) && !fs::is_directory(st)) refuse_folder(out, "is not a folder");
  if (fs::exists(fs::path(out) / "sweep.json", ec)) {
    const json stored = read_sweep_json(out);
    std::string where;
    json was, now;
    if (first_difference(stored["spec"], spec.normalized, "", where, was, now))
      refuse_folder(out, "holds another sweep: its " + where + " is " + shown(was) + " where the spec has " + shown(now));
  } else if (fs::exists(st)) {
    for (const fs::directory_entry& f : fs::directory_iterator(out, ec))  // the lock file aside
      if (f.path().filename() != detail::kFolderLockName) refuse_folder(out, "holds files but no sweep.json");
  }
  fs::create_directories(fs::path(out) / "packs", ec);
  if (ec) refuse_folder(out, "cannot be created: " + ec.message());
  for (const SweepPack& p : spec.plan.packs) {
    const fs::path dir = fs::path(out) / p.dir;
    fs::create_directories(dir, ec);
    if (ec) refuse_folder(out, "cannot hold '" + dir.string() + "': " + ec.message());
    const std::string config = (dir / "config.json").string();
    if (!fs::exists(config, ec) || detail::read_text_file(config, "--out") != p.config_text)
      detail::write_text_atomically(config, p.config_text);
  }
  if (!fs::exists(fs::path(out) / "sweep.json", ec))  // last: its presence means the folder is complete
    detail::write_text_atomically(out + "/sweep.json", plan_json(spec).dump(1) + "\n");
  SweepPlan plan = spec.plan;
  plan.dir = out;
  for (SweepPack& p : plan.packs) p.dir = out + "/" + p.dir;
  return plan;
}

void record_pack_outcome(const std::string& pack_dir, const std::string& status, const std::string& message) {
  if (status != "diverged" && status != "failed")
    throw InvalidArgument("status", "diverged or failed", status);
  std::string line = status + ": " + message;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  detail::write_text_atomically(pack_dir + "/outcome.txt", line + "\n");
}

void clear_pack_outcome(const std::string& pack_dir) { ::unlink((pack_dir + "/outcome.txt").c_str()); }

}  // namespace ctrnn
