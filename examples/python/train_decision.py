#!/usr/bin/env python3
"""Train a CTRNN on a perceptual-decision task from Python and plot the result.

    pip install .[plot]                          # from the repository root
    python examples/python/train_decision.py     # --steps, --out, --neurogym

Uses neurogym's PerceptualDecisionMaking-v0 with --neurogym (neurogym 2.x needs torch), else
ctrnn's built-in perceptual_decision task. Writes metrics.csv, checkpoint.safetensors and PNGs
into --out (default out/python_decision).
"""
import argparse
import os

import numpy as np

import ctrnn
import ctrnn.plot

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--steps", type=int, default=1500)
parser.add_argument("--out", default="out/python_decision")
parser.add_argument("--neurogym", action="store_true", help="use neurogym's PerceptualDecisionMaking-v0")
args = parser.parse_args()

# %% Data: a generator of batches {"u": (T, B, I), "target": (T, B, O), "mask": (T, B) or None}.
if args.neurogym:
    batches = ctrnn.tasks.from_neurogym("PerceptualDecisionMaking-v0", batch_size=32, seq_len=100)
    first = next(batches)
    dims = [first["u"].shape[2], 64, first["target"].shape[2]]
    validation = next(batches)
    accuracy = None
else:
    task = ctrnn.tasks.perceptual_decision()
    batches = task.batches(batch_size=32, seed=0)
    dims = [task.input_dim, 64, task.output_dim]
    validation = task.batch(512, seed=0, index=10**9)  # never a training batch
    accuracy = task.accuracy

# %% Model: nn4n's parameters and defaults (pre x post arrays), here a ReLU network with noise.
model = ctrnn.CTRNN(dims=dims, activation="relu", tau=100, dt=20, preact_noise=0.05, seed=1)
model.print_layers()

# %% Training: Adam with gradient clipping; a progress bar when tqdm is installed.
trainer = ctrnn.Trainer(model, optimizer="adam", lr=1e-2, clip=1.0)
history = trainer.fit(batches, steps=args.steps, validation=validation, validate_every=250, out=args.out)
print(f"final training loss {history[-1]['total']:.4f}, validation loss {history[-1]['val_total']:.4f}")

# %% Evaluation without noise.
y, [r] = model.eval()(validation["u"])
if accuracy is not None:
    print(f"decision accuracy on 512 new trials: {accuracy(validation, y):.1%}")

# %% Plots: training curves, one trial, the hidden activity and W_hid with its eigenvalues.
plots = {
    "training_curves.png": ctrnn.plot.training_curves(history),
    "trial.png": ctrnn.plot.trial(validation["u"], y, validation["target"], validation.get("mask")),
    "raster.png": ctrnn.plot.raster(r),
    "weights.png": ctrnn.plot.weights(model.layers[1].weight),
}
for name, fig in plots.items():
    print("wrote", ctrnn.plot.save(fig, os.path.join(args.out, name)))
