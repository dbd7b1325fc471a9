"""The installed package: its metadata names the CUDA version it was built with (none without); its
extension exports none of the static libraries it links."""
import shutil
import subprocess
import sys
from importlib import metadata

import pytest

import ctrnn


def test_wheel_classifiers_name_the_cuda_build():
    classifiers = metadata.metadata("ctrnn").get_all("Classifier") or []
    cuda = [c for c in classifiers if c.startswith("Environment :: GPU :: NVIDIA CUDA")]
    built = ctrnn.build_info()["cuda"]
    if built is None:
        assert cuda == []
    else:
        assert cuda == [f"Environment :: GPU :: NVIDIA CUDA :: {built.split('.')[0]}"]


def test_version_is_the_library_version():
    assert metadata.version("ctrnn") == ctrnn.__version__


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the extension's ELF symbol table")
def test_the_extension_keeps_its_static_libraries_private():
    """The ctrnn library, the CUDA runtime and a statically linked libstdc++ (as the GPU machine's
    toolchain links it) stay private to the extension (python/CMakeLists.txt): exported, the
    extension's own calls into them bind to another copy already loaded (PyTorch's libstdc++.so.6
    and libcudart.so.13), mixing two copies' state; that crashed it on the GPU machine."""
    nm = shutil.which("nm")
    assert nm, "nm (binutils) reads the extension's symbol table"
    table = subprocess.run([nm, "-D", "--defined-only", ctrnn._core.__file__], capture_output=True, text=True,
                           check=True).stdout
    exported = [line.split()[-1] for line in table.splitlines() if line.strip()]
    assert "PyInit__core" in exported
    leaked = [s for s in exported if s.startswith(("_ZN5ctrnn", "_ZNSt6locale", "_ZNSt8ios_base", "cuda"))]
    assert leaked == [], f"{len(leaked)} symbols of static libraries exported, e.g. {leaked[:5]}"
