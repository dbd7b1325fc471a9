"""Sweeps: a base training config plus a search space, trained as packs of networks, on this machine or on
a Ray cluster.

    import ctrnn.sweep
    rows = ctrnn.sweep.run("examples/sweep.json", "out/sweep")             # worker processes here
    rows = ctrnn.sweep.run(spec, "/shared/sweep", backend="ray", address="auto", gpus_per_pack=0.25)
    df = ctrnn.sweep.as_dataframe(rows)                                     # with pandas installed

The library plans the sweep (``ctrnn sweep``'s planner: the spec's grids, lists and random draws, seeds
per point, points packed into ensembles of at most ``pack_size`` networks, ``DIR/packs/NNN/``), and
trains each pack as one ``ctrnn train`` run; this package only decides where the packs run and
reports on them. Rerunning the same call continues: finished packs are skipped, unfinished ones
resume from their checkpoints; a folder holding another sweep is refused.
"""
import json
import os
import uuid

from .. import _arrays, _core
from ._local import LocalBackend, usable_cores
from ._progress import Progress

BACKENDS = ("local", "ray")


def _read_spec(spec):
    """(spec text, base_dir): a dict (relative paths in it from the working directory), or a path to a
    JSON file (relative paths from its folder, as ``ctrnn sweep SWEEP.json`` reads them)."""
    if isinstance(spec, dict):
        return json.dumps(spec), os.getcwd()
    if isinstance(spec, (str, os.PathLike)):
        path = os.path.abspath(os.fspath(spec))
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(), os.path.dirname(path)
        except OSError as e:
            raise _core.FileError(f"ctrnn: invalid spec: cannot read {path}: {e.strerror}") from e
    raise TypeError(f"ctrnn: invalid spec: expected a dict or the path of a sweep JSON file, got {type(spec).__name__}")


def _count(name, value, least, allow_none=False):
    if value is None and allow_none:
        return None
    value = _arrays.integer(name, value)
    if value < least:
        raise ValueError(f"ctrnn: invalid {name}: expected an integer >= {least}, got {value}")
    return value


def _amount(name, value, positive):
    value = _arrays.real(name, value)
    if not (value > 0 if positive else value >= 0):
        raise ValueError(f"ctrnn: invalid {name}: expected a number {'> 0' if positive else '>= 0'}, got {value:g}")
    return value


def run(spec, out, backend="local", workers=None, address=None, cpus_per_pack=1, gpus_per_pack=0, max_retries=3,
        progress=True):
    """Runs a sweep into the folder `out` and returns its results: one record (dict) per network, the rows
    of ``out/results.csv`` (its values, seed, pack and index, steps done, final training loss, validation
    loss and accuracy, status: done, diverged, failed, or pending for a pack that did not finish).

    spec: a dict or the path of a sweep JSON file (``ctrnn sweep``'s format; relative paths are taken
    from the file's folder, or from the working directory for a dict). A bad spec raises
    ``ctrnn.InvalidArgument`` naming the entry before any pack starts.
    backend "local": the packs run in `workers` processes here (default: one per core, at most one per
    pack), the cores split between them. A worker that dies is restarted, resuming its pack, up to
    `max_retries` times.
    backend "ray" (``pip install 'ctrnn[ray]'``): each pack is a Ray task on the cluster at `address`
    (default: Ray's choice, e.g. ``RAY_ADDRESS`` or a new local cluster) reserving `cpus_per_pack` CPUs
    (its BLAS threads) and `gpus_per_pack` GPUs (a fraction shares a GPU); when its worker or node dies,
    Ray runs it again (`max_retries`) and it resumes from its last checkpoint. `out` must be a path
    that every node sees; ctrnn must be installed on every node.
    progress: one line per pack event on stdout and an overall bar (tqdm's, on stderr, in a terminal or
    notebook; else a progress line every 30 s).

    Packs that fail are reported and their networks get status "failed"; the others finish. Ctrl-C
    stops the packs under way (each saves its checkpoint) and raises KeyboardInterrupt; rerunning
    continues.
    """
    if backend not in BACKENDS:
        raise ValueError(f"ctrnn: invalid backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    workers = _count("workers", workers, 1, allow_none=True)
    if backend == "ray" and workers is not None:
        raise ValueError("ctrnn: invalid workers: the Ray backend places packs by cpus_per_pack and gpus_per_pack; "
                         "workers is for backend=\"local\"")
    if backend == "local" and address is not None:
        raise ValueError("ctrnn: invalid address: an address is for backend=\"ray\"")
    if address is not None and not isinstance(address, str):
        raise TypeError(f"ctrnn: invalid address: expected a string such as \"auto\" or \"10.0.0.1:6379\", got "
                        f"{type(address).__name__}")
    cpus_per_pack = _amount("cpus_per_pack", cpus_per_pack, positive=True)
    gpus_per_pack = _amount("gpus_per_pack", gpus_per_pack, positive=False)
    max_retries = _count("max_retries", max_retries, 0)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"ctrnn: invalid out: expected a folder path, got {type(out).__name__}")
    if backend == "ray":
        from ._ray import import_ray

        import_ray()  # its absence is said before anything is written
    text, base_dir = _read_spec(spec)
    out = os.path.abspath(os.fspath(out))

    lock = _core.SweepFolderLock()  # held while this call runs the packs: a second sweep into out is refused
    runner = tracker = None
    try:
        packs = _core.plan_sweep(text, base_dir, out, lock)  # checks the spec, then locks, makes or checks the folder
        token = uuid.uuid4().hex  # this call: a second start of a pack under it is a retry
        tracker = Progress(packs, out, token, bool(progress))
        to_run = [p["index"] for p in packs if not tracker.already_done(p["index"])]
        if to_run:
            if backend == "ray":
                from ._ray import RayBackend

                runner = RayBackend(out, base_dir, token, address, cpus_per_pack, gpus_per_pack, max_retries)
            else:
                n = min(workers or usable_cores(), len(to_run))
                runner = LocalBackend(out, base_dir, token, n, max(1, usable_cores() // n), max_retries)
        tracker.begin(runner.description if runner else "nothing to run", to_run)
        by_index = {p["index"]: p for p in packs}
        for index in to_run:
            runner.submit(by_index[index])
        while runner is not None and runner.pending():
            for index, kind, payload in runner.wait(0.5):
                tracker.finished(index, kind, payload)
            tracker.poll()
        rows = _core.collect_sweep(out)
    finally:
        if runner is not None:
            runner.close()
        if tracker is not None:
            tracker.close()
        lock.release()
    tracker.summary(rows, os.path.join(out, "results.csv"))
    return rows


def results(out):
    """The results of the sweep in `out` as it stands (unfinished packs' networks included, with their
    status), as records; also rewrites ``out/results.csv``."""
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"ctrnn: invalid out: expected a folder path, got {type(out).__name__}")
    return _core.collect_sweep(os.path.abspath(os.fspath(out)))


def as_dataframe(records):
    """Results (the records of ``run`` or ``results``, or a sweep's folder) as a pandas DataFrame."""
    try:
        import pandas
    except ImportError as e:
        raise ImportError(f"ctrnn: as_dataframe needs pandas, which is not installed here ({e}): pip install pandas") from e
    if isinstance(records, (str, os.PathLike)):
        records = results(records)
    return pandas.DataFrame.from_records(list(records))


__all__ = ["run", "results", "as_dataframe"]
