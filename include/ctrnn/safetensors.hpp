#pragma once
// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors): an
// 8-byte little-endian header size, a JSON header naming each tensor's dtype, shape and byte
// range, then the raw little-endian data. Readable from Python with safetensors or numpy. Used
// for checkpoints, golden fixtures and the `ctrnn run` inputs and outputs.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctrnn/error.hpp"
#include "ctrnn/tensor.hpp"

namespace ctrnn {

class SafetensorsFile {
 public:
  // Throws FileError on a missing, truncated or malformed file, or one that is not a regular file.
  // Refused as malformed: sizes whose products overflow, a repeated name, a header deeper than a
  // few levels or over 100 MB, data ranges that overlap, leave gaps or do not match the shape
  // (the rules of the reference implementation).
  static SafetensorsFile read(const std::string& path);
  // The same from the file's bytes; `source` names it in messages.
  static SafetensorsFile parse(const std::string& bytes, const std::string& source);

  // Writes to `path` atomically: a temporary file beside it, fsync, rename, fsync of the folder.
  // An interrupted or failed write leaves any previous file at `path` intact. Refuses (FileError)
  // to replace anything but a regular file (a device, a pipe, a folder, a symbolic link). Removes
  // the temporaries that writers of `path` killed before their rename left behind (those whose
  // process no longer runs).
  void write(const std::string& path) const;

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;
  // The stored dtype ("F32", "F64", "I64", ...) and shape; throws FileError if absent.
  const std::string& dtype(const std::string& name) const;
  const Shape& shape(const std::string& name) const;

  // A tensor converted to T from any numeric dtype; throws FileError naming the tensor if it is
  // absent, or for an integer T if a stored float is not an integer within T's range.
  template <class T>
  Tensor<T> get(const std::string& name) const;

  // Stores a tensor (F32 for float, F64 for double, I64 for int64_t, U8 for uint8_t).
  template <class T>
  void put(const std::string& name, const Tensor<T>& t);

  std::map<std::string, std::string> metadata;  // the header's "__metadata__" (strings only)
  std::string source;                           // the path it was read from, for messages

 private:
  struct Entry {
    std::string dtype;
    Shape shape;
    std::vector<uint8_t> bytes;
  };
  const Entry& entry(const std::string& name) const;
  std::map<std::string, Entry> entries_;
};

}  // namespace ctrnn
