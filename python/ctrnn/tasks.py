"""The built-in tasks (the CLI's "task" section) as Python batch generators.

Batch k of a task is a pure function of (seed, k), as in the CLI, so the same seed gives the same
data in Python and in a CLI run. Each batch is a dict: u (T, B, I), target (T, B, O), mask (T, B)
or None, label (B,) int32 (the correct choice) or None.
"""
import json

import numpy as np

from . import _arrays, _core


class Task:
    """A built-in task: ``Task("perceptual_decision", stimulus_noise=0.5)`` or the named helpers.

    Parameters are those of the CLI's "task" section (unknown ones raise ctrnn.InvalidArgument)."""

    def __init__(self, name, **params):
        self._task = _core.make_task(json.dumps({"name": name, **params}))
        self.params = params

    name = property(lambda self: self._task.name)
    input_dim = property(lambda self: self._task.input_dim)
    output_dim = property(lambda self: self._task.output_dim)
    steps = property(lambda self: self._task.steps, doc="T, the number of time steps of a trial")

    def batch(self, batch_size, seed=0, index=0):
        """Batch number `index` of the stream `seed`."""
        if batch_size <= 0:
            raise ValueError(f"ctrnn: invalid batch_size: expected a positive count, got {batch_size}")
        return self._task.batch(int(batch_size), int(seed), int(index))

    def batches(self, batch_size, seed=0, start=0, count=None):
        """Batches start, start + 1, ... (endless unless `count` is given): feed to Trainer.fit."""
        index = start
        while count is None or index < start + count:
            yield self.batch(batch_size, seed, index)
            index += 1

    def accuracy(self, batch, y):
        """Fraction of trials whose choice (argmax of y averaged over the masked steps) is the
        batch's label. y: one network's outputs (T, B, O). NaN for tasks without choices."""
        if batch.get("label") is None:
            return float("nan")
        y = _arrays.host_data("y", y)
        return self._task.accuracy(batch["target"], batch["label"], batch.get("mask"), y)

    def __repr__(self):
        return f"ctrnn.tasks.Task({self.name!r}, {', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


def sine(**params):
    """nn4n's quickstart: follow a sine wave (steps, frequency)."""
    return Task("sine", **params)


def perceptual_decision(**params):
    """Two-alternative forced choice on a noisy stimulus (fixation_steps, stimulus_steps,
    decision_steps, coherences, stimulus_noise)."""
    return Task("perceptual_decision", **params)


def delayed_match(**params):
    """Delayed match-to-sample (fixation_steps, sample_steps, delay_steps, test_steps,
    decision_steps, stimuli, stimulus_noise)."""
    return Task("delayed_match", **params)


def flip_flop(**params):
    """FixedPointFinder's n-bit flip-flop: each output holds the sign of its input's last pulse
    (steps, bits, pulse_probability, pulse_steps)."""
    return Task("flip_flop", **params)


def from_arrays(u, target, mask=None, batch_size=None, seed=0, shuffle=True):
    """Endless minibatches from a whole data set held in arrays: u (T, N, I), target (T, N, O),
    mask None, (T, N) or (T, N, O). Each epoch is a fresh permutation when `shuffle`."""
    u, target = _arrays.host_data("u", u), _arrays.host_data("target", target)
    mask = None if mask is None else _arrays.host_data("mask", mask)
    n = u.shape[1]
    batch_size = n if batch_size is None else batch_size
    if not 0 < batch_size <= n:
        raise ValueError(f"ctrnn: invalid batch_size: expected 1..{n} (the number of trials), got {batch_size}")
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for begin in range(0, n - batch_size + 1, batch_size):
            idx = np.sort(order[begin:begin + batch_size])
            yield {"u": np.ascontiguousarray(u[:, idx]), "target": np.ascontiguousarray(target[:, idx]),
                   "mask": None if mask is None else np.ascontiguousarray(mask[:, idx])}


def from_neurogym(source, batch_size=16, seq_len=100, **env_kwargs):
    """Endless batches from a neurogym task: an environment id (e.g. "PerceptualDecisionMaking-v0",
    with `env_kwargs`), an environment, or a ``neurogym.Dataset`` (needs the neurogym package
    except for a dataset object already made).

    neurogym's integer targets (the correct action at each step) become one-hot float32 targets
    (T, B, n_actions) for the MSE loss; the integers are kept under "labels" (T, B)."""
    if isinstance(source, str) or hasattr(source, "action_space"):
        try:
            import neurogym
        except ImportError:
            raise ImportError("ctrnn.tasks.from_neurogym needs neurogym for an environment: pip install neurogym") from None
        source = neurogym.Dataset(source, env_kwargs=env_kwargs, batch_size=batch_size, seq_len=seq_len)
    if not callable(source) or not hasattr(source, "env"):
        raise TypeError(f"ctrnn: invalid source: expected a neurogym environment id, environment or Dataset, "
                        f"got {type(source).__name__}")
    n_actions = int(source.env.action_space.n)
    eye = np.eye(n_actions, dtype=np.float32)
    while True:
        inputs, labels = source()
        labels = np.asarray(labels)
        yield {"u": np.ascontiguousarray(inputs, dtype=np.float32), "target": eye[labels.astype(np.int64)],
               "mask": None, "labels": labels}
