"""python -m ctrnn: which engine this installation computes with (ctrnn.info())."""
from ._info import report

print(report())
