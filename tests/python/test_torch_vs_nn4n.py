"""ctrnn.torch.CTRNN against nn4n 1.1.1 itself (the wheel in bench/), in the same PyTorch training
loop: an nn4n model and a ctrnn.torch model built with the same keywords, nn4n's state dict loaded
into ours, the same data, torch.optim.Adam on MSE plus RNNLoss's weight and rate regularizers, and
apply_plasticity(). The deviations of docs/contract.md are kept out of the way as
tests/golden/README.md does: no noise (nn4n draws it from torch's generator, ctrnn from its own),
no keep mode, at most 5 plasticity levels, fr_cv only where r never hits 0 (tanh, sigmoid: nn4n's
sqrt(r^2) has a NaN gradient at 0), and the E/I balance is moot since our weights are nn4n's."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn4n_model = pytest.importorskip("nn4n.model")
nn4n_criterion = pytest.importorskip("nn4n.criterion")

import ctrnn.torch  # noqa: E402

I, H, O, T, B = 3, 24, 2, 30, 8
STEPS = 100


def masks(seed):
    rng = np.random.default_rng(seed)
    shapes = [(I, H), (H, H), (H, O)]
    sparsity = [None, (rng.random(shapes[1]) < 0.5).astype(np.float64), None]
    ei = [None, np.where(np.arange(H)[:, None] < int(0.8 * H), 1.0, -1.0) * np.ones(shapes[1]),
          np.where(np.arange(H)[:, None] < int(0.8 * H), 1.0, -1.0) * np.ones(shapes[2])]
    plasticity = [None, rng.choice([0.5, 1.0, 2.0], size=shapes[1]), None]  # 3 levels (+ ones elsewhere)
    return dict(sparsity_masks=sparsity, ei_masks=ei, plasticity_masks=plasticity)


def relative(a, b):
    """max |a - b| over max |b|: the difference relative to the array's scale."""
    a, b = a.detach().double(), b.detach().double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "retanh"])
def test_training_loop_equals_nn4n(activation):
    torch.manual_seed(0)
    kwargs = dict(dims=[I, H, O], activation=activation, biases="uniform", init_state="learn", **masks(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = nn4n_model.CTRNN(**kwargs)
    ours = ctrnn.torch.CTRNN(**kwargs)
    ours.load_state_dict(theirs.state_dict())
    with torch.no_grad():  # a non-zero learned h0, as training would leave it
        h0 = 0.3 * torch.randn(H)
        theirs.recurrent_layer.hidden_state.copy_(h0)
        ours.recurrent_layer.hidden_state.copy_(h0)

    g = torch.Generator().manual_seed(2)
    x = torch.randn(T, B, I, generator=g)
    label = 0.5 * torch.randn(T, B, O, generator=g)
    rates = dict(lambda_fr=0.05, lambda_fr_sd=0.02)
    if activation in ("tanh", "sigmoid"):
        rates["lambda_fr_cv"] = 0.01
    lambdas = dict(lambda_mse=1.0, lambda_in=0.01, lambda_hid=0.02, lambda_out=0.03, **rates)
    runs = []
    for model, loss_fn in ((theirs, nn4n_criterion.RNNLoss(theirs, **lambdas)), (ours, ctrnn.torch.RNNLoss(ours, **lambdas))):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        losses = []
        for _ in range(STEPS):
            outputs, states = model(x)
            loss, _ = loss_fn(outputs, label, states=states[0])
            optimizer.zero_grad()
            loss.backward()
            model.apply_plasticity()
            optimizer.step()
            losses.append(loss.item())
        runs.append((losses, dict(model.named_parameters())))
    (their_losses, their_params), (our_losses, our_params) = runs
    # float32 on both sides, different summation orders (OpenBLAS vs torch's matmul): about 1e-6
    # relative per step, through 100 Adam steps; 1e-4 is the bound.
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-4)
    assert their_losses[-1] < 0.95 * their_losses[0]  # it trained: the comparison covers learning
    assert set(our_params) == set(their_params)
    for name, p in their_params.items():
        assert relative(our_params[name], p) < 1e-4, name


def test_nn4n_example_loop_runs_unchanged():
    """nn4n's README loop with `from ctrnn.torch import CTRNN`, both models started from the same
    state dict: the final loss within 1% of nn4n's."""
    g = torch.Generator().manual_seed(3)
    t = torch.linspace(0, 4 * np.pi, 40)  # 40 steps rather than nn4n's 100: CI's time
    inputs = torch.sin(t)[:, None, None].repeat(1, 4, 1) + 0.05 * torch.randn(40, 4, 1, generator=g)
    labels = torch.cos(t)[:, None, None].repeat(1, 4, 1)
    final = []
    torch.manual_seed(4)
    reference = nn4n_model.CTRNN(dims=[1, 10, 1])
    for CTRNN in (nn4n_model.CTRNN, ctrnn.torch.CTRNN):
        rnn = CTRNN(dims=[1, 10, 1])
        rnn.load_state_dict(reference.state_dict())
        optimizer = torch.optim.Adam(rnn.parameters(), lr=0.001)
        for epoch in range(500):
            outputs, states = rnn(inputs)
            loss = torch.nn.MSELoss()(outputs, labels)
            optimizer.zero_grad()
            loss.backward()
            rnn.apply_plasticity()
            optimizer.step()
        final.append(loss.item())
    assert final[1] == pytest.approx(final[0], rel=0.01)


def test_state_dicts_load_both_ways():
    torch.manual_seed(5)
    kwargs = dict(dims=[I, H, O], biases=[None, "zero", "uniform"], init_state="learn")
    theirs = nn4n_model.CTRNN(**kwargs)
    ours = ctrnn.torch.CTRNN(**kwargs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert {n: p.requires_grad for n, p in ours.named_parameters()} == \
        {n: p.requires_grad for n, p in theirs.named_parameters()}
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(7, 2, I)
    theirs.eval(), ours.eval()
    (y_theirs, [r_theirs]), (y_ours, [r_ours]) = theirs(x), ours(x)
    assert relative(y_ours, y_theirs) < 1e-5 and relative(r_ours, r_theirs) < 1e-5
    torch.manual_seed(6)
    other = ctrnn.torch.CTRNN(**kwargs)
    theirs.load_state_dict(other.state_dict())
    for (name, a), b in zip(theirs.state_dict().items(), [other.state_dict()[k] for k in theirs.state_dict()]):
        assert torch.equal(a, b), name


def test_same_initial_draws_as_nn4n_after_manual_seed():
    """Without `seed`, the initial weights and biases are nn4n's draws from torch's generator."""
    kwargs = dict(dims=[I, H, O], biases="uniform", weights=["uniform", "normal", "uniform"],
                  sparsity_masks=[None, masks(7)["sparsity_masks"][1], None])
    torch.manual_seed(8)
    theirs = nn4n_model.CTRNN(**kwargs)
    torch.manual_seed(8)
    ours = ctrnn.torch.CTRNN(**kwargs)
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name


def test_checkpoints_load_both_ways(tmp_path):
    kwargs = dict(dims=[I, H, O], activation="tanh", init_state="learn", biases="zero")
    torch.manual_seed(9)
    ours = ctrnn.torch.CTRNN(**kwargs)
    ours.save(str(tmp_path / "ours.pth"))
    theirs = nn4n_model.CTRNN(dims=[1, 5, 1])
    theirs.load(str(tmp_path / "ours.pth"))
    for name, value in ours.state_dict().items():
        assert torch.equal(theirs.state_dict()[name], value), name
    theirs.save(str(tmp_path / "theirs.pth"))
    back = ctrnn.torch.CTRNN(dims=[1, 5, 1])
    back.load(str(tmp_path / "theirs.pth"))
    assert back.recurrent_layer.act == "tanh" and back.dims == [I, H, O]
    for name, value in ours.state_dict().items():
        assert torch.equal(back.state_dict()[name], value), name
