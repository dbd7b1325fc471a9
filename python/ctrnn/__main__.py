"""python -m ctrnn: which engine this installation computes with (ctrnn.info());
python -m ctrnn sweep SWEEP.json --out DIR [--workers N] [--ray ADDRESS]: a sweep (ctrnn.sweep)."""
import sys

if len(sys.argv) > 1 and sys.argv[1] == "sweep":
    from .sweep._cli import main

    sys.exit(main(sys.argv[2:]))
if len(sys.argv) > 1:
    sys.exit(f"usage: python -m ctrnn [sweep SWEEP.json --out DIR ...]; got {sys.argv[1]!r}")

from ._info import report

print(report())
