"""Argument checks for arrays passed to the engine.

Data arrays (inputs, targets, masks, gradients) must be float32 and C-contiguous: a numpy array
is then handed to the C++ side as it is (nanobind reads its buffer in place; the library's
calls take owning host Tensors, so it is copied once into one). Nested lists are converted (a
copy). Other arrays that speak DLPack and live on the CPU (e.g. torch CPU tensors) are viewed
through ``numpy.from_dlpack`` without a copy. Arrays on a GPU (torch, CuPy) are copied to the host
and results copied back to their device: zero-copy on CUDA awaits the library's device-view API
(issue 12). Results come back as the input's kind: numpy for numpy and lists, torch for torch
(on the input's device), CuPy for CuPy.

Config arrays (weights, biases, masks) may have any real dtype; they are converted to float64, as
the library keeps them.
"""
import numpy as np


def _describe(x):
    return type(x).__module__ + "." + type(x).__qualname__


def _from_dlpack_cpu(name, x):
    """A host numpy view of a DLPack array, or None when it lives elsewhere (then .cpu() exists)."""
    if hasattr(x, "detach"):  # torch: a tensor that requires grad refuses DLPack export
        x = x.detach()
    device = getattr(x, "__dlpack_device__", None)
    if device is not None and device()[0] != 1:  # kDLCPU = 1
        return None
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError) as e:
        raise TypeError(f"ctrnn: invalid {name}: expected a float32 array, got {_describe(x)} ({e})") from None


class DeviceReturn:
    """Puts results back where an input came from (numpy stays numpy)."""

    def __init__(self, like=None):
        self.like = like

    def __call__(self, array):
        module = type(self.like).__module__.split(".")[0]
        if module == "torch":
            import torch

            return torch.from_numpy(array).to(self.like.device)  # no copy for a CPU tensor
        if module == "cupy":
            import cupy

            return cupy.asarray(array)
        return array


def data(name, x, allow_none=False):
    """A float32 C-contiguous numpy array for argument `name`, and how to return results.

    TypeError: not an array, or not float32. ValueError: not C-contiguous, or a ragged list.
    Shapes are checked by the library, whose message names the argument as well.
    """
    back = DeviceReturn()
    if x is None:
        if allow_none:
            return None, back
        raise TypeError(f"ctrnn: invalid {name}: expected a float32 array, got None")
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x, dtype=np.float32)
        except (ValueError, TypeError) as e:
            raise ValueError(f"ctrnn: invalid {name}: expected a rectangular nested list of numbers ({e})") from None
    elif not isinstance(x, np.ndarray):
        if not hasattr(x, "__dlpack__"):
            raise TypeError(f"ctrnn: invalid {name}: expected a float32 numpy array, got {_describe(x)}")
        back = DeviceReturn(x)
        host = _from_dlpack_cpu(name, x)
        if host is None:  # on a GPU: a host copy until the device-view API exists
            host = x.detach().cpu().numpy() if hasattr(x, "cpu") else np.asarray(x.get())
        x = host
    if x.dtype != np.float32:
        raise TypeError(f"ctrnn: invalid {name}: expected dtype float32, got {x.dtype} (convert with .astype(np.float32))")
    if not x.flags.c_contiguous:
        raise ValueError(f"ctrnn: invalid {name}: expected a C-contiguous array, got strides {x.strides} "
                         "(use np.ascontiguousarray)")
    return x, back


def config_array(name, x):
    """A float64 C-contiguous copy of a config array (weights, biases, masks)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        a = np.array(x, dtype=np.float64, order="C")
    except (ValueError, TypeError) as e:
        raise ValueError(f"ctrnn: invalid {name}: expected an array of numbers ({e})") from None
    if a.ndim == 0:
        raise ValueError(f"ctrnn: invalid {name}: expected an array, got the scalar {x!r}")
    return a
