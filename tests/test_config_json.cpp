// JSON configs: the seed's names, broadcasting, inline and file arrays, unknown keys refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "ctrnn/config_json.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/params.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_refused;

TEST(ConfigJson, DefaultsAndBroadcast) {
  const Config c = config_from_json(R"({"dims": [2, 8, 3], "biases": "uniform", "activation": "tanh",
                                        "tau": 50, "dt": 5, "init_state": "learn", "seed": 9})");
  EXPECT_EQ(c.dims, (std::array<int64_t, 3>{2, 8, 3}));
  for (const auto& b : c.biases) EXPECT_EQ(b.kind, InitSpec::Kind::Uniform);
  for (const auto& w : c.weights) EXPECT_EQ(w.kind, InitSpec::Kind::Uniform);  // nn4n's default
  EXPECT_EQ(c.activation, Activation::Tanh);
  EXPECT_EQ(c.alpha(), std::vector<double>(size_t(c.ensemble_size * c.dims[1]), 0.1));
  EXPECT_EQ(c.init_state, InitState::Learn);
  EXPECT_EQ(c.seed, 9u);
  const Config z = config_from_json(R"({"biases": [0, null, "normal"]})");
  EXPECT_EQ(z.biases[0].kind, InitSpec::Kind::Zero);
  EXPECT_EQ(z.biases[1].kind, InitSpec::Kind::None);
  EXPECT_EQ(z.biases[2].kind, InitSpec::Kind::Normal);
}

// first_network: read, written back only when not 0 (so configs and run records without it are
// unchanged), and checked.
TEST(ConfigJson, FirstNetwork) {
  const Config c = config_from_json(R"({"dims": [1, 4, 1], "first_network": 7})");
  EXPECT_EQ(c.first_network, 7);
  SafetensorsFile f;
  EXPECT_NE(config_to_json(c, f).find("\"first_network\":7"), std::string::npos);
  EXPECT_EQ(config_to_json(Config{}, f).find("first_network"), std::string::npos);
  test::expect_refused([] { config_from_json(R"({"first_network": -1})"); }, "first_network");
  test::expect_refused([] { config_from_json(R"({"first_network": 16777216})"); }, "first_network");
}

TEST(ConfigJson, InlineAndFileArrays) {
  const auto dir = std::filesystem::temp_directory_path() / ("ctrnn_cfg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SafetensorsFile f;
  f.put("mask", Tensor<float>({3, 3}, {1, 0, 1, 1, 1, 0, 0, 1, 1}));
  f.write((dir / "masks.safetensors").string());
  const Config c = config_from_json(R"({"dims": [2, 3, 1],
      "weights": ["normal", "uniform", [[0.5], [-0.5], [0.25]]],
      "sparsity_masks": [null, {"file": "masks.safetensors", "tensor": "mask"}, null]})", dir.string());
  EXPECT_EQ(c.weights[2].kind, InitSpec::Kind::Array);
  EXPECT_EQ(c.weights[2].array.shape, (Shape{3, 1}));
  EXPECT_EQ(c.weights[2].array.data, (std::vector<double>{0.5, -0.5, 0.25}));
  ASSERT_TRUE(c.sparsity_masks[1]);
  EXPECT_EQ(c.sparsity_masks[1]->data[1], 0.0);
  std::filesystem::remove_all(dir);
}

TEST(ConfigJson, RoundTripThroughSafetensorsMetadata) {
  Config c;
  c.dims = {2, 3, 2};
  c.weights[1] = InitSpec::from(Array({3, 3}, 0.25));
  c.ei_masks = {std::nullopt, Array({3, 3}, 1.0), std::nullopt};
  c.preact_noise = 0.05;
  SafetensorsFile f;
  const std::string text = config_to_json(c, f);
  const Config back = config_from_json(text, ".", &f);
  EXPECT_EQ(back.weights[1].array.data, c.weights[1].array.data);
  EXPECT_EQ(back.ei_masks[1]->data, c.ei_masks[1]->data);
  EXPECT_FALSE(back.ei_masks[0]);
  EXPECT_EQ(back.preact_noise, c.preact_noise);
  EXPECT_EQ(back.dims, c.dims);
}

// tau in each of its four forms, and per-network noise, survive the config's JSON form (which the
// checkpoint stores and `--resume` compares); alpha follows each form.
TEST(ConfigJson, TimeConstantsAndNoisePerNetworkRoundTrip) {
  const char* forms[] = {R"(50)", R"([20, 50, 100])", R"({"per_network": [20, 100]})",
                         R"({"per_network": [[20, 50, 100], [10, 40, 1000]]})"};
  const std::vector<std::vector<double>> alphas = {{0.2, 0.2, 0.2, 0.2, 0.2, 0.2},
                                                   {0.5, 0.2, 0.1, 0.5, 0.2, 0.1},
                                                   {0.5, 0.5, 0.5, 0.1, 0.1, 0.1},
                                                   {0.5, 0.2, 0.1, 1.0, 0.25, 0.01}};
  for (int f = 0; f < 4; ++f) {
    SCOPED_TRACE(forms[f]);
    const Config c = config_from_json(std::string(R"({"dims": [1, 3, 1], "ensemble_size": 2, "dt": 10, "tau": )") +
                                      forms[f] + R"(, "preact_noise": {"per_network": [0, 0.3]}, "postact_noise": 0.1})");
    EXPECT_EQ(c.alpha(), alphas[size_t(f)]);
    EXPECT_EQ(c.preact_noise[0], 0.0);
    EXPECT_EQ(c.preact_noise[1], 0.3);
    EXPECT_EQ(c.postact_noise[1], 0.1);
    SafetensorsFile arrays;
    const Config back = config_from_json(config_to_json(c, arrays), ".", &arrays);
    EXPECT_EQ(back.tau, c.tau);
    EXPECT_EQ(back.preact_noise, c.preact_noise);
    EXPECT_EQ(back.postact_noise, c.postact_noise);
    const Dynamics d = c.dynamics(true), quiet = c.dynamics(false);
    EXPECT_EQ(d.preact_noise, (std::vector<double>{0, 0.3}));
    EXPECT_EQ(quiet.preact_noise, (std::vector<double>{0, 0}));
  }
}

// Each bad tau or noise gets one error naming the parameter and what was expected: the lengths
// (E networks, H neurons), or the network and neuron of a value <= 0 or with dt / tau > 1.
TEST(ConfigJson, BadTimeConstantsNameTheNetworkAndNeuron) {
  auto refused = [](const std::string& tau, const std::string& expected_text) {
    SCOPED_TRACE(tau);
    try {
      config_from_json(R"({"dims": [1, 3, 1], "ensemble_size": 2, "dt": 10, "tau": )" + tau + "}");
      ADD_FAILURE() << "accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(e.parameter(), "tau");
      EXPECT_NE(std::string(e.what()).find(expected_text), std::string::npos) << e.what();
    }
  };
  refused("[20, 50]", "3 numbers (one per hidden neuron)");  // a list of neither length
  refused("[20, 50]", "got a list of 2 values");
  refused(R"({"per_network": [20, 50, 100]})", "per-network values for 3 networks");
  refused(R"({"per_network": [[20, 50], [20, 50]]})", "lists of 3]");
  refused(R"({"per_network": [[20, 50, 100], [20, 50]]})", "2 values for network 1");
  refused("0", "got 0");
  refused("5", "dt / tau in (0, 1] (tau >= dt = 10), got 5");
  refused("[20, -1, 30]", "got -1 for neuron 1");
  refused(R"({"per_network": [20, 9]})", "got 9 for network 1");
  refused(R"({"per_network": [[20, 50, 100], [10, 40, 0]]})", "got 0 for network 1, neuron 2");
  refused(R"({"per_network": []})", "a number, a list of numbers");
  refused(R"("slow")", "a number, a list of numbers");
  test::expect_refused([] { config_from_json(R"({"ensemble_size": 2, "preact_noise": {"per_network": [0.1, -0.2]}})"); },
                       "preact_noise");
  test::expect_refused([] { config_from_json(R"({"ensemble_size": 2, "postact_noise": {"per_network": [0.1]}})"); },
                       "postact_noise");
  test::expect_refused([] { config_from_json(R"({"ensemble_size": 2, "postact_noise": [0.1, 0.2]})"); },
                       "postact_noise");
}

TEST(ConfigJson, MalformedInputNamesTheKey) {
  expect_refused([] { config_from_json(R"({"dimz": [1, 2, 3]})"); }, "dimz");
  expect_refused([] { config_from_json(R"({"tau": "slow"})"); }, "tau");
  expect_refused([] { config_from_json(R"({"dims": [1, 2]})"); }, "dims");
  expect_refused([] { config_from_json(R"({"dims": [1, 0, 2]})"); }, "dims");
  expect_refused([] { config_from_json(R"({"activation": "swish"})"); }, "activation");
  expect_refused([] { config_from_json(R"({"weights": ["normal", "he", "uniform"]})"); }, "weights[1]");
  expect_refused([] { config_from_json(R"({"dims": [1, 2, 1], "weights": [[[1, 2]], "normal", [[1], [2, 3]]]})"); },
                 "weights[2]");
  expect_refused([] { config_from_json(R"({"sparsity_masks": [null, {"file": "absent.safetensors", "tensor": "m"}, null]})"); },
                 "sparsity_masks[1]");
  expect_refused([] { config_from_json(R"({"ei_masks": [null, {"tensor": "m"}, null]})"); }, "ei_masks[1]");
  expect_refused([] { config_from_json("{not json"); }, "config");
  expect_refused([] { config_from_json(R"({"seed": -1})"); }, "seed");
}

TEST(ConfigJson, DeepNestingIsRefusedBeforeAnythingRecursiveRuns) {
  // 100,000 levels (200 KB) once overflowed the stack.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  expect_refused([&] { config_from_json(R"({"tau": )" + deep + "}"); }, "config");
  expect_refused([&] { config_from_json(R"({"weights": [)" + deep + R"(, "uniform", "uniform"]})"); }, "config");
}

TEST(ConfigJson, NumberBeyondDoubleNamesTheKey) {
  expect_refused([] { config_from_json(R"({"tau": 1e400})"); }, "tau");
  expect_refused([] { config_from_json(R"({"dims": [1, 4, 1], "weights": [[[1e999]], "uniform", "uniform"]})"); },
                 "weights");
}

TEST(ConfigJson, RepeatedKeyIsRefused) {
  expect_refused([] { config_from_json(R"({"tau": 100, "dt": 10, "tau": 20})"); }, "tau");
  expect_refused([] { config_from_json(R"({"sparsity_masks": [null, {"file": "a", "file": "b", "tensor": "m"}, null]})"); },
                 "sparsity_masks.file");
}

TEST(ConfigJson, IntegersMustBeExact) {
  expect_refused([] { config_from_json(R"({"dims": [1, 5.5, 1]})"); }, "dims");
  expect_refused([] { config_from_json(R"({"dims": [1, 18446744073709551615, 1]})"); }, "dims");
  expect_refused([] { config_from_json(R"({"ensemble_size": 9223372036854775808})"); }, "ensemble_size");
  EXPECT_EQ(config_from_json(R"({"seed": 18446744073709551615})").seed, UINT64_MAX);  // every uint64 is a seed
}

}  // namespace
}  // namespace ctrnn
