"""Training from Python on a task made here with numpy: the trainer's fit loop reaches a stated
accuracy, keeps a history, writes metrics and checkpoints."""
import csv

import numpy as np
import pytest

import ctrnn


def evidence_task(n, T=20, seed=0):
    """Report the sign of a noisy stimulus's mean on two outputs during the last 5 steps."""
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], size=n)
    strength = rng.choice([0.2, 0.4, 0.8], size=n)
    u = (sign * strength)[None, :, None] + 0.5 * rng.standard_normal((T, n, 1))
    target = np.zeros((T, n, 2))
    target[-5:, sign > 0, 0] = 1.0
    target[-5:, sign < 0, 1] = 1.0
    mask = np.zeros((T, n), dtype=np.float32)
    mask[-5:] = 1.0
    return u.astype(np.float32), target.astype(np.float32), mask, (sign < 0).astype(int)


def accuracy(y, mask, label):
    choice = np.argmax((y * mask[..., None]).sum(0), axis=-1)
    return float(np.mean(choice == label))


def test_fit_learns_a_numpy_task(tmp_path):
    u, target, mask, _ = evidence_task(2048, seed=1)
    u_val, target_val, mask_val, label_val = evidence_task(512, seed=2)
    model = ctrnn.CTRNN(dims=[1, 32, 2], activation="relu", tau=100, dt=20, seed=3, device="cpu")
    trainer = ctrnn.Trainer(model, lr=1e-2, clip=1.0)
    history = trainer.fit(ctrnn.tasks.from_arrays(u, target, mask, batch_size=64, seed=4), steps=300,
                          validation=(u_val, target_val, mask_val), validate_every=100, checkpoint_every=100,
                          out=str(tmp_path), progress=False)
    assert len(history) == 300 and history[-1]["step"] == 300
    assert [h["step"] for h in history if "val_total" in h] == [100, 200, 300]
    assert history[-1]["val_total"] < 0.5 * history[0]["total"]
    y, _ = model.eval()(u_val)
    # Chance is 50%, the Bayes-optimal observer ~98% (mean evidence over 20 steps); measured 97%.
    assert accuracy(y, mask_val, label_val) >= 0.90
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert len(rows) == 300 and float(rows[-1]["loss"]) == pytest.approx(history[-1]["total"])
    assert [r["step"] for r in rows if r["val_loss"]] == ["100", "200", "300"]
    assert float(rows[-1]["val_loss"]) == pytest.approx(history[-1]["val_total"])
    assert (tmp_path / "checkpoint.safetensors").stat().st_size > 0


def test_builtin_task_trains_to_accuracy():
    task = ctrnn.tasks.perceptual_decision()
    model = ctrnn.CTRNN(dims=[task.input_dim, 48, task.output_dim], tau=100, dt=20, seed=0, device="cpu")
    trainer = ctrnn.Trainer(model, lr=1e-2, clip=1.0)
    trainer.fit(task.batches(32, seed=1), steps=400, progress=False)
    held_out = task.batch(512, seed=1, index=10**9)
    y, _ = model.eval()(held_out["u"])
    # Measured 92% (chance 50%; the CLI demo reaches ~93% with H = 64 after 1500 steps).
    assert task.accuracy(held_out, y) >= 0.85


def test_ensemble_reports_one_loss_per_network():
    u, target, mask, _ = evidence_task(32)
    model = ctrnn.CTRNN(dims=[1, 16, 2], ensemble_size=3, seed=0, device="cpu")
    report = ctrnn.Trainer(model, lr=1e-2).step(u, target, mask)
    assert report["total"].shape == (3,) and len(set(report["total"].tolist())) == 3
    y, [r] = model(u)
    assert y.shape == (3, 20, 32, 2) and r.shape == (3, 20, 32, 16)


def test_a_diverging_network_is_frozen_and_reported(tmp_path):
    """Network 1's loss overflows to Inf at the second step: it is reported diverged (step report,
    Trainer.diverged, metrics.csv, the checkpoint) and frozen; networks 0 and 2 train on exactly as
    in the same ensemble trained on good data."""
    u, target, mask, _ = evidence_task(16)
    good = np.stack([target + e for e in range(3)])  # (E, T, B, O): one target per network
    bad = good.copy()
    bad[1, -1, 0, 0] = 3e38  # its squared error overflows (the mask counts the last steps)
    models = [ctrnn.CTRNN(dims=[1, 8, 2], ensemble_size=3, seed=0, device="cpu") for _ in range(2)]
    trainers = [ctrnn.Trainer(m, lr=1e-2) for m in models]
    batches = [(u, good, mask), (u, bad, mask), (u, good, mask)]
    history = trainers[0].fit(batches, out=str(tmp_path), progress=False)
    for b in batches:
        trainers[1].step(u, good, mask)
    assert [h["diverged"].tolist() for h in history] == [[False] * 3] + [[False, True, False]] * 2
    assert np.isinf(history[1]["total"][1])
    assert trainers[0].diverged.tolist() == [False, True, False]
    for name, value in models[0].parameters().items():
        np.testing.assert_array_equal(value[[0, 2]], models[1].parameters()[name][[0, 2]], err_msg=name)
    rows = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [r["diverged"] for r in rows] == ["0", "0", "0", "0", "1", "0", "0", "1", "0"]
    _, resumed = ctrnn.load(str(tmp_path / "checkpoint.safetensors"), device="cpu", with_trainer=True)
    assert resumed.diverged.tolist() == [False, True, False]


def test_one_network_reports_diverged_as_a_bool():
    u, target, mask, _ = evidence_task(8)
    report = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], device="cpu")).step(u, target, mask)
    assert report["diverged"] is False and isinstance(report["total"], float)


def test_per_network_values_equal_uniform_runs():
    """An ensemble with its own lr, weight decay, clipping and lambda_fr per network: each network
    trains exactly as in the same ensemble given its values for all networks."""
    u, target, mask, _ = evidence_task(16)
    lr, wd, clip, fr = [1e-2, 3e-2, 5e-3], [0.0, 1e-2, 0.0], [0.0, 0.1, 1.0], [0.0, 0.2, 0.05]

    def train(**values):
        model = ctrnn.CTRNN(dims=[1, 8, 2], ensemble_size=3, seed=0, device="cpu")
        loss = {"lambda_fr": values.pop("fr")}
        trainer = ctrnn.Trainer(model, loss=loss, **values)
        for _ in range(3):
            trainer.step(u, target, mask)
        return model.parameters()

    mixed = train(lr=ctrnn.per_network(lr), weight_decay=ctrnn.per_network(wd), clip=ctrnn.per_network(clip),
                  fr={"per_network": fr})
    for k in range(3):
        alone = train(lr=lr[k], weight_decay=wd[k], clip=clip[k], fr=fr[k])
        for name, value in mixed.items():
            np.testing.assert_array_equal(value[k], alone[name][k], err_msg=f"{name} of network {k}")


def test_bad_per_network_values_name_the_parameter():
    model = ctrnn.CTRNN(dims=[1, 8, 2], ensemble_size=3, device="cpu")
    with pytest.raises(TypeError, match=r"invalid lr: expected a real number or ctrnn.per_network.*got list"):
        ctrnn.Trainer(model, lr=[0.1, 0.2, 0.3])  # a bare list would read as an array over neurons
    with pytest.raises(ctrnn.InvalidArgument, match=r"invalid lr: .*3 values \(one per network\).*got 2 values"):
        ctrnn.Trainer(model, lr=ctrnn.per_network([0.1, 0.2]))
    with pytest.raises(ctrnn.InvalidArgument, match=r"invalid momentum: .*got -0.5 for network 2"):
        ctrnn.Trainer(model, optimizer="sgd", momentum=ctrnn.per_network([0, 0.9, -0.5]))
    with pytest.raises(ctrnn.InvalidArgument, match=r"invalid lambda_fr: .*got -1.0 for network 0"):
        ctrnn.Trainer(model, loss={"lambda_fr": ctrnn.per_network([-1, 0, 0])})


def test_first_network_reruns_a_network_alone():
    """first_network=k: a one-network model starts from network k's weights of the ensemble with the
    same seed (and draws its noise)."""
    ensemble = ctrnn.CTRNN(dims=[1, 8, 2], ensemble_size=3, seed=5, biases="uniform", device="cpu")
    alone = ctrnn.CTRNN(dims=[1, 8, 2], seed=5, biases="uniform", first_network=2, device="cpu")
    for name, value in ensemble.parameters().items():
        np.testing.assert_array_equal(value[2], alone.parameters()[name].reshape(value[2].shape), err_msg=name)
    with pytest.raises(ctrnn.InvalidArgument, match="first_network"):
        ctrnn.CTRNN(dims=[1, 8, 2], first_network=-1, device="cpu")


def test_noise_and_modes():
    u = np.ones((10, 4, 1), dtype=np.float32)
    model = ctrnn.CTRNN(dims=[1, 8, 1], preact_noise=0.5, seed=0, device="cpu")
    assert model.training
    assert not np.array_equal(model(u)[0], model(u)[0])  # fresh noise each forward
    model.eval()
    assert np.array_equal(model(u)[0], model(u)[0])


def test_the_gil_is_released_during_a_step():
    """Another Python thread runs while steps compute: with the GIL held, no iteration of the main
    thread's loop could fall inside the middle half of a step. Eight steps, so that one scheduling
    gap of a loaded machine cannot empty every window."""
    import threading
    import time

    u = np.random.default_rng(0).standard_normal((100, 32, 1)).astype(np.float32)
    target = np.zeros((100, 32, 2), np.float32)
    trainer = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 64, 2], device="cpu"))
    spans = []

    def work():
        for _ in range(8):
            start = time.perf_counter()
            trainer.step(u, target)
            spans.append((start, time.perf_counter()))

    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
    worker.join()
    ticks = np.array(ticks)
    inside = [np.count_nonzero((ticks > a + 0.25 * (b - a)) & (ticks < a + 0.75 * (b - a))) for a, b in spans]
    assert sum(inside) > 0, f"no main-thread activity inside any step: {inside}"


# Trainer.fit(out=...) follows the CLI's output policy (the same C++ code, ctrnn/run_folder.hpp).

SMALL_CLI_CONFIG = {
    "dims": [3, 12, 2], "activation": "tanh", "seed": 4,
    "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 8, "decision_steps": 4},
    "training": {"steps": 4, "batch_size": 4, "lr": 0.01, "checkpoint_every": 0, "eval_batch_size": 16},
}


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _small_fit(trainer, folder, steps, **kwargs):
    u, target, mask, _ = evidence_task(16)
    return trainer.fit(ctrnn.tasks.from_arrays(u, target, mask, batch_size=4, seed=0), steps=steps, out=str(folder),
                       progress=False, **kwargs)


def _steps_in(metrics):
    return [int(r["step"]) for r in csv.DictReader(open(metrics))]


def test_fit_refuses_a_cli_runs_folder_without_overwrite(tmp_path, cli):
    import json
    import subprocess

    config = tmp_path / "c.json"
    config.write_text(json.dumps(SMALL_CLI_CONFIG))
    run = tmp_path / "run"
    subprocess.run([cli, "train", str(config), "--out", str(run), "--device", "cpu"], check=True, capture_output=True)
    before = _files(run)
    trainer = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], seed=0, device="cpu"))
    with pytest.raises(ctrnn.InvalidArgument, match="overwrite"):
        _small_fit(trainer, run, 2)
    assert trainer.steps_done == 0 and _files(run) == before  # refused before any step, nothing changed
    # The CLI still continues its own run there.
    subprocess.run([cli, "train", "--resume", str(run / "checkpoint.safetensors"), "--steps", "5", "--out", str(run)],
                   check=True, capture_output=True)
    _small_fit(trainer, run, 2, overwrite=True)  # replaced on request: this run's rows only
    assert _steps_in(run / "metrics.csv") == [1, 2]


def test_fit_refuses_a_folder_locked_by_a_running_cli_train(tmp_path, cli):
    import json
    import subprocess
    import time

    endless = dict(SMALL_CLI_CONFIG, training=dict(SMALL_CLI_CONFIG["training"], steps=10**8))
    config = tmp_path / "c.json"
    config.write_text(json.dumps(endless))
    run = tmp_path / "run"
    proc = subprocess.Popen([cli, "train", str(config), "--out", str(run), "--device", "cpu"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while not ((run / "metrics.csv").exists() and len(_steps_in(run / "metrics.csv")) >= 1):
            assert time.time() < deadline and proc.poll() is None, "the CLI run did not start"
            time.sleep(0.01)
        trainer = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], seed=0, device="cpu"))
        with pytest.raises(ctrnn.InvalidArgument, match="locked by another ctrnn run"):
            _small_fit(trainer, run, 2, overwrite=True)
        assert trainer.steps_done == 0
    finally:
        proc.terminate()
        assert proc.wait(60) == 128 + 15  # SIGTERM: the step finished, the checkpoint saved
    assert ctrnn.load(run / "checkpoint.safetensors") is not None


def test_fit_continues_its_own_folder_and_keeps_its_rows(tmp_path):
    folder = tmp_path / "run"
    trainer = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], seed=0, device="cpu"), lr=1e-2)
    _small_fit(trainer, folder, 3)
    _small_fit(trainer, folder, 2)  # the same trainer: it continues the checkpoint it saved there
    assert _steps_in(folder / "metrics.csv") == [1, 2, 3, 4, 5]
    # Another trainer's run is refused; a trainer loaded from the folder's checkpoint continues it.
    with pytest.raises(ctrnn.InvalidArgument, match="overwrite"):
        _small_fit(ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], seed=1, device="cpu")), folder, 1)
    model, resumed = ctrnn.load(folder / "checkpoint.safetensors", with_trainer=True)
    _small_fit(resumed, folder, 2)
    assert _steps_in(folder / "metrics.csv") == [1, 2, 3, 4, 5, 6, 7]
    assert ctrnn.load(folder / "checkpoint.safetensors", with_trainer=True)[1].steps_done == 7
    # A file where the folder should be, and an empty path: refused before any step.
    (tmp_path / "file").write_text("x")
    fresh = ctrnn.Trainer(ctrnn.CTRNN(dims=[1, 8, 2], seed=0, device="cpu"))
    for bad in (tmp_path / "file", tmp_path / "file" / "sub", ""):
        with pytest.raises(ctrnn.InvalidArgument, match="invalid out"):
            _small_fit(fresh, bad, 1)
    assert fresh.steps_done == 0
