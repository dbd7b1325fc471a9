// `ctrnn fixed-points`: a checkpoint's fixed points written as a record the library reads back,
// the summary it prints, and one-line errors for bad input.
#include <gtest/gtest.h>

#include "cli_util.hpp"
#include "ctrnn/analysis.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_one_line_error;
using test::kSmallConfig;
using test::TempDir;

using test::run;

// A trained checkpoint of kSmallConfig (I = 3) and an inputs file with u (T, B, I) = (6, 4, 3).
std::string trained_checkpoint(const TempDir& d, const std::string& config_text = kSmallConfig) {
  const std::string config = d.write("c.json", config_text);
  EXPECT_EQ(run("train " + config + " --out " + d.file("run") + " --device cpu", d).code, 0);
  return d.file("run/checkpoint.safetensors");
}

std::string inputs_file(const TempDir& d, const Shape& shape, const std::string& name = "u.safetensors") {
  SafetensorsFile f;
  Tensor<float> u(shape, 0.2f);
  f.put("u", u);
  f.write(d.file(name));
  return d.file(name);
}

TEST(CliFixedPoints, WritesTheRecordAndSummarizesIt) {
  TempDir d;
  const std::string ck = trained_checkpoint(d);
  const auto r = run("fixed-points " + ck + " --inputs " + inputs_file(d, {6, 4, 3}) + " --n 32 --max-iters 200 --out " +
                         d.file("fp.safetensors") + " --device cpu",
                     d);
  ASSERT_EQ(r.code, 0) << r.err;
  const FixedPointResult fp = load_fixed_points(d.file("fp.safetensors"));
  ASSERT_EQ(fp.networks.size(), 1u);
  EXPECT_EQ(fp.candidates, 32);
  const FixedPoints& f = fp.networks[0];
  ASSERT_GE(f.size(), 1);
  EXPECT_NE(r.out.find(std::to_string(f.size()) + " fixed points"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("point 0: q "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote " + d.file("fp.safetensors")), std::string::npos) << r.out;
}

TEST(CliFixedPoints, BadInputGetsOneLine) {
  TempDir d;
  const std::string ck = trained_checkpoint(d);
  const std::string good = inputs_file(d, {6, 4, 3}), out = " --out " + d.file("fp.safetensors") + " --device cpu";
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + inputs_file(d, {6, 4, 2}, "bad.safetensors") + out, d),
                        2, "invalid inputs");
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + good + " --n 0" + out, d), 2, "--n");
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + good + " --n -3" + out, d), 2, "--n");
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + good + " --max-q -1" + out, d), 2, "--max-q");
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + good + " --max-q 1e-9x" + out, d), 2, "--max-q");
  SafetensorsFile nan_file;
  Tensor<float> u({6, 4, 3}, 0.0f);
  u.data[5] = std::nanf("");
  nan_file.put("u", u);
  nan_file.write(d.file("nan.safetensors"));
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + d.file("nan.safetensors") + out, d), 2, "finite");
  expect_one_line_error(run("fixed-points " + d.file("missing.safetensors") + " --inputs " + good + out, d), 2,
                        "missing.safetensors");
  EXPECT_FALSE(std::filesystem::exists(d.file("fp.safetensors")));
}

TEST(CliFixedPoints, RefusesAKeepModeCheckpoint) {
  TempDir d;
  std::string config = kSmallConfig;
  config.replace(config.find("\"biases\""), 0, "\"init_state\": \"keep\", ");
  const std::string ck = trained_checkpoint(d, config);
  expect_one_line_error(run("fixed-points " + ck + " --inputs " + inputs_file(d, {6, 4, 3}) + " --out " +
                                d.file("fp.safetensors") + " --device cpu",
                            d),
                        2, "init_state keep");
}

}  // namespace
}  // namespace ctrnn
