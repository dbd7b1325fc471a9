// `ctrnn sweep` and `ctrnn extract`, run as a user runs them: a 24-network sweep over two pack
// shapes, a network extracted and retrained alone bit for bit, a sweep killed (SIGKILL) during a
// pack and rerun equal to an uninterrupted one, bad specs, a folder of another sweep and a folder
// another sweep is running in refused.
#include <fcntl.h>
#include <sys/file.h>

#include <nlohmann/json.hpp>
#include <set>

#include "cli_util.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/sweep.hpp"

namespace ctrnn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::expect_one_line_error;
using test::run;
using test::run_cli;
using test::TempDir;

const char* const kBase = R"({
  "dims": [3, 12, 2], "activation": "tanh", "preact_noise": 0.05, "biases": "zero", "seed": 4,
  "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 8, "decision_steps": 4},
  "training": {"steps": 6, "batch_size": 4, "lr": 0.01, "checkpoint_every": 3, "eval_batch_size": 16}
})";

// 3 x 2 x 2 = 12 points x 2 seeds = 24 networks; dims splits them into two pack shapes (H 12, H 8)
// of 12 networks each, packed 8 + 4.
const char* const kSpec = R"({
  "base": "base.json",
  "space": {"training.lr": [0.003, 0.01, 0.03], "dims": [[3, 12, 2], [3, 8, 2]],
            "loss.lambda_fr": {"choice": [0, 0.01]}},
  "samples": 2, "seed": 7, "seeds": 2, "pack_size": 8
})";

std::vector<std::vector<std::string>> csv_rows(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) fields.push_back(field), field.clear();
      else field += c;
    }
    fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

// The parameter tensors of a checkpoint, by name.
std::map<std::string, std::vector<float>> params_of(const std::string& checkpoint) {
  const SafetensorsFile f = SafetensorsFile::read(checkpoint);
  std::map<std::string, std::vector<float>> out;
  for (const std::string& name : f.names())
    if (name.rfind("params.", 0) == 0 || name.rfind("optimizer.", 0) == 0) out[name] = f.get<float>(name).data;
  return out;
}

// A spec and its base config in a folder of their own (a test may hold several sweeps).
struct Sweep {
  TempDir d;
  fs::path dir;
  std::string spec;
  explicit Sweep(const std::string& spec_text = kSpec, const std::string& base = kBase) {
    static int count = 0;
    dir = d.path / ("sweep" + std::to_string(count++));
    fs::create_directories(dir);
    std::ofstream(dir / "base.json") << base;
    spec = file("sweep.json");
    std::ofstream(spec) << spec_text;
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
  test::CliResult run(const std::string& out, const std::string& options = "--workers 2") const {
    return run_cli("sweep " + spec + " --out " + file(out) + " " + options, d.path);
  }
};

TEST(CliSweep, TwentyFourNetworksInTwoPackShapesCompleteResults) {
  const Sweep s;
  const auto r = s.run("S");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("networks 24/24"), std::string::npos) << r.out;
  const auto rows = csv_rows(s.dir / "S/results.csv");
  ASSERT_EQ(rows.size(), 25u);
  const std::vector<std::string> header{"network", "pack", "index_in_pack", "point", "seed", "dims", "loss.lambda_fr",
                                        "training.lr", "steps", "final_loss", "val_loss", "val_accuracy", "status"};
  EXPECT_EQ(rows[0], header);
  std::map<std::string, std::set<std::string>> dims_of_pack;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    ASSERT_EQ(row.size(), header.size());
    EXPECT_EQ(row[0], std::to_string(i - 1));
    EXPECT_EQ(row[8], "6");
    EXPECT_EQ(row[12], "done");
    for (int k : {9, 10, 11}) EXPECT_FALSE(row[k].empty()) << header[k] << " of network " << row[0];
    dims_of_pack[row[1]].insert(row[5]);
    // The pack's config gives this network the row's values.
    const json pack = json::parse(test::slurp(s.dir / "S/packs" / ("00" + row[1]) / "config.json"));
    const int k = std::stoi(row[2]);
    EXPECT_EQ(pack["dims"].dump(), row[5]);
    const json lr = pack["training"]["lr"];
    EXPECT_DOUBLE_EQ(lr.is_object() ? lr["per_network"][k].get<double>() : lr.get<double>(), std::stod(row[7]));
  }
  EXPECT_EQ(dims_of_pack.size(), 4u);  // 8 + 4 networks of each shape
  for (const auto& [pack, dims] : dims_of_pack) EXPECT_EQ(dims.size(), 1u) << "pack " << pack;
  // Rerunning the finished sweep trains nothing and writes the same results.
  const std::string results = test::slurp(s.dir / "S/results.csv");
  const auto again = s.run("S");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("4 already done"), std::string::npos) << again.out;
  EXPECT_EQ(test::slurp(s.dir / "S/results.csv"), results);
}

// tau and the noise sigmas are per-network keys: numbers of them share a pack as per-network lists
// (which the pack's config loads), while per-neuron tau arrays split packs.
TEST(CliSweep, TimeConstantsAndNoiseShareAPack) {
  TempDir d;
  std::ofstream(d.path / "base.json") << kBase;
  const SweepPlan plan = plan_sweep(R"({"base": "base.json", "space": {"tau": [50, 100], "postact_noise": [0, 0.1]}})",
                                    d.path.string(), (d.path / "S").string());
  ASSERT_EQ(plan.packs.size(), 1u);
  const json pack = json::parse(plan.packs[0].config_text);
  EXPECT_EQ(pack["tau"], json::parse(R"({"per_network": [50, 100, 50, 100]})"));  // the last key varies fastest
  EXPECT_EQ(pack["postact_noise"], json::parse(R"({"per_network": [0, 0, 0.1, 0.1]})"));
  EXPECT_EQ(pack["preact_noise"], 0.05);  // the base's, one for all
  const SweepPlan arrays = plan_sweep(
      R"({"base": "base.json", "space": {"tau": [[20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20],
                                                 [50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 10]]}})",
      d.path.string(), (d.path / "T").string());
  EXPECT_EQ(arrays.packs.size(), 2u);
}

// A network extracted from a pack, retrained alone from the config stored in it, equals the
// packed one bit for bit: the pack trained on one thread (two workers on two cores, or one per
// core), the network alone on three (the CPU backend's sums do not depend on the thread count,
// and it runs a pack network by network). On the CPU: on a GPU the recurrence path depends on the
// pack's size (docs/gpu-dispatch.md), so a pack and its network alone agree within float32's
// rounding there, not bit for bit.
TEST(CliSweep, ExtractedNetworkRetrainedAloneEqualsThePackedOne) {
  const Sweep s;
  const std::string cpu = " --device cpu";
  ASSERT_EQ(s.run("S", "--workers 2" + cpu).code, 0);
  const std::string pack = s.file("S/packs/002/checkpoint.safetensors");
  const auto r = run("extract " + pack + " --network 5 --out " + s.file("one.safetensors"), s.d);
  ASSERT_EQ(r.code, 0) << r.err;
  const SafetensorsFile one = SafetensorsFile::read(s.file("one.safetensors"));
  const json config = json::parse(one.metadata.at("train_config"));
  EXPECT_EQ(config["ensemble_size"], 1);
  EXPECT_EQ(config["first_network"], json::parse(test::slurp(s.dir / "S/packs/002/config.json"))["first_network"].get<int>() + 5);
  EXPECT_TRUE(config["training"]["lr"].is_number());
  std::ofstream(s.file("one.json")) << one.metadata.at("train_config");
  ASSERT_EQ(run_cli("train " + s.file("one.json") + " --out " + s.file("alone") + cpu, s.d.path, "OPENBLAS_NUM_THREADS=3").code, 0);
  const auto extracted = params_of(s.file("one.safetensors"));
  const auto alone = params_of(s.file("alone/checkpoint.safetensors"));
  ASSERT_EQ(extracted.size(), alone.size());
  for (const auto& [name, values] : extracted) EXPECT_EQ(values, alone.at(name)) << name;
  // `train --resume` continues the extracted checkpoint as the config's own longer run.
  const std::string one_thread = "OPENBLAS_NUM_THREADS=1";
  const auto cont = run_cli("train --resume " + s.file("one.safetensors") + " --steps 9 --out " + s.file("cont") + cpu, s.d.path, one_thread);
  ASSERT_EQ(cont.code, 0) << cont.err;
  ASSERT_EQ(run_cli("train " + s.file("one.json") + " --steps 9 --out " + s.file("alone9") + cpu, s.d.path, one_thread).code, 0);
  EXPECT_EQ(params_of(s.file("cont/checkpoint.safetensors")), params_of(s.file("alone9/checkpoint.safetensors")));
  // Its slice of the pack is what was extracted.
  const SafetensorsFile all = SafetensorsFile::read(pack);
  const std::vector<float> w = all.get<float>("params.w_hid").data;
  const size_t per = extracted.at("params.w_hid").size();
  EXPECT_EQ(std::vector<float>(w.begin() + 5 * per, w.begin() + 6 * per), extracted.at("params.w_hid"));
  expect_one_line_error(run("extract " + pack + " --network 8 --out " + s.file("x.safetensors"), s.d), 2, "--network");
  expect_one_line_error(run("extract " + pack + " --network 0 --out " + s.file("one.safetensors"), s.d), 2, "--out");
}

// Whether no process holds a pack folder's run lock any more.
bool unlocked(const fs::path& pack) {
  const int fd = ::open((pack / ".ctrnn.lock").c_str(), O_RDWR);
  if (fd < 0) return true;
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return free;
}

TEST(CliSweep, KilledDuringAPackAndRerunEqualsAnUninterruptedSweep) {
  const std::string spec = test::replaced(kSpec, "\"pack_size\": 8", "\"pack_size\": 12");
  const std::string base = test::replaced(test::replaced(kBase, "\"steps\": 6", "\"steps\": 300"),
                                          "\"checkpoint_every\": 3", "\"checkpoint_every\": 20");
  const Sweep s(spec, base);
  ASSERT_EQ(s.run("whole", "--workers 1").code, 0);
  const pid_t pid = test::spawn_cli({"sweep", s.spec, "--out", s.file("cut"), "--workers", "1"},
                                    s.file("cut.out"), s.file("cut.err"));
  const fs::path first = s.dir / "cut/packs/000";
  ASSERT_TRUE(test::wait_until([&] { return fs::exists(first / "checkpoint.safetensors"); }));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(test::wait_cli(pid), -SIGKILL);
  ASSERT_TRUE(test::wait_until([&] { return unlocked(first); }, 30));  // its pack died with it
  const auto steps = SafetensorsFile::read(first / "checkpoint.safetensors").metadata.at("step");
  EXPECT_LT(std::stoi(steps), 300) << "the pack was not cut";
  const auto r = s.run("cut", "--workers 1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(test::slurp(s.dir / "cut/results.csv"), test::slurp(s.dir / "whole/results.csv"));
  for (const char* pack : {"000", "001"})
    EXPECT_EQ(params_of(s.file(std::string("cut/packs/") + pack + "/checkpoint.safetensors")),
              params_of(s.file(std::string("whole/packs/") + pack + "/checkpoint.safetensors")))
        << pack;
}

TEST(CliSweep, BadSpecsAreRefusedNamingTheKeyBeforeAnyPack) {
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> cases{
      {"space.training.lrr", {"\"training.lr\"", "\"training.lrr\""}},                    // unknown parameter
      {"unused", {R"("space": {)", R"("unused": 1, "space": {)"}},                          // unknown key
      {"space.training.lr", {"[0.003, 0.01, 0.03]", "[]"}},                                // empty list
      {"space.training.lr", {"[0.003, 0.01, 0.03]", "[0.01, \"fast\"]"}},                 // wrong type
      {"space.dims", {"[[3, 12, 2], [3, 8, 2]]", "[[3, 12], [3, 8, 2]]"}},                 // wrong length
      {"pack_size", {"\"pack_size\": 8", "\"pack_size\": 0"}},
      {"seeds", {"\"seeds\": 2", "\"seeds\": 1.5"}},
      {"space.loss.lambda_fr.choice", {"{\"choice\": [0, 0.01]}", "{\"choice\": []}"}},
      {"space.training.lr.uniform", {"[0.003, 0.01, 0.03]", "{\"uniform\": [1]}"}},
      {"base", {"\"base.json\"", "\"missing.json\""}},
      {"base.ensemble_size", {"\"base.json\"", "{\"ensemble_size\": 4}"}},
  };
  for (const auto& [needle, change] : cases) {
    const Sweep s(test::replaced(kSpec, change.first, change.second));
    expect_one_line_error(s.run("S"), 2, "invalid " + needle + ":");
    EXPECT_FALSE(fs::exists(s.dir / "S")) << needle;
  }
  // The empty space, a parameter without a name (a fuzzer's find: the empty path was indexed),
  // and a base config that does not load (an unknown key in it).
  const Sweep empty(R"({"base": "base.json", "space": {}})");
  expect_one_line_error(empty.run("S"), 2, "invalid space");
  const Sweep unnamed(R"({"base": "base.json", "space": {"": {"log_uniform": [0.1, 0.9]}}})");
  expect_one_line_error(unnamed.run("S"), 2, "invalid space: expected parameters named by config keys");
  EXPECT_FALSE(fs::exists(unnamed.dir / "S"));
  const Sweep broken(kSpec, test::replaced(kBase, "\"seed\": 4", "\"seed\": 4, \"sede\": 5"));
  expect_one_line_error(broken.run("S"), 2, "invalid base");
  EXPECT_FALSE(fs::exists(broken.dir / "S"));
}

TEST(CliSweep, AFolderOfAnotherSweepIsRefusedNamingTheDifference) {
  const Sweep s;
  ASSERT_EQ(s.run("S").code, 0);
  const auto before = test::folder_contents(s.dir / "S");
  std::ofstream(s.file("other.json")) << test::replaced(kSpec, "\"seed\": 7", "\"seed\": 8");
  const auto r = run("sweep " + s.file("other.json") + " --out " + s.file("S"), s.d);
  expect_one_line_error(r, 2, "another sweep: its seed is 7 where the spec has 8");
  EXPECT_EQ(test::folder_contents(s.dir / "S"), before);
  fs::create_directories(s.dir / "stray");
  std::ofstream(s.dir / "stray/file.txt") << "x";
  expect_one_line_error(s.run("stray"), 2, "no sweep.json");
}

// A sweep into a folder another sweep is running in (here: this process holds its lock) is refused
// before anything is written, so two processes never run the same packs at once; once the lock is
// let go, the same command runs.
TEST(CliSweep, ASecondSweepIntoAFolderInUseIsRefused) {
  const Sweep s;
  SweepFolderLock other;
  other.acquire(s.file("S"));
  const auto before = test::folder_contents(s.dir / "S");
  expect_one_line_error(s.run("S"), 2, "locked by another ctrnn sweep");
  EXPECT_EQ(test::folder_contents(s.dir / "S"), before);
  other.release();
  const auto r = s.run("S");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

// A network with an absurd learning rate diverges alone (status diverged, the others done); a
// pack whose every network diverges ends with its outcome recorded, and the sweep still succeeds.
TEST(CliSweep, DivergedNetworksAndPacksAreReportedAsSuch) {
  const Sweep s(R"({"base": "base.json", "space": {"dims": [[3, 12, 2], [3, 8, 2]], "training.lr": [0.01, 1e30]},
                    "pack_size": 2})");
  const auto r = s.run("S");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::vector<std::string> status;
  for (const auto& row : csv_rows(s.dir / "S/results.csv")) status.push_back(row.back());
  EXPECT_EQ(status, (std::vector<std::string>{"status", "done", "diverged", "done", "diverged"}));
  const Sweep all(R"({"base": "base.json", "space": {"training.lr": [1e30, 1e31]}})");
  const auto a = all.run("S");
  ASSERT_EQ(a.code, 0) << a.out << a.err;
  EXPECT_NE(a.out.find("pack 000 stopped: every network diverged"), std::string::npos) << a.out;
  EXPECT_EQ(test::slurp(all.dir / "S/packs/000/outcome.txt").rfind("diverged: ", 0), 0u);
  for (const auto& row : csv_rows(all.dir / "S/results.csv"))
    if (row[0] != "network") EXPECT_EQ(row.back(), "diverged");
}

// SIGTERM stops the running pack with its checkpoint saved (as ctrnn train does) and the sweep with
// 128 + 15; the same command then finishes it.
TEST(CliSweep, StoppedBySigtermAndContinued) {
  const std::string base = test::replaced(test::replaced(kBase, "\"steps\": 6", "\"steps\": 300"),
                                          "\"checkpoint_every\": 3", "\"checkpoint_every\": 100");
  const Sweep s(test::replaced(kSpec, "\"pack_size\": 8", "\"pack_size\": 12"), base);
  const pid_t pid = test::spawn_cli({"sweep", s.spec, "--out", s.file("S"), "--workers", "1"}, s.file("o.txt"),
                                    s.file("e.txt"));
  const fs::path first = s.dir / "S/packs/000";
  ASSERT_TRUE(test::wait_until([&] { return fs::exists(first / "metrics.csv") && fs::file_size(first / "metrics.csv") > 200; }));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(test::wait_cli(pid, 60), 128 + SIGTERM) << test::slurp(s.dir / "e.txt");
  EXPECT_NE(test::slurp(first / "train.log").find("stopped by SIGTERM"), std::string::npos);
  const auto r = s.run("S", "--workers 1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const auto& row : csv_rows(s.dir / "S/results.csv"))
    if (row[0] != "network") EXPECT_EQ(row.back(), "done");
}

TEST(CliSweep, RayWithoutThePythonPackageSaysHowToInstallIt) {
  const Sweep s;
  const auto r = run_cli("sweep " + s.spec + " --out " + s.file("S") + " --ray 127.0.0.1:6379", s.d.path,
                         "PATH=" + s.d.path.string());
  expect_one_line_error(r, 2, "pip install .[ray]");
  EXPECT_FALSE(fs::exists(s.dir / "S"));
}

// `train --resume-or-start`, what a pack runs: starts in an empty folder, continues the folder's own
// checkpoint to the same bits as an uninterrupted run, and refuses a config of another run.
TEST(CliSweep, TrainResumeOrStartContinuesOnlyTheSameRun) {
  TempDir d;
  const std::string cfg = d.write("c.json", kBase);
  const std::string one = "OPENBLAS_NUM_THREADS=1";
  ASSERT_EQ(run_cli("train " + cfg + " --out " + d.file("whole"), d.path, one).code, 0);
  ASSERT_EQ(run_cli("train " + cfg + " --steps 3 --resume-or-start --out " + d.file("part"), d.path, one).code, 0);
  const auto r = run_cli("train " + cfg + " --resume-or-start --out " + d.file("part"), d.path, one);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("steps 3 -> 6"), std::string::npos) << r.out;
  EXPECT_EQ(params_of(d.file("part/checkpoint.safetensors")), params_of(d.file("whole/checkpoint.safetensors")));
  const std::string other = d.write("other.json", test::replaced(kBase, "\"lr\": 0.01", "\"lr\": 0.02"));
  expect_one_line_error(run("train " + other + " --resume-or-start --out " + d.file("part"), d), 2, "training.lr");
}

// A pack killed before its first checkpoint (metrics rows, no checkpoint) starts again; a pack
// whose run fails (here its checkpoint path made a folder) is reported failed, with its error
// line, in the sweep's output, outcome.txt and results.csv, and the sweep exits 1; the same
// command retries it. Both end with the results of an uninterrupted sweep.
TEST(CliSweep, APackWithoutCheckpointRestartsAndAFailedPackIsRetried) {
  const Sweep s(R"({"base": "base.json", "space": {"dims": [[3, 12, 2], [3, 8, 2]]}})");
  ASSERT_EQ(s.run("S", "--workers 1").code, 0);
  const std::string whole = test::slurp(s.dir / "S/results.csv");
  const fs::path pack = s.dir / "S/packs/001";
  fs::remove(pack / "checkpoint.safetensors");
  ASSERT_TRUE(fs::exists(pack / "metrics.csv"));
  auto r = s.run("S", "--workers 1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 already done"), std::string::npos) << r.out;
  EXPECT_EQ(test::slurp(s.dir / "S/results.csv"), whole);

  fs::remove(pack / "checkpoint.safetensors");
  fs::create_directories(pack / "checkpoint.safetensors");
  r = s.run("S", "--workers 1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("pack 001 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 failed"), std::string::npos) << r.out;
  EXPECT_EQ(test::slurp(pack / "outcome.txt").rfind("failed: ", 0), 0u);
  std::vector<std::string> status;
  for (const auto& row : csv_rows(s.dir / "S/results.csv")) status.push_back(row.back());
  EXPECT_EQ(status, (std::vector<std::string>{"status", "done", "failed"}));
  fs::remove(pack / "checkpoint.safetensors");
  r = s.run("S", "--workers 1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(pack / "outcome.txt"));
  EXPECT_EQ(test::slurp(s.dir / "S/results.csv"), whole);
}

}  // namespace
}  // namespace ctrnn
