// The inputs of `ctrnn run` read from a user's file: accepted shapes, and refusal of files that
// do not fit the network or whose sizes overflow.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ctrnn/run_inputs.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_refused;
using test::TempDir;

Config small() {
  Config c;
  c.dims = {2, 4, 3};
  c.ensemble_size = 2;
  return c;
}

std::string inputs_file(const TempDir& dir, const Shape& shape, float value = 0.5f) {
  SafetensorsFile f;
  f.put("u", Tensor<float>(shape, value));
  f.write(dir.file("u.safetensors"));
  return dir.file("u.safetensors");
}

TEST(RunInputs, SharedAndPerNetworkShapes) {
  TempDir dir;
  EXPECT_EQ(read_run_inputs(inputs_file(dir, {5, 3, 2}), small()).shape, (Shape{5, 3, 2}));
  EXPECT_EQ(read_run_inputs(inputs_file(dir, {2, 5, 3, 2}), small()).shape, (Shape{2, 5, 3, 2}));
  SafetensorsFile f;
  f.put("u", Tensor<double>({1, 1, 2}, {0.25, -1}));  // any numeric dtype converts
  f.write(dir.file("d.safetensors"));
  EXPECT_EQ(read_run_inputs(dir.file("d.safetensors"), small()).data, (std::vector<float>{0.25f, -1}));
}

TEST(RunInputs, WhatDoesNotFitTheNetworkIsRefused) {
  TempDir dir;
  for (const Shape& s : {Shape{5, 3, 1}, Shape{3, 5, 3, 2}, Shape{5, 3}, Shape{0, 3, 2}, Shape{5, 0, 2}})
    expect_refused([&] { read_run_inputs(inputs_file(dir, s), small()); }, "inputs");
  expect_refused([&] { read_run_inputs(inputs_file(dir, {5, 3, 2}, NAN), small()); }, "inputs");
  SafetensorsFile other;
  other.put("x", Tensor<float>({5, 3, 2}));
  other.write(dir.file("x.safetensors"));
  expect_refused([&] { read_run_inputs(dir.file("x.safetensors"), small()); }, "inputs");
}

TEST(RunInputs, ShapeWhoseSizeOverflowsIsRefused) {
  // The 96-byte file that crashed `ctrnn run` in sgemm: u of shape [2^58, 64, 1] with no data.
  TempDir dir;
  const std::string header = R"({"u":{"dtype":"F32","shape":[288230376151711744,64,1],"data_offsets":[0,0]}})";
  std::string size(8, '\0');
  for (int i = 0; i < 8; ++i) size[size_t(i)] = char(uint64_t(header.size()) >> (8 * i));
  std::ofstream(dir.file("wrap.safetensors"), std::ios::binary) << size << header;
  Config c = small();
  c.dims[0] = 1;
  EXPECT_THROW(read_run_inputs(dir.file("wrap.safetensors"), c), FileError);
}

}  // namespace
}  // namespace ctrnn
