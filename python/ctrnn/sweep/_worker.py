"""``python -m ctrnn.sweep._worker JOB.json RESULT.json``: the local backend's worker process, one per
pack. It reads the job (the pack, the sweep's folder, base_dir, threads, token), trains the pack
(``_pack.run_pack``) and writes {"ok": result} or {"error": "Type: message"} to RESULT.json. A worker
that dies (a signal, the out-of-memory killer) writes nothing, which the driver reads as a lost worker.

A fresh interpreter per pack (not multiprocessing's spawn or fork): spawn re-runs the user's script
when it lacks a ``__main__`` guard, and fork would copy a parent that may hold BLAS threads."""
import json
import os
import signal
import sys


def _die_with_the_driver(driver):
    """Linux: SIGTERM when the driver dies (even by SIGKILL), so that no worker trains on, holding its
    pack's folder, after the sweep that started it is gone; it stops with its checkpoint saved."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the driver stops its workers when it ends normally
        return
    if os.getppid() != driver:  # it died before the call above
        os.kill(os.getpid(), signal.SIGTERM)


def main(job_path, result_path):
    # SIGTERM (the driver stopping its workers) as Ctrl-C: the training run stops after the step
    # under way with its checkpoint saved (train_run's stop request), instead of dying mid-step.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with open(job_path) as f:
        job = json.load(f)
    _die_with_the_driver(job["driver"])
    from ._pack import run_pack

    try:
        result = {"ok": run_pack(job["pack"], job["out"], job["base_dir"], job["threads"], job["token"])}
    except Exception as e:  # reported by the driver as the pack's failure, with the library's message
        result = {"error": f"{type(e).__name__}: {e}"}
    tmp = f"{result_path}.tmp"
    with open(tmp, "w") as f:
        json.dump(result, f)
    os.replace(tmp, result_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m ctrnn.sweep._worker JOB.json RESULT.json")
    main(sys.argv[1], sys.argv[2])
