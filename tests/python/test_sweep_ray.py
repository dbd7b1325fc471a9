"""ctrnn.sweep on a real Ray cluster: the test starts one on 127.0.0.1 (`ray start --head`, 2 CPUs, no
dashboard, its own temp folder), runs a sweep through backend="ray" while SIGKILLing the Ray worker
process that runs a pack after that pack's first checkpoint, and checks that Ray's retry resumed the
pack (from a checkpoint, not from scratch), that every network has a result, and that the resumed
pack's final checkpoint equals an uninterrupted run's bit for bit at the same thread count; then the
same sweep through `python -m ctrnn sweep --ray` and `ctrnn sweep --ray`. The cluster is stopped at
the end whatever happened (`ray stop --force`)."""
import os
import socket
import subprocess
import sys
import tempfile
import shutil

import pytest

# Ray 2.x replaces a loopback node address by the machine's outward-facing one on Linux unless this is
# 0 (ray/_private/services.py, get_node_ip_address; read when ray is imported, hence before the
# import): it keeps the whole cluster, its workers, this driver and the CLI drivers below on 127.0.0.1.
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
os.environ.update(RAY_ENV)
import ray  # noqa: E402  tests/python/requirements.txt installs it (users: pip install .[ray])

import ctrnn.sweep  # noqa: E402
from ctrnn import _core  # noqa: E402
from ctrnn.sweep._pack import read_worker  # noqa: E402
from sweep_helpers import KillAfterFirstCheckpoint, assert_same_checkpoint, spec, uninterrupted, write_spec  # noqa: E402

LONG_STEPS, LONG_CHECKPOINT = 2000, 25

# `ray` run by this interpreter, so that the cluster's workers are this interpreter (and import the
# ctrnn under test).
RAY_CLI = [sys.executable, "-c", "from ray.scripts.scripts import main; main()"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """The address of a 2-CPU Ray cluster on 127.0.0.1, stopped when the module's tests end."""
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit 107 bytes
    port = free_port()
    try:
        subprocess.run(RAY_CLI + ["start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
                                  "--num-gpus=0", "--include-dashboard=false", "--disable-usage-stats",
                                  f"--temp-dir={temp}"], check=True, capture_output=True, timeout=120)
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run(RAY_CLI + ["stop", "--force"], capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def test_a_ray_sweep_survives_a_killed_worker(cluster, tmp_path, capsys):
    s = spec(LONG_STEPS, LONG_CHECKPOINT)  # 2 learning rates x 2 seeds in packs of 2: two packs, two CPUs
    out = tmp_path / "sweep"
    with open(write_spec(str(tmp_path), s)) as f:
        packs = _core.plan_sweep(f.read(), str(tmp_path), str(out))
    folder = os.path.join(out, packs[0]["dir"])
    killer = KillAfterFirstCheckpoint(folder)
    killer.start()
    try:
        rows = ctrnn.sweep.run(s, out, backend="ray", address=cluster, cpus_per_pack=1, max_retries=3)
    finally:
        killer.stop()
    lines = capsys.readouterr().out
    assert killer.pid is not None, "the pack finished before its Ray worker could be killed"
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows), rows
    worker = read_worker(folder)
    assert worker["attempt"] == 2 and worker["pid"] != killer.pid, worker  # Ray ran the task again
    assert killer.step <= worker["from_step"] < LONG_STEPS  # and it resumed from a checkpoint
    assert "retried (attempt 2)" in lines, lines
    # cpus_per_pack=1: the pack trained on one thread; so does the reference.
    assert_same_checkpoint(os.path.join(folder, "checkpoint.safetensors"),
                           uninterrupted(packs[0], tmp_path / "reference", 1))


def sweep_command_on_ray(command, cluster, out):
    """Runs a sweep command against the cluster; its rows."""
    # `ctrnn sweep --ray` runs `python3 -m ctrnn sweep`: this interpreter first on PATH.
    env = {**os.environ, **RAY_ENV, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(command + ["--out", str(out), "--ray", cluster], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert f"ray {ray.__version__} at {cluster}" in result.stdout, result.stdout
    rows = ctrnn.sweep.results(out)
    assert len(rows) == 4 and all(r["status"] == "done" for r in rows), rows


def test_python_m_ctrnn_sweep_runs_on_ray(cluster, tmp_path):
    path = write_spec(str(tmp_path), spec(20, 10))
    sweep_command_on_ray([sys.executable, "-m", "ctrnn", "sweep", path], cluster, tmp_path / "sweep")


def test_ctrnn_sweep_runs_on_ray(cluster, tmp_path, cli):
    path = write_spec(str(tmp_path), spec(20, 10))
    sweep_command_on_ray([cli, "sweep", path], cluster, tmp_path / "sweep")
