#include "ctrnn/safetensors.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "input_file.hpp"
#include "json_input.hpp"

namespace ctrnn {

namespace {

using nlohmann::json;

// The reference implementation's limit: a larger header is not a tensor index but an attack.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

size_t dtype_size(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes{{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                                   {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

template <class T>
const char* dtype_of();
template <> const char* dtype_of<float>() { return "F32"; }
template <> const char* dtype_of<double>() { return "F64"; }
template <> const char* dtype_of<int64_t>() { return "I64"; }
template <> const char* dtype_of<uint8_t>() { return "U8"; }

// Converts n stored values of type S to T. A float that is not an integer within an integer T's
// range (NaN included) is refused: the cast would be undefined behaviour. Returns the flat index
// of the first such value, or n.
template <class S, class T>
size_t convert(const uint8_t* bytes, size_t n, T* out) {
  for (size_t i = 0; i < n; ++i) {
    S s;
    std::memcpy(&s, bytes + i * sizeof(S), sizeof(S));
    if constexpr (std::is_integral_v<T> && std::is_floating_point_v<S>) {
      static_assert(sizeof(T) == 8, "the range check below is for 64-bit integers");
      const double d = double(s);
      if (!(d >= -0x1p63 && d < 0x1p63) || d != std::trunc(d)) return i;
    }
    out[i] = static_cast<T>(s);
  }
  return n;
}

std::string system_error(const std::string& what, const std::string& path) {
  return "ctrnn: " + what + " '" + path + "': " + std::strerror(errno);
}

void write_all(int fd, const void* data, size_t n, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw FileError(system_error("cannot write", path));
    }
    p += w, n -= size_t(w);
  }
}

// A size or offset of the header: an integer >= 0 within int64 (not 5.5, not -1).
bool is_size(const json& v) { return v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t(INT64_MAX); }

std::string folder_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

// Refuses to replace what is not a regular file: renaming over a device node, a pipe or a link
// would replace that node itself.
void check_replaceable(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent (or unreachable: the write will say so)
  if (S_ISREG(st.st_mode)) return;
  const char* kind = S_ISDIR(st.st_mode) ? "a folder" : S_ISLNK(st.st_mode) ? "a symbolic link"
                     : S_ISFIFO(st.st_mode) ? "a pipe" : "a device or socket";
  throw FileError("ctrnn: cannot write '" + path + "': it exists and is " + kind + ", not a regular file");
}

// Removes "<name>.tmp.<pid>" files beside `path` whose writer process no longer runs: what a
// writer killed between creating its temporary and renaming it leaves behind.
void remove_stale_temporaries(const std::string& path) {
  const std::string dir = folder_of(path);
  const size_t slash = path.find_last_of('/');
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = pid_t(std::stol(digits));
    if (pid == ::getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;  // running, or not ours to judge
    const std::string stale = dir + "/" + name;
    struct stat st {};
    if (::lstat(stale.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(stale.c_str());
  }
  ::closedir(d);
}

}  // namespace

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  return parse(detail::read_regular_file(path, "safetensors file", UINT64_MAX), path);
}

SafetensorsFile SafetensorsFile::parse(const std::string& bytes, const std::string& source) {
  auto bad = [&](const std::string& why) {
    return FileError("ctrnn: '" + source + "' is not a valid safetensors file: " + why);
  };
  const uint64_t file_size = bytes.size();
  if (file_size < 8) throw bad("shorter than its 8-byte header size (truncated?)");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | uint8_t(bytes[size_t(i)]);
  if (header_size > file_size - 8) throw bad("header of " + std::to_string(header_size) + " bytes exceeds the file (truncated?)");
  if (header_size > kMaxHeaderBytes) throw bad("header of " + std::to_string(header_size) + " bytes (at most 100 MB)");
  const uint64_t data_start = 8 + header_size, data_size = file_size - data_start;
  json j;
  try {
    j = detail::parse_json_input(bytes.substr(8, header_size), "header");
  } catch (const InvalidArgument& e) {
    throw bad(reason_of(e));
  }
  if (!j.is_object()) throw bad("header is not a JSON object");

  SafetensorsFile f;
  f.source = source;
  std::vector<std::pair<uint64_t, std::string>> starts;  // (begin, name), to check the layout
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") {
      if (!it->is_object()) throw bad("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw bad("metadata '" + m.key() + "' is not a string");
        f.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const json& e = *it;
    const std::string tensor = "tensor '" + name + "' ";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw bad(tensor + "needs dtype, shape and data_offsets");
    Entry entry;
    if (!e["dtype"].is_string() || dtype_size(e["dtype"].get<std::string>()) == 0)
      throw bad(tensor + "has unknown dtype " + detail::brief(e["dtype"]));
    entry.dtype = e["dtype"].get<std::string>();
    if (!e["shape"].is_array()) throw bad(tensor + "has shape " + detail::brief(e["shape"]) + ", not a list");
    for (const json& d : e["shape"]) {
      if (!is_size(d)) throw bad(tensor + "has shape " + detail::brief(e["shape"]) + ": sizes are integers >= 0");
      entry.shape.push_back(d.get<int64_t>());
    }
    const json& offsets = e["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !is_size(offsets[0]) || !is_size(offsets[1]))
      throw bad(tensor + "has data_offsets " + detail::brief(offsets) + ", not [begin, end]");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size) throw bad(tensor + "lies outside the data (truncated?)");
    int64_t expected_bytes = 0;
    try {
      expected_bytes = checked_product(element_count(entry.shape), int64_t(dtype_size(entry.dtype)), "tensor bytes");
    } catch (const InvalidArgument&) {
      throw bad(tensor + "has shape " + shape_to_string(entry.shape) + ", whose size overflows");
    }
    if (uint64_t(expected_bytes) != end - begin)
      throw bad(tensor + "has " + std::to_string(end - begin) + " bytes for shape " + shape_to_string(entry.shape) +
                " of " + entry.dtype);
    entry.bytes.assign(bytes.begin() + int64_t(data_start + begin), bytes.begin() + int64_t(data_start + end));
    starts.emplace_back(begin, name);
    f.entries_[name] = std::move(entry);
  }
  // The tensors tile the data exactly, as the reference implementation requires: no overlaps
  // (two tensors sharing bytes) and no gaps.
  std::sort(starts.begin(), starts.end());
  uint64_t covered = 0;
  std::string previous;
  for (const auto& [begin, name] : starts) {
    if (begin < covered) throw bad("tensor '" + name + "' overlaps tensor '" + previous + "'");
    if (begin > covered) throw bad(std::to_string(begin - covered) + " unused bytes before tensor '" + name + "'");
    covered += f.entries_[name].bytes.size();
    previous = name;
  }
  if (covered != data_size) throw bad(std::to_string(data_size - covered) + " bytes after the last tensor");
  return f;
}

void SafetensorsFile::write(const std::string& path) const {
  nlohmann::json j = nlohmann::json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, e] : entries_) {
    j[name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {offset, offset + e.bytes.size()}}};
    offset += e.bytes.size();
  }
  std::string header;
  try {
    header = j.dump();
  } catch (const nlohmann::json::exception&) {
    throw InvalidArgument("metadata", "UTF-8 text in every name and metadata value", "bytes that are not UTF-8");
  }
  header.append((8 - header.size() % 8) % 8, ' ');  // align the data to 8 bytes
  uint8_t size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = uint8_t(uint64_t(header.size()) >> (8 * i));

  check_replaceable(path);
  remove_stale_temporaries(path);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw FileError(system_error("cannot create", tmp));
  try {
    write_all(fd, size_bytes, 8, tmp);
    write_all(fd, header.data(), header.size(), tmp);
    for (const auto& kv : entries_) write_all(fd, kv.second.bytes.data(), kv.second.bytes.size(), tmp);
    if (::fsync(fd) != 0) throw FileError(system_error("cannot sync", tmp));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw FileError(system_error("cannot close", tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string msg = system_error("cannot rename into", path);
    ::unlink(tmp.c_str());
    throw FileError(msg);
  }
  // Make the rename itself durable.
  const int dfd = ::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
}

const SafetensorsFile::Entry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw FileError("ctrnn: '" + (source.empty() ? std::string("safetensors file") : source) + "' has no tensor '" +
                    name + "'");
  return it->second;
}

const std::string& SafetensorsFile::dtype(const std::string& name) const { return entry(name).dtype; }
const Shape& SafetensorsFile::shape(const std::string& name) const { return entry(name).shape; }

template <class T>
Tensor<T> SafetensorsFile::get(const std::string& name) const {
  const Entry& e = entry(name);
  Tensor<T> t(e.shape);
  const size_t n = size_t(t.numel());
  const uint8_t* b = e.bytes.data();
  size_t refused = n;
  if (e.dtype == "F32") refused = convert<float>(b, n, t.ptr());
  else if (e.dtype == "F64") refused = convert<double>(b, n, t.ptr());
  else if (e.dtype == "I64") refused = convert<int64_t>(b, n, t.ptr());
  else if (e.dtype == "I32") refused = convert<int32_t>(b, n, t.ptr());
  else if (e.dtype == "I16") refused = convert<int16_t>(b, n, t.ptr());
  else if (e.dtype == "I8") refused = convert<int8_t>(b, n, t.ptr());
  else if (e.dtype == "U8" || e.dtype == "BOOL") refused = convert<uint8_t>(b, n, t.ptr());
  else
    throw FileError("ctrnn: tensor '" + name + "' in '" + source + "' has dtype " + e.dtype +
                    ", which cannot be converted (expected F32, F64 or an integer type)");
  if (refused != n)
    throw FileError("ctrnn: tensor '" + name + "' in '" + source + "' holds a value at flat index " +
                    std::to_string(refused) + " that is not an integer within int64's range (NaN, Inf or a fraction)");
  return t;
}

template <class T>
void SafetensorsFile::put(const std::string& name, const Tensor<T>& t) {
  Entry e;
  e.dtype = dtype_of<T>();
  e.shape = t.shape;
  e.bytes.resize(t.data.size() * sizeof(T));
  if (!e.bytes.empty()) std::memcpy(e.bytes.data(), t.data.data(), e.bytes.size());  // empty: data() may be null
  entries_[name] = std::move(e);
}

template Tensor<float> SafetensorsFile::get<float>(const std::string&) const;
template Tensor<double> SafetensorsFile::get<double>(const std::string&) const;
template Tensor<int64_t> SafetensorsFile::get<int64_t>(const std::string&) const;
template void SafetensorsFile::put<float>(const std::string&, const Tensor<float>&);
template void SafetensorsFile::put<double>(const std::string&, const Tensor<double>&);
template void SafetensorsFile::put<int64_t>(const std::string&, const Tensor<int64_t>&);
template void SafetensorsFile::put<uint8_t>(const std::string&, const Tensor<uint8_t>&);

}  // namespace ctrnn
