"""A fuzz test of the public Python API with Hypothesis: arrays of random shapes, dtypes, strides,
writability and frameworks (numpy; torch on the CPU, and on CUDA where there is a GPU) go to
forward (with and without out=), backward, Trainer.step/evaluate and the parameter writes. Each
call either works, and then equals a plain numpy statement of the equations (docs/contract.md,
"Forward pass"), or raises the documented exception (TypeError or ValueError, ctrnn's own
InvalidArgument being a ValueError) with a one-line message that starts "ctrnn: invalid NAME"
naming the argument; it never crashes the interpreter and never changes the model on refusal.

Bounded for CI: a fixed number of examples per test (CTRNN_FUZZ_EXAMPLES, default 60), no
deadline (the first call of a shape may be slow on a loaded machine), derandomized so that CI
runs the same examples every time; CTRNN_FUZZ_RANDOM=1 draws new ones (a local search).
"""
import math
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")  # tests/python/requirements.txt installs it
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ctrnn  # noqa: E402

FUZZ = settings(max_examples=int(os.environ.get("CTRNN_FUZZ_EXAMPLES", "60")), deadline=None, database=None,
                derandomize=os.environ.get("CTRNN_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

I, H, O = 2, 5, 3
DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_, np.complex64, np.complex128]
ACTIVATIONS = ["relu", "tanh", "sigmoid", "retanh"]


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def frameworks():
    out = ["numpy"]
    torch = _torch()
    if torch is not None:
        out.append("torch")
        if torch.cuda.is_available() and ctrnn.cuda_available():
            out.append("torch-cuda")
    return out


def model_for(activation, ensemble, device="cpu"):
    return ctrnn.CTRNN(dims=[I, H, O], activation=activation, biases="uniform", ensemble_size=ensemble, seed=3,
                       device=device).eval()


def reference_forward(model, u):
    """The forward pass in float64 numpy, eval mode, init_state zero: y (E, T, B, O)."""
    p = {k: v.astype(np.float64) for k, v in model.parameters().items()}
    f = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
         "retanh": lambda v: np.maximum(np.tanh(v), 0)}[model.activation]
    E = model.ensemble_size
    u = np.broadcast_to(u.astype(np.float64), (E,) + u.shape[-3:])
    T, B = u.shape[1], u.shape[2]
    y = np.zeros((E, T, B, O))
    for e in range(E):
        v = np.zeros((B, H))
        r = f(v)
        for t in range(T):
            a = r @ p["w_hid"][e] + p["b_hid"][e] + u[e, t] @ p["w_in"][e] + p["b_in"][e]
            v = (1 - model.alpha) * v + model.alpha * a
            r = f(v)
            y[e, t] = r @ p["w_out"][e] + p["b_out"][e]
    return y


def assert_refused_cleanly(excinfo, names):
    """One line, the ctrnn prefix, the argument named."""
    msg = str(excinfo.value)
    assert isinstance(excinfo.value, (TypeError, ValueError)), repr(excinfo.value)
    assert "\n" not in msg, msg
    assert msg.startswith("ctrnn: "), msg
    assert any(n in msg for n in names), f"{msg!r} names none of {names}"


@st.composite
def arrays(draw, ndim_range=(0, 5), size_range=(0, 4)):
    """A numpy array of a random dtype and shape, possibly a strided, transposed, broadcast or
    read-only view, with values that may be NaN or Inf."""
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=ndim_range[0], max_dims=ndim_range[1], min_side=size_range[0],
                                  max_side=size_range[1]))
    return draw(views(dtype, shape))


@st.composite
def near_valid(draw, shapes, ndim_range=(0, 5), size_range=(0, 4)):
    """Half the time a float32 array of one of the valid `shapes` (finite values, then possibly made
    a strided, transposed, broadcast, read-only or Fortran view: what a user passes by mistake);
    else any array."""
    if draw(st.booleans()):
        return draw(views(np.float32, draw(st.sampled_from(shapes)), finite=draw(st.integers(0, 4)) > 0))
    return draw(arrays(ndim_range, size_range))


@st.composite
def views(draw, dtype, shape, finite=False):
    values = None
    if np.dtype(dtype).kind in "fc":
        values = st.floats(-3, 3, width=32)
        if not finite:
            values = values | st.sampled_from([0.0, np.nan, np.inf])
    base = draw(hnp.arrays(dtype, shape, elements=values))
    kind = draw(st.sampled_from(["plain", "plain", "plain", "strided", "transposed", "broadcast", "readonly", "fortran"]))
    if kind == "strided" and base.ndim:
        wide = np.repeat(base, 2, axis=-1)
        base = wide[..., ::2]  # every other element of the last axis: same shape, not dense
    elif kind == "transposed" and base.ndim >= 2:
        base = np.ascontiguousarray(np.swapaxes(base, -1, -2)).swapaxes(-1, -2)
    elif kind == "broadcast" and base.ndim:
        base = np.broadcast_to(base[..., :1], base.shape) if base.shape[-1] else base
    elif kind == "readonly":
        base = base.copy()
        base.flags.writeable = False
    elif kind == "fortran":
        base = np.asfortranarray(base)
    return base


def to_framework(x, framework):
    """x as an array of `framework`, with the same dtype, shape and strides where it can."""
    if framework == "numpy":
        return x
    torch = _torch()
    t = torch.from_numpy(x if x.flags.writeable else np.array(x))  # torch warns on read-only memory
    return t.cuda() if framework == "torch-cuda" else t


def as_numpy(x):
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def is_valid_data(x, shapes):
    """What the documented checks accept: float32, C-contiguous, a shape in `shapes`, finite."""
    a = as_numpy(x)
    contiguous = x.is_contiguous() if hasattr(x, "is_contiguous") else a.flags.c_contiguous
    return (a.dtype == np.float32 and contiguous and tuple(a.shape) in shapes and a.size > 0
            and bool(np.all(np.isfinite(a))))


@FUZZ
@given(activation=st.sampled_from(ACTIVATIONS), ensemble=st.sampled_from([1, 2]), data=st.data(),
       framework=st.sampled_from(frameworks()), with_out=st.booleans(), out_kind=st.integers(0, 5))
def test_forward(activation, ensemble, data, framework, with_out, out_kind):
    T, B = data.draw(st.integers(1, 4), label="T"), data.draw(st.integers(1, 3), label="B")
    u = data.draw(near_valid([(T, B, I), (ensemble, T, B, I)]), label="u")
    model = model_for(activation, ensemble, "cuda" if framework == "torch-cuda" else "cpu")
    before = model.parameters()
    x = to_framework(u, framework)
    with_out = with_out and framework != "torch-cuda"
    valid_u = is_valid_data(x, {(T, B, I), (ensemble, T, B, I)})
    out = None
    valid_out = True
    if with_out:
        y = np.zeros((ensemble, T, B, O), np.float32)
        r = np.zeros((ensemble, T, B, H), np.float32)
        if out_kind == 1:
            y.flags.writeable = False
            valid_out = False
        elif out_kind == 2:
            y = y.astype(np.float64)
            valid_out = False
        elif out_kind == 3:
            r = np.zeros((ensemble, T, B, H + 1), np.float32)
            valid_out = False
        elif out_kind == 4:
            r = np.zeros((ensemble, T, B, 2 * H), np.float32)[..., ::2]
            valid_out = False
        out = (y, r)
    event("forward works" if valid_u and valid_out else "forward refused")
    if valid_u and valid_out:
        y, [r] = model(x, out=out)
        expected = reference_forward(model, as_numpy(x))
        got = as_numpy(y).reshape(expected.shape)
        # float32 against float64, a few steps of H = 5: rounding ~1e-6 of the scale.
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        assert as_numpy(r).shape[-1] == H
    else:
        with pytest.raises((TypeError, ValueError)) as excinfo:
            model(x, out=out)
        assert_refused_cleanly(excinfo, ["invalid u", "invalid inputs", "invalid y", "invalid r", "invalid out"])
    after = model.parameters()
    assert all(np.array_equal(before[k], after[k]) for k in before)


@FUZZ
@given(data=st.data(), evaluate=st.booleans(), framework=st.sampled_from(["numpy"] + frameworks()[1:2]))
def test_trainer_calls(data, evaluate, framework):
    T, B = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    finite = st.floats(-1, 1, width=32)
    good = {"u": hnp.arrays(np.float32, (T, B, I), elements=finite),
            "target": hnp.arrays(np.float32, (T, B, O), elements=finite),
            "mask": st.none() | hnp.arrays(np.float32, st.sampled_from([(T, B), (T, B, O)]), elements=st.floats(0, 1, width=32))}
    bad = {"u": arrays(ndim_range=(2, 4), size_range=(0, 3)), "target": arrays(ndim_range=(2, 4), size_range=(0, 3)),
           "mask": arrays(ndim_range=(1, 3), size_range=(0, 3))}
    arrays_ = {k: data.draw(good[k] if data.draw(st.integers(0, 3)) else bad[k], label=k) for k in good}
    u, target, mask = arrays_["u"], arrays_["target"], arrays_["mask"]
    model = model_for("tanh", 1)
    reference = reference_forward(model_for("tanh", 1), u) if u.shape == (T, B, I) and u.dtype == np.float32 else None
    trainer = ctrnn.Trainer(model, lr=1e-2)
    before = model.parameters()
    args = [to_framework(a, framework) for a in (u, target)] + [None if mask is None else to_framework(mask, framework)]
    shape_u = tuple(u.shape[:2]) if u.ndim == 3 else (T, B)
    ok = (is_valid_data(args[0], {(T, B, I)}) and is_valid_data(args[1], {shape_u + (O,)})
          and (mask is None or (is_valid_data(args[2], {shape_u, shape_u + (O,)}) and float(np.sum(mask)) > 0
                                and bool(np.all(mask >= 0)))))
    call = trainer.evaluate if evaluate else trainer.step
    event("trainer call works" if ok else "trainer call refused")
    if ok:
        report = call(*args)
        assert np.isfinite(report["total"])
        if mask is None:  # the MSE of the forward before the update: mean over (T, B, O)
            expected = np.mean((reference[0] - target.astype(np.float64)) ** 2)
            np.testing.assert_allclose(report["mse"], expected, rtol=1e-4, atol=1e-6)
        assert trainer.steps_done == (0 if evaluate else 1)
    else:
        with pytest.raises((TypeError, ValueError)) as excinfo:
            call(*args)
        assert_refused_cleanly(excinfo, ["invalid u", "invalid inputs", "invalid target", "invalid mask"])
        after = model.parameters()
        assert all(np.array_equal(before[k], after[k]) for k in before)
        assert trainer.steps_done == 0


@FUZZ
@given(dy=near_valid([(1, 4, 3, O)], ndim_range=(2, 5)), framework=st.sampled_from(frameworks()))
def test_backward(dy, framework):
    model = model_for("relu", 1)
    u = np.linspace(-1, 1, 4 * 3 * I, dtype=np.float32).reshape(4, 3, I)
    model(u)
    x = to_framework(dy, framework)
    event("backward works" if is_valid_data(x, {(1, 4, 3, O)}) else "backward refused")
    if is_valid_data(x, {(1, 4, 3, O)}):
        grads = model.backward(x)
        assert set(grads) == {"w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out", "h0", "alpha"}
        assert all(np.all(np.isfinite(as_numpy(g))) for g in grads.values())
    else:
        with pytest.raises((TypeError, ValueError)) as excinfo:
            model.backward(x)
        assert_refused_cleanly(excinfo, ["invalid dy", "invalid dr"])


@FUZZ
@given(layer=st.sampled_from([0, 1, 2, "input", "hidden", "readout", 3, -1, 1.0, "x", None, True]),
       data=st.data(), bias=st.booleans())
def test_parameter_writes(layer, data, bias):
    model = model_for("relu", 1)
    before = model.parameters()
    names = {0: "input", 1: "hidden", 2: "readout"}
    index = {"input": 0, "hidden": 1, "readout": 2}.get(layer, layer)
    good_layer = type(layer) is int and 0 <= layer <= 2 or isinstance(layer, str) and layer in names.values()
    pre, post = [(I, H), (H, H), (H, O)][index] if good_layer else (H, H)
    shapes = [(post,), (1, post)] if bias else [(pre, post), (1, pre, post)]
    value = data.draw(near_valid(shapes + [(post + 1,), (pre, post, 1)], ndim_range=(0, 4), size_range=(0, 6)),
                      label="value")
    write = model.set_bias if bias else model.set_weight
    valid = good_layer and is_valid_data(value, set(shapes))
    event("write works" if valid else "write refused")
    if valid:
        write(layer, value)
        key = ("b_" if bias else "w_") + ["in", "hid", "out"][index]
        np.testing.assert_array_equal(model.parameters()[key].reshape(-1), value.reshape(-1))
    else:
        with pytest.raises((TypeError, ValueError)) as excinfo:
            write(layer, value)
        assert_refused_cleanly(excinfo, ["invalid layer", "invalid weight", "invalid bias"])
        after = model.parameters()
        assert all(np.array_equal(before[k], after[k]) for k in before)


@FUZZ
@given(config_array=near_valid([(H, H), (H,)], ndim_range=(0, 3), size_range=(0, 6)),
       key=st.sampled_from(["weights", "biases", "sparsity_masks", "ei_masks", "plasticity_masks"]),
       scalar=st.sampled_from([None, 1 + 2j, np.complex64(1), "relu", [1, 2], -1, 0, 1e309, float("nan"), 2**70]))
def test_constructor_arrays_and_scalars(config_array, key, scalar):
    """A config array of any dtype and shape, or a scalar argument of any kind: a model, or a
    clean refusal naming the argument (never a complex value cast to its real part)."""
    fill = "uniform" if key == "weights" else None
    kwargs = {"dims": [I, H, O], "device": "cpu", key: [fill, config_array, fill]}
    if scalar is not None:
        kwargs["tau"] = scalar
    try:
        ctrnn.CTRNN(**kwargs)
        event("model made")
    except (TypeError, ValueError) as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("ctrnn: invalid "), msg
        assert key in msg or "tau" in msg or "alpha" in msg, msg
    else:
        assert config_array.dtype.kind not in "c", "a complex array was accepted"
        assert scalar is None or (isinstance(scalar, (int, float)) and math.isfinite(scalar) and scalar > 0), \
            f"tau={scalar!r} accepted"
