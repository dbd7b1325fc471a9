"""Shared helpers of the Python tests: the golden fixtures (tests/golden, nn4n 1.1.1's numbers) and
the CLI binary. A missing fixture is a failure, never a skip."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file

import ctrnn

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden" / "data"
NUMERIC_CASES = [
    "relu_nobias_zero", "tanh_uniform_learn", "sigmoid_zerobias_normal", "retanh_learn_tie", "relu_sparse_uniform",
    "dale_relu", "dale_tanh_learn", "plasticity_5_levels", "plasticity_3_levels_sigmoid", "relu_normal_learn_b8",
    "tanh_b1_t80", "sigmoid_learn_alpha1", "retanh_zero_uniform_sparse", "relu_zero_hidden_learn",
]
PARAMS = ["w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out", "h0"]
PER_LAYER = ["biases", "weights", "sparsity_masks", "ei_masks", "plasticity_masks", "synapse_growth_masks"]

# Tolerance of every comparison with nn4n, as in tests/test_golden.cpp (which justifies it):
# |ours - nn4n| <= 1e-5 * max|nn4n tensor| + 1e-5 * |nn4n| elementwise (float32 on both sides,
# different summation orders, rounding carried through up to 80 steps).
RTOL = 1e-5
ATOL_FRACTION = 1e-5


def assert_matches(actual, expected, name=""):
    actual = np.asarray(actual, dtype=np.float64).reshape(-1)
    expected = np.asarray(expected, dtype=np.float64).reshape(-1)
    assert actual.shape == expected.shape, f"{name}: {actual.shape} vs {expected.shape}"
    atol = ATOL_FRACTION * (np.max(np.abs(expected)) if expected.size else 0)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=atol, err_msg=name)


class Fixture:
    def __init__(self, name):
        path = GOLDEN_DIR / f"{name}.safetensors"
        assert path.exists(), f"golden fixture {path} is missing"
        self.tensors = load_file(str(path))
        with safe_open(str(path), framework="numpy") as f:
            self.metadata = f.metadata()
        self.config = json.loads(self.metadata["config"])

    def __getitem__(self, name):
        return self.tensors[name]

    def ctrnn_kwargs(self):
        """The fixture's network config as CTRNN keyword arguments ({"tensor": N} -> the array)."""
        kwargs = dict(self.config)
        for key in PER_LAYER:
            if isinstance(kwargs.get(key), list):
                kwargs[key] = [self.tensors[v["tensor"]] if isinstance(v, dict) else v for v in kwargs[key]]
        return kwargs

    def model(self, prefix="", **overrides):
        """nn4n's network (its weights `prefix`w_in..., learned biases and h0) as a CTRNN, in eval mode."""
        kwargs = self.ctrnn_kwargs()
        kwargs["weights"] = [self.tensors[prefix + p] for p in ("w_in", "w_hid", "w_out")]
        kwargs.update(overrides)
        model = ctrnn.CTRNN(**kwargs)
        for layer, name in enumerate(("b_in", "b_hid", "b_out")):
            if model._net.bias_learnable(layer):
                model.set_bias(layer, self.tensors[prefix + name])
        if model.init_state == "learn":
            model.set_initial_state(self.tensors["h0"])
        return model.eval()


@pytest.fixture(params=NUMERIC_CASES)
def golden(request):
    return Fixture(request.param)


@pytest.fixture
def cli():
    """The ctrnn program (scripts/test-python.sh sets CTRNN_CLI to the CMake build's binary)."""
    path = os.environ.get("CTRNN_CLI")
    if not path:
        pytest.skip("CTRNN_CLI is not set (scripts/test-python.sh sets it)")
    assert Path(path).is_file(), f"CTRNN_CLI={path} does not exist"
    return path
