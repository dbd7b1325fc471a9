// Results do not depend on the thread count (README, Guarantees, Determinism): `ctrnn train` on
// one and on two OpenBLAS threads writes the same checkpoint bit for bit (every tensor; the
// metadata but the backend's description, which names the thread count) and the same metrics.
// The problem is sized so that the CPU backend cuts its products on two threads: an ensemble of
// 3 networks of H = 112 on batches of 100 (each recurrent product 2.5 MFLOP, the weight gradients
// over K = T B = 1500 rows), where a cut by thread count gave other sums (issue 23).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "cli_util.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;

const char* const kThreadedConfig = R"({
  "dims": [3, 112, 2], "activation": "relu", "preact_noise": 0.05, "biases": "zero", "init_state": "learn",
  "ensemble_size": 3, "seed": 9,
  "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 8, "decision_steps": 4},
  "training": {"steps": 4, "batch_size": 100, "lr": 0.01, "clip_grad_norm": 1.0, "eval_batch_size": 16},
  "loss": {"lambda_fr": 0.001}
})";

TEST(CliThreads, OneAndTwoThreadsWriteTheSameCheckpointBitForBit) {
  test::TempDir d;
  const std::string cfg = d.write("threaded.json", kThreadedConfig);
  for (const char* threads : {"1", "2"}) {
    const test::CliResult r = test::run_cli("train " + cfg + " --out " + d.file(std::string("t") + threads), d.path,
                                            std::string("OPENBLAS_NUM_THREADS=") + threads);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  const auto one = SafetensorsFile::read(d.file("t1/checkpoint.safetensors"));
  const auto two = SafetensorsFile::read(d.file("t2/checkpoint.safetensors"));
  ASSERT_EQ(one.names(), two.names());
  int compared = 0;
  for (const std::string& name : one.names()) {
    ASSERT_EQ(one.dtype(name), two.dtype(name)) << name;
    if (one.dtype(name) != "F32") continue;
    const Tensor<float> a = one.get<float>(name), b = two.get<float>(name);
    ASSERT_EQ(a.shape, b.shape) << name;
    EXPECT_EQ(std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(float)), 0) << name;
    ++compared;
  }
  EXPECT_GE(compared, 21) << "the 7 parameter arrays and both optimizer moments";
  auto m1 = one.metadata, m2 = two.metadata;
  if (m1.at("computed_on").find(" threads)") != std::string::npos)  // OpenBLAS (the reference has no threads)
    EXPECT_NE(m1.at("computed_on"), m2.at("computed_on")) << "the runs were meant to use 1 and 2 threads";
  m1.erase("computed_on"), m2.erase("computed_on");
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(test::metrics_without_time(d.path / "t1" / "metrics.csv"),
            test::metrics_without_time(d.path / "t2" / "metrics.csv"));
}

}  // namespace
}  // namespace ctrnn
