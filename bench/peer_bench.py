#!/usr/bin/env python3
"""Side-by-side timing of nn4n 1.1.1 (PyTorch) and ctrnn on the same sizes and device.

    python3 bench/peer_bench.py --device cpu --quick            # smallest sizes, a few minutes
    python3 bench/peer_bench.py --device cpu --out table.md     # the whole grid (long on a CPU)
    python3 bench/peer_bench.py --device cuda --build build-gpu-work --no-build --no-venv \
        --nn4n bench/nn4n-1.1.1-py3-none-any.whl                   # GPU machine, no network

What is timed, for each size (H, B, T, E) of bench/bench_common.hpp (I = O = 4):
  forward     nn4n: E models, each `model(u)` under torch.no_grad() (nn4n's fastest inference
              path; ctrnn's forward also keeps the trace for backward and returns the rates).
              ctrnn: bench_forward's forward_copy_yr (Network::forward, one call for all E
              networks, y and r copied to the caller as nn4n returns both).
  train step  nn4n: E models, each with its own torch.optim.Adam (lr 1e-3): zero_grad, forward,
              torch.nn.functional.mse_loss, backward, step (a loop over E models is how nn4n users
              train several networks). ctrnn: bench_train_step (Trainer::step: forward, MSE,
              BPTT, Adam, projection).
  sgemm alone (CPU, OpenBLAS builds) bench_sgemm: OpenBLAS's cblas_sgemm on one thread doing
              exactly the products of ctrnn's forward / train step for the size and nothing else;
              its time over ctrnn's one-thread time is the fraction of the single-thread sgemm rate
              ctrnn reaches (1 = nothing but the products).
Both sides use nn4n's defaults (relu, uniform weights, no biases, tau 100, dt 10, no noise,
init_state zero), float32, the same inputs shape, training mode.

Timing, both sides alike: wall-clock; warm-up first (nn4n: two untimed iterations; ctrnn: one
untimed step, then Google Benchmark's own iteration-count search); then R repetitions, each of k
iterations with k chosen so a repetition lasts at least --min-time seconds; the reported time is
the median over the repetitions of the mean time per iteration. R = --repetitions, or 1 for the
sizes whose iteration is long (forward > 20 GFLOP on the CPU; these take tens of seconds).
On the GPU both sides synchronize the device at the end of every iteration.

Threads: the same count on both sides. First with one thread (torch.set_num_threads(1);
ctrnn with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1), then with all cores (--threads, default
os.cpu_count(): torch.set_num_threads(N), OPENBLAS_NUM_THREADS=N), what users get by default.
ctrnn's CPU backend takes its thread count from OpenBLAS's (OPENBLAS_NUM_THREADS) and runs its
own threads (host/orchestrated/host_parallel.hpp) with OpenBLAS on one thread inside them.
ctrnn's backend is the benchmarks' label: the CPU backend over OpenBLAS ("cpu (OpenBLAS ...,
N threads)") runs with both counts; the plain reference ("cpu (reference)", a build without
OpenBLAS) is single-threaded, so its one-thread time stands in the all-cores column, marked
"(1 thr)". On --device cuda only one column (torch's default threads) is shown.

Build: when --build (default build-bench) holds a CMakeCache.txt, `cmake --build` of the two
bench targets runs first (--no-build skips it), so the binaries match the sources; the context
lines say when they were built and warn when they are older than the last commit of the sources.

Environment: needs torch and nn4n. If torch cannot be imported, the script re-executes itself
with the Python of --venv (default $CTRNN_GOLDEN_VENV or ~/.cache/ctrnn-golden-venv, the venv
tests/golden/make_golden.py creates), creating it if missing (torch 2.3.1 and numpy 1.26.4 from
PyPI). nn4n comes from --nn4n PATH (a wheel, or a source folder holding nn4n/ or being nn4n/),
else an installed nn4n, else the wheel next to this script (bench/nn4n-1.1.1-py3-none-any.whl,
MIT, identical to PyPI's). nn4n is pure Python; its matplotlib import (plotting only) is stubbed
when matplotlib is missing. No network is needed once torch is there.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUNDLED_WHEEL = HERE / "nn4n-1.1.1-py3-none-any.whl"
DEFAULT_VENV = Path(os.environ.get("CTRNN_GOLDEN_VENV", "~/.cache/ctrnn-golden-venv")).expanduser()
REEXEC_MARK = "CTRNN_PEER_BENCH_REEXEC"

I_DIM, O_DIM = 4, 4
GRID = [(64, 32, 100, 1), (256, 64, 200, 1), (1024, 256, 200, 1), (64, 32, 100, 64), (256, 64, 200, 64)]
QUICK = [(64, 32, 100, 1), (64, 32, 100, 64)]
LONG_FLOPS = 20e9  # forward FLOPs above which a CPU iteration is long: one repetition only
CPU_TIME = False  # --cpu-time: report CPU time of the one timing thread rather than wall-clock time


def forward_flops(h, b, t, e):
    return t * e * (2 * b * h * h + 2 * b * I_DIM * h + 2 * b * h * O_DIM)


# ----------------------------------------------------------------------------------------------
# Environment
# ----------------------------------------------------------------------------------------------
def torch_importable():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def ensure_venv(venv_dir: Path) -> Path:
    python = venv_dir / "bin" / "python"
    if python.exists():
        return python
    print(f"peer_bench: creating virtual environment {venv_dir} (torch from PyPI, about 3 GB)", flush=True)
    subprocess.check_call([sys.executable, "-m", "venv", str(venv_dir)])
    # The Linux torch wheel needs its nvidia-* wheels even on a CPU-only machine (see
    # tests/golden/make_golden.py), so this is a normal install.
    subprocess.check_call([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                           "--only-binary", ":all:", "torch==2.3.1", "numpy==1.26.4"])
    return python


def reexec_in_venv(args):
    if os.environ.get(REEXEC_MARK):
        sys.exit(f"peer_bench: torch is not importable in {sys.executable} either; give --venv")
    python = ensure_venv(args.venv.expanduser())
    env = dict(os.environ, **{REEXEC_MARK: "1"})
    print(f"peer_bench: torch not importable here; re-executing with {python}", flush=True)
    os.execve(str(python), [str(python), str(Path(__file__).resolve())] + sys.argv[1:], env)


def import_nn4n(path):
    """Puts nn4n on sys.path (a wheel, a source folder) and imports CTRNN."""
    import importlib
    import types
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # nn4n.utils imports matplotlib.pyplot for plotting only
        mpl = types.ModuleType("matplotlib")
        mpl.pyplot = types.ModuleType("matplotlib.pyplot")
        sys.modules["matplotlib"] = mpl
        sys.modules["matplotlib.pyplot"] = mpl.pyplot
    candidates = []
    if path is not None:
        p = Path(path).expanduser().resolve()
        if p.is_file() and p.suffix == ".whl":
            candidates.append(p)  # a pure-Python wheel is a zip: importable from sys.path as it is
        elif (p / "nn4n" / "__init__.py").exists():
            candidates.append(p)
        elif p.name == "nn4n" and (p / "__init__.py").exists():
            candidates.append(p.parent)
        else:
            sys.exit(f"peer_bench: --nn4n {path}: expected a .whl, a folder holding nn4n/, or nn4n/ itself")
        sys.path.insert(0, str(candidates[0]))
    else:
        try:
            importlib.import_module("nn4n")
        except ImportError:
            if not BUNDLED_WHEEL.exists():
                sys.exit("peer_bench: nn4n is not installed; give --nn4n PATH (wheel or source)")
            sys.path.insert(0, str(BUNDLED_WHEEL))
    nn4n = importlib.import_module("nn4n")
    from nn4n.model import CTRNN
    version = "unknown"
    try:
        from importlib import metadata
        for dist in metadata.distributions(path=[str(Path(nn4n.__file__).parent.parent)]):
            if dist.metadata["Name"] == "nn4n":
                version = dist.version
    except Exception:  # metadata is informational only
        pass
    return CTRNN, version, str(Path(nn4n.__file__).parent)


def commit():
    """The checkout's commit (short hash), for the figures' context."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], text=True,
                              capture_output=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def cpu_model():
    try:
        for line in subprocess.run(["lscpu"], text=True, capture_output=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


# ----------------------------------------------------------------------------------------------
# nn4n side
# ----------------------------------------------------------------------------------------------
def time_reps(fn, sync, min_time, reps, warmup=2):
    """Median over reps of the mean seconds per call, each rep lasting >= min_time."""
    t0 = time.perf_counter()
    for _ in range(warmup):
        fn()
    sync()
    one = (time.perf_counter() - t0) / warmup
    k = max(1, math.ceil(min_time / max(one, 1e-9)))
    means = []
    clock = time.process_time if CPU_TIME else time.perf_counter
    for _ in range(reps):
        sync()
        t0 = clock()
        for _ in range(k):
            fn()
        sync()
        means.append((clock() - t0) / k)
    return statistics.median(means), k


def nn4n_times(CTRNN, size, device, threads, min_time, reps):
    import torch
    import torch.nn.functional as F
    h, b, t, e = size
    if device == "cpu":
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    models = []
    for _ in range(e):
        m = CTRNN(dims=[I_DIM, h, O_DIM])  # nn4n's defaults otherwise
        m.to(device)  # nn4n's CTRNN.to moves in place and returns None
        m.train()
        models.append(m)
    gen = torch.Generator().manual_seed(11)
    u = (torch.rand(t, b, I_DIM, generator=gen) * 2 - 1).to(device)
    target = (torch.rand(t, b, O_DIM, generator=gen) * 2 - 1).to(device)
    opts = [torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-3) for m in models]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def forward():
        with torch.no_grad():
            for m in models:
                m(u)

    def train_step():
        for m, opt in zip(models, opts):
            opt.zero_grad(set_to_none=True)
            y, _ = m(u)
            loss = F.mse_loss(y, target)
            loss.backward()
            opt.step()

    long = device == "cpu" and forward_flops(*size) > LONG_FLOPS
    r = 1 if long else reps
    fwd, _ = time_reps(forward, sync, min_time, r)
    trn, _ = time_reps(train_step, sync, min_time, r)
    return {"forward": fwd, "train_step": trn}


# ----------------------------------------------------------------------------------------------
# ctrnn side
# ----------------------------------------------------------------------------------------------
def run_benchmark(exe, name, min_time, reps, threads):
    """Seconds per iteration of Google Benchmark `name` in binary `exe` (median over reps), and its label."""
    if not exe.exists():
        sys.exit(f"peer_bench: {exe} is missing; build it: cmake --build {exe.parent.parent} --target {exe.name}")
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        json_path = f.name
    cmd = [str(exe), f"--benchmark_filter=^{name}(/|$)", f"--benchmark_min_time={min_time}",
           f"--benchmark_repetitions={reps}", f"--benchmark_out={json_path}", "--benchmark_out_format=json"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        data = json.loads(Path(json_path).read_text())
    except (OSError, json.JSONDecodeError):
        sys.exit(f"peer_bench: {' '.join(cmd)} failed (rc {proc.returncode}):\n{proc.stdout}")
    finally:
        Path(json_path).unlink(missing_ok=True)
    runs = [x for x in data.get("benchmarks", []) if x["run_name"].startswith(name)]
    if not runs:
        sys.exit(f"peer_bench: {name} not run (CUDA unavailable?):\n{proc.stdout}")
    if any(x.get("error_occurred") for x in runs):
        sys.exit(f"peer_bench: {name}: {runs[0].get('error_message')}")
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    if reps > 1:
        chosen = [x for x in runs if x.get("aggregate_name") == "median"]
    else:
        chosen = [x for x in runs if x.get("run_type") == "iteration"]
    x = chosen[0]
    return x["cpu_time" if CPU_TIME else "real_time"] * scale[x["time_unit"]], runs[0].get("label", "")


def reps_for(size, device, reps):
    return 1 if device == "cpu" and forward_flops(*size) > LONG_FLOPS else reps


def ctrnn_times(build, size, device, min_time, reps, threads):
    h, b, t, e = size
    out = {}
    # forward_copy_yr: y and r copied to the caller, as nn4n's forward returns both
    for mode, binary, name in (("forward", "bench_forward", "forward_copy_yr"),
                               ("train_step", "bench_train_step", "train_step")):
        out[mode], out["label"] = run_benchmark(build / "bench" / binary, f"{name}/{device}/H:{h}/B:{b}/T:{t}/E:{e}",
                                                min_time, reps_for(size, device, reps), threads)
    return out


def sgemm_times(build, size, min_time, reps):
    """OpenBLAS alone, one thread, on the products of our forward and train step (bench_sgemm)."""
    h, b, t, e = size
    return {mode: run_benchmark(build / "bench" / "bench_sgemm", f"sgemm_{mode}/cpu/H:{h}/B:{b}/T:{t}/E:{e}",
                                min_time, reps_for(size, "cpu", reps), 1)[0]
            for mode in ("forward", "train_step")}


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------
def fmt_time(s):
    return f"{s * 1e3:.3g} ms" if s < 1 else f"{s:.3g} s"


def make_table(rows, device, threads_all):
    if device == "cpu" and threads_all is None:  # --cpu-time: one thread only
        head = ["H", "B", "T", "E", "mode", "nn4n, 1 thread", "ctrnn, 1 thread", "nn4n/ctrnn (1 thr)",
                "sgemm alone / ctrnn (1 thr)", "load"]
    elif device == "cpu":
        head = ["H", "B", "T", "E", "mode", "nn4n, 1 thread", "ctrnn, 1 thread", "nn4n/ctrnn (1 thr)",
                f"nn4n, {threads_all} threads", f"ctrnn, {threads_all} threads", f"nn4n/ctrnn ({threads_all} thr)",
                f"ctrnn 1 thr / {threads_all} thr", "sgemm alone / ctrnn (1 thr)", "load"]
    else:
        head = ["H", "B", "T", "E", "mode", "nn4n", "ctrnn", "nn4n/ctrnn", "load"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for r in rows:
        h, b, t, e = r["size"]
        cells = [str(h), str(b), str(t), str(e), r["mode"].replace("_", " ")]
        sgemm = f"{fmt_time(r['sgemm'])}: {r['sgemm'] / r['ctrnn_1']:.2f}" if r.get("sgemm") else "-"
        if device == "cpu" and threads_all is None:
            cells += [fmt_time(r["nn4n_1"]), fmt_time(r["ctrnn_1"]), f"{r['nn4n_1'] / r['ctrnn_1']:.2f}", sgemm]
        elif device == "cpu":
            cells += [fmt_time(r["nn4n_1"]), fmt_time(r["ctrnn_1"]), f"{r['nn4n_1'] / r['ctrnn_1']:.2f}",
                      fmt_time(r["nn4n_all"]), fmt_time(r["ctrnn_all"]) + ("" if r["ctrnn_threaded"] else " (1 thr)"),
                      f"{r['nn4n_all'] / r['ctrnn_all']:.2f}", f"{r['ctrnn_1'] / r['ctrnn_all']:.2f}", sgemm]
        else:
            cells += [fmt_time(r["nn4n_1"]), fmt_time(r["ctrnn_1"]), f"{r['nn4n_1'] / r['ctrnn_1']:.2f}"]
        cells.append(f"{r['load'][0]:.1f}-{r['load'][1]:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_size(s):
    parts = [int(x) for x in s.lower().replace("x", ",").split(",")]
    if len(parts) != 4:
        raise argparse.ArgumentTypeError("a size is H,B,T,E (or HxBxTxE)")
    return tuple(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--quick", action="store_true", help="the smallest sizes (H=64, E=1 and 64), short runs")
    ap.add_argument("--size", type=parse_size, action="append",
                    help="H,B,T,E to run, one of the grid's (repeatable; default the whole grid)")
    ap.add_argument("--skip-large", action="store_true", help=f"skip sizes with forward > {LONG_FLOPS:.0e} FLOPs")
    ap.add_argument("--build", type=Path, default=ROOT / "build-bench",
                    help="build folder holding bench/bench_forward and bench/bench_train_step")
    ap.add_argument("--nn4n", help="nn4n wheel or source folder (default: installed, else the bundled wheel)")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                    help="venv to re-execute in when torch is missing (default $CTRNN_GOLDEN_VENV or "
                         "~/.cache/ctrnn-golden-venv)")
    ap.add_argument("--no-build", action="store_true",
                    help="do not run `cmake --build` on --build first (it is run when --build has a CMakeCache.txt)")
    ap.add_argument("--no-venv", action="store_true",
                    help="never re-execute or create a venv: fail when torch is missing (machines without network)")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="torch threads for the second CPU column (default: all cores)")
    ap.add_argument("--min-time", type=float, help="seconds per repetition (default 0.5, --quick 0.2)")
    ap.add_argument("--repetitions", type=int, help="repetitions (default 5, --quick 3)")
    ap.add_argument("--out", type=Path, help="also write the table and its context as markdown here")
    ap.add_argument("--cpu-time", action="store_true",
                    help="CPU: one thread only, and times are the CPU time of the timing thread (nn4n: the "
                         "process's, torch on 1 thread; ctrnn: Google Benchmark's cpu_time) rather than wall-clock: "
                         "on a machine shared with other work, time the core spent on others is not counted "
                         "(their use of the caches still is)")
    args = ap.parse_args()
    global CPU_TIME
    CPU_TIME = args.cpu_time and args.device == "cpu"

    if not torch_importable():
        if args.no_venv:
            sys.exit(f"peer_bench: torch is not importable in {sys.executable} (--no-venv)")
        reexec_in_venv(args)
    import torch
    CTRNN, nn4n_version, nn4n_path = import_nn4n(args.nn4n)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("peer_bench: --device cuda but torch sees no GPU")

    sizes = args.size or (QUICK if args.quick else GRID)
    for s in sizes:
        if s not in GRID:
            sys.exit(f"peer_bench: size {s} is not in the benchmarks' grid {GRID} (bench/bench_common.hpp)")
    if args.skip_large:
        sizes = [s for s in sizes if forward_flops(*s) <= LONG_FLOPS]
    min_time = args.min_time if args.min_time is not None else (0.2 if args.quick else 0.5)
    reps = args.repetitions if args.repetitions is not None else (3 if args.quick else 5)
    build = args.build.resolve()
    if not args.no_build and (build / "CMakeCache.txt").exists():
        targets = ["bench_forward", "bench_train_step"] + (["bench_sgemm"] if args.device == "cpu" else [])
        cmd = ["cmake", "--build", str(build), "--target", *targets]
        print(f"peer_bench: {' '.join(cmd)}", flush=True)
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            sys.exit(f"peer_bench: the build failed:\n{proc.stdout[-4000:]}")
    default_threads = torch.get_num_threads()

    def binaries_built():
        exe = build / "bench" / "bench_forward"
        if not exe.exists():
            return "missing"
        built = exe.stat().st_mtime
        note = time.strftime("%Y-%m-%d %H:%M", time.localtime(built))
        try:  # the newest commit of the sources the binaries are made of
            last = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct", "--", "host", "include",
                                   "kernels", "cmake", "CMakeLists.txt", "bench/CMakeLists.txt", "bench/*.cpp",
                                   "bench/*.hpp"], text=True, capture_output=True).stdout.strip()
            if last and int(last) > built:
                note += " -- WARNING: older than the last commit of the sources; rebuild or drop --no-build"
        except (OSError, ValueError):
            pass
        return note

    gpu = torch.cuda.get_device_name(0) if args.device == "cuda" else None
    context = [
        f"date: {time.strftime('%Y-%m-%d %H:%M')}; commit {commit()}",
        f"machine: {cpu_model()}, {os.cpu_count()} cores" + (f"; GPU {gpu}" if gpu else ""),
        f"torch {torch.__version__} (default threads {default_threads}), nn4n {nn4n_version} from {nn4n_path}",
        f"ctrnn binaries: {build / 'bench'}, built {binaries_built()}",
        f"timing: median over {reps} repetitions (1 for long CPU sizes) of the mean of k iterations, "
        f">= {min_time} s per repetition, after warm-up; "
        + ("CPU time of the timing thread, one thread only (--cpu-time)" if CPU_TIME else "wall-clock"),
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    for line in context:
        print("peer_bench:", line, flush=True)

    rows = []
    labels = set()
    for size in sizes:
        load = os.getloadavg()[0]
        print(f"peer_bench: H={size[0]} B={size[1]} T={size[2]} E={size[3]} (load {load:.2f}) ...", flush=True)
        if args.device == "cpu":
            n1 = nn4n_times(CTRNN, size, "cpu", 1, min_time, reps)
            nall = n1 if CPU_TIME else nn4n_times(CTRNN, size, "cpu", args.threads, min_time, reps)
        else:
            n1 = nall = nn4n_times(CTRNN, size, "cuda", default_threads, min_time, reps)
        ours1 = ctrnn_times(build, size, args.device, min_time, reps, 1 if args.device == "cpu" else args.threads)
        labels.add(ours1["label"])
        # A backend with threads (OpenBLAS: "cpu (OpenBLAS 0.3.21, ... kernels, 1 threads)") runs again with all
        # cores; the reference ("cpu (reference)") is single-threaded: its one-thread time stands.
        threaded = args.device == "cpu" and "threads" in ours1["label"] and not CPU_TIME
        oursall = ctrnn_times(build, size, args.device, min_time, reps, args.threads) if threaded else ours1
        if threaded:
            labels.add(oursall["label"])
        # OpenBLAS alone on the same products (a build with OpenBLAS has bench_sgemm)
        sgemm = (sgemm_times(build, size, min_time, reps)
                 if args.device == "cpu" and (build / "bench" / "bench_sgemm").exists() else {})
        for mode in ("forward", "train_step"):
            row = {"size": size, "mode": mode, "nn4n_1": n1[mode], "nn4n_all": nall[mode], "ctrnn_1": ours1[mode],
                   "ctrnn_all": oursall[mode], "ctrnn_threaded": threaded, "sgemm": sgemm.get(mode),
                   "load": (load, os.getloadavg()[0])}
            rows.append(row)
            if args.device == "cpu":
                print(f"  {mode:10s} 1 thread: nn4n {fmt_time(n1[mode]):>9s} ctrnn {fmt_time(ours1[mode]):>9s}" +
                      ("" if CPU_TIME else f";  {args.threads} threads: nn4n {fmt_time(nall[mode]):>9s} "
                                           f"ctrnn {fmt_time(oursall[mode]):>9s}"), flush=True)
            else:
                print(f"  {mode:10s} nn4n {fmt_time(n1[mode]):>9s}  ctrnn {fmt_time(ours1[mode]):>9s}", flush=True)
    context.append(f"ctrnn backend (benchmark labels): {'; '.join(sorted(labels))}")
    context.append(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    table = make_table(rows, args.device, None if CPU_TIME else args.threads)
    print()
    print(table)
    legend = ("ratio = nn4n time / ctrnn time (> 1: ctrnn is faster); ctrnn 1 thr / N thr = ctrnn's speed-up "
              "from its threads; sgemm alone = OpenBLAS on one thread doing only the products of ctrnn's pass "
              "(bench_sgemm), and its time / ctrnn's one-thread time = the fraction of the single-thread sgemm "
              "rate ctrnn runs at; load = 1-minute load average before and after the size (the machine's own "
              "load, this run included)")
    print("\n" + legend)
    if args.out:
        args.out.write_text("\n".join(f"- {c}" for c in context) + "\n\n" + table + "\n\n" + legend + "\n")
        print(f"peer_bench: wrote {args.out}")


if __name__ == "__main__":
    main()
