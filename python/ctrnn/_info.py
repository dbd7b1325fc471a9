"""ctrnn.info() and ``python -m ctrnn``: which engine this installation computes with."""
import os
import re

from . import _core

_OPENBLAS_SOURCE = {"PYPI": "PyPI (scipy-openblas32)", "SYSTEM": "the system's"}
# The OpenBLAS library file of each source (cmake/CtrnnBlas.cmake): its soname.
_OPENBLAS_FILE = {"PYPI": re.compile(r"libscipy_openblas\.so$"), "SYSTEM": re.compile(r"libopenblas[^/]*\.so")}
# The CPU backend's description (host/orchestrated/blas_gemm.cpp, blas_description):
# "cpu (OpenBLAS 0.3.34, SkylakeX kernels, 2 threads)"; kernels may carry a hint after "; ".
_DESCRIPTION = re.compile(r"cpu \((?P<name>\S+) (?P<version>\S+), (?P<kernels>.+?) kernels(?:; (?P<hint>.+?))?, "
                          r"(?P<threads>\d+) threads\)")


def _loaded_library(pattern):
    """The file of a shared library mapped into this process whose path matches (Linux), else None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split(None, 5)[5].strip() for line in maps if len(line.split(None, 5)) == 6}
    except OSError:
        return None
    found = sorted(p for p in paths if pattern.search(p))
    return found[0] if found else None


def info():
    """How this installation computes, as a dict:

    version; backend: the CPU backend's own description (what checkpoints record as computed_on);
    blas: None for the plain reference, else {"name", "version", "source" (PyPI's scipy-openblas32
    or the system's), "kernels" (OpenBLAS's choice for this CPU), "hint" (a faster OPENBLAS_CORETYPE,
    if any), "library" (the file loaded)}; threads: the CPU backend's thread count
    (OPENBLAS_NUM_THREADS, else every core); cuda: {"built" (the CUDA version or None),
    "available", "device" (the CUDA backend's description, or None)}.
    """
    from .model import CTRNN

    backend = CTRNN(dims=[1, 1, 1], device="cpu")._net.device_description
    match = _DESCRIPTION.fullmatch(backend)
    blas = None
    if match and _core.openblas:
        blas = {"name": match["name"], "version": match["version"], "source": _OPENBLAS_SOURCE[_core.openblas],
                "kernels": match["kernels"], "hint": match["hint"],
                "library": _loaded_library(_OPENBLAS_FILE[_core.openblas])}
    available = _core.cuda_available()
    return {
        "version": _core.version(),
        "backend": backend,
        "blas": blas,
        "threads": int(match["threads"]) if match else 1,
        "cuda": {"built": _core.cuda_version or None, "available": available,
                 "device": CTRNN(dims=[1, 1, 1], device="cuda")._net.device_description if available else None},
    }


def report(facts=None):
    """info() as the lines ``python -m ctrnn`` prints."""
    facts = facts or info()
    blas, cuda = facts["blas"], facts["cuda"]
    if blas:
        blas_line = f"{blas['name']} {blas['version']} from {blas['source']}, {blas['kernels']} kernels"
        blas_line += f" ({blas['hint']})" if blas["hint"] else ""
        blas_line += f"\n             {blas['library']}" if blas["library"] else ""
    else:
        blas_line = "none: the plain single-threaded reference (built with CTRNN_BLAS=OFF)"
    threads = os.environ.get("OPENBLAS_NUM_THREADS")
    thread_line = f"{facts['threads']} ({'OPENBLAS_NUM_THREADS' if threads else 'every core; OPENBLAS_NUM_THREADS sets it'})"
    if not cuda["built"]:
        cuda_line = "not built (no CUDA backend in this installation)"
    elif cuda["available"]:
        cuda_line = f"CUDA {cuda['built']}: {cuda['device']}"
    else:
        cuda_line = f"built with CUDA {cuda['built']}, but no CUDA device is present"
    return "\n".join([
        f"ctrnn {facts['version']}",
        f"CPU backend: {facts['backend']}",
        f"BLAS:        {blas_line}",
        f"threads:     {thread_line}",
        f"GPU:         {cuda_line}",
    ])
