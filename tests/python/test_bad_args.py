"""Every bad argument raises the documented exception, naming the argument, and changes nothing."""
import warnings

import numpy as np
import pytest

import ctrnn

U = np.zeros((5, 2, 3), dtype=np.float32)
TARGET = np.zeros((5, 2, 2), dtype=np.float32)


@pytest.fixture
def model():
    return ctrnn.CTRNN(dims=[3, 8, 2], seed=1, device="cpu")


def test_exception_hierarchy():
    assert issubclass(ctrnn.InvalidArgument, ValueError)
    assert issubclass(ctrnn.StateError, RuntimeError)
    assert issubclass(ctrnn.NonFiniteLoss, ctrnn.StateError)
    assert issubclass(ctrnn.FileError, OSError)


@pytest.mark.parametrize("kwargs, name", [
    (dict(dims=[3, 0, 2]), "dims"),
    (dict(dims=[3, 8]), "dims"),
    (dict(activation="gelu"), "activation"),
    (dict(tau=1, dt=10), "alpha|tau|dt"),
    (dict(preact_noise=-1), "preact_noise"),
    (dict(init_state="random"), "init_state"),
    (dict(weights="xavier"), r"weights\[0\]"),
    (dict(biases=[None, "bad", None]), r"biases\[1\]"),
    (dict(sparsity_masks=[None, np.ones((7, 8)), None]), r"sparsity_masks\[1\]"),
    (dict(ei_masks=[None, np.full((8, 8), np.nan), None]), r"ei_masks\[1\]"),
    (dict(synapse_growth_masks=[None, np.full((8, 8), 0.5), None]), r"synapse_growth_masks\[1\]"),
    (dict(ensemble_size=0), "ensemble_size"),
    (dict(device="tpu"), "device"),
    (dict(math="fp16"), "math"),
])
def test_constructor_refuses(kwargs, name):
    args = dict(dims=[3, 8, 2], device="cpu")
    args.update(kwargs)
    with pytest.raises(ctrnn.InvalidArgument, match=name):
        ctrnn.CTRNN(**args)


def test_per_layer_lists_must_have_three_entries():
    with pytest.raises(ValueError, match="sparsity_masks"):
        ctrnn.CTRNN(dims=[3, 8, 2], sparsity_masks=[None, None])
    with pytest.raises(TypeError, match="ei_masks"):
        ctrnn.CTRNN(dims=[3, 8, 2], ei_masks=np.ones((8, 8)))
    with pytest.raises(ValueError, match=r"weights\[1\]"):
        ctrnn.CTRNN(dims=[3, 8, 2], weights=["uniform", [[1, 2], [3]], "uniform"])


@pytest.mark.parametrize("u, error, name", [
    (U.astype(np.float64), TypeError, "u: expected dtype float32"),
    (np.zeros((5, 3, 2), dtype=np.float32).transpose(0, 2, 1), ValueError, "u: expected a C-contiguous"),
    (np.zeros((5, 2, 4), dtype=np.float32), ctrnn.InvalidArgument, "u"),
    (np.zeros((2, 3), dtype=np.float32), ctrnn.InvalidArgument, "u"),
    (np.full((5, 2, 3), np.nan, dtype=np.float32), ctrnn.InvalidArgument, "u"),
    ("abc", TypeError, "u"),
    ([[1, 2], [3]], ValueError, "u"),
    (None, TypeError, "u"),
])
def test_forward_refuses(model, u, error, name):
    before = model.parameters()
    with pytest.raises(error, match=name):
        model(u)
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, before[k])


def test_nested_lists_are_accepted(model):
    y, _ = model(U.tolist())
    assert y.shape == (5, 2, 2)


def test_trainer_refuses(model):
    with pytest.raises(ctrnn.InvalidArgument, match="optimizer"):
        ctrnn.Trainer(model, optimizer="adagrad")
    with pytest.raises(TypeError, match="optimizer"):
        ctrnn.Trainer(model, optimizer=None)
    with pytest.raises(ctrnn.InvalidArgument, match="lr"):
        ctrnn.Trainer(model, lr=-1)
    with pytest.raises(ValueError, match="loss"):
        ctrnn.Trainer(model, loss={"lambda_l2": 1})
    with pytest.raises(TypeError, match="model"):
        ctrnn.Trainer("model")
    trainer = ctrnn.Trainer(model)
    with pytest.raises(ctrnn.InvalidArgument, match="target"):
        trainer.step(U, np.zeros((5, 2, 3), dtype=np.float32))
    with pytest.raises(ctrnn.InvalidArgument, match="mask"):
        trainer.step(U, TARGET, np.full((5, 2), -1, dtype=np.float32))
    with pytest.raises(TypeError, match="target"):
        trainer.step(U, TARGET.astype(np.float16))
    with pytest.raises(TypeError, match="batch"):
        trainer.fit([U], steps=1, progress=False)
    with pytest.raises(ValueError, match="checkpoint_every"):
        trainer.fit([], checkpoint_every=5)
    assert trainer.steps_done == 0


def test_non_finite_loss_changes_nothing():
    model = ctrnn.CTRNN(dims=[3, 8, 2], weights="zero", biases="zero", device="cpu")
    model.set_bias("readout", np.array([3e38, 3e38], dtype=np.float32))  # y^2 overflows to Inf
    trainer = ctrnn.Trainer(model)
    before = model.parameters()
    with pytest.raises(ctrnn.NonFiniteLoss):
        trainer.step(U, TARGET)
    assert trainer.steps_done == 0
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, before[k])


def test_state_errors(model):
    with pytest.raises(ctrnn.StateError):
        model.backward(np.zeros((1, 5, 2, 2), dtype=np.float32))  # before any forward
    with pytest.raises(ctrnn.InvalidArgument, match="h0"):
        model.set_initial_state(np.zeros(8, dtype=np.float32))  # init_state is "zero"
    with pytest.raises(ValueError, match="layer"):
        model.set_weight("output", np.zeros((8, 2), dtype=np.float32))


def test_checkpoint_errors(tmp_path, model):
    with pytest.raises((ctrnn.FileError, ctrnn.InvalidArgument), match="missing.safetensors"):
        ctrnn.load(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises((ctrnn.FileError, ctrnn.InvalidArgument), match="bad.safetensors"):
        ctrnn.load(bad)
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ctrnn.StateError, match="trainer"):
        ctrnn.load(tmp_path / "m.safetensors", with_trainer=True)
    with pytest.raises(ctrnn.FileError):
        model.save(tmp_path / "no" / "such" / "folder" / "m.safetensors")


def test_task_errors():
    with pytest.raises(ctrnn.InvalidArgument, match="task"):
        ctrnn.tasks.Task("juggling")
    with pytest.raises(ctrnn.InvalidArgument, match="task.coherence"):
        ctrnn.tasks.perceptual_decision(coherence=0.5)
    with pytest.raises(ValueError, match="batch_size"):
        ctrnn.tasks.sine().batch(0)
    with pytest.raises(ValueError, match="batch_size"):
        next(ctrnn.tasks.from_arrays(U, TARGET, batch_size=3))


# Complex values are refused wherever a real number is expected (TypeError naming the argument),
# never cast to their real part (numpy's cast drops the imaginary part with only a warning).
@pytest.mark.parametrize("call, name", [
    (lambda m: m(U.astype(np.complex64)), "u"),
    (lambda m: m([[[1 + 2j, 0, 0]] * 2] * 5), "u"),
    (lambda m: ctrnn.CTRNN(dims=[3, 8, 2], weights=["uniform", np.eye(8) * (1 + 1j), "uniform"], device="cpu"),
     r"weights\[1\]"),
    (lambda m: ctrnn.CTRNN(dims=[3, 8, 2], sparsity_masks=[None, np.ones((8, 8), complex), None], device="cpu"),
     r"sparsity_masks\[1\]"),
    (lambda m: ctrnn.CTRNN(dims=[3, 8, 2], tau=np.complex128(100), device="cpu"), "tau"),
    (lambda m: ctrnn.Trainer(m, lr=np.complex128(1e-3 + 1j)), "lr"),
    (lambda m: ctrnn.Trainer(m, loss={"lambda_fr": 0.1j}), r"loss\['lambda_fr'\]"),
    (lambda m: m.set_weight("hidden", np.eye(8, dtype=np.complex64)), "weight"),
])
def test_complex_values_are_refused(model, call, name):
    before = model.parameters()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning (the silent cast) fails the test
        with pytest.raises(TypeError, match=f"ctrnn: invalid {name}.*(complex|float32)") as e:
            call(model)
    assert "\n" not in str(e.value)
    for k, v in model.parameters().items():
        np.testing.assert_array_equal(v, before[k])


def test_read_only_out_is_refused_in_one_line(model):
    y = np.zeros((1, 5, 2, 2), np.float32)
    r = np.zeros((1, 5, 2, 8), np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="ctrnn: invalid y: expected a writable array") as e:
        model(U, out=(y, r))
    assert "\n" not in str(e.value)
    assert not y.any()


def test_layer_indices_are_checked(model):
    w = np.zeros((8, 8), np.float32)
    with pytest.raises(TypeError, match="ctrnn: invalid layer"):
        model.set_weight(1.5, w)  # not int(1.5) == 1
    with pytest.raises(ValueError, match="ctrnn: invalid layer") as e:
        model.set_weight(2**70, w)
    assert "\n" not in str(e.value)
