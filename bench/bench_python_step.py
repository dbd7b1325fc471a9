#!/usr/bin/env python3
"""Python-side overhead of ctrnn.Trainer.step against the library's own Trainer::step.

Both run in this process on the same network and data, interleaved in blocks so that load from
other processes hits both alike: `python` = ctrnn.Trainer.step(u, target) (argument checks, the
binding, the input copies into the library's Tensors, the result dict), `cpp` = the C++ loop of
Trainer::step on tensors copied once (_core.Trainer._time_cpp_steps). Overhead = python - cpp,
reported per step and as a fraction of the C++ step (the issue's target: under 5%).

    OPENBLAS_NUM_THREADS=1 python bench/bench_python_step.py [--hidden 64 --batch 32 --steps 100]
"""
import argparse
import statistics
import time

import numpy as np

import ctrnn


def measure(hidden, batch, steps, block, blocks):
    """Median seconds per step through Python and through the C++ loop, and the paired overheads."""
    rng = np.random.default_rng(0)
    inputs, outputs = 4, 4  # as bench/bench_common.hpp
    u = rng.uniform(-1, 1, (steps, batch, inputs)).astype(np.float32)
    target = rng.uniform(-1, 1, (steps, batch, outputs)).astype(np.float32)
    model = ctrnn.CTRNN(dims=[inputs, hidden, outputs], seed=1, device="cpu")
    trainer = ctrnn.Trainer(model)  # Adam, lr 1e-3: as bench_train_step.cpp
    core = trainer._trainer
    trainer.step(u, target)  # warm-up
    core._time_cpp_steps(u, target, 1)
    python_s, cpp_s = [], []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(block):
            trainer.step(u, target)
        python_s.append((time.perf_counter() - start) / block)
        cpp_s.append(core._time_cpp_steps(u, target, block) / block)
    # Paired: each python block against the C++ block run right after it.
    pairs = sorted(p - c for p, c in zip(python_s, cpp_s))
    return statistics.median(python_s), statistics.median(cpp_s), pairs, model._net.device_description


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100, help="T, time steps per trial")
    parser.add_argument("--block", type=int, default=20, help="training steps per timed block")
    parser.add_argument("--blocks", type=int, default=15, help="timed blocks of each kind")
    args = parser.parse_args()

    py, cpp, pairs, device = measure(args.hidden, args.batch, args.steps, args.block, args.blocks)
    overhead = statistics.median(pairs)
    print(f"(H, B, T) = ({args.hidden}, {args.batch}, {args.steps}), {device}, "
          f"{args.blocks} blocks of {args.block} steps each")
    print(f"ctrnn.Trainer.step (Python): {py * 1e3:.3f} ms/step (median of blocks)")
    print(f"Trainer::step (C++ loop):    {cpp * 1e3:.3f} ms/step")
    print(f"Python-side overhead:        {overhead * 1e6:.1f} us/step = {100 * overhead / cpp:.2f}% of the C++ step "
          f"(paired blocks, median; quartiles {pairs[len(pairs) // 4] * 1e6:.1f}..{pairs[3 * len(pairs) // 4] * 1e6:.1f} us)")
    # The same data sizes (u and target as above: the per-call copies) on a 1-neuron network, whose
    # step costs little, so that the fixed Python-side cost is visible above the load's noise.
    py1, cpp1, pairs1, _ = measure(1, args.batch, args.steps, args.block * 10, args.blocks)
    print(f"Fixed cost per call (H = 1, same u and target): python {py1 * 1e6:.1f} us, C++ {cpp1 * 1e6:.1f} us, "
          f"overhead {statistics.median(pairs1) * 1e6:.1f} us = {100 * statistics.median(pairs1) / cpp:.2f}% of the "
          f"H = {args.hidden} C++ step")


if __name__ == "__main__":
    main()
