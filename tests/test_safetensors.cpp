// The safetensors reader/writer: round trip, refusal of truncated and foreign files, atomic
// replacement.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

SafetensorsFile sample() {
  SafetensorsFile f;
  f.put("w", Tensor<float>({2, 3}, {1, -2, 3.5f, 4, 5, -6}));
  f.put("d", Tensor<double>({3}, {0.1, 0.2, 1e-300}));
  f.put("n", Tensor<int64_t>({1}, {int64_t(1) << 40}));
  f.metadata["config"] = R"({"dims": [1, 2, 3]})";
  return f;
}

TEST(Safetensors, RoundTrip) {
  TempDir dir;
  const std::string path = (dir.path / "a.safetensors").string();
  sample().write(path);
  const SafetensorsFile g = SafetensorsFile::read(path);
  EXPECT_EQ(g.get<float>("w").data, (std::vector<float>{1, -2, 3.5f, 4, 5, -6}));
  EXPECT_EQ(g.get<float>("w").shape, (Shape{2, 3}));
  EXPECT_EQ(g.get<double>("d").data, (std::vector<double>{0.1, 0.2, 1e-300}));
  EXPECT_EQ(g.get<int64_t>("n").data[0], int64_t(1) << 40);
  EXPECT_EQ(g.dtype("w"), "F32");
  EXPECT_EQ(g.metadata.at("config"), R"({"dims": [1, 2, 3]})");
  EXPECT_THROW(g.get<float>("missing"), FileError);
}

TEST(Safetensors, TruncatedFileIsRefused) {
  TempDir dir;
  const std::string path = (dir.path / "t.safetensors").string();
  sample().write(path);
  const auto full = fs::file_size(path);
  for (uintmax_t keep : {uintmax_t(0), uintmax_t(5), uintmax_t(20), full - 1}) {
    fs::resize_file(path, keep);
    EXPECT_THROW(SafetensorsFile::read(path), FileError) << "kept " << keep << " bytes";
    sample().write(path);
  }
}

TEST(Safetensors, ForeignFileIsRefused) {
  TempDir dir;
  const std::string path = (dir.path / "f.safetensors").string();
  std::ofstream(path) << "this is a text file, not a checkpoint at all";
  try {
    SafetensorsFile::read(path);
    ADD_FAILURE() << "accepted a text file";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(SafetensorsFile::read((dir.path / "absent").string()), FileError);
}

TEST(Safetensors, FailedWriteKeepsThePreviousFile) {
  TempDir dir;
  const std::string path = (dir.path / "c.safetensors").string();
  sample().write(path);
  // A write that cannot complete (its target is a folder, so the final rename fails) leaves the
  // old file intact and no temporary behind.
  const std::string blocked = (dir.path / "blocked").string();
  fs::create_directories(blocked + "/inside");
  EXPECT_THROW(sample().write(blocked), FileError);
  EXPECT_EQ(SafetensorsFile::read(path).get<float>("w").data.size(), 6u);
  for (const auto& entry : fs::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  EXPECT_THROW(sample().write((dir.path / "no" / "such" / "folder.safetensors").string()), FileError);
}

}  // namespace
}  // namespace ctrnn
