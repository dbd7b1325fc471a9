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


@pytest.mark.parametrize("ensemble_size", [1, 2])
def test_the_core_takes_arrays_in_torch_layout(ensemble_size):
    """torch_layout=True (ctrnn.torch's hand-over): weights and their gradients as torch's
    (post, pre), and for one network every array without the ensemble axis, give the results of
    the engine's own layout; the arrays are given as they are, strided or not."""
    def build():
        return ctrnn.CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn",
                           ensemble_size=ensemble_size, seed=5, device="cpu")._net
    a, b = build(), build()
    names = list(a.param_shapes())
    engine = [0.5 * a.params()[n] for n in names[:7]] + [None]  # alpha is not learned here
    one = ensemble_size == 1

    def torch_layout(k, v):  # engine (E, pre, post) / (E, n) -> torch's (post, pre) / (n), E only for E > 1
        v = np.swapaxes(v, -1, -2) if k < 3 else v
        return v[0] if one else v

    a.set_params([None if v is None else torch_layout(k, v) for k, v in enumerate(engine)], 0, True)
    b.set_params(engine)
    for n in names:
        np.testing.assert_array_equal(a.params()[n], b.params()[n])
    u = inputs(9)
    lead = () if one else (ensemble_size,)
    y_a, r_a = np.full(lead + (T, B, O), np.nan, np.float32), np.full(lead + (T, B, H), np.nan, np.float32)
    y_b, r_b = np.full((ensemble_size, T, B, O), np.nan, np.float32), np.full((ensemble_size, T, B, H), np.nan, np.float32)
    a.forward(u, y_a, r_a, 0, True)
    b.forward(u, y_b, r_b)
    np.testing.assert_array_equal(y_a, y_b[0] if one else y_b)
    np.testing.assert_array_equal(r_a, r_b[0] if one else r_b)
    dy, dr = inputs(10, (ensemble_size, T, B, O)), inputs(11, (ensemble_size, T, B, H))
    shapes = list(a.param_shapes().values())
    grads_a = [None if k == 7 else torch_layout(k, np.full(s, np.nan, np.float32)) for k, s in enumerate(shapes)]
    grads_b = [None if k == 7 else np.full(s, np.nan, np.float32) for k, s in enumerate(shapes)]
    a.backward(dy[0] if one else dy, dr[0] if one else dr, grads_a, 0, None, True)
    b.backward(dy, dr, grads_b)
    for k in range(7):
        np.testing.assert_array_equal(grads_a[k], torch_layout(k, grads_b[k]))


def test_the_core_refuses_a_weight_of_the_wrong_layout_naming_it():
    """torch_layout=True with a weight (or a gradient) in the engine's layout (pre, post): refused,
    naming it and the shape expected in torch's layout, before anything changes."""
    net = make_model()._net
    w_in = net.params()["w_in"]  # (E, I, H): torch's layout would be (E, H, I)
    before = net.params()["w_in"].copy()
    with pytest.raises(ctrnn.InvalidArgument, match=r"parameter w_in: expected shape \[2, 8, 3\] \(torch's \(post, "
                                                     r"pre\) layout\), got \[2, 3, 8\]"):
        net.set_params([w_in] + [None] * 7, 0, True)
    net.forward(inputs(12), np.empty((E, T, B, O), np.float32), np.empty((E, T, B, H), np.float32))
    with pytest.raises(ctrnn.InvalidArgument, match=r"gradient w_out: expected shape \[2, 2, 8\]"):
        net.backward(np.zeros((E, T, B, O), np.float32), None, [None, None, np.empty((E, H, O), np.float32)] + [None] * 5,
                     0, None, True)
    np.testing.assert_array_equal(net.params()["w_in"], before)
