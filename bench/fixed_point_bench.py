#!/usr/bin/env python3
"""The fixed-point finder: ctrnn.analysis.fixed_points against the same algorithm in PyTorch.

    build/.venv-python/bin/python bench/fixed_point_bench.py                 # H 256, N 1024
    build/.venv-python/bin/python bench/fixed_point_bench.py --hidden 64 --max-iters 500

(build/.venv-python is what scripts/test-python.sh makes: ctrnn installed, and torch through the
cached test dependencies of scripts/python-deps.sh.)

The PyTorch side is written the way FixedPointFinder's PyTorch version works: the candidate
states are one leaf tensor, the network step is a torch module, q = 1/2 |F(x) - x|^2 per
candidate, autograd of the mean q, torch.optim.Adam (eps 0.01), plus what FixedPointFinder's
TensorFlow version adds around it and ctrnn does too: its adaptive learning rate and adaptive
gradient-norm clipping (torch.nn.utils.clip_grad_norm_), and the stopping rule (every candidate
q < tol_q or |dq| < tol_dq lr, or max_iters). Both sides: float32, the same network (tanh, H
neurons, W_hid ~ N(0, 1.5^2 / H): many fixed points), the same N candidates (drawn from its
trajectories on random inputs, noise 0.5), zero input, the same thread count (torch.set_num_threads
and OPENBLAS_NUM_THREADS). Timed: the whole call, wall clock, median of --repeats; ctrnn's
includes its host post-processing (q in double, unique points, Jacobians, eigen-decomposition).
Then the two sets of unique fixed points (q < --q-fixed, tol_unique 1e-3, FixedPointFinder's
outlier rule) are matched point by point (max |difference| < --match).
"""
import argparse
import os
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--candidates", type=int, default=1024)
    p.add_argument("--max-iters", type=int, default=5000)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--q-fixed", type=float, default=1e-8, help="q below which a point counts as fixed")
    p.add_argument("--match", type=float, default=1e-3, help="max |difference| of matched points")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


args = parse()
os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)  # before ctrnn (OpenBLAS) loads
import numpy as np  # noqa: E402
import torch  # noqa: E402

import ctrnn  # noqa: E402
from ctrnn import analysis  # noqa: E402

torch.set_num_threads(args.threads)
TOL_Q, TOL_DQ, TOL_UNIQUE, OUTLIER = 1e-12, 1e-20, 1e-3, 10.0


class AdaptiveRate:
    """FixedPointFinder's AdaptiveLearningRate defaults (no warm-up), as search.hpp."""

    def __init__(self, rate=1.0, window=5, down=0.95, up=1 / 0.95):
        self.rate, self.window, self.down, self.up = rate, window, down, up
        self.log, self.step, self.last = [], 0, -1

    def update(self, loss):
        self.log = (self.log + [loss])[-(self.window + 1):]
        n = self.window
        if self.step == 0:
            self.last = 0
        elif self.step >= self.last + n and len(self.log) == n + 1:
            if all(self.log[n] > x for x in self.log[:n]):
                self.rate *= self.down
                self.last = self.step
            elif all(self.log[k + 1] < self.log[k] for k in range(n)):
                self.rate *= self.up
                self.last = self.step
        self.step += 1


class AdaptiveClip:
    """FixedPointFinder's AdaptiveGradNormClip defaults (window 100, 95th percentile)."""

    def __init__(self, window=100, percentile=95.0, initial=1e12, maximum=1e12):
        self.window, self.percentile, self.clip, self.maximum, self.norms, self.step = \
            window, percentile, initial, maximum, [], 0

    def update(self, norm):
        if len(self.norms) < self.window:
            self.norms.append(norm)
        else:
            self.norms[self.step % self.window] = norm
        self.step += 1
        self.clip = min(float(np.percentile(self.norms, self.percentile)), self.maximum)


class Step(torch.nn.Module):
    """One eval-mode leaky step of the network: the RNN that FixedPointFinder's torch version calls."""

    def __init__(self, w_hid, drive, alpha):
        super().__init__()
        self.w = torch.nn.Parameter(torch.from_numpy(w_hid), requires_grad=False)
        self.c = torch.from_numpy(drive)
        self.alpha = alpha

    def forward(self, x):
        return (1 - self.alpha) * x + self.alpha * (torch.tanh(x) @ self.w + self.c)


def torch_find(step, x0, max_iters):
    x = torch.from_numpy(x0.copy()).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=1.0, eps=0.01)
    rate, clip = AdaptiveRate(), AdaptiveClip()
    q_prev = np.full(len(x0), np.nan)
    it = 0
    while True:
        optimizer.zero_grad()
        q = 0.5 * torch.sum(torch.square(step(x) - x), dim=1)
        q_mean = torch.mean(q)
        q_mean.backward()
        q_np = q.detach().numpy().astype(np.float64)
        with np.errstate(invalid="ignore"):
            done = np.all((q_np < TOL_Q) | (np.abs(q_np - q_prev) < TOL_DQ * rate.rate))
        if done or it >= max_iters:
            break
        norm = float(torch.nn.utils.clip_grad_norm_([x], clip.clip))
        for group in optimizer.param_groups:
            group["lr"] = rate.rate
        optimizer.step()
        rate.update(q_mean.item())
        clip.update(norm)
        q_prev = q_np
        it += 1
    return x.detach().numpy(), it


def unique_fixed_points(x, x0, w_hid, drive, alpha):
    """ctrnn's selection (host/analysis/fixed_points.cpp) in numpy: q in double, by increasing q,
    no outliers, merged within TOL_UNIQUE, q below --q-fixed."""
    x64 = x.astype(np.float64)
    F = (1 - alpha) * x64 + alpha * (np.tanh(x64) @ w_hid.astype(np.float64) + drive.astype(np.float64))
    q = 0.5 * np.sum((F - x64) ** 2, axis=1)
    centroid = x0.mean(axis=0)
    scale = np.linalg.norm(x0 - centroid, axis=1).mean()
    kept = []
    for n in np.argsort(q, kind="stable"):
        if q[n] > args.q_fixed or np.linalg.norm(x64[n] - centroid) >= OUTLIER * scale:
            continue
        if not any(np.max(np.abs(x64[n] - x64[k])) < TOL_UNIQUE for k in kept):
            kept.append(n)
    return x64[kept]


def matched(a, b):
    return sum(any(np.max(np.abs(p - r)) < args.match for r in b) for p in a)


def timed(fn):
    """(median wall seconds, median CPU seconds of the process's threads, fn's result)"""
    walls, cpus, out = [], [], None
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), out


def main():
    H, N, I = args.hidden, args.candidates, 3
    rng = np.random.default_rng(args.seed)
    w_hid = (1.5 * rng.standard_normal((H, H)) / np.sqrt(H)).astype(np.float32)
    w_in = (rng.standard_normal((I, H)) / np.sqrt(I)).astype(np.float32)
    model = ctrnn.CTRNN(dims=[I, H, 1], activation="tanh", weights=[w_in, w_hid, "zero"], seed=args.seed,
                        device="cpu").eval()
    alpha = model.alpha
    v = analysis.trajectories(model, rng.standard_normal((60, 32, I)).astype(np.float32))
    x0 = analysis.sample_states(v, N, noise_scale=0.5, seed=args.seed)
    drive = np.zeros((N, H), np.float32)  # zero input, no biases

    wall_ctrnn, cpu_ctrnn, fps = timed(lambda: analysis.fixed_points(model, np.zeros(I), x0,
                                                                      max_iters=args.max_iters))
    step = Step(w_hid, drive, alpha)
    wall_torch, cpu_torch, (x_torch, it_torch) = timed(lambda: torch_find(step, x0, args.max_iters))

    f = fps[0]
    fixed = f.q_star <= args.q_fixed
    ours = f.x_star[fixed]
    theirs = unique_fixed_points(x_torch, x0.astype(np.float64), w_hid, drive, alpha)
    it_ctrnn = int(f.iterations[0])
    stable = int(f.stable[fixed].sum()) if f.stable is not None else "?"
    print(f"fixed-point search: H {H}, N {N}, max_iters {args.max_iters}, {args.threads} threads, "
          f"torch {torch.__version__}, ctrnn {ctrnn.__version__} ({model.device})")
    for name, wall, cpu, it, found in (("ctrnn", wall_ctrnn, cpu_ctrnn, it_ctrnn, f"{len(ours)} ({stable} stable)"),
                                       ("torch", wall_torch, cpu_torch, it_torch, f"{len(theirs)}")):
        print(f"  {name}  wall {wall:8.2f} s  CPU {cpu:8.2f} s  {it} iterations  "
              f"{wall / max(it, 1) * 1e3:8.3f} ms/iter wall  {cpu / max(it, 1) * 1e3:8.3f} ms/iter CPU  "
              f"fixed points (q <= {args.q_fixed:g}): {found}")
    print(f"  torch / ctrnn: wall {wall_torch / wall_ctrnn:.2f}x, CPU {cpu_torch / cpu_ctrnn:.2f}x; "
          f"ctrnn's points found by torch {matched(ours, theirs)}/{len(ours)}, "
          f"torch's found by ctrnn {matched(theirs, ours)}/{len(theirs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
