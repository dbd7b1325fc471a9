// The `ctrnn` program's conformance table: every subcommand and option crossed with the kinds of
// bad value a hostile or careless user passes (empty, huge, negative, non-numeric, over-long,
// not UTF-8, a folder, a FIFO, a symbolic-link loop, /dev/full, a file inside the path). Each
// case must exit 2 before any work, print exactly one line on stderr (starting "ctrnn: ", valid
// UTF-8, shortened when the value is long) that names the option or the value, and leave every
// output untouched: the new output it was asked for is not created, and the run folder whose
// checkpoint the commands read is byte for byte the same afterwards. Cases run four at a time
// (each is a process start that is refused early) to keep the table to seconds on 2 cores.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "cli_util.hpp"
#include "ctrnn/dataset.hpp"
#include "test_util.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using test::kSmallConfig;
using test::TempDir;

// What an option takes: each kind is refused for a different set of values (a plain name is a
// fine output folder, but no number).
enum class Takes { Number, Real, Device, InputFile, OutputFolder, OutputFile };

struct Option {
  std::string subcommand, name;  // name: "--steps", or "" for the positional argument
  Takes takes;
  std::vector<std::string> names_in_message;  // the message names one of these (or the value)
};

struct Value {
  std::string label, text;
};

// Single quotes for the shell, any bytes inside.
std::string shell_quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class CliConformance : public ::testing::Test {
 protected:
  TempDir d;
  std::string cfg, ck, inputs;

  void SetUp() override {
    cfg = d.write("c.json", kSmallConfig);
    ASSERT_EQ(test::run_cli("train " + cfg + " --steps 2 --out " + d.file("run"), d.path).code, 0);
    ck = d.file("run/checkpoint.safetensors");
    DataSet in;
    in.u = Tensor<float>({5, 2, 3}, std::vector<float>(30, 0.5f));
    in.target = Tensor<float>({5, 2, 2});
    in.write(d.file("in.safetensors"));
    inputs = d.file("in.safetensors");
    fs::create_directories(d.path / "folder");
    ASSERT_EQ(::mkfifo(d.file("fifo").c_str(), 0644), 0);
    fs::create_symlink(d.path / "loop", d.path / "loop");
    d.write("file", "a file, not a folder");
  }

  std::vector<Value> values() const {
    return {{"empty", ""},
            {"huge", "99999999999999999999999999999999"},
            {"negative", "-5"},
            {"non-numeric", "abc"},
            {"over-long", std::string(5000, '7')},
            {"not UTF-8", "bad\xff\xfe"},
            {"a folder", d.file("folder")},
            {"a FIFO", d.file("fifo")},
            {"a symlink loop", d.file("loop")},
            {"/dev/full", "/dev/full"},
            {"a file in the path", d.file("file") + "/x"}};
  }

  // Whether `v` is a bad value for what `o` takes (a plain name is a fine new output, an
  // existing empty folder a fine run folder).
  static bool refused(const Option& o, const Value& v) {
    const bool plain_name = v.label == "huge" || v.label == "negative" || v.label == "non-numeric" || v.label == "not UTF-8";
    if (o.takes == Takes::OutputFolder) return !plain_name && v.label != "a folder";
    if (o.takes == Takes::OutputFile) return !plain_name;
    if (o.takes == Takes::Real) return v.label != "huge";  // 1e32 is a fine real number
    return true;
  }

  // The subcommand's command line with everything valid except `o`, which gets `value`; the
  // output it would write goes to `out` (absent before).
  std::string command(const Option& o, const std::string& value, const std::string& out) const {
    std::map<std::string, std::string> args;
    std::string positional;
    if (o.subcommand == "train") positional = cfg, args = {{"--out", out}, {"--device", "cpu"}};
    if (o.subcommand == "eval") positional = ck, args = {{"--device", "cpu"}};
    if (o.subcommand == "info") positional = ck;
    if (o.subcommand == "run") positional = ck, args = {{"--inputs", inputs}, {"--out", out}, {"--device", "cpu"}};
    if (o.subcommand == "export-task") positional = cfg, args = {{"--trials", "4"}, {"--out", out}};
    if (o.subcommand == "fixed-points")
      positional = ck, args = {{"--inputs", inputs}, {"--out", out}, {"--device", "cpu"}, {"--n", "8"}, {"--max-iters", "10"}};
    if (o.name.empty()) positional = value;
    else args[o.name] = value;
    std::string line = o.subcommand + " " + shell_quoted(positional);
    for (const auto& [name, v] : args) line += " " + name + " " + shell_quoted(v);
    return line;
  }
};

TEST_F(CliConformance, EveryOptionRefusesEveryBadValueTheSameWay) {
  const std::vector<Option> options = {
      {"train", "", Takes::InputFile, {"config"}},
      {"train", "--out", Takes::OutputFolder, {"--out"}},
      {"train", "--device", Takes::Device, {"--device", "device"}},
      {"train", "--steps", Takes::Number, {"--steps"}},
      {"train", "--log-every", Takes::Number, {"--log-every"}},
      {"train", "--resume", Takes::InputFile, {"--resume", "checkpoint"}},
      {"train", "--data", Takes::InputFile, {"--data", "data file"}},
      {"train", "--val-data", Takes::InputFile, {"--val-data", "data file"}},
      {"eval", "", Takes::InputFile, {"checkpoint"}},
      {"eval", "--device", Takes::Device, {"--device", "device"}},
      {"eval", "--batch", Takes::Number, {"--batch"}},
      {"eval", "--data", Takes::InputFile, {"--data", "data file"}},
      {"info", "", Takes::InputFile, {"checkpoint"}},
      {"run", "", Takes::InputFile, {"source", "config", "checkpoint"}},
      {"run", "--inputs", Takes::InputFile, {"--inputs", "inputs"}},
      {"run", "--out", Takes::OutputFile, {"--out"}},
      {"run", "--device", Takes::Device, {"--device", "device"}},
      {"export-task", "", Takes::InputFile, {"config"}},
      {"export-task", "--trials", Takes::Number, {"--trials"}},
      {"export-task", "--out", Takes::OutputFile, {"--out"}},
      {"export-task", "--seed", Takes::Number, {"--seed"}},
      {"fixed-points", "", Takes::InputFile, {"checkpoint"}},
      {"fixed-points", "--inputs", Takes::InputFile, {"--inputs", "inputs"}},
      {"fixed-points", "--out", Takes::OutputFile, {"--out"}},
      {"fixed-points", "--n", Takes::Number, {"--n"}},
      {"fixed-points", "--seed", Takes::Number, {"--seed"}},
      {"fixed-points", "--max-iters", Takes::Number, {"--max-iters"}},
      {"fixed-points", "--max-q", Takes::Real, {"--max-q"}},
      {"fixed-points", "--device", Takes::Device, {"--device", "device"}},
  };
  struct Case {
    std::string what, args, out;
    std::vector<std::string> names;
  };
  std::vector<Case> cases;
  for (const Option& o : options)
    for (const Value& v : values()) {
      if (!refused(o, v)) continue;
      const std::string out = d.file("new_" + std::to_string(cases.size()));
      std::vector<std::string> names = o.names_in_message;
      if (!v.text.empty() && v.text.size() < 200 && valid_utf8(v.text)) names.push_back(v.text);
      cases.push_back({o.subcommand + " " + (o.name.empty() ? "<positional>" : o.name) + " = " + v.label,
                       command(o, v.text, out), out, names});
    }
  cases.push_back({"no arguments", "", "", {"subcommand"}});
  cases.push_back({"unknown subcommand", "frobnicate", "", {"frobnicate"}});

  const auto before = test::folder_contents(d.path / "run");
  std::vector<test::CliResult> results(cases.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w)
    workers.emplace_back([&] {
      for (size_t k; (k = next++) < cases.size();) {
        const fs::path dir = d.path / ("case_" + std::to_string(k));
        fs::create_directories(dir);
        // `timeout`: a FIFO opened for reading would block forever; that is a failure, not a hang.
        results[k] = test::run_cli(cases[k].args, dir, "timeout 20");
      }
    });
  for (auto& w : workers) w.join();

  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const test::CliResult& r = results[k];
    SCOPED_TRACE(c.what + "\n  ctrnn " + c.args.substr(0, 300));
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("ctrnn: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("ctrnn: ", 1), std::string::npos) << r.err;
    EXPECT_TRUE(valid_utf8(r.err)) << r.err;
    EXPECT_LT(r.err.size(), 1500u) << "a long value echoed back whole";
    bool named = false;
    for (const std::string& n : c.names) named = named || lower(r.err).find(lower(n)) != std::string::npos;
    EXPECT_TRUE(named) << "names none of the option's names or the value: " << r.err;
    if (!c.out.empty()) EXPECT_FALSE(fs::exists(c.out)) << "an output was created";
  }
  EXPECT_EQ(test::folder_contents(d.path / "run"), before) << "the run folder changed";
}

}  // namespace
}  // namespace ctrnn
