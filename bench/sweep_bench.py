#!/usr/bin/env python3
"""A 64-network sweep on this machine, three ways: ctrnn's sweep, 64 separate `ctrnn train` runs, and
nn4n's training loop over the 64 networks one by one (issue 21's speed targets).

    build/.venv-python/bin/python bench/sweep_bench.py --ctrnn build/ctrnn [--rounds 2] [--out table.md]

(any Python with ctrnn, torch and nn4n: scripts/test-python.sh's venv has all three.)

The sweep: 16 points (4 learning rates x 4 firing-rate loss weights, both per-network keys, so the 64
networks share one pack) x 4 seeds = 64 networks,
(H, B, T) = (64, 32, 100): the perceptual-decision task (I = 3, O = 2; 20 fixation, 60 stimulus,
20 decision steps), batch 32, 300 Adam steps each, a checkpoint at the end, then the final
evaluation of every network (256 fresh trials).

Contenders, wall-clock from start to the last result, in interleaved rounds:
  ctrnn sweep         `ctrnn sweep SWEEP.json --out DIR`: the library's planner packs the 64 networks
                      into one ensemble (pack_size 64) and trains it, all cores; results.csv at the end.
  ctrnn.sweep.run     the same through Python's local backend (worker processes).
  64 x ctrnn train    one config per network (its lr, noise, seed and first_network, E = 1), each its
                      own `ctrnn train` process, two at a time with one thread each (the best use of
                      two cores by separate runs), then sequentially on all cores.
  nn4n loop           nn4n 1.1.1's CTRNN (same dims, tau, dt, noise, zero biases), torch.optim.Adam,
                      masked MSE plus lambda_fr times the mean squared rate (nn4n's RNNLoss terms)
                      on the same task's batches (made beforehand, not timed), all cores
                      (torch's default threads). NOT run for 64 x 300 steps: the time per step is
                      measured on a few networks and steps in the same round and multiplied by
                      64 x 300 (stated in the output); the batches' generation and the final
                      evaluation are left out of nn4n's time, which favours nn4n.
"""
import argparse
import itertools
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_bench import commit, cpu_model, import_nn4n  # noqa: E402

LRS = [0.002, 0.005, 0.01, 0.02]
LAMBDAS_FR = [0.0, 1e-4, 1e-3, 1e-2]
SEEDS, STEPS, HIDDEN, BATCH = 4, 300, 64, 32
TASK = {"name": "perceptual_decision", "fixation_steps": 20, "stimulus_steps": 60, "decision_steps": 20,
        "coherences": [0.1, 0.2, 0.4, 0.8], "stimulus_noise": 0.5}
BASE = {"dims": [3, HIDDEN, 2], "activation": "relu", "tau": 100, "dt": 20, "biases": "zero", "preact_noise": 0.05,
        "seed": 1, "task": TASK,
        "training": {"steps": STEPS, "batch_size": BATCH, "optimizer": "adam", "lr": 0.005, "checkpoint_every": 0,
                     "eval_batch_size": 256}}
SPEC = {"base": BASE, "space": {"training.lr": LRS, "loss.lambda_fr": LAMBDAS_FR}, "seeds": SEEDS, "pack_size": 64}
NETWORKS = len(LRS) * len(LAMBDAS_FR) * SEEDS
TARGET_NN4N, TARGET_TRAIN = 20.0, 3.0


def network_configs(folder):
    """One E = 1 config per network of the sweep, from the library's plan (planned into `folder`): its
    values and first_network = its number in the sweep, so that it trains exactly the sweep's network."""
    import ctrnn

    configs = []
    for pack in ctrnn._core.plan_sweep(json.dumps(SPEC), str(folder), str(folder / "plan")):
        for n in pack["networks"]:
            c = json.loads(json.dumps(BASE))
            c["training"]["lr"] = n["values"]["training.lr"]
            c["loss"] = {"lambda_fr": n["values"]["loss.lambda_fr"]}
            c["first_network"] = n["index"]
            configs.append(c)
    return configs


def children_cpu():
    """CPU seconds (user + system) of this process's finished child processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(fn):
    """Wall-clock seconds of fn() and the CPU seconds of the processes it ran (its own threads aside)."""
    start, cpu = time.perf_counter(), children_cpu()
    fn()
    return time.perf_counter() - start, children_cpu() - cpu


def run(command, env=None):
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"sweep_bench: {' '.join(map(str, command))} failed ({result.returncode}):\n{result.stderr[-2000:]}")


def ctrnn_sweep(ctrnn, folder, pack_size, workers):
    spec = folder / "sweep.json"
    spec.write_text(json.dumps({**SPEC, "pack_size": pack_size}))
    command = [ctrnn, "sweep", str(spec), "--out", str(folder / "out")] + (["--workers", str(workers)] if workers else [])
    return timed(lambda: run(command))


def python_sweep(folder):
    import ctrnn.sweep

    return timed(lambda: ctrnn.sweep.run(SPEC, folder / "out", progress=False))


def separate_runs(ctrnn, folder, parallel):
    """64 `ctrnn train` processes: `parallel` at a time, each with OPENBLAS_NUM_THREADS = cores / parallel."""
    threads = max(1, (os.cpu_count() or 1) // parallel)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads)}
    jobs = []
    for k, c in enumerate(network_configs(folder)):
        path = folder / f"net{k}.json"
        path.write_text(json.dumps(c))
        jobs.append([ctrnn, "train", str(path), "--out", str(folder / f"net{k}"), "--device", "cpu"])

    def all_jobs():
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda cmd: run(cmd, env), jobs))
    return timed(all_jobs)


def nn4n_step_time(CTRNN, networks=4, warmup=2, steps=10):
    """Seconds per training step of nn4n's loop: the median over `networks` of the sweep's networks of
    the mean over `steps` timed steps (after `warmup`), on the task's batches."""
    import numpy as np
    import torch

    import ctrnn

    task = ctrnn.tasks.Task(TASK["name"], **{k: v for k, v in TASK.items() if k != "name"})
    batches = []
    for i in range(warmup + steps):
        b = task.batch(BATCH, seed=1, index=i)
        batches.append(tuple(torch.from_numpy(np.ascontiguousarray(b[k])) for k in ("u", "target", "mask")))
    means = []
    points = list(itertools.product(LRS, LAMBDAS_FR))
    for lr, fr in points[:: len(points) // networks][:networks]:
        torch.manual_seed(len(means))
        model = CTRNN(dims=[3, HIDDEN, 2], activation="relu", tau=100, dt=20, preact_noise=BASE["preact_noise"],
                      biases="zero")
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)

        def step(u, target, mask):
            optimizer.zero_grad(set_to_none=True)
            y, states = model(u)  # nn4n 1.1.1 returns the states as a list of one (T, B, H) tensor
            states = states[0] if isinstance(states, (list, tuple)) else states
            m = mask if mask.dim() == 3 else mask.unsqueeze(-1)
            loss = (((y - target) ** 2) * m).sum() / (m.expand_as(y).sum())
            loss = loss + fr * states.mean(dim=(0, 1)).pow(2).mean()
            loss.backward()
            optimizer.step()

        for u, target, mask in batches[:warmup]:
            step(u, target, mask)
        start = time.perf_counter()
        for u, target, mask in batches[warmup:]:
            step(u, target, mask)
        means.append((time.perf_counter() - start) / steps)
    return statistics.median(means)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ctrnn", default="build/ctrnn", help="the ctrnn program (default build/ctrnn)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nn4n", help="nn4n wheel or source (default: installed, else bench/'s wheel)")
    parser.add_argument("--skip", action="append", default=[], choices=["python", "parallel", "sequential"],
                        help="leave a contender out")
    parser.add_argument("--out", help="also write the table here")
    parser.add_argument("--pack-size", type=int, default=SPEC["pack_size"],
                        help=f"the ctrnn sweep's pack_size (default {SPEC['pack_size']}: one pack)")
    parser.add_argument("--workers", type=int, help="the ctrnn sweep's --workers (default: its own)")
    args = parser.parse_args()
    ctrnn = str(Path(args.ctrnn).resolve())
    CTRNN, nn4n_version, _ = import_nn4n(args.nn4n)
    import torch

    lines = [f"sweep_bench: {NETWORKS} networks ({len(LRS)} lr x {len(LAMBDAS_FR)} lambda_fr x {SEEDS} seeds), (H, B, T) = "
             f"({HIDDEN}, {BATCH}, 100), {STEPS} steps | {cpu_model()}, {os.cpu_count()} cores | commit {commit()} | "
             f"torch {torch.__version__} ({torch.get_num_threads()} threads), nn4n {nn4n_version} | "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} | ctrnn sweep: pack_size {args.pack_size}, "
             f"--workers {args.workers or 'default'} | CPU: user + system seconds of the processes run", "",
             "| round | load before | ctrnn sweep | ctrnn.sweep.run | 64 x ctrnn train, 2 at a time | 64 x ctrnn train, "
             "one by one | nn4n per step (x 64 x 300 =) | nn4n / ctrnn sweep | 64 train (2 at a time) / ctrnn sweep "
             "| ctrnn sweep networks/hour | load after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    for r in range(args.rounds):
        load = "%.1f" % os.getloadavg()[0]
        step = nn4n_step_time(CTRNN)  # first: the cheapest, and a failure shows at once
        print(f"round {r + 1}: nn4n {step * 1e3:.1f} ms per step", flush=True)
        times, cpu = {}, {}
        with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
            for name, fn in (("ctrnn sweep", lambda f: ctrnn_sweep(ctrnn, f, args.pack_size, args.workers)),
                             ("python", python_sweep),
                             ("parallel", lambda f: separate_runs(ctrnn, f, 2)),
                             ("sequential", lambda f: separate_runs(ctrnn, f, 1))):
                if name in args.skip:
                    times[name] = cpu[name] = float("nan")
                    continue
                folder = Path(tmp) / name.replace(" ", "_")
                folder.mkdir()
                times[name], cpu[name] = fn(folder)
                print(f"round {r + 1}: {name} {times[name]:.1f} s, CPU {cpu[name]:.1f} s (load {os.getloadavg()[0]:.1f})",
                      flush=True)
                shutil.rmtree(folder, ignore_errors=True)
        t_sweep, t_nn4n = times["ctrnn sweep"], step * NETWORKS * STEPS
        row = (f"| {r + 1} | {load} | {t_sweep:.1f} s (CPU {cpu['ctrnn sweep']:.1f} s) | {times['python']:.1f} s | "
               f"{times['parallel']:.1f} s (CPU {cpu['parallel']:.1f} s) | {times['sequential']:.1f} s | {step * 1e3:.1f} ms ({t_nn4n:.0f} s, extrapolated) | "
               f"{t_nn4n / t_sweep:.1f} (target {TARGET_NN4N:g}) | {times['parallel'] / t_sweep:.2f} (target "
               f"{TARGET_TRAIN:g}) | {NETWORKS / t_sweep * 3600:.0f} | {os.getloadavg()[0]:.1f} |")
        lines.append(row)
        print(row, flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
