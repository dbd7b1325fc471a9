"""Plots for training runs (needs matplotlib: pip install ctrnn[plot]).

    python -m ctrnn.plot RUN_FOLDER     # a CLI or Trainer.fit(out=...) folder -> PNGs beside it

A folder that also holds fixed_points.safetensors (``ctrnn fixed-points ... --out
RUN_FOLDER/fixed_points.safetensors``) gets the fixed-point pictures of ctrnn.analysis too.

Each function returns the matplotlib Figure; ``save`` writes it as a PNG.
"""
import argparse
import csv
import json
import os
import sys

import numpy as np


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("ctrnn.plot needs matplotlib: pip install matplotlib") from None
    return plt


def read_metrics(path):
    """metrics.csv (the CLI's or Trainer.fit's) -> {column: array}, one row per step and network."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"ctrnn: invalid metrics: {path} holds no rows")
    # Validation columns are empty on steps without validation.
    return {k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rows]) for k in rows[0]}


def training_curves(history):
    """Loss (log scale) and gradient norm against the step, one line per network.

    history: Trainer.fit's history, a metrics.csv path, or read_metrics' dict."""
    plt = _pyplot()
    if isinstance(history, (str, os.PathLike)):
        history = read_metrics(history)
    if isinstance(history, list):  # Trainer.history
        step = np.array([h["step"] for h in history])
        loss = np.array([np.atleast_1d(h["total"]) for h in history])
        grad = np.array([np.atleast_1d(h["grad_norm"]) for h in history])
        val = [(h["step"], np.mean(h["val_total"])) for h in history if "val_total" in h]
    else:
        networks = np.unique(history["network"]).astype(int)
        pick = [history["network"] == e for e in networks]
        step = history["step"][pick[0]]
        loss = np.stack([history["loss"][p] for p in pick], axis=1)
        grad = np.stack([history["grad_norm"][p] for p in pick], axis=1)
        val_loss = np.mean(np.stack([history["val_loss"][p] for p in pick], axis=1), axis=1) \
            if "val_loss" in history else np.full(len(step), np.nan)
        val = [(s, v) for s, v in zip(step, val_loss) if not np.isnan(v)]
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax_loss.semilogy(step, loss, lw=1)
    if val:
        ax_loss.semilogy(*zip(*val), "ko-", ms=3, label="validation")
        ax_loss.legend()
    ax_loss.set(xlabel="step", ylabel="loss", title="training loss")
    ax_grad.plot(step, grad, lw=1)
    ax_grad.set(xlabel="step", ylabel="gradient norm (before clipping)", title="gradient norm")
    fig.tight_layout()
    return fig


def trial(u, y, target=None, mask=None, index=0):
    """One trial's inputs, and its outputs against the targets (masked-out steps shaded).
    u (T, B, I), y (T, B, O), target (T, B, O), mask (T, B)."""
    plt = _pyplot()
    fig, (ax_u, ax_y) = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    ax_u.plot(u[:, index], lw=1)
    ax_u.set(ylabel="input", title=f"trial {index}")
    lines = ax_y.plot(y[:, index], lw=1.5)
    if target is not None:
        for k, line in enumerate(lines):
            ax_y.plot(target[:, index, k], "--", color=line.get_color(), lw=1)
    if mask is not None:
        for t in np.flatnonzero(mask[:, index] == 0):
            ax_y.axvspan(t - 0.5, t + 0.5, color="0.9", lw=0)
    ax_y.set(xlabel="time step", ylabel="output (dashed: target)")
    fig.tight_layout()
    return fig


def raster(r, index=0):
    """Hidden activity of one trial: neurons x time. r (T, B, H)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(r[:, index].T, aspect="auto", interpolation="nearest", cmap="viridis")
    fig.colorbar(image, ax=ax, label="firing rate")
    ax.set(xlabel="time step", ylabel="hidden neuron", title=f"hidden activity, trial {index}")
    fig.tight_layout()
    return fig


def weights(w_hid):
    """The recurrent weights (pre x post) as a heatmap, and their eigenvalues in the complex plane."""
    plt = _pyplot()
    fig, (ax_w, ax_e) = plt.subplots(1, 2, figsize=(10, 4.2))
    lim = float(np.max(np.abs(w_hid))) or 1.0
    image = ax_w.imshow(w_hid, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    fig.colorbar(image, ax=ax_w)
    ax_w.set(xlabel="post (target neuron)", ylabel="pre (source neuron)", title="W_hid")
    eig = np.linalg.eigvals(w_hid.astype(np.float64))
    ax_e.scatter(eig.real, eig.imag, s=8)
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    ax_e.plot(circle.real, circle.imag, "k:", lw=0.8)
    ax_e.set(xlabel="Re", ylabel="Im", title="eigenvalues of W_hid", aspect="equal")
    fig.tight_layout()
    return fig


def layer(w, title, ignore_zeros=True):
    """One layer's weights (pre x post) as a heatmap with the histogram of their values (zeros,
    i.e. absent synapses, left out unless ignore_zeros is False): nn4n's plot_layers picture."""
    plt = _pyplot()
    w = np.asarray(w, dtype=np.float64)
    fig, (ax_w, ax_h) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    lim = float(np.max(np.abs(w))) if w.size else 0.0
    image = ax_w.imshow(w, cmap="RdBu_r", vmin=-(lim or 1.0), vmax=lim or 1.0, interpolation="nearest", aspect="auto")
    fig.colorbar(image, ax=ax_w)
    ax_w.set(xlabel="post (target neuron)", ylabel="pre (source neuron)", title=title)
    values = w[w != 0] if ignore_zeros else w.ravel()
    ax_h.hist(values, bins=50)
    ax_h.set(xlabel="weight", ylabel="count", title=f"{title}: {values.size} of {w.size} weights")
    fig.tight_layout()
    return fig


def save(fig, path):
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def plot_run(folder, batch_size=8):
    """Every plot of a run folder (metrics.csv, checkpoint.safetensors) as PNGs in the folder.
    Returns the paths written."""
    from .model import load
    from .tasks import Task

    written = []
    trajectories = None  # the first network's membrane potentials on a batch of the run's task
    metrics = os.path.join(folder, "metrics.csv")
    if os.path.exists(metrics):
        written.append(save(training_curves(metrics), os.path.join(folder, "training_curves.png")))
    checkpoint = os.path.join(folder, "checkpoint.safetensors")
    if os.path.exists(checkpoint):
        model = load(checkpoint, device="cpu").eval()
        written.append(save(weights(model.parameters()["w_hid"][0]), os.path.join(folder, "weights.png")))
        task_json = model.checkpoint_metadata.get("task")
        spec = json.loads(task_json) if task_json else {}
        if "name" in spec:  # a built-in task (a data-file task's trials are the user's own)
            batch = Task(spec.pop("name"), **spec).batch(batch_size, seed=12345)
            y, [r] = model(batch["u"])
            if y.ndim == 4:  # an ensemble: the first network
                y, r = y[0], r[0]
            written.append(save(trial(batch["u"], y, batch["target"], batch["mask"]), os.path.join(folder, "trial.png")))
            written.append(save(raster(r), os.path.join(folder, "raster.png")))
            from . import analysis

            v = analysis.trajectories(model, batch["u"])
            trajectories = v[0] if v.ndim == 4 else v
    fixed = os.path.join(folder, "fixed_points.safetensors")
    if os.path.exists(fixed):
        written += plot_fixed_point_file(fixed, folder, trajectories)
    if not written:
        raise FileNotFoundError(f"ctrnn.plot: {folder} holds neither metrics.csv nor checkpoint.safetensors")
    return written


def plot_fixed_point_file(path, folder, trajectories=None):
    """The first network's fixed points of a fixed-point file in its trajectories' principal
    components, and their spectra, as PNGs in folder. Returns the paths written."""
    from . import analysis

    fps = analysis.load(path)[0]
    written = [save(analysis.plot_fixed_points(fps, trajectories), os.path.join(folder, "fixed_points.png"))]
    if fps.eigenvalues is not None:
        written.append(save(analysis.plot_spectra(fps), os.path.join(folder, "fixed_point_spectra.png")))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ctrnn.plot", description=__doc__.splitlines()[0])
    parser.add_argument("run_folder", help="a folder written by `ctrnn train` or Trainer.fit(out=...)")
    args = parser.parse_args(argv)
    try:
        for path in plot_run(args.run_folder):
            print(path)
    except (OSError, ValueError, ImportError) as e:
        print(f"ctrnn.plot: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
