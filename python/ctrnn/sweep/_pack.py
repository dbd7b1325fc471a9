"""One pack of a sweep as one training run, in whichever process runs it (a local worker or a Ray task),
and what a pack's folder says about it while it runs.

A pack's folder (``DIR/packs/NNN/``, made by the library's planner) holds its config, and once it runs
the checkpoint and metrics of ``ctrnn train``. The process running a pack adds ``worker.json``: who
runs it (pid, host), for which call of ``ctrnn.sweep.run`` (its token) and which attempt this is, so
that the driver can report starts, resumptions and Ray's retries, and a test can find the process to
kill. Nothing here decides what runs where: that is the backend's (or Ray's) business.
"""
import json
import os
import socket
import struct
import time

WORKER_FILE = "worker.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
OUTCOME_FILE = "outcome.txt"  # "diverged: MESSAGE" or "failed: MESSAGE" (ctrnn/sweep.hpp, record_pack_outcome)


def pack_dir(out, pack):
    """The folder of a pack (the planner's "dir", relative to the sweep's folder or absolute)."""
    return os.path.join(os.fspath(out), pack["dir"])


def checkpoint_state(folder):
    """(step, last loss per network, diverged per network) of the checkpoint in `folder`, read from its
    safetensors header alone (8 bytes of length, then JSON whose ``__metadata__`` the library writes:
    host/checkpoint.cpp); None when there is none. Checkpoints are replaced by an atomic rename, so a
    file that opens is whole."""
    path = os.path.join(folder, CHECKPOINT_FILE)
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            meta = json.loads(f.read(length)).get("__metadata__", {})
    except (OSError, ValueError, struct.error):
        return None
    if "step" not in meta:
        return None
    loss = json.loads(meta["last_loss"]) if "last_loss" in meta else []
    diverged = [bool(d) for d in json.loads(meta["diverged"])] if "diverged" in meta else []
    return int(meta["step"]), loss, diverged


def outcome(folder):
    """The pack's recorded outcome when it did not finish: "diverged" (final: every network diverged) or
    "failed" (tried again by the next run); None when none is recorded."""
    try:
        with open(os.path.join(folder, OUTCOME_FILE)) as f:
            return f.readline().split(":", 1)[0].strip() or None
    except OSError:
        return None


def read_worker(folder):
    """The pack's worker.json as a dict, or None."""
    try:
        with open(os.path.join(folder, WORKER_FILE)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_worker(folder, record):
    tmp = os.path.join(folder, f".{WORKER_FILE}.tmp.{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, os.path.join(folder, WORKER_FILE))


def run_pack(pack, out, base_dir, threads, token):
    """Trains one pack to its end through the library's training run (``_core.train_run``, which is
    ``ctrnn train``), continuing the pack's checkpoint when it has one. Called again for the same pack
    (a rerun of the sweep, or Ray's retry after the process running it died) it resumes from the last
    checkpoint; the library makes the resumed run equal the uninterrupted one.

    token: the driver's call of ``ctrnn.sweep.run``; a second start of a pack under the same token is
    a retry. Records the pack's outcome as ``ctrnn sweep``'s runner does: "diverged" when every
    network diverged, "failed" (with the exception's message, then raised again) when the run
    raised. Returns {"index", "pid", "host", "attempt", "from_step", "run": what train_run reports
    (its "status": "finished", "all_diverged", or "stopped" by a stop request)}."""
    from .. import _core  # in the worker process

    folder = pack_dir(out, pack)
    previous = read_worker(folder)
    attempt = previous["attempt"] + 1 if previous and previous.get("token") == token else 1
    state = checkpoint_state(folder)
    record = {"token": token, "attempt": attempt, "pid": os.getpid(), "host": socket.gethostname(),
              "started": time.time(), "from_step": state[0] if state else 0}
    _core.clear_pack_outcome(folder)
    _write_worker(folder, record)
    try:
        report = _core.train_run(pack["config"], base_dir, folder, True, int(threads), True)
    except Exception as e:
        _core.record_pack_outcome(folder, "failed", f"{type(e).__name__}: {e}")
        raise
    if report["status"] == "all_diverged":
        _core.record_pack_outcome(folder, "diverged", report["message"])
    return {"index": pack["index"], "pid": record["pid"], "host": record["host"], "attempt": attempt,
            "from_step": record["from_step"], "run": report}
