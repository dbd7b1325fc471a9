"""Plots write non-empty PNG files with the expected panels; `python -m ctrnn.plot` on run folders."""
import subprocess
from pathlib import Path
import sys

import numpy as np
import pytest

import ctrnn

plot = pytest.importorskip("ctrnn.plot")
pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path):
    with open(path, "rb") as f:
        return f.read(8) == PNG


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    task = ctrnn.tasks.perceptual_decision()
    model = ctrnn.CTRNN(dims=[task.input_dim, 16, task.output_dim], seed=0, device="cpu")
    trainer = ctrnn.Trainer(model, lr=1e-2)
    trainer.fit(task.batches(8), steps=20, validation=task.batch(8, index=10**6), validate_every=10, out=str(out),
                progress=False)
    return task, model, trainer, out


def panels(fig):
    """Plot panels, not colorbars (matplotlib gives a colorbar its own axes, labelled '<colorbar>')."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_figures_have_their_panels(trained, tmp_path):
    task, model, trainer, out = trained
    batch = task.batch(4)
    y, [r] = model(batch["u"])
    figures = {
        "curves_history": (plot.training_curves(trainer.history), 2),
        "curves_csv": (plot.training_curves(out / "metrics.csv"), 2),
        "trial": (plot.trial(batch["u"], y, batch["target"], batch["mask"]), 2),
        "raster": (plot.raster(r), 1),
        "weights": (plot.weights(model.parameters()["w_hid"][0]), 2),
    }
    for name, (fig, expected) in figures.items():
        assert len(panels(fig)) == expected, name
        path = plot.save(fig, tmp_path / f"{name}.png")
        assert path.stat().st_size > 1000 and is_png(path), name


def test_plot_module_on_a_fit_folder(trained):
    out = trained[3]
    result = subprocess.run([sys.executable, "-m", "ctrnn.plot", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    written = result.stdout.split()
    assert sorted(p.rsplit("/", 1)[1] for p in written) == ["training_curves.png", "weights.png"]
    assert all(is_png(p) for p in written)


def test_plot_module_on_a_cli_run(tmp_path, cli):
    config = tmp_path / "pd.json"
    config.write_text('{"dims": [3, 16, 2], "task": {"name": "perceptual_decision"}, '
                      '"training": {"steps": 10, "batch_size": 4}}')
    subprocess.run([cli, "train", str(config), "--out", str(tmp_path / "run"), "--device", "cpu"], check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-m", "ctrnn.plot", str(tmp_path / "run")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    names = sorted(p.rsplit("/", 1)[1] for p in result.stdout.split())
    assert names == ["raster.png", "training_curves.png", "trial.png", "weights.png"]


def test_plot_module_refuses_an_empty_folder(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ctrnn.plot", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 1 and "neither metrics.csv nor checkpoint" in result.stderr


def test_example_script_runs(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "python" / "train_decision.py"
    result = subprocess.run([sys.executable, str(example), "--steps", "30", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "decision accuracy" in result.stdout
    for name in ("training_curves.png", "trial.png", "raster.png", "weights.png", "checkpoint.safetensors"):
        assert (tmp_path / name).stat().st_size > 0, name
