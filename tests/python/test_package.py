"""The installed package: its metadata names the CUDA version it was built with (none without)."""
from importlib import metadata

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
