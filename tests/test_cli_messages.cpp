// What the `ctrnn` program says when refusing: no JSON-library words for a damaged run record,
// numbers in 9 digits rather than 309, a huge value not echoed back whole, and options that
// would be ignored refused instead (`eval --batch` on a data file).
#include <gtest/gtest.h>

#include "cli_util.hpp"
#include "ctrnn/safetensors.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

using test::expect_one_line_error;
using test::kSmallConfig;
using test::TempDir;

using test::run;

// A damaged run record in a checkpoint's metadata: exit 2, naming --resume and the problem in
// words, never the JSON library's ("[json.exception...").
TEST(CliMessages, DamagedRunRecordIsRefusedInWords) {
  TempDir d;
  ASSERT_EQ(run("train " + d.write("c.json", kSmallConfig) + " --steps 2 --out " + d.file("o"), d).code, 0);
  const SafetensorsFile good = SafetensorsFile::read(d.file("o/checkpoint.safetensors"));
  for (const char* record : {"not json", "[1, 2]", R"({"identity": 5})", R"({"identity": [[1, 2]]})",
                             R"({"identity": [], "task": 5, "training": {}, "loss": {}})", R"({"identity": [["a"]]})"}) {
    SafetensorsFile f = good;
    f.metadata["run"] = record;
    f.write(d.file("bad.safetensors"));
    const auto r = run("train --resume " + d.file("bad.safetensors") + " --steps 3 --out " + d.file("p"), d);
    SCOPED_TRACE(record);
    expect_one_line_error(r, 2, "--resume");
    EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  }
}

// A syntax error inside a key (here a byte that is not UTF-8) names the object and the key it
// follows, not that earlier key as if its value were wrong.
TEST(CliMessages, ABadByteInAKeyIsNotBlamedOnThePreviousKey) {
  TempDir d;
  const std::string cfg = test::replaced(kSmallConfig, "\"lr\": 0.01", "\"lr\": 0.01, \"b\xff\": 1");
  const auto r = run("train " + d.write("c.json", cfg) + " --out " + d.file("o"), d);
  expect_one_line_error(r, 2, "invalid training: expected valid JSON, got in the key after 'lr'");
  EXPECT_EQ(r.err.find("invalid training.lr"), std::string::npos) << r.err;
}

// A number far out of range is printed in 9 significant digits, not std::to_string's 309.
TEST(CliMessages, HugeNumbersArePrintedShort) {
  TempDir d;
  const auto r = run("train " + d.write("c.json", test::replaced(kSmallConfig, "\"lr\": 0.01", "\"lr\": -1e308")) + " --out " +
                         d.file("o"),
                     d);
  expect_one_line_error(r, 2, "-1e+308");
  EXPECT_LT(r.err.size(), 300u) << r.err;
}

// A 1 MB string in a config is not echoed back whole.
TEST(CliMessages, AHugeValueIsNotEchoedBackWhole) {
  TempDir d;
  const std::string cfg = test::replaced(kSmallConfig, "\"activation\": \"tanh\"", "\"activation\": \"" + std::string(1 << 20, 'x') + "\"");
  const auto r = run("train " + d.write("c.json", cfg) + " --out " + d.file("o"), d);
  expect_one_line_error(r, 2, "activation");
  EXPECT_LT(r.err.size(), 1500u);
}

// `eval --batch` draws fresh trials of a built-in task; on a data file (given, or the run's) it
// would be ignored, so it is refused.
TEST(CliMessages, EvalBatchOnADataFileIsRefused) {
  TempDir d;
  test::write_small_data(d.file("data.safetensors"));
  const std::string cfg = d.write("c.json", kSmallConfig);
  ASSERT_EQ(run("train " + cfg + " --steps 2 --out " + d.file("builtin"), d).code, 0);
  ASSERT_EQ(run("train " + cfg + " --data " + d.file("data.safetensors") + " --steps 2 --out " + d.file("fromdata"), d).code, 0);
  expect_one_line_error(run("eval " + d.file("fromdata/checkpoint.safetensors") + " --batch 7", d), 2, "--batch");
  expect_one_line_error(
      run("eval " + d.file("builtin/checkpoint.safetensors") + " --data " + d.file("data.safetensors") + " --batch 7", d), 2,
      "--batch");
  EXPECT_EQ(run("eval " + d.file("builtin/checkpoint.safetensors") + " --batch 7", d).code, 0);
  EXPECT_EQ(run("eval " + d.file("fromdata/checkpoint.safetensors"), d).code, 0);
}

}  // namespace
}  // namespace ctrnn
