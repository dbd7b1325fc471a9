#include "ctrnn/safetensors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

namespace ctrnn {

namespace {

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

template <class S, class T>
void convert(const uint8_t* bytes, size_t n, T* out) {
  for (size_t i = 0; i < n; ++i) {
    S s;
    std::memcpy(&s, bytes + i * sizeof(S), sizeof(S));
    out[i] = static_cast<T>(s);
  }
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

}  // namespace

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(system_error("cannot open", path));
  in.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(in.tellg());
  in.seekg(0);
  auto bad = [&](const std::string& why) {
    return FileError("ctrnn: '" + path + "' is not a valid safetensors file: " + why);
  };
  if (file_size < 8) throw bad("shorter than its 8-byte header size (truncated?)");
  uint8_t size_bytes[8];
  in.read(reinterpret_cast<char*>(size_bytes), 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  if (header_size > file_size - 8) throw bad("header of " + std::to_string(header_size) + " bytes exceeds the file (truncated?)");
  std::string header(header_size, '\0');
  in.read(header.data(), std::streamsize(header_size));
  const uint64_t data_size = file_size - 8 - header_size;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(header);
  } catch (const std::exception& e) {
    throw bad(std::string("header is not JSON (") + e.what() + ")");
  }
  if (!j.is_object()) throw bad("header is not a JSON object");
  std::vector<uint8_t> data(data_size);
  in.read(reinterpret_cast<char*>(data.data()), std::streamsize(data_size));
  if (!in) throw bad("could not read its data");

  SafetensorsFile f;
  f.source = path;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw bad("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw bad("metadata '" + m.key() + "' is not a string");
        f.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const auto& e = *it;
    try {
      Entry entry;
      entry.dtype = e.at("dtype").get<std::string>();
      entry.shape = e.at("shape").get<Shape>();
      const auto offsets = e.at("data_offsets").get<std::vector<uint64_t>>();
      const size_t elem = dtype_size(entry.dtype);
      if (elem == 0) throw bad("tensor '" + it.key() + "' has unknown dtype " + entry.dtype);
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
        throw bad("tensor '" + it.key() + "' lies outside the data (truncated?)");
      for (int64_t d : entry.shape)
        if (d < 0) throw bad("tensor '" + it.key() + "' has a negative dimension");
      if (uint64_t(Tensor<float>::count(entry.shape)) * elem != offsets[1] - offsets[0])
        throw bad("tensor '" + it.key() + "' has " + std::to_string(offsets[1] - offsets[0]) + " bytes for shape " +
                  shape_to_string(entry.shape));
      entry.bytes.assign(data.begin() + int64_t(offsets[0]), data.begin() + int64_t(offsets[1]));
      f.entries_[it.key()] = std::move(entry);
    } catch (const nlohmann::json::exception& ex) {
      throw bad("entry '" + it.key() + "' is malformed (" + ex.what() + ")");
    }
  }
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
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // align the data to 8 bytes
  uint8_t size_bytes[8];
  for (int i = 0; i < 8; ++i) size_bytes[i] = uint8_t(uint64_t(header.size()) >> (8 * i));

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
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
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
  if (e.dtype == "F32") convert<float>(b, n, t.ptr());
  else if (e.dtype == "F64") convert<double>(b, n, t.ptr());
  else if (e.dtype == "I64") convert<int64_t>(b, n, t.ptr());
  else if (e.dtype == "I32") convert<int32_t>(b, n, t.ptr());
  else if (e.dtype == "I16") convert<int16_t>(b, n, t.ptr());
  else if (e.dtype == "I8") convert<int8_t>(b, n, t.ptr());
  else if (e.dtype == "U8" || e.dtype == "BOOL") convert<uint8_t>(b, n, t.ptr());
  else
    throw FileError("ctrnn: tensor '" + name + "' in '" + source + "' has dtype " + e.dtype +
                    ", which cannot be converted (expected F32, F64 or an integer type)");
  return t;
}

template <class T>
void SafetensorsFile::put(const std::string& name, const Tensor<T>& t) {
  Entry e;
  e.dtype = dtype_of<T>();
  e.shape = t.shape;
  e.bytes.resize(t.data.size() * sizeof(T));
  std::memcpy(e.bytes.data(), t.data.data(), e.bytes.size());
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
