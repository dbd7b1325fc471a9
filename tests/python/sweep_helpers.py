"""What the sweep tests share: small sweep specs, a pack's uninterrupted run, bitwise checkpoint
comparison, and a thread that SIGKILLs the process running a pack once its first checkpoint exists."""
import json
import os
import signal
import threading
import time

import numpy as np
from safetensors.numpy import load_file

from ctrnn import _core
from ctrnn.sweep._pack import checkpoint_state, read_worker


def spec(steps, checkpoint_every, space=None, seeds=2, pack_size=2, hidden=16):
    """A sweep of small perceptual-decision networks (T = 12 steps per trial, batch 8); by default
    two learning rates x 2 seeds in packs of 2: two packs."""
    return {
        "base": {
            "dims": [3, hidden, 2], "activation": "relu", "tau": 100, "dt": 20, "biases": "zero",
            "preact_noise": 0.05, "seed": 3,
            "task": {"name": "perceptual_decision", "fixation_steps": 2, "stimulus_steps": 8, "decision_steps": 2,
                     "coherences": [0.2, 0.8], "stimulus_noise": 0.5},
            "training": {"steps": steps, "batch_size": 8, "optimizer": "adam", "lr": 0.005,
                         "checkpoint_every": checkpoint_every, "eval_batch_size": 64},
        },
        "space": space if space is not None else {"training.lr": [0.002, 0.01]},
        "seeds": seeds,
        "pack_size": pack_size,
    }


def write_spec(folder, s):
    path = os.path.join(folder, "sweep.json")
    with open(path, "w") as f:
        json.dump(s, f)
    return path


def uninterrupted(pack, folder, threads):
    """The pack's training run in this process, from scratch to its end, into `folder`."""
    _core.train_run(pack["config"], os.getcwd(), str(folder), False, threads, True)
    return os.path.join(str(folder), "checkpoint.safetensors")


def assert_same_checkpoint(a, b):
    """Every tensor of two checkpoints (parameters, optimizer moments, masks) equal bit for bit."""
    ta, tb = load_file(a), load_file(b)
    assert sorted(ta) == sorted(tb)
    for name in ta:
        assert ta[name].dtype == tb[name].dtype and ta[name].shape == tb[name].shape, name
        assert np.array_equal(ta[name].view(np.uint8), tb[name].view(np.uint8)), f"{name} differs"


class KillAfterFirstCheckpoint(threading.Thread):
    """SIGKILLs the process that runs the pack in `folder` (its worker.json's pid) as soon as the pack's
    first checkpoint exists, after calling `before` (e.g. to kill its driver first). Records the pid
    and the checkpoint's step at the kill."""

    def __init__(self, folder, before=None, timeout=120):
        super().__init__(daemon=True)
        self.folder, self.before, self.timeout = folder, before, timeout
        self.pid = self.step = None
        self._done = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.timeout
        while not self._done.is_set() and time.monotonic() < deadline:
            state, worker = checkpoint_state(self.folder), read_worker(self.folder)
            if state is not None and worker is not None:
                self.pid, self.step = worker["pid"], state[0]
                if self.before is not None:
                    self.before()
                os.kill(self.pid, signal.SIGKILL)
                return
            time.sleep(0.005)

    def stop(self):
        self._done.set()
        self.join()
