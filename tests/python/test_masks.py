"""ctrnn.mask: nn4n's connectivity builders. Equal to nn4n 1.1.1's masks (its wheel in bench/) where
they are deterministic, the same statistics where random; nn4n 1.2.0's MultiIO (not on PyPI) checked
against its definition; bad arguments; the masks constrain and train a ctrnn.CTRNN."""
import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

import ctrnn
from ctrnn.mask import MultiArea, MultiAreaEI, MultiIO, RandomInput

NN4N_WHEEL = Path(__file__).resolve().parents[2] / "bench" / "nn4n-1.1.1-py3-none-any.whl"


@pytest.fixture(scope="module")
def nn4n_mask():
    """nn4n 1.1.1's nn4n.mask: the installed nn4n, else the wheel in bench/ (pure Python; nn4n imports torch)."""
    pytest.importorskip("torch")
    try:
        importlib.import_module("nn4n")
    except ImportError:
        sys.path.insert(0, str(NN4N_WHEEL))
    module = importlib.import_module("nn4n.mask")
    assert importlib.import_module("nn4n").__name__ == "nn4n"
    return module


def nn4n_masks(nn4n_mask, name, seed=0, **kwargs):
    np.random.seed(seed)  # nn4n draws from numpy's global generator
    return getattr(nn4n_mask, name)(**kwargs).get_masks()


def assert_masks_equal(ours, theirs):
    for layer, a, b in zip(("input", "hidden", "readout"), ours, theirs):
        assert a.shape == b.shape, layer
        np.testing.assert_array_equal(a, b, err_msg=layer)


# --- equal to nn4n where nn4n's masks are deterministic (densities 0 or 1) -----------------------

DETERMINISTIC = [
    ("MultiArea", dict(dims=[2, 12, 3], n_areas=[3, 5, 4],
                       area_connectivities=np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], dtype=float),
                       input_areas=[0, 2], readout_areas=[1])),
    ("MultiArea", dict(dims=[3, 20, 2], n_areas=4, area_connectivities=[1.0, 0.0], input_areas=[1], readout_areas=[3])),
    ("MultiArea", dict(dims=[1, 9, 1], n_areas=1, area_connectivities=[0.0, 0.0, 1.0], input_areas=[0])),
    ("MultiArea", dict(dims=[2, 10, 2], n_areas=2, area_connectivities=[0.0, 1.0, 0.0])),
    ("MultiAreaEI", dict(dims=[2, 30, 2], n_areas=3, area_connectivities=[1.0, 1.0], exc_pct=0.8)),
    ("MultiAreaEI", dict(dims=[1, 24, 3], n_areas=[8, 16], area_connectivities=[1.0, 1.0, 1.0], exc_pct=0.75,
                         inter_area_connections=[False, True, False, True], inh_readout=False, readout_areas=[1])),
    ("MultiAreaEI", dict(dims=[2, 20, 1], n_areas=2, area_connectivities=[1.0, 0.0], exc_pct=0.5,
                         inter_area_connections=[True, False, True, False])),
    ("MultiAreaEI", dict(dims=[2, 20, 2], n_areas=4, area_connectivities=[1.0, 1.0], exc_pct=0.6,
                         inter_area_connections=[False, False, False, False])),
    ("RandomInput", dict(dims=[3, 16, 2], input_spar=1.0, readout_spar=1.0, hidden_spar=1.0)),
    ("RandomInput", dict(dims=[2, 10, 4], input_spar=1.0, readout_spar=0.0, hidden_spar=0.0, overlap=False)),
]


@pytest.mark.parametrize("name,kwargs", DETERMINISTIC, ids=[f"{n}-{k}" for k, (n, _) in enumerate(DETERMINISTIC)])
def test_equals_nn4n_where_deterministic(nn4n_mask, name, kwargs):
    ours = getattr(ctrnn.mask, name)(**kwargs, seed=1).get_masks()
    assert_masks_equal(ours, nn4n_masks(nn4n_mask, name, **kwargs))


def test_indices_and_areas_equal_nn4n(nn4n_mask):
    kwargs = dict(dims=[2, 30, 2], n_areas=[5, 10, 15], area_connectivities=[0.2, 0.1], input_areas=[0],
                  readout_areas=[1, 2])
    ours = MultiArea(**kwargs)
    theirs = nn4n_mask.MultiArea(**kwargs)
    for method in ("get_input_idx", "get_non_input_idx", "get_readout_idx"):
        np.testing.assert_array_equal(getattr(ours, method)(), getattr(theirs, method)(), err_msg=method)
    assert ours.get_areas() == theirs.get_areas()
    for area in (0, 2, "area_2"):
        np.testing.assert_array_equal(ours.get_area_idx(area), theirs.get_area_idx(area))


# --- the same statistics where nn4n's masks are random -----------------------------------------

def block_density(mask, rows, cols):
    return np.count_nonzero(mask[np.ix_(rows, cols)]) / (len(rows) * len(cols))


def assert_density(found, p, n, name):
    """Within 5 standard deviations of a Binomial(n, p) share (a fixed seed: no flakiness)."""
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(found - p) <= 5 * sigma + 1e-12, f"{name}: density {found:.4f}, expected {p} +- {5 * sigma:.4f}"


def test_multi_area_block_densities_match_nn4n(nn4n_mask):
    sizes = [100, 200, 150]
    c = np.array([[0.6, 0.05, 0.0], [0.2, 0.5, 0.1], [0.3, 0.25, 0.9]])
    kwargs = dict(dims=[2, 450, 2], n_areas=sizes, area_connectivities=c, input_areas=[0], readout_areas=[2])
    ours = MultiArea(**kwargs, seed=3).get_masks()
    theirs = nn4n_masks(nn4n_mask, "MultiArea", **kwargs)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[2], theirs[2])
    starts = np.cumsum([0] + sizes)
    area = [np.arange(starts[a], starts[a + 1]) for a in range(3)]
    for target in range(3):
        for source in range(3):
            p, n = c[target, source], sizes[source] * sizes[target]  # [i, j]: from area j onto area i
            for label, hidden in (("ours", ours[1]), ("nn4n", theirs[1])):
                assert_density(block_density(hidden, area[source], area[target]), p, n,
                               f"{label} area {source} -> {target}")


def test_multi_area_ei_fractions_and_signs_match_nn4n(nn4n_mask):
    kwargs = dict(dims=[3, 200, 2], n_areas=[80, 120], area_connectivities=[0.3, 0.2, 0.5], exc_pct=0.7,
                  inter_area_connections=[True, False, True, False])
    model = MultiAreaEI(**kwargs, seed=5)
    ours, theirs = model.get_masks(), nn4n_masks(nn4n_mask, "MultiAreaEI", **kwargs)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[2], theirs[2])  # readout: deterministic, signed
    # Each source neuron's row has one sign, the same neurons excitatory as in nn4n: 70% of each area.
    for label, hidden in (("ours", ours[1]), ("nn4n", theirs[1])):
        positive, negative = (hidden > 0).any(axis=1), (hidden < 0).any(axis=1)
        assert not (positive & negative).any(), label
        np.testing.assert_array_equal(positive, model.excitatory, err_msg=label)
    assert model.excitatory[:80].sum() == 56 and model.excitatory[80:].sum() == 84
    e80, i80 = np.arange(56), np.arange(56, 80)
    e120, i120 = np.arange(80, 164), np.arange(164, 200)
    for label, hidden in (("ours", ours[1]), ("nn4n", theirs[1])):
        assert not hidden[np.ix_(e80, i120)].any() and not hidden[np.ix_(e120, i80)].any(), f"{label}: exc->inh"
        assert not hidden[np.ix_(i80, i120)].any() and not hidden[np.ix_(i120, i80)].any(), f"{label}: inh->inh"
        assert_density(block_density(hidden, e80, e120), 0.3, 56 * 84, f"{label} forward exc->exc")
        assert_density(block_density(hidden, i120, e80), 0.2, 36 * 56, f"{label} backward inh->exc")
        assert_density(block_density(hidden, i80, e80), 0.5, 24 * 56, f"{label} within inh->exc")


def test_random_input_counts_and_density_match_nn4n(nn4n_mask):
    kwargs = dict(dims=[2, 300, 3], input_spar=0.3, readout_spar=0.45, hidden_spar=0.2, overlap=False)
    ours = RandomInput(**kwargs, seed=2)
    np.random.seed(2)
    theirs = nn4n_mask.RandomInput(**kwargs)
    for label, m in (("ours", ours), ("nn4n", theirs)):
        i, h, r = m.get_masks()
        inputs, readouts = np.flatnonzero(i.any(axis=0)), np.flatnonzero(r.any(axis=1))
        assert len(inputs) == 90 and len(readouts) == 135, label
        assert not np.intersect1d(inputs, readouts).size, f"{label}: overlap=False"
        assert i[:, inputs].all() and r[readouts].all(), label
        assert_density(np.count_nonzero(h) / h.size, 0.2, h.size, f"{label} hidden")
    np.testing.assert_array_equal(ours.get_area_idx("area_readout"), ours.get_readout_idx())


def test_multi_area_ei_exc_count_is_the_exact_floor():
    # 0.29 * 100 is 28.999999999999996 in floats: nn4n's int() makes 28 neurons excitatory; 29 here.
    m = MultiAreaEI(dims=[1, 100, 1], n_areas=1, exc_pct=0.29, seed=0)
    assert m.excitatory.sum() == 29


# --- nn4n 1.2.0's MultiIO, by its definition ----------------------------------------------------

def test_multi_io_routes_groups():
    # nn4n's documented example: 20 inputs in groups of 5 and 15, 10 outputs in groups of 5 and 5.
    input_table = np.ones((2, 200))
    readout_table = np.ones((2, 200))
    input_table[0, 0:100] = 0
    input_table[1, 100:150] = 0
    readout_table[0, 100:200] = 0
    m = MultiIO(dims=[20, 200, 10], input_dims=[5, 15], readout_dims=[5, 5], input_table=input_table,
                readout_table=readout_table)
    w_in, w_hid, w_out = m.get_masks()
    assert w_in.shape == (20, 200) and w_hid.shape == (200, 200) and w_out.shape == (200, 10)
    for k in range(20):  # input k's row: its group's table row
        np.testing.assert_array_equal(w_in[k], input_table[0 if k < 5 else 1])
    for k in range(10):  # output k's column: its group's table row
        np.testing.assert_array_equal(w_out[:, k], readout_table[0 if k < 5 else 1])
    assert w_hid.all()
    np.testing.assert_array_equal(m.get_input_idx(), np.arange(200))  # every neuron gets some group
    np.testing.assert_array_equal(m.get_non_input_idx(), [])
    np.testing.assert_array_equal(m.get_readout_idx(), np.arange(200))


def test_multi_io_defaults_connect_everything():
    m = MultiIO(dims=[3, 7, 2])
    assert all(mask.all() for mask in m.get_masks())
    assert m.input_dims == [3] and m.readout_dims == [2]


# --- seeds -------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda seed: MultiArea(dims=[1, 40, 1], area_connectivities=[0.3, 0.2, 0.5], seed=seed),
    lambda seed: MultiAreaEI(dims=[1, 40, 1], area_connectivities=[0.3, 0.2, 0.5], seed=seed),
    lambda seed: RandomInput(dims=[1, 40, 1], input_spar=0.5, readout_spar=0.5, hidden_spar=0.3, seed=seed),
])
def test_seeds(build):
    same = [build(7).get_masks(), build(7).get_masks(), build(np.random.default_rng(7)).get_masks()]
    for other in same[1:]:
        assert_masks_equal(other, same[0])
    assert any((a != b).any() for a, b in zip(build(8).get_masks(), same[0]))
    np.random.seed(11)  # seed=None: numpy's global generator, as nn4n
    first = build(None).get_masks()
    np.random.seed(11)
    assert_masks_equal(build(None).get_masks(), first)


def test_nn4n_deprecated_dims_names():
    with pytest.warns(UserWarning, match="deprecated"):
        m = MultiArea(hidden_size=60, input_dim=2, output_dim=3, n_areas=3)
    assert m.dims == [2, 60, 3]
    with pytest.raises(ValueError, match="hidden_size"):
        MultiArea(dims=[1, 60, 1], hidden_size=60)


# --- bad arguments: a clear error naming the argument ------------------------------------------

BAD = [
    (MultiArea, dict(dims=[1, 10]), ValueError, r"dims"),
    (MultiArea, dict(dims=[1, 0, 1]), ValueError, r"dims\[1\]"),
    (MultiArea, dict(dims=[1, 10.5, 1]), TypeError, r"dims\[1\]"),
    (MultiArea, dict(dims="abc"), ValueError, r"dims"),
    (MultiArea, dict(dims=[1, 10, 1], n_areas=3), ValueError, r"n_areas.*divisor"),
    (MultiArea, dict(dims=[1, 10, 1], n_areas=[4, 5]), ValueError, r"n_areas"),
    (MultiArea, dict(dims=[1, 10, 1], n_areas=[4, 0, 6]), ValueError, r"n_areas\[1\]"),
    (MultiArea, dict(dims=[1, 10, 1], n_areas=0), ValueError, r"n_areas"),
    (MultiArea, dict(dims=[1, 10, 1], n_areas="two"), TypeError, r"n_areas"),
    (MultiArea, dict(dims=[1, 10, 1], area_connectivities=[0.1]), ValueError, r"area_connectivities"),
    (MultiArea, dict(dims=[1, 10, 1], area_connectivities=[0.1, 1.5]), ValueError, r"area_connectivities.*\[0, 1\]"),
    (MultiArea, dict(dims=[1, 10, 1], area_connectivities=[0.1, float("nan")]), ValueError, r"area_connectivities"),
    (MultiArea, dict(dims=[1, 10, 1], area_connectivities=np.ones((3, 3))), ValueError, r"area_connectivities.*\(2, 2\)"),
    (MultiArea, dict(dims=[1, 10, 1], area_connectivities="dense"), TypeError, r"area_connectivities"),
    (MultiArea, dict(dims=[1, 10, 1], input_areas=[2]), ValueError, r"input_areas\[0\]"),
    (MultiArea, dict(dims=[1, 10, 1], readout_areas=[0, -1]), ValueError, r"readout_areas\[1\]"),
    (MultiArea, dict(dims=[1, 10, 1], readout_areas=1), TypeError, r"readout_areas"),
    (MultiArea, dict(dims=[1, 10, 1], seed=-1), ValueError, r"seed"),
    (MultiArea, dict(dims=[1, 10, 1], seed="abc"), TypeError, r"seed"),
    (MultiArea, dict(dims=[1, 10, 1], n_area=2), TypeError, r"n_area"),
    (MultiAreaEI, dict(dims=[1, 10, 1], exc_pct=1.2), ValueError, r"exc_pct"),
    (MultiAreaEI, dict(dims=[1, 10, 1], exc_pct="most"), TypeError, r"exc_pct"),
    (MultiAreaEI, dict(dims=[1, 10, 1], inter_area_connections=[True, False]), ValueError, r"inter_area_connections"),
    (MultiAreaEI, dict(dims=[1, 10, 1], inter_area_connections=[1, 1, 1, 1]), TypeError, r"inter_area_connections\[0\]"),
    (MultiAreaEI, dict(dims=[1, 10, 1], inh_readout="no"), TypeError, r"inh_readout"),
    (MultiAreaEI, dict(dims=[1, 10, 1], ext_pct=0.8), TypeError, r"ext_pct"),
    (RandomInput, dict(dims=[1, 10, 1], input_spar=-0.1), ValueError, r"input_spar"),
    (RandomInput, dict(dims=[1, 10, 1], readout_spar=2), ValueError, r"readout_spar"),
    (RandomInput, dict(dims=[1, 10, 1], hidden_spar=1.5), ValueError, r"hidden_spar"),
    (RandomInput, dict(dims=[1, 10, 1], hidden_spar=None), TypeError, r"hidden_spar"),
    (RandomInput, dict(dims=[1, 10, 1], input_spar=0.6, readout_spar=0.5, overlap=False), ValueError, r"readout_spar.*overlap"),
    (RandomInput, dict(dims=[1, 10, 1], overlap="yes"), TypeError, r"overlap"),
    (MultiIO, dict(dims=[3, 10, 2], input_dims=[1, 1]), ValueError, r"input_dims.*dims\[0\] 3"),
    (MultiIO, dict(dims=[3, 10, 2], readout_dims=[3]), ValueError, r"readout_dims"),
    (MultiIO, dict(dims=[3, 10, 2], input_dims=[1, 2.0]), TypeError, r"input_dims\[1\]"),
    (MultiIO, dict(dims=[3, 10, 2], input_dims=[3, 0]), ValueError, r"input_dims\[1\]"),
    (MultiIO, dict(dims=[3, 10, 2], input_dims=3), TypeError, r"input_dims"),
    (MultiIO, dict(dims=[3, 10, 2], input_table=np.ones((2, 10))), ValueError, r"input_table.*\(1, 10\)"),
    (MultiIO, dict(dims=[3, 10, 2], readout_table=np.full((1, 10), 0.5)), ValueError, r"readout_table.*0 and 1"),
    (MultiIO, dict(dims=[3, 10, 2], readout_table=[["a"] * 10]), TypeError, r"readout_table"),
]


@pytest.mark.parametrize("builder,kwargs,error,pattern", BAD, ids=[f"{b.__name__}-{k}" for k, (b, *_ ) in enumerate(BAD)])
def test_bad_arguments(builder, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        builder(**kwargs)


def test_bad_area():
    m = MultiArea(dims=[1, 10, 1])
    for area in (2, -1, "area_3", True, 1.0):
        with pytest.raises(ValueError, match="area"):
            m.get_area_idx(area)
    with pytest.raises(ValueError, match="area"):
        RandomInput(dims=[1, 10, 1]).get_area_idx("area_hidden")


# --- the masks in ctrnn.CTRNN -------------------------------------------------------------------

def sine_batch(batch, steps=60, inputs=2, outputs=2, seed=0):
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (1, batch, 1))
    t = np.arange(steps, dtype=np.float32)[:, None, None] * 0.2
    u = np.concatenate([np.sin(t + phase)] * inputs, axis=2).astype(np.float32)
    target = np.concatenate([np.sin(t + phase + 0.5)] * outputs, axis=2).astype(np.float32)
    return u, target


def test_multi_area_ei_masks_constrain_and_train_a_ctrnn():
    m = MultiAreaEI(dims=[2, 40, 2], n_areas=2, area_connectivities=[0.3, 0.1, 0.6], exc_pct=0.8,
                    input_areas=[0], readout_areas=[1], inh_readout=False, seed=0)
    # Learned biases: the readout reads excitatory neurons only, so its weights are >= 0 on rates >= 0.
    model = ctrnn.CTRNN(dims=m.dims, activation="relu", biases="zero", sparsity_masks=m.sparsity_masks(),
                        ei_masks=m.ei_masks(), seed=0, device="cpu")
    trainer = ctrnn.Trainer(model, lr=3e-2)
    u, target = sine_batch(16)
    losses = [trainer.step(u, target)["mse"] for _ in range(60)]
    assert losses[-1] < 0.3 * losses[0], losses[::10]  # 0.50 -> 0.09 here
    signs = np.where(m.excitatory, 1.0, -1.0)[:, None]
    w_in, w_hid, w_out = (layer.weight for layer in model.layers)
    masks = m.sparsity_masks()
    for name, w, mask in (("input", w_in, masks[0]), ("hidden", w_hid, masks[1]), ("readout", w_out, masks[2])):
        assert not w[mask == 0].any(), f"{name}: a weight where the mask has no synapse"
    assert (w_hid * signs >= 0).all() and (w_out * signs >= 0).all(), "Dale's law: each row keeps its neuron's sign"
    assert (w_hid[m.excitatory] > 0).any() and (w_hid[~m.excitatory] < 0).any()


@pytest.mark.parametrize("build", [
    lambda: MultiArea(dims=[2, 30, 2], n_areas=3, area_connectivities=[0.2, 0.1], input_areas=[0], readout_areas=[2], seed=1),
    lambda: RandomInput(dims=[2, 30, 2], input_spar=0.5, readout_spar=0.5, hidden_spar=0.3, overlap=False, seed=1),
    lambda: MultiIO(dims=[2, 30, 2], input_dims=[1, 1], readout_dims=[1, 1],
                    input_table=np.repeat(np.eye(2), 15, axis=1), readout_table=np.repeat(np.eye(2), 15, axis=1)),
    lambda: MultiAreaEI(dims=[2, 30, 2], n_areas=2, area_connectivities=[0.2, 0.1], seed=1),
])
def test_masks_train_in_ctrnn(build):
    m = build()
    # nn4n's way: get_masks() as the sparsity masks (and, signed, as the E/I masks too).
    signed = isinstance(m, MultiAreaEI)
    model = ctrnn.CTRNN(dims=m.dims, sparsity_masks=m.get_masks(), ei_masks=m.get_masks() if signed else None,
                        seed=0, device="cpu")
    trainer = ctrnn.Trainer(model, lr=1e-2)
    u, target = sine_batch(8)
    losses = [trainer.step(u, target)["mse"] for _ in range(30)]
    assert losses[-1] < losses[0], losses[::10]
    for layer, mask in zip(model.layers, m.get_masks()):
        assert not layer.weight[mask == 0].any(), layer.name


def test_plot():
    pytest.importorskip("matplotlib")
    for m in (MultiAreaEI(dims=[3, 40, 2], seed=0), MultiIO(dims=[3, 10, 2], input_dims=[1, 2])):
        fig = m.plot()
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        assert [ax.get_title().split()[0] for ax in panels] == ["input", "hidden", "readout"]
        assert panels[1].get_images()[0].get_array().shape == (m.dims[1], m.dims[1])
        import matplotlib.pyplot as plt
        plt.close(fig)
    assert MultiArea.plot_masks is MultiArea.plot  # nn4n's name
