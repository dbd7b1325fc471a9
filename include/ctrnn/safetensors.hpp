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

#include "ctrnn/tensor.hpp"

namespace ctrnn {

// A file that cannot be read or written, or is not what it should be. Names the path.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SafetensorsFile {
 public:
  // Throws FileError on a missing, truncated or malformed file.
  static SafetensorsFile read(const std::string& path);

  // Writes to `path` atomically: a temporary file beside it, fsync, rename, fsync of the folder.
  // An interrupted or failed write leaves any previous file at `path` intact.
  void write(const std::string& path) const;

  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  std::vector<std::string> names() const;
  // The stored dtype ("F32", "F64", "I64", ...) and shape; throws FileError if absent.
  const std::string& dtype(const std::string& name) const;
  const Shape& shape(const std::string& name) const;

  // A tensor converted to T from any numeric dtype; throws FileError naming the tensor if it is
  // absent.
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
