"""`pip install .` into a fresh venv, as a user runs it (build isolation: pip fetches the build
requirements of pyproject.toml), computes with PyPI's OpenBLAS found beside the package; without
that OpenBLAS the build stops with a message rather than fall back to the plain reference.

Slow: it builds the extension (without CUDA) from scratch. pip's wheel cache and ccache (the
launchers through CMAKE_ARGS, as scripts/test-python.sh passes them) keep it to about 1.5 minutes
on 2 cores once the caches are warm (the extension's objects miss ccache: their include paths lie
in pip's temporary build environment)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_venv_pip_install_uses_pypi_openblas(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTRNN_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(CTRNN_CUDA="OFF", CMAKE_BUILD_PARALLEL_LEVEL=os.environ.get("CTRNN_JOBS", "2"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    if shutil.which("ccache"):
        env["CMAKE_ARGS"] = "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"

    def pip(*args):
        return subprocess.run([str(python), "-m", "pip", "install", "-q", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=1200)

    # Without scipy-openblas32 the build stops at configure time, naming it (no silent plain reference).
    assert pip("scikit-build-core>=0.10", "nanobind>=2.0").returncode == 0
    refused = pip("--no-build-isolation", "--no-deps", "-C", f"build-dir={tmp_path / 'refused'}", str(ROOT))
    assert refused.returncode != 0, "built without PyPI's OpenBLAS"
    said = " ".join((refused.stdout + refused.stderr).split())  # CMake wraps its messages
    assert "scipy_openblas32 (PyPI's OpenBLAS) was not found" in said, said[-3000:]

    install = pip("-C", f"build-dir={tmp_path / 'build'}", str(ROOT))
    assert install.returncode == 0, f"pip install . failed:\n{install.stdout[-3000:]}\n{install.stderr[-3000:]}"

    # Outside the source tree, so that `import ctrnn` is the installed package.
    report = subprocess.run([str(python), "-m", "ctrnn"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    assert "from PyPI (scipy-openblas32)" in report.stdout, report.stdout
    check = subprocess.run([str(python), "-c", (
        "import ctrnn, scipy_openblas32, os\n"
        "blas = ctrnn.info()['blas']\n"
        "assert ctrnn.build_info()['openblas'] == 'PYPI', ctrnn.build_info()\n"
        "expected = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(True))\n"
        "assert os.path.samefile(blas['library'], expected), (blas['library'], expected)\n"
        "print(ctrnn.info()['backend'])")], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert str(venv) in report.stdout, f"the OpenBLAS loaded is not the venv's:\n{report.stdout}"
    assert check.stdout.startswith("cpu (OpenBLAS "), check.stdout
