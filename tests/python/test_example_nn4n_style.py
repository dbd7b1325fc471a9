"""examples/python/train_nn4n_style.py runs (short): nn4n's quickstart loop on ctrnn.torch, and a
ctrnn.mask Dale's-law two-area network trained in a plain torch loop; both losses fall and the
masks hold in the trained weights (the example asserts it)."""
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "python" / "train_nn4n_style.py"


def losses(stdout, part):
    return [float(x) for x in re.findall(rf"^{part}: \w+ \d+ loss ([\d.]+)", stdout, flags=re.M)]


def test_nn4n_style_example_trains(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "100", "--steps", "60"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    sine, decision = losses(result.stdout, "sine"), losses(result.stdout, "decision")
    assert len(sine) >= 2 and sine[-1] < 0.8 * sine[0], result.stdout
    assert len(decision) >= 2 and decision[-1] < 0.8 * decision[0], result.stdout
    assert "decision accuracy on 512 new trials" in result.stdout
    assert "Dale's law and the areas' sparsity hold" in result.stdout
