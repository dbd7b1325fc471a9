"""from_nn4n: an nn4n model's state dict (as arrays, nn4n's (post, pre) weights) gives nn4n's outputs."""
import numpy as np
import pytest

import ctrnn
from conftest import Fixture, assert_matches


def nn4n_state_dict(fx):
    """What nn4n 1.1.1's CTRNN.state_dict() holds, as numpy arrays (weights are post x pre)."""
    return {
        "recurrent_layer.hidden_state": fx["h0"],
        "recurrent_layer.input_layer.weight": fx["w_in"].T, "recurrent_layer.input_layer.bias": fx["b_in"],
        "recurrent_layer.hidden_layer.weight": fx["w_hid"].T, "recurrent_layer.hidden_layer.bias": fx["b_hid"],
        "readout_layer.weight": fx["w_out"].T, "readout_layer.bias": fx["b_out"],
    }


def test_state_dict_reproduces_nn4n_outputs(golden):
    kwargs = golden.ctrnn_kwargs()
    del kwargs["weights"], kwargs["dims"]  # from the state dict
    model = ctrnn.from_nn4n(nn4n_state_dict(golden), **kwargs).eval()
    y, [r] = model(golden["u"])
    assert_matches(y, golden["y"], "y")
    assert_matches(r, golden["r"], "r")


def test_state_dict_errors():
    fx = Fixture("tanh_uniform_learn")  # learned (non-zero) biases
    state = nn4n_state_dict(fx)
    with pytest.raises(ValueError, match=r"biases\[0\]"):
        ctrnn.from_nn4n(state, activation="tanh", biases=None)
    with pytest.raises(ValueError, match="dims"):
        ctrnn.from_nn4n(state, dims=[1, 2, 3], biases="uniform")
    del state["readout_layer.weight"]
    with pytest.raises(ValueError, match="readout_layer.weight"):
        ctrnn.from_nn4n(state)
    with pytest.raises(TypeError, match="source"):
        ctrnn.from_nn4n(42)


def test_live_nn4n_model():
    torch = pytest.importorskip("torch")
    nn4n_ctrnn = pytest.importorskip("nn4n.model").CTRNN
    torch.manual_seed(0)
    net = nn4n_ctrnn(dims=[3, 20, 2], activation="tanh", biases="uniform", init_state="learn")
    net.eval()
    u = torch.randn(30, 4, 3)
    with torch.no_grad():
        y_ref, [r_ref] = net(u)
    model = ctrnn.from_nn4n(net).eval()
    y, [r] = model(u.numpy())
    assert_matches(y, y_ref.numpy(), "y")
    assert_matches(r, r_ref.numpy(), "r")
