// The safetensors reader/writer: round trip, refusal of truncated, foreign and hostile files,
// atomic replacement of regular files only.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

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
  f.put("n", Tensor<int64_t>({1}, std::vector<int64_t>{int64_t(1) << 40}));
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

// A file with the given JSON header and data bytes, as an attacker would write it.
std::string raw_file(const TempDir& dir, const std::string& name, const std::string& header, const std::string& data = "") {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[size_t(i)] = char(uint64_t(header.size()) >> (8 * i));
  std::ofstream(dir.file(name), std::ios::binary) << bytes << header << data;
  return dir.file(name);
}

void expect_malformed(const std::string& path, const std::string& why) {
  try {
    SafetensorsFile::read(path);
    ADD_FAILURE() << "accepted " << why;
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Safetensors, ShapeWhoseSizeOverflowsIsRefused) {
  TempDir dir;
  // 2^58 * 64 * 1 elements wrap to 0 in int64, matching the empty data range: the crash of a
  // 96-byte `ctrnn run --inputs` file.
  expect_malformed(raw_file(dir, "wrap.safetensors",
                            R"({"u":{"dtype":"F32","shape":[288230376151711744,64,1],"data_offsets":[0,0]}})"),
                   "a shape whose product overflows");
  // 2^61 elements fit in int64, their 4-byte size does not (2^63 wraps negative).
  expect_malformed(raw_file(dir, "bytes.safetensors",
                            R"({"u":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,0]}})"),
                   "a byte count that overflows");
  EXPECT_THROW(Tensor<float>::count({int64_t(1) << 62, 4}), InvalidArgument);
  EXPECT_THROW(Tensor<float>::count({3, -1}), InvalidArgument);
}

TEST(Safetensors, BoundsOfEveryTensorAreChecked) {
  TempDir dir;
  const std::string eight(8, '\0');
  expect_malformed(raw_file(dir, "past.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", eight),
                   "a range past the end of the data");
  expect_malformed(raw_file(dir, "reversed.safetensors", R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", eight),
                   "a reversed range");
  expect_malformed(raw_file(dir, "short.safetensors", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight),
                   "fewer bytes than the shape needs");
  expect_malformed(raw_file(dir, "f16.safetensors", R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", eight),
                   "more bytes than the shape of its dtype needs");
  const std::string ok = raw_file(dir, "ok.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", eight);
  EXPECT_EQ(SafetensorsFile::read(ok).get<float>("a").data, (std::vector<float>{0, 0}));
}

TEST(Safetensors, MalformedHeadersAreRefused) {
  TempDir dir;
  const std::string sixteen(16, '\0');
  expect_malformed(raw_file(dir, "repeat.safetensors",
                            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", sixteen),
                   "a repeated tensor name");
  expect_malformed(raw_file(dir, "fraction.safetensors", R"({"a":{"dtype":"F32","shape":[5.5,2,1],"data_offsets":[0,40]}})",
                            std::string(40, '\0')),
                   "a fractional size");
  expect_malformed(raw_file(dir, "negative.safetensors", R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,0]}})"),
                   "a negative size");
  expect_malformed(raw_file(dir, "overlap.safetensors",
                            R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                            R"("b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})", sixteen),
                   "overlapping data ranges");
  expect_malformed(raw_file(dir, "deep.safetensors", std::string(100000, '[') + std::string(100000, ']')),
                   "a header nested 100000 levels deep");
  expect_malformed(raw_file(dir, "offsets.safetensors", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}})",
                            std::string(8, '\0')),
                   "a fractional offset");
}

TEST(Safetensors, FloatsReadAsIntegersMustBeIntegersInRange) {
  TempDir dir;
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  for (double bad : {1e30, -1e19, kNaN, 2.5, double(INFINITY)}) {
    SafetensorsFile f;
    f.put("n", Tensor<double>({2}, {7, bad}));
    f.write(dir.file("n.safetensors"));
    const SafetensorsFile g = SafetensorsFile::read(dir.file("n.safetensors"));
    EXPECT_THROW(g.get<int64_t>("n"), FileError) << bad;
    EXPECT_EQ(g.get<double>("n").data[0], 7.0);
  }
  SafetensorsFile f;
  f.put("n", Tensor<float>({2}, {-4, 16777216}));
  f.write(dir.file("ok.safetensors"));
  EXPECT_EQ(SafetensorsFile::read(dir.file("ok.safetensors")).get<int64_t>("n").data, (std::vector<int64_t>{-4, 16777216}));
}

TEST(Safetensors, OnlyRegularFilesAreRead) {
  TempDir dir;
  expect_malformed(dir.path.string(), "a folder");
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  expect_malformed(fifo, "a pipe");  // must not wait for a writer
  expect_malformed("/dev/zero", "an endless device");
}

TEST(Safetensors, OnlyRegularFilesAreReplaced) {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(sample().write(fifo), FileError);
  EXPECT_TRUE(fs::is_fifo(fifo)) << "the write replaced a pipe with a regular file";
  const std::string target = dir.file("target.safetensors"), link = dir.file("link.safetensors");
  sample().write(target);
  fs::create_symlink(target, link);
  EXPECT_THROW(sample().write(link), FileError);
  EXPECT_TRUE(fs::is_symlink(link)) << "the write replaced a symbolic link with a regular file";
  for (const auto& entry : fs::directory_iterator(dir.path))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

// The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(Safetensors, WriteRemovesTemporariesOfKilledWriters) {
  TempDir dir;
  const std::string path = dir.file("checkpoint.safetensors");
  const std::string stale = path + ".tmp." + std::to_string(dead_pid());
  const std::string live = path + ".tmp." + std::to_string(::getppid());  // a running writer's
  const std::string other = dir.file("other.safetensors.tmp." + std::to_string(dead_pid()));
  for (const auto& p : {stale, live, other}) std::ofstream(p) << "partial";
  sample().write(path);
  EXPECT_FALSE(fs::exists(stale)) << "a dead writer's temporary was left behind";
  EXPECT_TRUE(fs::exists(live)) << "a running writer's temporary was removed";
  EXPECT_TRUE(fs::exists(other)) << "another file's temporary was removed";
  EXPECT_EQ(SafetensorsFile::read(path).get<float>("w").data.size(), 6u);
}

}  // namespace
}  // namespace ctrnn
