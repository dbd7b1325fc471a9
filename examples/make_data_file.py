#!/usr/bin/env python3
"""Writes a ctrnn data file: N trials of a 3-way perceptual decision, a task the built-in
generators do not have. Needs only numpy (the safetensors layout is written by hand).

    python3 examples/make_data_file.py examples/three_way_train.safetensors --trials 1024 --seed 1
    python3 examples/make_data_file.py examples/three_way_val.safetensors --trials 256 --seed 2
    build/ctrnn train examples/three_way_decision.json --out out/three_way

Layout (time-major, float32): u (T, N, I) inputs, target (T, N, O) desired outputs, mask
(T, N, O) loss weights (here 1 in the decision period, 0 elsewhere).
"""
import argparse
import json
import struct

import numpy as np

FIXATION, STIMULUS, DECISION = 5, 20, 10


def three_way_decision(trials, seed):
    rng = np.random.default_rng(seed)
    steps = FIXATION + STIMULUS + DECISION
    u = np.zeros((steps, trials, 4), np.float32)  # fixation cue, evidence for choices 0, 1, 2
    target = np.zeros((steps, trials, 3), np.float32)
    mask = np.zeros((steps, trials, 3), np.float32)
    choice = rng.integers(0, 3, trials)
    coherence = rng.uniform(0.1, 0.6, trials)
    u[: FIXATION + STIMULUS, :, 0] = 1
    stim = slice(FIXATION, FIXATION + STIMULUS)
    for k in range(3):
        mean = 0.5 + np.where(choice == k, coherence, -coherence / 2)
        u[stim, :, 1 + k] = mean + 0.3 * rng.standard_normal((STIMULUS, trials))
    target[FIXATION + STIMULUS :, np.arange(trials), choice] = 1
    mask[FIXATION + STIMULUS :] = 1
    return {"u": u, "target": target, "mask": mask}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--trials", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_safetensors(args.out, three_way_decision(args.trials, args.seed))
    print(f"wrote {args.out}: {args.trials} trials")
