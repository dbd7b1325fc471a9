// collect_sweep: each pack's checkpoint and outcome into DIR/results.csv, one row per network.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ctrnn/checkpoint.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/evaluation.hpp"
#include "ctrnn/sweep.hpp"
#include "ctrnn/train_config.hpp"
#include "sweep/folder.hpp"

namespace ctrnn {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string number(double x) {
  if (std::isnan(x)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return buf;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The pack's outcome.txt status ("diverged", "failed") or "" when it has none.
std::string outcome(const std::string& pack_dir) {
  std::error_code ec;
  const std::string path = pack_dir + "/outcome.txt";
  if (!fs::exists(path, ec)) return "";
  const std::string line = detail::read_text_file(path, "outcome");
  return line.rfind("diverged:", 0) == 0 ? "diverged" : "failed";
}

void collect_pack(const SweepPack& pack, std::vector<SweepResult>& rows) {
  const size_t first_row = rows.size();
  const TrainConfig tc = parse_train_config(pack.config_text, ".");
  for (const SweepNetwork& n : pack.networks) {
    SweepResult r;
    r.network = n;
    r.steps_total = tc.training.steps;
    r.final_loss = r.val_loss = r.val_accuracy = NAN;
    r.status = "pending";
    rows.push_back(r);
  }
  const auto results = [&](size_t k) -> SweepResult& { return rows[first_row + k]; };
  const std::string ended = outcome(pack.dir);
  const std::string path = pack.dir + "/checkpoint.safetensors";
  std::error_code ec;
  if (fs::exists(path, ec)) {
    Checkpoint ck = load_checkpoint(path, Device::Cpu);
    const int64_t steps = ck.trainer_state ? ck.trainer_state->step : 0;
    std::vector<double> last_loss;
    if (ck.metadata.count("last_loss")) {
      const json j = json::parse(ck.metadata.at("last_loss"), nullptr, false);
      if (j.is_array())
        for (const json& x : j) last_loss.push_back(x.is_number() ? x.get<double>() : NAN);
    }
    const std::vector<bool> diverged = ck.trainer_state ? ck.trainer_state->diverged : std::vector<bool>();
    const bool finished = steps >= tc.training.steps;
    Evaluation ev;
    if (finished && ended.empty()) {  // what `ctrnn train` reports at its end
      const auto task = tc.make_task();
      Trainer trainer(ck.network, ck.optimizer, ck.loss_weights);
      if (ck.network.config().init_state == InitState::Keep) ck.network.reset_state();
      ev = evaluate_on_task(ck.network, trainer, *task, tc.training.eval_batch_size, tc.training.data_seed);
    }
    for (size_t k = 0; k < pack.networks.size(); ++k) {
      SweepResult& r = results(k);
      r.steps = steps;
      if (k < last_loss.size()) r.final_loss = last_loss[k];
      const bool gone = k < diverged.size() && diverged[k];
      if (!ev.loss.empty()) {
        r.val_loss = ev.loss[k];
        r.val_accuracy = ev.accuracy[k];
      }
      if (finished) r.status = gone ? "diverged" : "done";
    }
  }
  if (!ended.empty())
    for (size_t k = 0; k < pack.networks.size(); ++k) results(k).status = ended;
}

}  // namespace

std::vector<SweepResult> collect_sweep(const std::string& out) {
  const SweepPlan plan = load_sweep(out);
  std::vector<SweepResult> rows;
  for (const SweepPack& pack : plan.packs) {
    const size_t first = rows.size();
    bool failed = false;
    try {
      collect_pack(pack, rows);
    } catch (const InvalidArgument&) {  // a damaged checkpoint: the pack has no result to show
      failed = true;
    } catch (const FileError&) {
      failed = true;
    } catch (const StateError&) {
      failed = true;
    }
    if (failed) {
      rows.resize(first);
      for (const SweepNetwork& n : pack.networks) {
        SweepResult r;
        r.network = n;
        r.final_loss = r.val_loss = r.val_accuracy = NAN;
        r.status = "failed";
        rows.push_back(r);
      }
    }
  }
  std::string csv = "network,pack,index_in_pack,point,seed";
  for (const std::string& p : plan.parameters) csv += "," + csv_field(p);
  csv += ",steps,final_loss,val_loss,val_accuracy,status\n";
  for (const SweepResult& r : rows) {
    const SweepNetwork& n = r.network;
    csv += std::to_string(n.index) + "," + std::to_string(n.pack) + "," + std::to_string(n.index_in_pack) + "," +
           std::to_string(n.point) + "," + std::to_string(n.seed);
    for (const auto& v : n.values) csv += "," + csv_field(v.second);
    csv += "," + std::to_string(r.steps) + "," + number(r.final_loss) + "," + number(r.val_loss) + "," +
           number(r.val_accuracy) + "," + r.status + "\n";
  }
  detail::write_text_atomically(out + "/results.csv", csv);
  return rows;
}

}  // namespace ctrnn
