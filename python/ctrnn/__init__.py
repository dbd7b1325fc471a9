"""ctrnn: fast continuous-time RNNs (nn4n's CTRNN) on a C++/CUDA engine.

    import ctrnn
    model = ctrnn.CTRNN(dims=[3, 64, 2], activation="relu")
    outputs, [states] = model(u)                    # u: float32 (T, B, I)
    trainer = ctrnn.Trainer(model, lr=1e-3)
    trainer.step(u, target, mask)                   # {"total": ..., "mse": ..., "grad_norm": ...}

``python -m ctrnn`` (or ``ctrnn.info()``) says which backend, BLAS, threads and GPU it computes with;
``ctrnn.sweep.run(spec, out)`` (``python -m ctrnn sweep``) runs a sweep, here or on a Ray cluster.
"""
try:
    from . import _core
except ImportError as e:  # the extension's OpenBLAS is a package of its own (pyproject.toml)
    if "openblas" in str(e):
        raise ImportError(f"{e}: ctrnn needs PyPI's OpenBLAS beside it (pip install scipy-openblas32)") from e
    raise
from . import mask, sweep, tasks
from ._info import info
from ._core import FileError, InvalidArgument, NonFiniteLoss, StateError
from .model import CTRNN, Layer, load
from .nn4n import from_nn4n
from ._per_network import per_network
from .training import Trainer

__version__ = _core.version()


def cuda_available():
    """True when the extension was built with CUDA and a GPU is present."""
    return _core.cuda_available()


def build_info():
    """How the extension was built: {"version", "cuda": CUDA version or None, "openblas": "PYPI" (scipy-openblas32),
    "SYSTEM" or None (the plain reference)}. What it computes with at run time: ``info()``."""
    return {"version": __version__, "cuda": _core.cuda_version or None, "openblas": _core.openblas or None}


__all__ = ["CTRNN", "Layer", "Trainer", "per_network", "load", "from_nn4n", "tasks", "mask", "sweep", "info", "cuda_available", "build_info",
           "InvalidArgument", "StateError", "NonFiniteLoss", "FileError"]
