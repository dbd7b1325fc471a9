"""Arrays passed to the engine, without copies.

Data arrays (inputs, targets, masks, gradients) must be float32 and C-contiguous. numpy arrays,
torch tensors and CuPy arrays are handed to the C++ side as they are, through DLPack (nanobind's
ndarray): the engine reads them in place, on the host or on their CUDA device, and writes its
results into arrays allocated here with the input's own framework on the input's device (numpy
for numpy and lists, torch for torch, CuPy for CuPy). Nothing is copied between host and device:
a CUDA network reads a CUDA tensor where it is and writes its outputs into CUDA tensors, its work
ordered on the framework's current stream (no host synchronisation). Nested lists are converted
to numpy (a copy). Other DLPack arrays on the CPU are viewed through ``numpy.from_dlpack``.

Config arrays (weights, biases, masks) may have any real dtype; they are converted to float64, as
the library keeps them. Complex values are refused everywhere (TypeError naming the argument),
never cast to their real part.
"""
import numpy as np


def _describe(x):
    return type(x).__module__ + "." + type(x).__qualname__


def _framework(x):
    return type(x).__module__.split(".")[0]


class Frame:
    """Where a data array lives: makes output arrays there, and names the stream to order on."""

    def __init__(self, like=None):
        self.like = like
        self.kind = "numpy" if like is None else _framework(like)

    def empty(self, shape):
        """An uninitialized float32 array of `shape` beside the input."""
        if self.kind == "torch":
            import torch

            return torch.empty(tuple(shape), dtype=torch.float32, device=self.like.device)
        if self.kind == "cupy":
            import cupy

            with cupy.cuda.Device(self.like.device.id):
                return cupy.empty(tuple(shape), dtype=cupy.float32)
        return np.empty(tuple(shape), dtype=np.float32)

    def stream(self):
        """The cudaStream_t (an integer) the framework's work goes to now; 0 on the host."""
        if self.kind == "torch" and self.like.is_cuda:
            import torch

            return torch.cuda.current_stream(self.like.device).cuda_stream
        if self.kind == "cupy":
            import cupy

            with cupy.cuda.Device(self.like.device.id):
                return cupy.cuda.get_current_stream().ptr
        return 0


def _check(name, x, dtype, contiguous, strides):
    if str(dtype) not in ("float32", "torch.float32"):
        raise TypeError(f"ctrnn: invalid {name}: expected dtype float32, got {dtype} (convert with .astype(np.float32) "
                        "or .float())")
    if not contiguous:
        raise ValueError(f"ctrnn: invalid {name}: expected a C-contiguous array, got strides {strides} "
                         "(use np.ascontiguousarray or .contiguous())")


def _numeric(name, a):
    """Refuses an array whose values are not real numbers: complex ones (casting them to float would
    drop the imaginary part), strings (numpy would parse them), objects."""
    if a.dtype.kind == "c":
        raise TypeError(f"ctrnn: invalid {name}: expected real numbers, got complex values (dtype {a.dtype}); "
                        "pass .real or abs() of them")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"ctrnn: invalid {name}: expected an array of real numbers, got dtype {a.dtype}")
    return a


def real(name, x):
    """A real-number argument (a learning rate, a loss weight) as a float; TypeError naming it for a
    complex number, a string, None or anything else float() would refuse or truncate."""
    if isinstance(x, (str, bytes, complex, np.complexfloating)):
        raise TypeError(f"ctrnn: invalid {name}: expected a real number, got {type(x).__name__} {x!r}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"ctrnn: invalid {name}: expected a real number, got {type(x).__name__}") from None


def integer(name, x):
    """An integer argument (a count, a layer index) as an int; TypeError naming it for a bool, a
    float (no silent int(1.5)) or anything else."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"ctrnn: invalid {name}: expected an integer, got {type(x).__name__}")
    return int(x)


def data(name, x, allow_none=False):
    """Argument `name` as an array the engine reads in place, and the Frame it lives in.

    TypeError: not an array, not float32, or on a device other than the CPU or CUDA. ValueError:
    not C-contiguous, or a ragged list. Shapes and the device (a CUDA array for a CPU network) are
    checked by the library, whose message names the argument as well.
    """
    if x is None:
        if allow_none:
            return None, Frame()
        raise TypeError(f"ctrnn: invalid {name}: expected a float32 array, got None")
    if isinstance(x, (list, tuple)):
        try:
            x = np.asarray(x)
        except (ValueError, TypeError) as e:
            raise ValueError(f"ctrnn: invalid {name}: expected a rectangular nested list of numbers ({e})") from None
        x = _numeric(name, x).astype(np.float32)
    if isinstance(x, np.ndarray):
        _check(name, x, x.dtype, x.flags.c_contiguous, x.strides)
        return x, Frame()
    kind = _framework(x)
    if kind == "torch":
        x = x.detach()  # a tensor that requires grad refuses DLPack export; detach() shares its memory
        if x.device.type not in ("cpu", "cuda"):
            raise TypeError(f"ctrnn: invalid {name}: expected a tensor on the CPU or a CUDA device, got {x.device}")
        _check(name, x, x.dtype, x.is_contiguous(), x.stride())
        return x, Frame(x)
    if kind == "cupy":
        _check(name, x, x.dtype, x.flags.c_contiguous, x.strides)
        return x, Frame(x)
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"ctrnn: invalid {name}: expected a float32 numpy array, torch tensor or CuPy array, "
                        f"got {_describe(x)}")
    device = getattr(x, "__dlpack_device__", None)
    if device is not None and device()[0] != 1:  # kDLCPU = 1
        raise TypeError(f"ctrnn: invalid {name}: expected a numpy array, a torch tensor or a CuPy array on a GPU, "
                        f"got {_describe(x)}")
    try:
        host = np.from_dlpack(x)
    except (TypeError, RuntimeError, BufferError) as e:
        raise TypeError(f"ctrnn: invalid {name}: expected a float32 array, got {_describe(x)} ({e})") from None
    return data(name, host)


def output(name, x, frame, shape):
    """The array `x` to write results into (the library checks its shape), or a new one of
    `shape` in `frame` when x is None."""
    if x is None:
        return frame.empty(shape)
    if isinstance(x, (list, tuple)):
        raise TypeError(f"ctrnn: invalid {name}: expected an array to write into, got a {type(x).__name__}")
    x = data(name, x)[0]
    if isinstance(x, np.ndarray) and not x.flags.writeable:
        raise ValueError(f"ctrnn: invalid {name}: expected a writable array to write the results into, got a read-only "
                         "one (pass a copy, or None for a new array)")
    return x


def host_data(name, x):
    """Argument `name` as a float32 host array (parameter writes: small, copied once into the
    library's own storage, so an array on a GPU is copied to the host first)."""
    x, frame = data(name, x)
    if frame.kind == "torch" and x.is_cuda:
        return x.cpu().numpy()
    if frame.kind == "cupy":
        return x.get()
    return x


def config_array(name, x):
    """A float64 C-contiguous copy of a config array (weights, biases, masks)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        raw = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"ctrnn: invalid {name}: expected an array of numbers ({e})") from None
    a = np.array(_numeric(name, raw), dtype=np.float64, order="C")
    if a.ndim == 0:
        raise ValueError(f"ctrnn: invalid {name}: expected an array, got the scalar {x!r}")
    return a
