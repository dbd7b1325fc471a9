"""tau per network, per neuron or per network and neuron, and noise per network, from Python:
the forms, their errors, checkpoints, and an ensemble whose networks each run as alone."""
import numpy as np
import pytest

import ctrnn

H = 6


def per_neuron_tau(E):
    """(E, H) time constants from 10 to 200 (dt = 10: alpha from 1 to 0.05), each network its own."""
    return 10.0 + 190.0 * ((np.arange(H)[None, :] * 5 + np.arange(E)[:, None] * 3) % H) / (H - 1)


def test_tau_forms_give_alpha_per_network_and_neuron(tmp_path):
    one = ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, tau=50, device="cpu")
    assert isinstance(one.alpha, float) and one.alpha == 0.2
    neurons = ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, tau=[10, 20, 40, 50, 100, 200], device="cpu")
    np.testing.assert_array_equal(neurons.alpha, np.tile(10 / np.array([10, 20, 40, 50, 100, 200]), (2, 1)))
    networks = ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, tau=ctrnn.per_network([20, 100]), device="cpu")
    np.testing.assert_array_equal(networks.alpha, [[0.5] * H, [0.1] * H])
    tau = per_neuron_tau(2)
    both = ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, tau=tau, preact_noise=ctrnn.per_network([0.1, 0]),
                       device="cpu")
    np.testing.assert_array_equal(both.alpha, 10 / tau)
    assert "alpha=<0.05 to 1" in repr(both)
    both.save(tmp_path / "m.safetensors")  # the checkpoint stores tau and the noise
    back = ctrnn.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(back.alpha, both.alpha)


def test_bad_time_constants_name_tau_and_what_was_expected():
    def refused(match, **kw):
        with pytest.raises(ctrnn.InvalidArgument, match=match):
            ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, device="cpu", **kw)

    refused(r"invalid tau: .*6 numbers \(one per hidden neuron\).*got a list of 2 values", tau=[20, 50])  # E, not H
    refused(r"invalid tau: .*per-network values for 3 networks", tau=ctrnn.per_network([20, 50, 100]))
    refused(r"invalid tau: .*lists of 6\]\}, got per-network lists of 5 values", tau=np.full((2, 5), 20.0))
    refused(r"invalid tau: .*\(tau >= dt = 10\), got 5 for network 1, neuron 3",
            tau=np.where(np.arange(12).reshape(2, H) == 9, 5.0, 20.0))
    refused(r"invalid tau: .*got -1 for neuron 0", tau=[-1, 20, 20, 20, 20, 20])
    refused(r"invalid tau: .*got 0$", tau=0)
    refused(r"invalid preact_noise: .*got -0.1 for network 1", preact_noise=ctrnn.per_network([0.1, -0.1]))
    refused(r"invalid postact_noise: .*2 values \(one per network\), got 3 values",
            postact_noise=ctrnn.per_network([0.1, 0.1, 0.1]))
    with pytest.raises(TypeError, match="invalid preact_noise"):
        ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, preact_noise=[0.1, 0.2], device="cpu")  # a bare list
    with pytest.raises(ValueError, match=r"invalid tau: .*shape \(1, 2, 6\)"):
        ctrnn.CTRNN(dims=[1, H, 1], ensemble_size=2, tau=np.full((1, 2, H), 20.0), device="cpu")


def test_network_k_with_its_own_tau_and_noise_trains_as_alone():
    """An ensemble of three, each network with its own tau per neuron and noise sigmas, trained by
    SGD: network k equals a one-network model with network k's values and first_network=k, bit for
    bit (the CPU backend runs an ensemble network by network, each as its one-network run)."""
    rng = np.random.default_rng(0)
    u = rng.standard_normal((12, 4, 1)).astype(np.float32)
    target = rng.standard_normal((12, 4, 2)).astype(np.float32)
    tau, pre, post = per_neuron_tau(3), [0.2, 0.0, 0.1], [0.05, 0.02, 0.0]

    def train(E, first, tau, pre, post):
        model = ctrnn.CTRNN(dims=[1, H, 2], activation="tanh", ensemble_size=E, first_network=first, seed=3, tau=tau,
                            preact_noise=pre, postact_noise=post, device="cpu")
        trainer = ctrnn.Trainer(model, optimizer="sgd", lr=0.05)
        losses = [np.atleast_1d(trainer.step(u, target)["mse"]) for _ in range(3)]
        return model.parameters(), np.asarray(losses)  # (steps, E)

    mixed, mixed_losses = train(3, 0, tau, ctrnn.per_network(pre), ctrnn.per_network(post))
    for k in range(3):
        alone, losses = train(1, k, tau[k], pre[k], post[k])
        np.testing.assert_array_equal(mixed_losses[:, k], losses[:, 0], err_msg=f"mse of network {k}")
        for name, value in mixed.items():
            np.testing.assert_array_equal(value[k], alone[name][0], err_msg=f"{name} of {k}")
    same_tau, _ = train(3, 0, 100, ctrnn.per_network(pre), ctrnn.per_network(post))
    assert not np.array_equal(same_tau["w_hid"], mixed["w_hid"])  # the time constants mattered


def test_torch_module_takes_tau_per_neuron():
    """ctrnn.torch.CTRNN accepts the new forms (nn4n 1.1.1: a scalar) and computes what the engine's
    model with the same seed computes."""
    torch = pytest.importorskip("torch")
    import ctrnn.torch as ct

    tau = per_neuron_tau(1)[0]
    module = ct.CTRNN(dims=[1, H, 2], activation="tanh", tau=torch.tensor(tau), seed=4)
    assert module.recurrent_layer.alpha.shape == (H,)
    np.testing.assert_allclose(module.recurrent_layer.alpha.numpy(), 10 / tau, rtol=1e-7)
    model = ctrnn.CTRNN(dims=[1, H, 2], activation="tanh", tau=tau, seed=4, device="cpu")
    module.eval(), model.eval()
    x = np.random.default_rng(1).standard_normal((9, 3, 1)).astype(np.float32)
    with torch.no_grad():
        y, _ = module(torch.from_numpy(x))
    y_model, _ = model(x)
    np.testing.assert_allclose(y.numpy(), np.asarray(y_model).reshape(y.shape), rtol=1e-6, atol=1e-7)
    ensemble = ct.CTRNN(dims=[1, H, 2], ensemble_size=2, tau=per_neuron_tau(2), seed=4)
    assert ensemble.recurrent_layer.alpha.shape == (2, H)
    assert "alpha=<0.05 to 1" in repr(ensemble)


def test_learned_time_constants_train_within_their_bounds(tmp_path):
    """learn_tau: alpha is a parameter (parameters()["alpha"], model.alpha), learned within
    [dt / tau_max, 1], tau_plasticity 0 freezing a neuron; the checkpoint keeps all of it."""
    tau = [20, 30, 40, 50, 100, 200]
    model = ctrnn.CTRNN(dims=[1, H, 1], tau=tau, learn_tau=True, tau_max=400, tau_plasticity=[1, 0, 1, 1, 2, 1],
                        activation="tanh", device="cpu")
    before = model.parameters()["alpha"]
    np.testing.assert_array_equal(before, np.float32(10 / np.array([tau])))
    trainer = ctrnn.Trainer(model, lr=1e-2)
    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (10, 4, 1)).astype(np.float32)
    target = rng.uniform(-0.5, 0.5, (10, 4, 1)).astype(np.float32)
    for _ in range(3):
        trainer.step(u, target)
    after = model.parameters()["alpha"]
    np.testing.assert_array_equal(model.alpha, after)
    assert after[0, 1] == before[0, 1]  # frozen
    assert np.all(after[0, [0, 2, 3, 4, 5]] != before[0, [0, 2, 3, 4, 5]])
    assert np.all((after >= np.float32(10 / 400)) & (after <= 1))
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(ctrnn.load(tmp_path / "m.safetensors").alpha, after)


def test_bad_learned_time_constants_are_refused():
    def refused(match, **kw):
        with pytest.raises(ctrnn.InvalidArgument, match=match):
            ctrnn.CTRNN(dims=[1, H, 1], tau=50, device="cpu", **kw)

    refused(r"invalid learn_tau: expected true or false", learn_tau=1)
    refused(r"invalid tau_max: expected a bound >= every initial tau", learn_tau=True, tau_max=40)
    refused(r"invalid tau_plasticity: expected 6 values", learn_tau=True, tau_plasticity=[1, 1])
    refused(r"invalid tau_plasticity: expected finite numbers >= 0, got -1 for neuron 0", learn_tau=True,
            tau_plasticity=[-1, 1, 1, 1, 1, 1])
