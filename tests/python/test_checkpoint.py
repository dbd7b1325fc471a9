"""Checkpoints: Python's save/load round trip, resuming a trainer, and the CLI on the same file."""
import subprocess

import numpy as np
from safetensors.numpy import load_file, save_file

import ctrnn

U = np.random.default_rng(0).standard_normal((15, 3, 2)).astype(np.float32)
TARGET = np.random.default_rng(1).standard_normal((15, 3, 2)).astype(np.float32)


def make_model():
    mask = (np.random.default_rng(2).random((12, 12)) < 0.5).astype(np.float32)
    return ctrnn.CTRNN(dims=[2, 12, 2], activation="tanh", biases="uniform", init_state="learn",
                       sparsity_masks=[None, mask, None], preact_noise=0.1, seed=5, device="cpu")


def test_save_load_round_trip(tmp_path):
    model = make_model()
    ctrnn.Trainer(model, lr=1e-2).step(U, TARGET)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ctrnn.load(path, device="cpu")
    for name, value in model.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[name], value, err_msg=name)
    assert loaded.training == model.training
    np.testing.assert_array_equal(loaded.eval()(U)[0], model.eval()(U)[0])


def test_resumed_training_equals_uninterrupted(tmp_path):
    straight = make_model()
    t = ctrnn.Trainer(straight, lr=1e-2)
    expected = [t.step(U, TARGET)["total"] for _ in range(6)]

    first = make_model()
    t1 = ctrnn.Trainer(first, lr=1e-2)
    losses = [t1.step(U, TARGET)["total"] for _ in range(3)]
    first.save(tmp_path / "c.safetensors", trainer=t1)
    resumed, t2 = ctrnn.load(tmp_path / "c.safetensors", device="cpu", with_trainer=True)
    assert t2.steps_done == 3
    losses += [t2.step(U, TARGET)["total"] for _ in range(3)]
    assert losses == expected  # bit for bit: the noise stream and Adam's moments are restored


def test_cli_run_agrees_with_python(tmp_path, cli):
    model = make_model()
    ctrnn.Trainer(model, lr=1e-2).step(U, TARGET)
    model.save(tmp_path / "m.safetensors")
    save_file({"u": U}, str(tmp_path / "in.safetensors"))
    subprocess.run([cli, "run", str(tmp_path / "m.safetensors"), "--inputs", str(tmp_path / "in.safetensors"),
                    "--out", str(tmp_path / "out.safetensors"), "--device", "cpu"], check=True, capture_output=True)
    out = load_file(str(tmp_path / "out.safetensors"))
    y, [r] = model.eval()(U)
    # The same library, the same CPU backend and the same weights: identical numbers.
    np.testing.assert_array_equal(out["y"][0], y)
    np.testing.assert_array_equal(out["r"][0], r)


def test_python_loads_a_cli_checkpoint(tmp_path, cli):
    config = tmp_path / "sine.json"
    config.write_text('{"dims": [1, 16, 1], "task": {"name": "sine"}, "training": {"steps": 5, "batch_size": 4}}')
    subprocess.run([cli, "train", str(config), "--out", str(tmp_path / "run"), "--device", "cpu"], check=True,
                   capture_output=True)
    checkpoints = sorted((tmp_path / "run").glob("*.safetensors"))
    assert checkpoints, "the CLI wrote no checkpoint"
    model, trainer = ctrnn.load(checkpoints[-1], device="cpu", with_trainer=True)
    assert model.dims == [1, 16, 1] and trainer.steps_done == 5
