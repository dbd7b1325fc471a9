"""The built-in tasks as Python batch generators."""
import numpy as np
import pytest

import ctrnn


def test_batches_are_a_function_of_seed_and_index():
    task = ctrnn.tasks.delayed_match(stimuli=3)
    a = list(task.batches(8, seed=4, count=3))
    assert len(a) == 3
    np.testing.assert_array_equal(a[2]["u"], task.batch(8, seed=4, index=2)["u"])
    assert not np.array_equal(a[0]["u"], a[1]["u"])
    b = a[0]
    assert b["u"].shape == (task.steps, 8, task.input_dim) and b["u"].dtype == np.float32
    assert b["target"].shape == (task.steps, 8, task.output_dim)
    assert b["mask"].shape == (task.steps, 8) and b["label"].shape == (8,)


def test_accuracy_of_the_target_itself_is_one():
    task = ctrnn.tasks.perceptual_decision()
    b = task.batch(64, seed=0)
    assert task.accuracy(b, b["target"]) == 1.0
    assert np.isnan(ctrnn.tasks.sine().accuracy(ctrnn.tasks.sine().batch(2), np.zeros((100, 2, 1), np.float32)))


def test_sine_has_no_mask_or_labels():
    b = ctrnn.tasks.sine(steps=50).batch(2)
    assert b["mask"] is None and b["label"] is None and b["u"].shape == (50, 2, 1)


def test_from_arrays_covers_each_epoch():
    u = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    gen = ctrnn.tasks.from_arrays(u, u, batch_size=5, seed=0)
    seen = np.concatenate([next(gen)["u"].ravel() for _ in range(2)])
    assert sorted(seen.tolist()) == list(range(10))


class FakeNeurogymDataset:
    """What ctrnn uses of a neurogym.Dataset: env.action_space.n and a call giving (inputs, labels)."""

    class env:  # noqa: N801 (neurogym's attribute name)
        class action_space:  # noqa: N801
            n = 3

    def __call__(self):
        rng = np.random.default_rng(0)
        return rng.standard_normal((7, 4, 2)), rng.integers(0, 3, size=(7, 4))


def test_neurogym_batches_are_one_hot():
    batch = next(ctrnn.tasks.from_neurogym(FakeNeurogymDataset()))
    assert batch["u"].dtype == np.float32 and batch["u"].shape == (7, 4, 2)
    assert batch["target"].shape == (7, 4, 3)
    np.testing.assert_array_equal(batch["target"].argmax(-1), batch["labels"])
    np.testing.assert_array_equal(batch["target"].sum(-1), 1)


def test_neurogym_environment():
    # neurogym 2.3 imports torch at import time, so this runs only where torch is installed.
    pytest.importorskip("neurogym")
    gen = ctrnn.tasks.from_neurogym("PerceptualDecisionMaking-v0", batch_size=4, seq_len=50)
    batch = next(gen)
    assert batch["u"].shape[:2] == (50, 4) and batch["target"].shape[:2] == (50, 4)
