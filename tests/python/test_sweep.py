"""ctrnn.sweep on this machine (the local backend) and python -m ctrnn sweep: a sweep over two pack shapes
runs and reruns (finished packs skipped), a worker killed mid-pack is restarted and its pack equals an
uninterrupted run bit for bit, a killed driver's rerun continues, and bad arguments, bad specs and a
folder another sweep is running in are refused before any pack starts. The Ray backend: test_sweep_ray.py."""
import csv
import os
import signal
import subprocess
import sys
import time

import pytest

import ctrnn
import ctrnn.sweep
from ctrnn import _core
from ctrnn.sweep._pack import checkpoint_state, read_worker
from sweep_helpers import KillAfterFirstCheckpoint, assert_same_checkpoint, spec, uninterrupted, write_spec

# Long enough that a pack is still running well after its first checkpoint (step 25) on a loaded
# 2-core machine: the kill lands mid-pack.
LONG_STEPS, LONG_CHECKPOINT = 2000, 25


def pack_folders(out):
    return sorted(os.path.join(out, "packs", d) for d in os.listdir(os.path.join(out, "packs")))


def test_a_sweep_over_two_pack_shapes_runs_and_reruns(tmp_path, capsys):
    # 2 learning rates x 2 hidden sizes x 2 seeds: the sizes split packs, the rates share them.
    s = spec(30, 10, space={"training.lr": [0.002, 0.01], "dims": [[3, 8, 2], [3, 12, 2]]}, seeds=2, pack_size=2)
    out = tmp_path / "sweep"
    rows = ctrnn.sweep.run(s, out, workers=2)
    lines = capsys.readouterr().out
    assert len(rows) == 8 and all(r["status"] == "done" for r in rows), rows
    assert all(int(r["steps"]) == 30 for r in rows)
    packs = pack_folders(out)
    assert len(packs) == 4
    for p in packs:
        assert checkpoint_state(p)[0] == 30
    assert lines.count("started") == 4 and lines.count("done: step 30") == 4, lines
    with open(out / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == 8
    assert len(ctrnn.sweep.results(out)) == 8

    # Rerun: every pack is finished, none starts again.
    workers = [read_worker(p) for p in packs]
    again = ctrnn.sweep.run(s, out, workers=2)
    lines = capsys.readouterr().out
    assert again == rows
    assert "4 packs done before" in lines and "started" not in lines, lines
    assert [read_worker(p) for p in packs] == workers

    frame = ctrnn.sweep.as_dataframe(rows)
    assert len(frame) == 8 and "status" in frame.columns
    assert len(ctrnn.sweep.as_dataframe(out)) == 8


def test_a_killed_worker_is_restarted_and_its_pack_equals_an_uninterrupted_run(tmp_path, capsys):
    s = spec(LONG_STEPS, LONG_CHECKPOINT, space={"training.lr": [0.003]}, seeds=2, pack_size=2)
    out = tmp_path / "sweep"
    (pack,) = _core.plan_sweep(write_and_read(tmp_path, s), str(tmp_path), str(out))
    folder = pack_folders(out)[0]
    killer = KillAfterFirstCheckpoint(folder)
    killer.start()
    try:
        rows = ctrnn.sweep.run(s, out, workers=1, max_retries=2)
    finally:
        killer.stop()
    lines = capsys.readouterr().out
    assert killer.pid is not None, "the pack finished before its worker could be killed"
    assert all(r["status"] == "done" for r in rows) and len(rows) == 2
    worker = read_worker(folder)
    assert worker["attempt"] == 2 and worker["pid"] != killer.pid
    assert killer.step <= worker["from_step"] < LONG_STEPS  # resumed from a checkpoint, not from scratch
    assert f"worker pid {killer.pid} killed by SIGKILL" in lines and "retried (attempt 2)" in lines, lines
    assert "checkpoint: step" in lines, lines
    # The local backend splits the cores between its workers: one worker, every core.
    threads = ctrnn.sweep._local.usable_cores()
    assert_same_checkpoint(os.path.join(folder, "checkpoint.safetensors"),
                           uninterrupted(pack, tmp_path / "reference", threads))


def write_and_read(folder, s):
    with open(write_spec(str(folder), s)) as f:
        return f.read()


def test_a_killed_sweep_continues_when_the_command_is_run_again(tmp_path):
    s = spec(LONG_STEPS, LONG_CHECKPOINT, space={"training.lr": [0.003, 0.01]}, seeds=1, pack_size=1)
    path = write_spec(str(tmp_path), s)
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "ctrnn", "sweep", path, "--out", str(out), "--workers", "1"]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        while not (out / "packs").is_dir():
            assert driver.poll() is None, "the sweep ended before it planned its packs"
            time.sleep(0.01)
        # kill -9 of the whole sweep: the driver, then the worker running its first pack.
        killer = KillAfterFirstCheckpoint(pack_folders(out)[0], before=lambda: driver.kill())
        killer.run()
        driver.wait(timeout=60)
    finally:
        driver.kill()
    assert killer.pid is not None and driver.returncode == -signal.SIGKILL
    assert ctrnn.sweep.results(out)[0]["status"] == "pending"

    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "1 to resume" in again.stdout and "resumed at step" in again.stdout, again.stdout
    first = pack_folders(out)[0]
    assert read_worker(first)["from_step"] >= killer.step
    rows = ctrnn.sweep.results(out)
    assert len(rows) == 2 and all(r["status"] == "done" for r in rows)
    packs = _core.plan_sweep(open(path).read(), str(tmp_path), str(out))  # the same sweep: checked, unchanged
    threads = ctrnn.sweep._local.usable_cores()
    for pack, folder in zip(packs, pack_folders(out)):
        assert_same_checkpoint(os.path.join(folder, "checkpoint.safetensors"),
                               uninterrupted(pack, tmp_path / f"reference{pack['index']}", threads))


@pytest.mark.parametrize("kwargs, error, text", [
    ({"backend": "slurm"}, ValueError, "backend"),
    ({"workers": 0}, ValueError, "workers"),
    ({"workers": 1.5}, TypeError, "workers"),
    ({"address": "127.0.0.1:6379"}, ValueError, "address"),
    ({"backend": "ray", "workers": 2}, ValueError, "workers"),
    ({"cpus_per_pack": 0}, ValueError, "cpus_per_pack"),
    ({"gpus_per_pack": -1}, ValueError, "gpus_per_pack"),
    ({"max_retries": -1}, ValueError, "max_retries"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, kwargs, error, text):
    out = tmp_path / "sweep"
    with pytest.raises(error, match=text):
        ctrnn.sweep.run(spec(10, 0), out, **kwargs)
    assert not out.exists()


def test_a_bad_spec_is_refused_before_any_pack_starts(tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(TypeError, match="spec"):
        ctrnn.sweep.run(42, out)
    with pytest.raises(ctrnn.FileError, match="missing.json"):
        ctrnn.sweep.run(tmp_path / "missing.json", out)
    with pytest.raises(ctrnn.InvalidArgument, match="training.lrr"):
        ctrnn.sweep.run(spec(10, 0, space={"training.lrr": [0.1]}), out)
    assert not out.exists()
    bad = subprocess.run([sys.executable, "-m", "ctrnn", "sweep", write_spec(str(tmp_path), spec(10, 0, space={})),
                          "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("ctrnn: ") and "space" in bad.stderr, bad.stderr
    assert not out.exists()
    usage = subprocess.run([sys.executable, "-m", "ctrnn", "sweep", "x.json"], capture_output=True, text=True)
    assert usage.returncode == 2 and "--out" in usage.stderr


def test_a_folder_another_sweep_is_running_in_is_refused(tmp_path):
    # The other sweep's driver is stood for by this process holding the folder's lock (the flock the
    # library takes on out/.ctrnn.lock): refused before anything is written; once released, it runs.
    import fcntl

    out = tmp_path / "sweep"
    out.mkdir()
    with open(out / ".ctrnn.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ctrnn.InvalidArgument, match="locked by another ctrnn sweep"):
            ctrnn.sweep.run(spec(4, 0), out, progress=False)
        assert os.listdir(out) == [".ctrnn.lock"]
    rows = ctrnn.sweep.run(spec(4, 0), out, workers=1, progress=False)
    assert {r["status"] for r in rows} == {"done"}


def test_ctrnn_sweep_imports_without_ray_and_asks_for_it_when_needed(tmp_path):
    # sys.modules["ray"] = None makes `import ray` fail as on an installation without it.
    code = ("import sys; sys.modules['ray'] = None\n"
            "import ctrnn, ctrnn.sweep\n"
            "try:\n"
            f"    ctrnn.sweep.run({spec(10, 0)!r}, {str(tmp_path / 'sweep')!r}, backend='ray')\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "needs Ray" in result.stdout and "pip install 'ctrnn[ray]'" in result.stdout, result.stdout
    assert not (tmp_path / "sweep").exists()


def test_sigterm_stops_the_sweep_with_its_packs_checkpoints_saved(tmp_path):
    s = spec(100 * LONG_STEPS, 10 * LONG_STEPS, space={"training.lr": [0.003]}, seeds=1, pack_size=1)
    path = write_spec(str(tmp_path), s)
    out = tmp_path / "sweep"
    driver = subprocess.Popen([sys.executable, "-m", "ctrnn", "sweep", path, "--out", str(out)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while read_worker(str(out / "packs" / "000")) is None:
            assert driver.poll() is None, driver.stderr.read()
            time.sleep(0.01)
        time.sleep(1)  # into the pack, before its first periodic checkpoint (step 20,000)
        driver.send_signal(signal.SIGTERM)
        _, err = driver.communicate(timeout=120)
    finally:
        driver.kill()
    assert driver.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM; rerun the same command" in err, err
    # The worker stopped after its step with the checkpoint saved, not at a periodic checkpoint.
    step = checkpoint_state(str(out / "packs" / "000"))[0]
    assert 0 < step < 10 * LONG_STEPS
    assert ctrnn.sweep.results(out)[0]["status"] == "pending"
