// ctrnn: train, evaluate, inspect and run continuous-time RNNs from the command line. The
// command line is parsed by CLI11; every error is one line on stderr starting "ctrnn: ", and
// the exit code says what kind of failure it was (commands.hpp, README "Exit codes").
#include <CLI/CLI.hpp>
#include <iostream>
#include <new>
#include <string>

#include "commands.hpp"
#include "ctrnn/error.hpp"
#include "ctrnn/safetensors.hpp"
#include "ctrnn/version.hpp"
#include "fixed_points_command.hpp"
#include "options.hpp"

namespace {

using namespace ctrnn::cli;

const char* kDevice = "auto (the GPU when present), cpu or cuda";

// CLI11 takes `--steps ''` as a value, which would read as "not given": refused instead, naming
// the option (or the positional argument).
void refuse_empty_values(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands())
    for (const CLI::Option* opt : sub->get_options())
      if (opt->get_type_size() > 0 && opt->count() > 0)
        for (const std::string& value : opt->results())
          if (value.empty()) {
            const std::string name = opt->get_lnames().empty() ? opt->get_name() : "--" + opt->get_lnames().front();
            throw ctrnn::InvalidArgument(name, "a value", "an empty one");
          }
}

int run_commands(int argc, char** argv) {
  CLI::App app{"ctrnn " + std::string(ctrnn::version()) + ": train continuous-time RNNs (nn4n's CTRNN) fast", "ctrnn"};
  app.set_version_flag("--version", std::string(ctrnn::version()));
  app.require_subcommand(1);

  TrainOptions train;
  CLI::App* t = app.add_subcommand("train", "train a network from a config (built-in task or a data file)");
  t->add_option("CONFIG", train.config, "config JSON (optional with --resume: the checkpoint holds it)")->type_name("PATH");
  t->add_option("--out", train.out, "output folder for checkpoint.safetensors and metrics.csv")->capture_default_str()->type_name("PATH");
  t->add_option("--device", train.device, kDevice)->capture_default_str()->type_name("DEVICE");
  t->add_option("--steps", train.steps, "total optimizer steps (overrides training.steps)")->type_name("N");
  t->add_option("--log-every", train.log_every, "a progress line and validation every N steps")->type_name("N");
  t->add_option("--resume", train.resume, "continue the run of this checkpoint")->type_name("PATH");
  t->add_option("--data", train.data, "training trials: safetensors with u (T,N,I), target (T,N,O), mask")->type_name("PATH");
  t->add_option("--val-data", train.val_data, "validation trials, same layout")->type_name("PATH");
  t->add_flag("--overwrite", train.overwrite, "replace a checkpoint already in the output folder");
  t->add_flag("--resume-or-start", train.resume_or_start,
              "continue the output folder's checkpoint when it has one (the config must describe its run), else start");

  EvalOptions eval;
  CLI::App* e = app.add_subcommand("eval", "loss and decision accuracy of a checkpoint in eval mode");
  e->add_option("CHECKPOINT", eval.checkpoint, "checkpoint written by ctrnn train")->required()->type_name("PATH");
  e->add_option("--device", eval.device, kDevice)->capture_default_str()->type_name("DEVICE");
  e->add_option("--batch", eval.batch, "fresh trials of a built-in task (default: the run's eval_batch_size)")->type_name("N");
  e->add_option("--data", eval.data, "evaluate on the trials of this data file instead")->type_name("PATH");
  e->add_flag("--reset-state", eval.reset_state, "keep mode: start from zeros, not the carried state");

  InfoOptions info;
  CLI::App* i = app.add_subcommand("info", "a checkpoint's config, training state and layers");
  i->add_option("CHECKPOINT", info.checkpoint, "checkpoint file")->required()->type_name("PATH");
  i->add_flag("--json", info.json, "machine-readable JSON");

  RunOptions run;
  CLI::App* r = app.add_subcommand("run", "simulate a network (eval mode) on given inputs");
  r->add_option("SOURCE", run.source, "config JSON or checkpoint")->required()->type_name("PATH");
  r->add_option("--inputs", run.inputs, "safetensors with u (T,B,I) or (E,T,B,I)")->type_name("PATH");
  r->add_option("--out", run.out, "output safetensors: y (E,T,B,O), r (E,T,B,H)")->type_name("PATH");
  r->add_option("--device", run.device, kDevice)->capture_default_str()->type_name("DEVICE");
  r->add_flag("--reset-state", run.reset_state, "keep mode: start from zeros, not the carried state");
  r->add_flag("--overwrite", run.overwrite, "replace an existing output file");

  ExportTaskOptions exporter;
  CLI::App* x = app.add_subcommand("export-task", "write a built-in task's trials as a data file");
  x->add_option("CONFIG", exporter.config, "config JSON with a task section")->required()->type_name("PATH");
  x->add_option("--trials", exporter.trials, "number of trials N")->required()->type_name("N");
  x->add_option("--out", exporter.out, "output data file (.safetensors)")->required()->type_name("PATH");
  x->add_option("--seed", exporter.seed, "the trials' seed (default: the config's data seed)")->type_name("N");
  x->add_flag("--overwrite", exporter.overwrite, "replace an existing output file");

  SweepOptions sweep;
  CLI::App* s = app.add_subcommand("sweep", "train a sweep (a base config, a search space, seeds) packed into ensembles");
  s->add_option("SWEEP", sweep.spec, "sweep spec JSON (base config, space, samples, seed, seeds, pack_size)")->required()->type_name("PATH");
  s->add_option("--out", sweep.out, "the sweep's folder: sweep.json, packs/NNN/, results.csv")->required()->type_name("PATH");
  s->add_option("--workers", sweep.workers, "packs trained at once (default: one per core); the cores' threads are split between them")->type_name("N");
  s->add_option("--device", sweep.device, kDevice)->capture_default_str()->type_name("DEVICE");
  s->add_option("--ray", sweep.ray, "run the packs as tasks on this Ray cluster (the Python package, pip install .[ray])")->type_name("ADDRESS");

  ExtractOptions extract;
  CLI::App* xn = app.add_subcommand("extract", "one network of an ensemble's checkpoint as a one-network checkpoint");
  xn->add_option("CHECKPOINT", extract.checkpoint, "checkpoint written by a training run")->required()->type_name("PATH");
  xn->add_option("--network", extract.network, "the network's index in the ensemble (0 .. E-1)")->required()->type_name("K");
  xn->add_option("--out", extract.out, "output checkpoint (.safetensors)")->required()->type_name("PATH");
  xn->add_flag("--overwrite", extract.overwrite, "replace an existing output file");

  FixedPointsCommand fixed_points;
  register_fixed_points_command(app, fixed_points);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForAllHelp& h) {
    return app.exit(h);
  } catch (const CLI::CallForVersion& v) {
    return app.exit(v);
  } catch (const CLI::ParseError& p) {
    std::string where = "ctrnn";
    for (const CLI::App* sub : app.get_subcommands()) where += " " + sub->get_name();
    std::string what = p.what();
    if (argc < 2) {
      std::cout << app.help();
    } else if (app.get_subcommands().empty() && argv[1][0] != '-') {  // CLI11 says only "A subcommand is required"
      std::string known;
      for (const CLI::App* sub : app.get_subcommands({})) known += (known.empty() ? "" : ", ") + sub->get_name();
      what = "unknown subcommand '" + std::string(argv[1]) + "' (expected one of " + known + ")";
    }
    std::cerr << printable_message(what + " (see " + where + " --help)") << "\n";
    return kBadInput;
  }
  refuse_empty_values(app);
  if (t->parsed()) return train_command(train);
  if (e->parsed()) return eval_command(eval);
  if (i->parsed()) return info_command(info);
  if (r->parsed()) return run_command(run);
  if (s->parsed()) return sweep_command(sweep);
  if (xn->parsed()) return extract_command(extract);
  if (fixed_points.app->parsed()) return fixed_points.run();
  return export_task_command(exporter);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_commands(argc, argv);
  } catch (const ctrnn::InvalidArgument& e) {
    std::cerr << printable_message(e.what()) << "\n";
    return kBadInput;
  } catch (const ctrnn::WriteError& e) {  // a full disk, an I/O error: the input was fine
    std::cerr << printable_message(e.what()) << "\n";
    return kIoError;
  } catch (const ctrnn::FileError& e) {
    std::cerr << printable_message(e.what()) << "\n";
    return kBadInput;
  } catch (const ctrnn::StateError& e) {  // e.g. --device cuda where there is no GPU
    std::cerr << printable_message(e.what()) << "\n";
    return kBadInput;
  } catch (const std::bad_alloc&) {
    std::cerr << "ctrnn: out of memory\n";
    return kFailure;
  } catch (const std::exception& e) {
    std::cerr << printable_message(e.what()) << "\n";
    return kFailure;
  }
}
