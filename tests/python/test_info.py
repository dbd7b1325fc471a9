"""ctrnn.info() and `python -m ctrnn`: the backend, BLAS, threads and GPU this installation computes
with, taken from the engine's own description of its backend."""
import os
import re
import subprocess
import sys

import ctrnn


def run_module(**env):
    out = subprocess.run([sys.executable, "-m", "ctrnn"], env={**os.environ, **env}, capture_output=True,
                         text=True, check=True)
    return out.stdout


def test_info_is_the_backends_own_description():
    facts = ctrnn.info()
    assert facts["version"] == ctrnn.__version__
    assert facts["backend"] == ctrnn.CTRNN(dims=[2, 3, 1], device="cpu")._net.device_description
    built = ctrnn.build_info()["openblas"]
    if built is None:
        assert facts["backend"] == "cpu (reference)" and facts["blas"] is None and facts["threads"] == 1
        return
    blas = facts["blas"]
    assert blas["name"] == "OpenBLAS" and re.fullmatch(r"\d+\.\d+\.\d+[\d.]*", blas["version"]), blas
    assert blas["source"] == {"PYPI": "PyPI (scipy-openblas32)", "SYSTEM": "the system's"}[built]
    assert blas["kernels"] and blas["kernels"] in facts["backend"]
    assert blas["library"] and os.path.isfile(blas["library"]), blas
    if built == "PYPI":
        import scipy_openblas32

        expected = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(True))
        assert os.path.samefile(blas["library"], expected)
    assert facts["threads"] >= 1 and f"{facts['threads']} threads" in facts["backend"]


def test_info_reports_cuda():
    cuda = ctrnn.info()["cuda"]
    assert cuda["built"] == ctrnn.build_info()["cuda"]
    assert cuda["available"] == ctrnn.cuda_available()
    assert (cuda["device"] is not None) == cuda["available"]


def test_python_m_ctrnn_prints_the_engine():
    lines = run_module(OPENBLAS_NUM_THREADS="1").splitlines()
    assert lines[0] == f"ctrnn {ctrnn.__version__}"
    labels = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert labels == [f"ctrnn {ctrnn.__version__}", "CPU backend", "BLAS", "threads", "GPU"], lines
    if ctrnn.build_info()["openblas"]:
        assert "1 threads)" in lines[1] and any(line.startswith("threads:     1 (OPENBLAS_NUM_THREADS)") for line in lines)
        assert "OpenBLAS" in lines[2]
    else:
        assert "plain single-threaded reference" in lines[2]
