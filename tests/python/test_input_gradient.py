"""ctrnn.CTRNN.backward(..., input_gradient=True): dL/du shaped as u, against a directional
finite difference of the same network (numpy, no torch)."""
import numpy as np
import pytest

import ctrnn


@pytest.mark.parametrize("per_network_u", [False, True])
def test_input_gradient_matches_a_directional_difference(per_network_u):
    E, I, H, O, T, B = 2, 3, 16, 2, 12, 4
    model = ctrnn.CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", ensemble_size=E, seed=1, device="cpu")
    model.eval()
    rng = np.random.default_rng(2)
    shape = (E, T, B, I) if per_network_u else (T, B, I)
    u = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal((E, T, B, O)).astype(np.float32)
    model(u)
    grads = model.backward(gy, input_gradient=True)
    du = grads["u"]
    assert du.shape == shape and du.dtype == np.float32

    def objective(x):  # L = <y, gy>, so dL/dy = gy
        y, _ = model(x.astype(np.float32))
        y = y if y.ndim == 4 else y[None]
        return float(np.sum(y.astype(np.float64) * gy))

    direction = rng.standard_normal(shape)
    eps = 1e-2  # float32 outputs: rounding ~1e-7 |L| / eps, truncation O(eps^2): both well under 1e-2
    fd = (objective(u + eps * direction) - objective(u - eps * direction)) / (2 * eps)
    analytic = float(np.sum(du.astype(np.float64) * direction))
    assert analytic == pytest.approx(fd, rel=1e-2)
    assert "u" not in model.backward(gy)
