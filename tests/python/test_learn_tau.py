"""Learned time constants from Python: ctrnn.torch's alpha parameter (nn4n 1.2.0's learn_alpha) and
ctrnn.CTRNN's learn_tau. The engine's hand-written dL/dalpha is checked against PyTorch autograd of
the same network written in plain torch (the contract's equations), and by torch.autograd.gradcheck."""
import numpy as np
import pytest
import torch

import ctrnn
import ctrnn.torch

I, H, O, T, B = 3, 7, 2, 9, 4
DT = 10.0


def per_neuron_tau(E):
    """(E, H) time constants from 12 to 90 (dt = 10: alpha from 0.83 to 0.11), each network its own."""
    return 12.0 + 78.0 * ((np.arange(H)[None, :] * 3 + np.arange(E)[:, None] * 2) % H) / (H - 1)


def act_of(name):
    return {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
            "retanh": lambda v: torch.relu(torch.tanh(v))}[name]


def plain_forward(p, x, act):
    """The contract's forward pass of one network in plain torch: p holds torch-layout tensors
    (weights (post, pre)) of that network; x (T, B, I). Returns y (T, B, O) and r (T, B, H)."""
    v = p["h0"].expand(x.shape[1], -1)
    r = act(v)
    ys, rs = [], []
    for t in range(x.shape[0]):
        a = r @ p["w_hid"].T + p["b_hid"] + x[t] @ p["w_in"].T + p["b_in"]
        v = (1 - p["alpha"]) * v + p["alpha"] * a
        r = act(v)
        ys.append(r @ p["w_out"].T + p["b_out"])
        rs.append(r)
    return torch.stack(ys), torch.stack(rs)


def module_params(model):
    """The module's parameters by the engine's names, in torch's layouts (leading E axis kept)."""
    rl, out = model.recurrent_layer, model.readout_layer
    return {"w_in": rl.input_layer.weight, "w_hid": rl.hidden_layer.weight, "w_out": out.weight,
            "b_in": rl.input_layer.bias, "b_hid": rl.hidden_layer.bias, "b_out": out.bias,
            "h0": rl.hidden_state, "alpha": rl.alpha}


def make_model(E, activation, dtype, **kw):
    tau = per_neuron_tau(E)
    model = ctrnn.torch.CTRNN(dims=[I, H, O], activation=activation, biases="uniform", init_state="learn",
                              tau=tau[0] if E == 1 else tau, ensemble_size=E, learn_alpha=True, seed=5, **kw)
    with torch.no_grad():  # h0 off zero, so that v_1 - v_0 is not the input alone
        model.recurrent_layer.hidden_state.uniform_(-0.5, 0.5)
    return model.to(dtype)


def loss_of(y, r, target):
    # the outputs and the rates both carry gradient (a loss on firing rates, as users add)
    return ((y - target) ** 2).mean() + 0.1 * (r ** 2).mean()


@pytest.mark.parametrize("E", [1, 2])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_every_gradient_equals_plain_torch_autograd_in_float64(E, activation):
    """float64 runs on the double reference: every parameter's gradient, alpha's included, equals
    autograd's of the plain torch network to 1e-10 relative (two float64 evaluations of the same
    sums in different orders differ by ~1e-15 relative; 1e-10 leaves room for T steps of
    accumulation, and a wrong term of the gradient is off by far more)."""
    torch.manual_seed(0)
    model = make_model(E, activation, torch.float64)
    x = torch.randn(T, B, I, dtype=torch.float64)
    target = torch.randn((T, B, O) if E == 1 else (E, T, B, O), dtype=torch.float64)
    y, (r,) = model(x)
    loss_of(y, r, target).backward()

    mine = {k: p.detach().clone().requires_grad_(True) for k, p in module_params(model).items()}
    ys, rs = [], []
    for e in range(E):
        one = {k: (v if E == 1 else v[e]) for k, v in mine.items()}
        ye, re = plain_forward(one, x, act_of(activation))
        ys.append(ye)
        rs.append(re)
    y_ref = ys[0] if E == 1 else torch.stack(ys)
    r_ref = rs[0] if E == 1 else torch.stack(rs)
    torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
    loss_of(y_ref, r_ref, target).backward()
    for name, p in module_params(model).items():
        torch.testing.assert_close(p.grad, mine[name].grad, rtol=1e-10, atol=1e-12, msg=lambda m: f"{name}: {m}")
    if activation != "relu":  # (a ReLU neuron silent throughout has no gradient at all)
        assert mine["alpha"].grad.abs().min() > 0  # every neuron's time constant is reached


def test_float32_alpha_gradient_is_autograds_to_float_rounding():
    """float32 on the CPU backend against float64 autograd: 1e-4 relative to the largest entry. The
    engine forms (v_t - v_{t-1}) / alpha from the stored float32 states, whose rounding (~6e-8 of
    |v|) is divided by alpha (here >= 0.11), summed over T B terms."""
    torch.manual_seed(1)
    model = make_model(1, "tanh", torch.float32)
    x = torch.randn(T, B, I)
    target = torch.randn(T, B, O)
    y, (r,) = model(x)
    loss_of(y, r, target).backward()
    mine = {k: p.detach().double().clone().requires_grad_(True) for k, p in module_params(model).items()}
    y_ref, r_ref = plain_forward(mine, x.double(), torch.tanh)
    loss_of(y_ref, r_ref, target.double()).backward()
    want = mine["alpha"].grad
    got = model.recurrent_layer.alpha.grad.double()
    assert (got - want).abs().max() <= 1e-4 * want.abs().max(), (got, want)


def test_gradcheck_of_alpha_through_the_module():
    """torch.autograd.gradcheck of the outputs and rates as functions of alpha (float64, noise off)."""
    model = make_model(2, "tanh", torch.float64)
    x = torch.randn(T, B, I, dtype=torch.float64)

    def run(a):  # the module with alpha swapped for `a` (functional_call: the engine reads it)
        y, (r,) = torch.func.functional_call(model, {"recurrent_layer.alpha": a}, (x,))
        return y, r

    a0 = model.recurrent_layer.alpha.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(run, (a0,), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_the_nn4n_loop_learns_alpha_within_its_bounds(tmp_path):
    """nn4n's own loop with torch.optim.Adam: alpha is an ordinary parameter (in parameters() and
    the state dict as recurrent_layer.alpha), changes, and every forward keeps it within
    [dt / tau_max, 1]: a learning rate large enough to push some alphas past both bounds is
    clamped back. A checkpoint round trip keeps it."""
    torch.manual_seed(2)
    model = ctrnn.torch.CTRNN(dims=[I, H, O], activation="tanh", tau=per_neuron_tau(1)[0], learn_alpha=True,
                              tau_max=100.0, seed=4)
    alpha = model.recurrent_layer.alpha
    assert isinstance(alpha, torch.nn.Parameter) and alpha.shape == (H,)
    assert any(p is alpha for p in model.parameters())
    assert "recurrent_layer.alpha" in model.state_dict()
    start = alpha.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
    x, target = torch.randn(T, B, I), torch.randn(T, B, O)
    for _ in range(4):
        y, _ = model(x)
        loss = ((y - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model(x)  # the forward clamps what the last step left
    a = alpha.detach()
    assert not torch.equal(a, start)
    assert a.min() >= DT / 100.0 and a.max() <= 1.0
    assert (a == 1.0).any() or (a == torch.tensor(DT / 100.0)).any(), a  # a bound was reached
    model.save(tmp_path / "m.pth")
    back = ctrnn.torch.CTRNN(dims=[I, H, O])
    back.load(tmp_path / "m.pth")
    torch.testing.assert_close(back.recurrent_layer.alpha, alpha, rtol=0, atol=0)
    assert back.recurrent_layer.learn_alpha


def test_tau_plasticity_zero_freezes_a_neurons_tau_in_apply_plasticity():
    plasticity = np.ones(H)
    plasticity[[1, 4]] = 0.0
    model = ctrnn.torch.CTRNN(dims=[I, H, O], activation="tanh", tau=40, learn_tau=True, tau_plasticity=plasticity,
                              seed=6)
    alpha = model.recurrent_layer.alpha
    start = alpha.detach().clone()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    x, target = torch.randn(T, B, I), torch.randn(T, B, O)
    for _ in range(3):
        y, _ = model(x)
        optimizer.zero_grad()
        ((y - target) ** 2).mean().backward()
        model.apply_plasticity()
        optimizer.step()
    moved = alpha.detach() != start
    assert not moved[[1, 4]].any() and moved[[0, 2, 3, 5, 6]].all(), moved


def test_without_learn_alpha_the_state_dict_is_nn4n_1_1_1s_and_bad_values_are_named():
    model = ctrnn.torch.CTRNN(dims=[I, H, O], seed=1)
    assert "recurrent_layer.alpha" not in model.state_dict()
    assert isinstance(model.recurrent_layer.alpha, float)
    with pytest.raises(TypeError, match="learn_alpha"):
        ctrnn.torch.CTRNN(dims=[I, H, O], learn_alpha="yes")
    with pytest.raises(TypeError, match="learn_tau and learn_alpha"):
        ctrnn.torch.CTRNN(dims=[I, H, O], learn_alpha=True, learn_tau=False)
    with pytest.raises(ctrnn.InvalidArgument, match="tau_max"):
        ctrnn.torch.CTRNN(dims=[I, H, O], tau=100, learn_alpha=True, tau_max=50)
    with pytest.raises(ctrnn.InvalidArgument, match="tau_plasticity"):
        ctrnn.torch.CTRNN(dims=[I, H, O], learn_alpha=True, tau_plasticity=[1.0, 2.0])
