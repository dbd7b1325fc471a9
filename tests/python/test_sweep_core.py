"""The sweep and training-run bindings of ctrnn._core (what ctrnn.sweep runs packs with): the
library's train_run gives what `ctrnn train` gives, bit for bit, and a planned sweep trained pack by
pack through it collects complete results."""
import json
import os
import subprocess

import pytest
from safetensors.numpy import load_file

from ctrnn import _core

BASE = {
    "dims": [3, 10, 2], "activation": "tanh", "preact_noise": 0.05, "biases": "zero", "seed": 3,
    "task": {"name": "perceptual_decision", "fixation_steps": 3, "stimulus_steps": 6, "decision_steps": 3},
    "training": {"steps": 5, "batch_size": 4, "lr": 0.01, "checkpoint_every": 2, "eval_batch_size": 8},
}
SPEC = {"base": BASE, "space": {"training.lr": [0.01, 0.02], "loss.lambda_fr": {"uniform": [0, 0.01]}},
        "samples": 2, "seeds": 2, "pack_size": 5}


def test_train_run_equals_ctrnn_train(tmp_path, cli):
    config = json.dumps(BASE)
    result = _core.train_run(config, str(tmp_path), str(tmp_path / "lib"), resume=True, threads=1, quiet=True)
    assert result["status"] == "finished" and result["steps_done"] == 5 and result["first_step"] == 0
    assert len(result["final_loss"]) == 1 and result["diverged"] == [0] and len(result["eval_loss"]) == 1
    (tmp_path / "c.json").write_text(config)
    subprocess.run([str(cli), "train", str(tmp_path / "c.json"), "--out", str(tmp_path / "cli")],
                   check=True, capture_output=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    lib, cli = load_file(result["checkpoint"]), load_file(tmp_path / "cli" / "checkpoint.safetensors")
    assert lib.keys() == cli.keys()
    for name in lib:
        assert (lib[name] == cli[name]).all(), name
    again = _core.train_run(config, str(tmp_path), str(tmp_path / "lib"), resume=True, threads=1, quiet=True)
    assert again["status"] == "finished" and again["first_step"] == 5 and again["eval_loss"] == []
    with pytest.raises(ValueError, match="out"):  # an earlier run's files, neither resumed nor overwritten
        _core.train_run(config, str(tmp_path), str(tmp_path / "lib"), resume=False, threads=1, quiet=True)


def test_planned_packs_trained_through_train_run_collect(tmp_path):
    out = str(tmp_path / "S")
    packs = _core.plan_sweep(json.dumps(SPEC), str(tmp_path), out)
    assert [len(p["networks"]) for p in packs] == [5, 3]
    assert [n["index"] for p in packs for n in p["networks"]] == list(range(8))
    assert all(r["status"] == "pending" for r in _core.collect_sweep(out))
    for p in packs:
        assert _core.train_run(p["config"], str(tmp_path), p["dir"], resume=True, threads=1, quiet=True)["status"] == "finished"
    rows = _core.collect_sweep(out)
    assert [r["status"] for r in rows] == ["done"] * 8 and all(r["steps"] == 5 for r in rows)
    assert rows[6]["training.lr"] == packs[1]["networks"][1]["values"]["training.lr"]
    _core.extract_network(packs[1]["dir"] + "/checkpoint.safetensors", 2, str(tmp_path / "one.safetensors"))
    assert load_file(tmp_path / "one.safetensors")["params.w_hid"].shape == (1, 10, 10)
    with pytest.raises(ValueError, match="space.training.lr"):
        _core.plan_sweep(json.dumps({**SPEC, "space": {"training.lr": []}}), str(tmp_path), str(tmp_path / "T"))
