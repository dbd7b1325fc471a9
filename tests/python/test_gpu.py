"""On a GPU (skipped without one): torch CUDA tensors in and out, results equal to the CPU's.

Until the library's device-view API exists (issue 12), CUDA tensors are copied to the host and
the results copied back to the tensor's device; this test checks the results and their device,
not zero-copy."""
import numpy as np
import pytest

import ctrnn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not (torch.cuda.is_available() and ctrnn.cuda_available()),
                                reason="needs a CUDA device, torch with CUDA and a CUDA build of ctrnn")


def test_cuda_forward_equals_cpu():
    kwargs = dict(dims=[3, 64, 2], activation="tanh", seed=7)
    gpu, cpu = ctrnn.CTRNN(device="cuda", **kwargs).eval(), ctrnn.CTRNN(device="cpu", **kwargs).eval()
    assert gpu.device == "cuda"
    u = torch.randn(50, 16, 3, device="cuda")
    y, [r] = gpu(u)
    assert isinstance(y, torch.Tensor) and y.device == u.device
    y_cpu, _ = cpu(u.cpu().numpy())
    # float32 with cuBLAS's summation order: ~1e-5 relative after 50 steps (tests/test_cuda_*.cpp).
    np.testing.assert_allclose(y.cpu().numpy(), y_cpu, rtol=1e-4, atol=1e-5)


def test_cuda_training_step_equals_cpu():
    kwargs = dict(dims=[3, 32, 2], seed=3)
    gpu, cpu = ctrnn.CTRNN(device="cuda", **kwargs), ctrnn.CTRNN(device="cpu", **kwargs)
    u = np.random.default_rng(0).standard_normal((20, 8, 3)).astype(np.float32)
    target = np.zeros((20, 8, 2), np.float32)
    a = ctrnn.Trainer(gpu, lr=1e-2).step(u, target)
    b = ctrnn.Trainer(cpu, lr=1e-2).step(u, target)
    assert a["total"] == pytest.approx(b["total"], rel=1e-4)
