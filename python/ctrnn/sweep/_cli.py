"""``python -m ctrnn sweep SWEEP.json --out DIR [--workers N] [--ray ADDRESS]`` (and ``ctrnn sweep ... --ray``,
which runs this): ``ctrnn.sweep.run`` from the shell, with ``ctrnn sweep``'s exit codes: 0 every pack
finished (done or diverged), 1 a pack failed or did not finish (results.csv is written all the same;
rerun to try it again) or an unexpected error, 2 bad usage or input (the spec, the folder, an option),
128 + N stopped by signal N (SIGINT, SIGTERM, SIGHUP: the packs under way stop, rerun to continue)."""
import argparse
import signal
import sys

from .. import _core


def _parser():
    p = argparse.ArgumentParser(prog="python -m ctrnn sweep",
                                description="Runs a sweep: the packs of SWEEP.json, here or on a Ray cluster; "
                                            "rerunning the same command continues it.")
    p.add_argument("spec", metavar="SWEEP.json", help="the sweep: a base training config and a search space")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder (on a shared path for --ray)")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per core)")
    p.add_argument("--ray", metavar="ADDRESS", help="run each pack as a task on the Ray cluster at ADDRESS "
                                                    "(\"auto\": the one this machine belongs to)")
    p.add_argument("--cpus-per-pack", type=float, default=1, metavar="C", help="Ray: CPUs (threads) per pack")
    p.add_argument("--gpus-per-pack", type=float, default=0, metavar="G", help="Ray: GPUs per pack (a fraction "
                                                                               "shares one)")
    p.add_argument("--max-retries", type=int, default=3, metavar="K",
                   help="times a pack whose worker or node died is started again (default 3)")
    p.add_argument("--no-progress", action="store_true", help="no event lines or progress bar")
    return p


class _Stopped(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum, frame):
    raise _Stopped(signum)


def main(argv):
    args = _parser().parse_args(argv)  # exits 2 with argparse's message on bad usage
    from . import run

    # SIGTERM and SIGHUP as Ctrl-C: run() stops its packs (each saves its checkpoint) on the way out.
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _raise_stopped)

    ray = args.ray is not None
    if ray and args.workers is not None:
        print("ctrnn: invalid --workers: Ray places packs by --cpus-per-pack and --gpus-per-pack", file=sys.stderr)
        return 2
    try:
        rows = run(args.spec, args.out, backend="ray" if ray else "local", workers=args.workers,
                   address=args.ray if ray else None, cpus_per_pack=args.cpus_per_pack,
                   gpus_per_pack=args.gpus_per_pack, max_retries=args.max_retries, progress=not args.no_progress)
    except (_core.InvalidArgument, _core.FileError, ValueError, TypeError, ImportError) as e:
        print(str(e) if str(e).startswith("ctrnn: ") else f"ctrnn: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, _Stopped) as e:
        signum = e.signum if isinstance(e, _Stopped) else signal.SIGINT
        print(f"ctrnn: sweep stopped by {signal.Signals(signum).name}; rerun the same command to continue it "
              f"({args.out})", file=sys.stderr)
        return 128 + signum
    return 1 if any(r["status"] in ("failed", "pending") for r in rows) else 0
