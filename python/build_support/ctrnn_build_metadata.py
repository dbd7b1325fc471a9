"""Build-time metadata for `pip install .` (a scikit-build-core dynamic-metadata provider).

The classifiers name the CUDA major version the wheel is built against, decided the way the CMake
side decides it (cmake/CtrnnCuda.cmake): unless CTRNN_CUDA=OFF, CUDA is used when nvcc is found
(CUDACXX, then PATH). The test suite checks that the installed wheel's classifiers agree with what
the extension says it was built with (ctrnn.build_info()).
"""
import os
import re
import shutil
import subprocess

BASE = [
    "Programming Language :: C++",
    "Programming Language :: Python :: 3",
    "Topic :: Scientific/Engineering :: Artificial Intelligence",
    "Topic :: Scientific/Engineering :: Bio-Informatics",
]


def _nvcc_major():
    if os.environ.get("CTRNN_CUDA", "AUTO").upper() == "OFF":
        return None
    nvcc = os.environ.get("CUDACXX") or shutil.which("nvcc")
    if not nvcc:
        return None
    try:
        out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"release (\d+)\.", out)
    return m.group(1) if m else None


def dynamic_metadata(field, settings=None):
    if field != "classifiers":
        raise ValueError(f"ctrnn_build_metadata provides only 'classifiers', not {field!r}")
    major = _nvcc_major()
    return BASE + ([f"Environment :: GPU :: NVIDIA CUDA :: {major}"] if major else [])
