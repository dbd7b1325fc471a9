"""On a GPU (skipped without one): torch CUDA tensors in and out without a copy (DLPack views: the
engine reads and writes them on the device, ordered on torch's current stream), results equal to
the CPU's."""
import numpy as np
import pytest

import ctrnn

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not (torch.cuda.is_available() and ctrnn.cuda_available()),
                                reason="needs a CUDA device, torch with CUDA and a CUDA build of ctrnn")

# float32 with cuBLAS's summation order: ~1e-5 relative after 50 steps (tests/test_cuda_*.cpp).
RTOL, ATOL = 1e-4, 1e-5


def pair(**kwargs):
    return ctrnn.CTRNN(device="cuda", **kwargs).eval(), ctrnn.CTRNN(device="cpu", **kwargs).eval()


def test_cuda_forward_equals_cpu():
    gpu, cpu = pair(dims=[3, 64, 2], activation="tanh", seed=7)
    assert gpu.device == "cuda"
    u = torch.randn(50, 16, 3, device="cuda")
    y, [r] = gpu(u)
    assert isinstance(y, torch.Tensor) and y.device == u.device and r.device == u.device
    y_cpu, [r_cpu] = cpu(u.cpu().numpy())
    np.testing.assert_allclose(y.cpu().numpy(), y_cpu, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(r.cpu().numpy(), r_cpu, rtol=RTOL, atol=ATOL)


def test_outputs_land_in_the_callers_cuda_tensors():
    gpu, cpu = pair(dims=[3, 32, 2], ensemble_size=2, seed=8)
    u = torch.randn(20, 4, 3, device="cuda")
    y_out = torch.full((2, 20, 4, 2), float("nan"), device="cuda")
    r_out = torch.full((2, 20, 4, 32), float("nan"), device="cuda")
    pointers = y_out.data_ptr(), r_out.data_ptr()
    y, [r] = gpu(u, out=(y_out, r_out))
    assert y is y_out and r is r_out and (y.data_ptr(), r.data_ptr()) == pointers
    y_cpu, [r_cpu] = cpu(u.cpu().numpy())
    np.testing.assert_allclose(y.cpu().numpy(), y_cpu, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(r.cpu().numpy(), r_cpu, rtol=RTOL, atol=ATOL)


def test_work_is_ordered_on_torchs_current_stream():
    """On a side stream: a long GPU sleep, then u is written, then the forward, then y is read. A
    forward not ordered after the stream would read the old u; a read not ordered after the
    forward would see the NaN y was filled with."""
    gpu, cpu = pair(dims=[3, 64, 2], seed=9)
    source = torch.randn(30, 8, 3, device="cuda")
    u = torch.full_like(source, float("nan"))
    y_out = torch.full((1, 30, 8, 2), float("nan"), device="cuda")
    r_out = torch.full((1, 30, 8, 64), float("nan"), device="cuda")
    torch.cuda.synchronize()
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        torch.cuda._sleep(200_000_000)  # ~0.1 s of GPU cycles
        u.copy_(source)
        gpu(u, out=(y_out, r_out))
        y_read = y_out.clone()
    torch.cuda.synchronize()
    y_cpu, _ = cpu(source.cpu().numpy())
    np.testing.assert_allclose(y_read[0].cpu().numpy(), y_cpu, rtol=RTOL, atol=ATOL)


def test_cuda_backward_returns_cuda_gradients_equal_to_cpu():
    gpu, cpu = pair(dims=[3, 32, 2], seed=10)
    u = torch.randn(20, 4, 3, device="cuda")
    dy = torch.randn(1, 20, 4, 2, device="cuda")
    gpu(u), cpu(u.cpu().numpy())
    g_gpu, g_cpu = gpu.backward(dy), cpu.backward(dy.cpu().numpy())
    for k, v in g_gpu.items():
        assert isinstance(v, torch.Tensor) and v.is_cuda, k
        # gradients: 5e-4 relative, as tests/test_cuda_network.cpp
        np.testing.assert_allclose(v.cpu().numpy(), g_cpu[k], rtol=5e-4, atol=1e-5, err_msg=k)


def test_cuda_training_step_on_cuda_tensors_equals_cpu():
    kwargs = dict(dims=[3, 32, 2], seed=3)
    gpu, cpu = ctrnn.CTRNN(device="cuda", **kwargs), ctrnn.CTRNN(device="cpu", **kwargs)
    u = np.random.default_rng(0).standard_normal((20, 8, 3)).astype(np.float32)
    target = np.zeros((20, 8, 2), np.float32)
    mask = np.ones((20, 8), np.float32)
    a = ctrnn.Trainer(gpu, lr=1e-2).step(torch.from_numpy(u).cuda(), torch.from_numpy(target).cuda(),
                                         torch.from_numpy(mask).cuda())
    b = ctrnn.Trainer(cpu, lr=1e-2).step(u, target, mask)
    assert a["total"] == pytest.approx(b["total"], rel=1e-4)


def test_cuda_tensor_on_a_cpu_network_is_refused():
    cpu = ctrnn.CTRNN(dims=[3, 8, 2], device="cpu")
    with pytest.raises(ctrnn.InvalidArgument, match="inputs: expected host memory"):
        cpu(torch.zeros(5, 2, 3, device="cuda"))


def test_cupy_arrays_in_and_out():
    cupy = pytest.importorskip("cupy")
    gpu, cpu = pair(dims=[3, 16, 2], seed=11)
    u = cupy.random.standard_normal((10, 4, 3), dtype=cupy.float32)
    y, [r] = gpu(u)
    assert isinstance(y, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(y), cpu(cupy.asnumpy(u))[0], rtol=RTOL, atol=ATOL)
