"""Dynamics analysis: fixed and slow points of trained networks, their Jacobians and stability.

    import ctrnn
    from ctrnn import analysis

    v = analysis.trajectories(model, u)                   # membrane potentials (T, B, H) on inputs u
    fps = analysis.fixed_points(model, inputs=np.zeros(I), trajectories=v, n=1024)
    fps[0].x_star, fps[0].stable, fps[0].eigenvalues      # network 0's unique fixed points
    fps.save("fixed_points.safetensors"); fps = analysis.load("fixed_points.safetensors")

The finder is the library's (ctrnn/analysis.hpp; what it computes is docs/contract.md, "Fixed
points"): FixedPointFinder's algorithm (Golub & Sussillo 2018) on all candidates of all networks
at once, with the gradient of q written by hand, on the network's own backend.
"""
import contextlib

import numpy as np

from .. import _core
from .plots import plot_fixed_points, plot_spectra

def _network(model):
    """The engine network behind a ctrnn.CTRNN, or behind a ctrnn.torch.CTRNN with float32
    parameters (its engine for their device, holding their current values)."""
    net = getattr(model, "_net", None)
    if net is None and hasattr(model, "_synced_engine"):  # ctrnn.torch.CTRNN
        net = model._synced_engine().net
    if not isinstance(net, _core.Network):
        raise TypeError(f"ctrnn: invalid model: expected a ctrnn.CTRNN or a float32 ctrnn.torch.CTRNN, got "
                        f"{type(model).__module__}.{type(model).__qualname__}")
    return net


def _model_lock(model):
    """The lock that serializes engine calls on a ctrnn.CTRNN and its trainers (docs/contract.md,
    threads): the search releases the GIL, so another thread's step must not change the weights
    under it."""
    return getattr(model, "_lock", None) or contextlib.nullcontext()


def _float32(name, x):
    """x (numpy, torch, a nested list; any real dtype) as a C-contiguous float32 host array."""
    if x is None:
        raise TypeError(f"ctrnn: invalid {name}: expected an array, got None")
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    elif hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        x = x.get()
    try:
        a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    except (ValueError, TypeError) as e:
        raise ValueError(f"ctrnn: invalid {name}: expected an array of numbers ({e})") from None
    return a


class FixedPoints:
    """One network's unique fixed (or slow) points, K of them, sorted by q.

    Attributes (numpy, float64 unless said): x_star (K, H), x_init (K, H), inputs (K, I),
    F_x_star (K, H), q_star (K), dq (K), iterations (K, int64), jacobians (K, H, H) with
    ``J[k, i, j] = dF_i/dv_j``, eigenvalues (K, H) complex, sorted by decreasing modulus,
    eigenvectors (K, H, H) complex (column j belongs to eigenvalue j), stable (K, bool:
    max |lambda| < 1). eigenvalues, eigenvectors and stable are None in builds without LAPACK.
    """

    def __init__(self, d):
        for key in ("x_star", "x_init", "inputs", "F_x_star", "q_star", "dq", "iterations", "jacobians"):
            setattr(self, key, d[key])
        if "stable" in d:
            self.eigenvalues = d["eigenvalues_re"] + 1j * d["eigenvalues_im"]
            self.eigenvectors = d["eigenvectors_re"] + 1j * d["eigenvectors_im"]
            self.stable = d["stable"].astype(bool)
        else:
            self.eigenvalues = self.eigenvectors = self.stable = None

    def __len__(self):
        return len(self.q_star)

    def unstable_modes(self):
        """(K) the number of eigenvalues with |lambda| >= 1 at each point."""
        if self.eigenvalues is None:
            raise RuntimeError("ctrnn: this build has no eigen-decomposition (no LAPACK)")
        return (np.abs(self.eigenvalues) >= 1).sum(axis=1)

    def continuous_eigenvalues(self, dt):
        """The eigenvalues of the linearized continuous-time system tau dv/dt = -v + f(v) W + ...,
        in units of 1/time: (lambda - 1) / dt. Re < 0 is stable; the discrete map's |lambda| < 1
        implies it (for the network's alpha <= 1)."""
        return (self.eigenvalues - 1.0) / float(dt)

    def __repr__(self):
        stable = "?" if self.stable is None else int(self.stable.sum())
        return f"FixedPoints({len(self)} points, {stable} stable)"


class FixedPointResult:
    """The fixed points of every network of a model: ``result[e]`` is network e's FixedPoints."""

    def __init__(self, core):
        self._core = core
        self.networks = [FixedPoints(d) for d in core.networks()]
        self.candidates = core.candidates

    def __getitem__(self, e):
        return self.networks[e]

    def __len__(self):
        return len(self.networks)

    def save(self, path):
        """Writes the record as safetensors (atomically); ``ctrnn fixed-points`` writes the same."""
        self._core.save(str(path))

    def __repr__(self):
        return f"FixedPointResult({len(self)} networks, {self.candidates} candidates each: {self.networks})"


def load(path):
    """A FixedPointResult from a file written by FixedPointResult.save or ``ctrnn fixed-points``."""
    return FixedPointResult(_core.load_fixed_points(str(path)))


def trajectories(model, u):
    """The membrane potentials v_1..v_T of an eval-mode (noise-free) run on inputs u, from v_0 = 0
    (h0 in learn mode): (T, B, H) for a single network and u (T, B, I), else (E, T, B, H). These
    are the states fixed points are looked for among (rates are f(v), which loses v where f is
    flat)."""
    u = _float32("u", u)
    with _model_lock(model):
        net = _network(model)
        v = _core.state_trajectories(net, u)
    return v[0] if u.ndim == 3 and net.ensemble_size == 1 else v


def sample_states(trajectories, n, noise_scale=0.5, valid=None, seed=0):
    """n candidate states drawn from trajectories (T, B, H), or (E, T, B, H) for one draw per
    network: a uniformly random valid (time, trial) each, plus Gaussian noise of std noise_scale
    (FixedPointFinder's sample_states; note the time-major layout). valid: optional (T, B) mask,
    nonzero where a state may be drawn. Returns (n, H) or (E, n, H) float32; deterministic in seed.
    """
    t = _float32("trajectories", trajectories)
    mask = None if valid is None else np.ascontiguousarray(np.asarray(valid) != 0, dtype=np.uint8)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"ctrnn: invalid n: expected an integer, got {n!r}")
    return _core.sample_states(t, int(n), float(noise_scale), mask, int(seed))


def fixed_points(model, inputs, states=None, *, trajectories=None, n=1024, noise_scale=0.5, valid=None, seed=0,
                 **options):
    """Finds the fixed points of every network of `model` (a ctrnn.CTRNN, or a ctrnn.torch.CTRNN
    with float32 parameters: their current values) in eval mode (no noise) under constant inputs.

    inputs: (I) one input for every candidate, (N, I) one per candidate, or (E, N, I).
    states: the candidate states (N, H), or (E, N, H) one set per network; or instead
    trajectories: (T, B, H) or (E, T, B, H) membrane potentials (see ``trajectories``), from which
    n candidates are drawn with sample_states(trajectories, n, noise_scale, valid, seed).
    options: tol_q (1e-12), tol_dq (1e-20), max_iters (5000), tol_unique (1e-3),
    outlier_distance_scale (10; 0 keeps all), max_q (inf: report slow points too), lr (1.0),
    adam_epsilon (0.01): FixedPointFinder's defaults.

    Returns a FixedPointResult. Bad shapes, n < 1, NaN states, a bad or unknown option raise
    ctrnn.InvalidArgument (a ValueError) naming the argument.
    """
    if (states is None) == (trajectories is None):
        raise TypeError("ctrnn: invalid states: give exactly one of states and trajectories")
    if states is None:
        states = sample_states(trajectories, n, noise_scale, valid, seed)
    x = _float32("states", states)
    u = _float32("inputs", inputs)
    with _model_lock(model):
        return FixedPointResult(_core.find_fixed_points(_network(model), x, u, options))


__all__ = ["fixed_points", "trajectories", "sample_states", "load", "FixedPoints", "FixedPointResult",
           "plot_fixed_points", "plot_spectra"]
