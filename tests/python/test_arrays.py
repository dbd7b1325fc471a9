"""Arrays pass to the engine in place (DLPack views): outputs written into the caller's arrays,
results identical to the engine's own, and bad arrays refused naming the argument before anything
changes. CPU only (the CUDA counterparts are in test_gpu.py)."""
import numpy as np
import pytest

import ctrnn

E, T, B, I, H, O = 2, 7, 3, 3, 8, 2


def make_model():
    return ctrnn.CTRNN(dims=[I, H, O], activation="tanh", preact_noise=0.1, ensemble_size=E, seed=4, device="cpu")


def inputs(seed=0, shape=(T, B, I)):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_outputs_are_written_into_the_callers_arrays():
    model, twin = make_model(), make_model()
    u = inputs()
    y_out = np.full((E, T, B, O), np.nan, np.float32)
    r_out = np.full((E, T, B, H), np.nan, np.float32)
    y, [r] = model(u, out=(y_out, r_out))
    assert y is y_out and r is r_out  # the very arrays given, filled in place
    y_new, [r_new] = twin(u)  # the same network and noise, into arrays it allocates
    np.testing.assert_array_equal(y_out, y_new)
    np.testing.assert_array_equal(r_out, r_new)


def test_single_network_outputs_are_views_of_the_out_arrays():
    model = ctrnn.CTRNN(dims=[I, H, O], seed=2, device="cpu").eval()
    u = inputs(1)
    y_out, r_out = np.empty((1, T, B, O), np.float32), np.empty((1, T, B, H), np.float32)
    y, [r] = model(u, out=(y_out, r_out))
    assert y.shape == (T, B, O) and np.shares_memory(y, y_out) and np.shares_memory(r, r_out)
    np.testing.assert_array_equal(y, model(u)[0])


def test_read_only_and_offset_inputs_are_read_in_place():
    """A read-only array and a C-contiguous slice that starts inside a larger buffer are accepted
    as they are (no conversion needed) and give the results of a fresh copy."""
    model = make_model().eval()
    big = inputs(2, (T + 1, B, I))
    part = big[1:]
    assert part.flags.c_contiguous and not part.flags.owndata
    frozen = part.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(model(part)[0], model(frozen)[0])
    np.testing.assert_array_equal(model(part)[0], model(np.array(part))[0])


def test_backward_and_training_equal_a_fresh_copy():
    a, b = make_model(), make_model()
    u, dy = inputs(3), inputs(4, (E, T, B, O))
    a(u), b(u.copy())
    ga, gb = a.backward(dy), b.backward(dy.copy())
    assert set(ga) == {"w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out", "h0", "alpha"}
    for k in ga:
        assert isinstance(ga[k], np.ndarray) and ga[k].dtype == np.float32
        np.testing.assert_array_equal(ga[k], gb[k])
    target = inputs(5, (T, B, O))
    ra = ctrnn.Trainer(a).step(u, target)
    rb = ctrnn.Trainer(b).step(u.copy(), target.copy())
    np.testing.assert_array_equal(ra["total"], rb["total"])


@pytest.mark.parametrize("which, bad, error, match", [
    ("y", np.empty((E, T, B, O + 1), np.float32), ctrnn.InvalidArgument, "y: expected shape"),
    ("r", np.empty((E, T, B, H), np.float64), TypeError, "r: expected dtype float32"),
    ("y", np.empty((E, T, O, B), np.float32).transpose(0, 1, 3, 2), ValueError, "y: expected a C-contiguous"),
    ("r", [[0.0]], TypeError, "r: expected an array to write into"),
])
def test_bad_out_arrays_are_refused_and_change_nothing(which, bad, error, match):
    model = make_model()
    calls = model._net.forward_calls
    good = {"y": np.empty((E, T, B, O), np.float32), "r": np.empty((E, T, B, H), np.float32)}
    good[which] = bad
    with pytest.raises(error, match=match):
        model(inputs(), out=(good["y"], good["r"]))
    assert model._net.forward_calls == calls  # the noise stream did not move: nothing ran
    with pytest.raises(TypeError, match="out"):
        model(inputs(), out=good["y"])


def test_torch_cpu_tensors_in_and_out_in_place():
    torch = pytest.importorskip("torch")
    model, twin = make_model(), make_model()
    u = inputs(6)
    y_out = torch.full((E, T, B, O), float("nan"))
    r_out = torch.full((E, T, B, H), float("nan"))
    pointer = y_out.data_ptr()
    y, [r] = model(torch.from_numpy(u), out=(y_out, r_out))
    assert y is y_out and y.data_ptr() == pointer
    y_np, [r_np] = twin(u)
    np.testing.assert_array_equal(y.numpy(), y_np)
    np.testing.assert_array_equal(r.numpy(), r_np)
    y2, [r2] = model(torch.from_numpy(u))  # allocated by torch, on u's device
    assert isinstance(y2, torch.Tensor) and y2.device == torch.device("cpu")
    grads = model.backward(torch.ones(E, T, B, O))
    assert all(isinstance(g, torch.Tensor) for g in grads.values())


def strided(a):
    """a's values in an array of other strides: a transposed view of a copy with its last two axes
    swapped."""
    return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)


def test_the_core_reads_and_writes_host_arrays_of_any_strides():
    """_core's set_params, forward and backward take strided host arrays (copied densely in the
    binding; ctrnn.torch hands over transposed weights and gradients so), with the results of
    dense ones."""
    a, b = make_model()._net, make_model()._net
    names = list(a.param_shapes())
    weights = [0.5 * a.params()[n] for n in names[:3]]  # the three weights (E, pre, post)
    rest = [None] * (len(names) - 3)
    a.set_params([strided(w) for w in weights] + rest)
    b.set_params(weights + rest)
    for n in names[:3]:
        np.testing.assert_array_equal(a.params()[n], b.params()[n])
    u = inputs(7)
    outs = {}
    for net, wrap in ((a, strided), (b, np.ascontiguousarray)):
        y, r = wrap(np.full((E, T, B, O), np.nan, np.float32)), wrap(np.full((E, T, B, H), np.nan, np.float32))
        net.forward(wrap(u), y, r)
        dy, du = wrap(inputs(8, (E, T, B, O))), wrap(np.full((T, B, I), np.nan, np.float32))
        grads = [wrap(np.full(s, np.nan, np.float32)) for s in a.param_shapes().values()]
        net.backward(dy, None, grads, 0, du)
        outs[net] = (y, r, du, *grads)
    assert not outs[a][0].flags.c_contiguous and not outs[a][3].flags.c_contiguous
    for got, want in zip(outs[a], outs[b]):
        np.testing.assert_array_equal(got, want)
