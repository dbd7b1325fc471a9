#!/usr/bin/env python3
"""nn4n's training loop on ctrnn.torch against nn4n itself, on one CPU thread (or one GPU), side by side.

    build/.venv-python/bin/python bench/torch_loop_bench.py [--out table.md]
    python3 bench/torch_loop_bench.py --device cuda     # both on the GPU (scripts/gpu-check.sh runs it)

(any Python with torch, nn4n and ctrnn: scripts/test-python.sh's venv has all three.)

What is timed, per training step: the loop an nn4n user writes,
    optimizer.zero_grad(); y, _ = model(u); loss = F.mse_loss(y, target); loss.backward(); optimizer.step()
with model = nn4n 1.1.1's nn4n.model.CTRNN or ctrnn.torch.CTRNN, both CTRNN(dims=[4, H, 4]) with
nn4n's defaults otherwise (relu, uniform weights, no biases, tau 100, dt 10, no noise, training
mode) and torch.optim.Adam(lr=1e-3). At (64, 32, 100) also ctrnn.Trainer.step(u, target): the same
step (forward, MSE, BPTT, Adam) inside the engine, numpy in and out; and "torch's loop alone": the
same loop over a module with ctrnn.torch's learned parameters whose forward is an autograd
Function that computes nothing (it returns uninitialized outputs and gradients of the right
shapes), i.e. what zero_grad, the module call, the autograd graph, MSE and torch's Adam cost
without any network: the least any torch module's step can cost, to read ctrnn.torch's against;
and "engine forward + BPTT": the engine's own calls of a ctrnn.torch step (set_params, forward,
backward through ctrnn._core with numpy arrays allocated once), without torch. Their sum is the
least a ctrnn.torch step can cost, the "floor" column: that sum over Trainer.step. And "torch's
loop around the engine": torch's loop alone with the engine's calls made where ctrnn.torch makes
them (its forward in the Function's forward, its BPTT in the backward) but nothing handed over,
which costs more than the two apart because each evicts the other's data from the caches (the
"interleaving" column: it minus both; bench/RESULTS.md, issue 19's fourth session); ctrnn.torch's
step minus it is what the hand-over itself costs (the "hand-over" column).
Sizes (H, B, T): (64, 32, 100) and (256, 64, 200), I = O = 4 (bench/bench_common.hpp's).
--device cuda: the two loops alone (nn4n and ctrnn.torch), data and models on the GPU, the clock
read after torch.cuda.synchronize() (each block's steps are queued back to back, as a user's loop).

One thread everywhere: torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1 set before OpenBLAS loads.
Timing: wall-clock (--cpu-time: the process's CPU time, which on a machine busy with other work
leaves out the time the core spent on others; every side computes on this process's one
thread); after a warm-up the contenders run in alternating blocks (so that other processes' load
hits each alike), a block being k steps that last >= --min-time s; reported is the median over
--blocks blocks of the mean time per step. Without ctrnn.torch (a ctrnn older
than it) its columns say so and the rest runs.
"""
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # read when OpenBLAS loads (numpy's, torch's, ctrnn's)
os.environ["OMP_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_bench import commit, cpu_model, fmt_time, import_nn4n  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import ctrnn  # noqa: E402

try:
    import ctrnn.torch as ctrnn_torch
except ModuleNotFoundError as e:  # a ctrnn without the torch module (any other failure is raised)
    if e.name != "ctrnn.torch":
        raise
    ctrnn_torch, CTRNN_TORCH_MISSING = None, str(e)

SIZES = [(64, 32, 100), (256, 64, 200)]
TRAINER_SIZES = [(64, 32, 100)]
I_DIM = O_DIM = 4
# The targets (#19), printed beside the figures.
TARGETS = {(64, 32, 100): 10.0, (256, 64, 200): 1.5}
TRAINER_TARGET = 1.15
CUDA_TARGETS = {(256, 64, 200): 25.0}


def torch_loop(model, u, target):
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        y, _ = model(u)
        loss = F.mse_loss(y, target)
        loss.backward()
        optimizer.step()
    return step


class _NoWork(torch.autograd.Function):
    """y (zeros), r (uninitialized, as ctrnn.torch's before the engine writes it) of the right
    shapes and zero gradients for the weights (zeros: garbage could hold denormals, which would
    slow MSE and Adam down), none of them computed."""

    @staticmethod
    def forward(ctx, x, *weights):
        ctx.set_materialize_grads(False)  # as ctrnn.torch: no zeros made for the unused rates
        ctx.shapes = [w.shape for w in weights]
        t, b = x.shape[0], x.shape[1]
        return x.new_zeros(t, b, O_DIM), x.new_empty(t, b, weights[1].shape[0])

    @staticmethod
    def backward(ctx, gy, gr):
        return (None, *(gy.new_zeros(shape) for shape in ctx.shapes))


class _EngineInside(torch.autograd.Function):
    """_NoWork with the engine's calls (engine_calls' pair) made where ctrnn.torch makes them: its
    forward in the Function's forward, its BPTT in the backward."""

    @staticmethod
    def forward(ctx, calls, x, *weights):
        calls[0]()
        ctx.calls = calls
        return _NoWork.forward(ctx, x, *weights)

    @staticmethod
    def backward(ctx, gy, gr):
        ctx.calls[1]()
        return (None, *_NoWork.backward(ctx, gy, gr))


class TorchLoopAlone(torch.nn.Module):
    """ctrnn.torch.CTRNN's learned parameters (dims=[4, H, 4], no biases: the three weights) around
    _NoWork, or around _EngineInside with `calls`."""

    def __init__(self, h, calls=None):
        super().__init__()
        self.weights = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(h, I_DIM)),
                                               torch.nn.Parameter(torch.zeros(h, h)),
                                               torch.nn.Parameter(torch.zeros(O_DIM, h))])
        self.calls = calls

    def forward(self, x):
        if self.calls is None:
            y, r = _NoWork.apply(x, *self.weights)
        else:
            y, r = _EngineInside.apply(self.calls, x, *self.weights)
        return y, [r]


def contenders(size, nn4n_ctrnn, device):
    h, b, t = size
    gen = torch.Generator().manual_seed(11)
    u = (torch.rand(t, b, I_DIM, generator=gen) * 2 - 1).to(device)
    target = (torch.rand(t, b, O_DIM, generator=gen) * 2 - 1).to(device)
    torch.manual_seed(0)
    theirs = nn4n_ctrnn(dims=[I_DIM, h, O_DIM])
    theirs.to(device)  # nn4n's CTRNN.to moves in place (and returns None)
    theirs.train()
    loops = {"nn4n": torch_loop(theirs, u, target)}
    if ctrnn_torch is not None:
        torch.manual_seed(0)
        ours = ctrnn_torch.CTRNN(dims=[I_DIM, h, O_DIM]).to(device)
        ours.train()
        loops["ctrnn.torch"] = torch_loop(ours, u, target)
    if size in TRAINER_SIZES and device == "cpu":
        trainer = ctrnn.Trainer(ctrnn.CTRNN(dims=[I_DIM, h, O_DIM], seed=0, device="cpu"), lr=1e-3)
        u_np, target_np = u.numpy(), target.numpy()
        loops["ctrnn.Trainer.step"] = lambda: trainer.step(u_np, target_np)
        loops["torch's loop alone"] = torch_loop(TorchLoopAlone(h), u, target)
        if ctrnn_torch is not None:
            calls = engine_calls(ours, u)
            loops["engine forward + BPTT"] = lambda: (calls[0](), calls[1]())
            loops["torch's loop around the engine"] = torch_loop(TorchLoopAlone(h, calls), u, target)
    return loops


def engine_calls(model, u):
    """The engine's calls of a ctrnn.torch step on model's network (float32, CPU), with numpy arrays
    allocated once (the weights transposed to the engine's pre x post, dL/dy of MSE's scale), as a
    pair: (set_params and forward, backward)."""
    net = model._engine(torch.float32, torch.device("cpu")).net
    shapes = list(net.param_shapes().values())
    weights = [p.detach().numpy().T.reshape(shapes[k]).copy() for k, p in enumerate(model._params()[:3])]
    params = weights + [None] * (len(shapes) - 3)
    grads = [np.empty(shapes[k], np.float32) for k in range(3)] + [None] * (len(shapes) - 3)
    t, b = u.shape[0], u.shape[1]
    x = u.numpy()
    y, r = np.empty((1, t, b, O_DIM), np.float32), np.empty((1, t, b, net.dims[1]), np.float32)
    dy = np.full((1, t, b, O_DIM), 1e-3, np.float32)

    def forward():
        net.set_params(params)
        net.forward(x, y, r)

    def backward():
        net.backward(dy, None, grads)
    return forward, backward


def measure(loops, min_time, blocks, clock):
    """Median over blocks of the mean seconds per step, the contenders' blocks interleaved."""
    iterations = {}
    for name, step in loops.items():
        start = time.perf_counter()
        for _ in range(3):
            step()
        iterations[name] = max(1, math.ceil(min_time / ((time.perf_counter() - start) / 3)))
    samples = {name: [] for name in loops}
    for _ in range(blocks):
        for name, step in loops.items():
            k = iterations[name]
            start = clock()
            for _ in range(k):
                step()
            samples[name].append((clock() - start) / k)
    return {name: statistics.median(s) for name, s in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-time", type=float, default=0.3, help="seconds per block (default 0.3)")
    parser.add_argument("--blocks", type=int, default=7, help="timed blocks per contender (default 7)")
    parser.add_argument("--nn4n", help="nn4n wheel or source folder (default: installed, else bench/'s wheel)")
    parser.add_argument("--out", type=Path, help="also write the table and its context as markdown here")
    parser.add_argument("--cpu-time", action="store_true", help="time the process's CPU time, not wall-clock")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    targets = TARGETS
    if args.device == "cuda":
        if not (torch.cuda.is_available() and ctrnn.cuda_available()):
            sys.exit("torch_loop_bench: --device cuda needs torch with CUDA and a CUDA build of ctrnn")
        if args.cpu_time:
            sys.exit("torch_loop_bench: --cpu-time times the CPU, not the GPU")
        clock = lambda: (torch.cuda.synchronize(), time.perf_counter())[1]  # noqa: E731
        targets = CUDA_TARGETS

    torch.set_num_threads(1)
    nn4n_ctrnn, nn4n_version, _ = import_nn4n(args.nn4n)
    facts = ctrnn.info()
    if facts["threads"] != 1:
        sys.exit(f"torch_loop_bench: ctrnn runs {facts['threads']} threads, not 1: {facts['backend']}")
    context = [
        f"date: {time.strftime('%Y-%m-%d %H:%M')}; commit {commit()}",
        f"machine: {cpu_model()}, {os.cpu_count()} cores; one thread on every side"
        + (f"; GPU: {torch.cuda.get_device_name(0)}, both sides on it" if args.device == "cuda" else ""),
        f"torch {torch.__version__}, nn4n {nn4n_version}, ctrnn {facts['version']}: {facts['backend']}",
        "ctrnn.torch: " + ("present" if ctrnn_torch else f"missing ({CTRNN_TORCH_MISSING}): its columns are empty"),
        f"timing: {'process CPU time' if args.cpu_time else 'wall-clock'}, median over {args.blocks} interleaved "
        f"blocks of >= {args.min_time} s each",
        f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]
    for line in context:
        print("torch_loop_bench:", line, flush=True)

    on_gpu = ", GPU" if args.device == "cuda" else ""
    head = ["H", "B", "T", "nn4n", "ctrnn.torch", f"nn4n / ctrnn.torch (target{on_gpu})", "ctrnn.Trainer.step",
            f"ctrnn.torch / Trainer.step (target <= {TRAINER_TARGET})", "torch's loop alone", "engine forward + BPTT",
            "floor: (alone + engine) / Trainer.step", "torch's loop around the engine",
            "interleaving: around - alone - engine", "hand-over: ctrnn.torch - around", "load"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for size in SIZES:
        load = os.getloadavg()[0]
        print(f"torch_loop_bench: (H, B, T) = {size} (load {load:.2f}) ...", flush=True)
        times = measure(contenders(size, nn4n_ctrnn, args.device), args.min_time, args.blocks, clock)
        for name, seconds in times.items():
            print(f"  {name:20s} {fmt_time(seconds):>10s} per step", flush=True)
        ours, trainer, alone = times.get("ctrnn.torch"), times.get("ctrnn.Trainer.step"), times.get("torch's loop alone")
        engine, around = times.get("engine forward + BPTT"), times.get("torch's loop around the engine")
        cells = [*map(str, size), fmt_time(times["nn4n"]), fmt_time(ours) if ours else "-",
                 f"{times['nn4n'] / ours:.2f}" + (f" (>= {targets[size]})" if size in targets else "") if ours else "-",
                 fmt_time(trainer) if trainer else "-", f"{ours / trainer:.2f}" if ours and trainer else "-",
                 fmt_time(alone) if alone else "-", fmt_time(engine) if engine else "-",
                 f"{(alone + engine) / trainer:.2f}" if engine and trainer else "-",
                 fmt_time(around) if around else "-", fmt_time(around - alone - engine) if around else "-",
                 fmt_time(ours - around) if around else "-", f"{load:.1f}-{os.getloadavg()[0]:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    context.append(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        args.out.write_text("\n".join(f"- {line}" for line in context) + "\n\n" + table + "\n")


if __name__ == "__main__":
    main()
