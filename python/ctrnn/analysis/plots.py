"""Pictures of fixed points (needs matplotlib): trajectories in their principal components with the
fixed points marked by stability and their unstable directions drawn, and eigenvalue spectra
against the unit circle. ``python -m ctrnn.plot RUN_FOLDER`` draws both when the folder holds
fixed_points.safetensors."""
import numpy as np

from ..plot import _pyplot


def _principal_axes(points, n_components):
    """The mean and the top principal directions (H, n) of points (M, H)."""
    mean = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - mean, full_matrices=False)
    axes = vt[:n_components].T
    if axes.shape[1] < n_components:  # fewer distinct directions than asked: pad with zeros
        axes = np.pad(axes, ((0, 0), (0, n_components - axes.shape[1])))
    return mean, axes


def plot_fixed_points(fps, trajectories=None, n_components=2, direction_scale=None, max_trials=32):
    """Trajectories (T, B, H) in their top n_components (2 or 3) principal components, with network
    fps's fixed points: filled for stable, open for unstable, each unstable direction (the real
    part of an eigenvector with |lambda| >= 1) drawn as a segment through its point.

    fps: a FixedPoints (one network). trajectories: membrane potentials (ctrnn.analysis.
    trajectories) of the same network, or None to use the fixed points' own components."""
    if n_components not in (2, 3):
        raise ValueError(f"ctrnn: invalid n_components: expected 2 or 3, got {n_components!r}")
    plt = _pyplot()
    x = np.asarray(fps.x_star, dtype=np.float64)
    traj = None if trajectories is None else np.asarray(trajectories, dtype=np.float64)
    basis = traj.reshape(-1, traj.shape[-1]) if traj is not None else x
    if len(basis) == 0:
        raise ValueError("ctrnn: nothing to plot: no trajectories and no fixed points")
    mean, axes = _principal_axes(basis, n_components)
    project = lambda p: (p - mean) @ axes  # noqa: E731
    fig = plt.figure(figsize=(6, 5))
    ax = fig.add_subplot(111, projection="3d" if n_components == 3 else None)
    if traj is not None:
        for b in range(min(traj.shape[1], max_trials)):
            ax.plot(*project(traj[:, b]).T, color="0.6", lw=0.6, alpha=0.7)
    if direction_scale is None:
        span = np.ptp(project(basis), axis=0).max() if len(basis) > 1 else 1.0
        direction_scale = 0.1 * (span or 1.0)
    stable = np.ones(len(x), bool) if fps.stable is None else fps.stable
    p = project(x) if len(x) else np.zeros((0, n_components))
    for k in range(len(x)):
        if fps.eigenvalues is None or stable[k]:
            continue
        for j in np.nonzero(np.abs(fps.eigenvalues[k]) >= 1)[0]:
            d = np.real(fps.eigenvectors[k][:, j]) @ axes
            norm = np.linalg.norm(d)
            if norm > 0:
                d = direction_scale * d / norm
                ax.plot(*np.stack([p[k] - d, p[k] + d]).T, color="tab:red", lw=1.2)
    if len(x):
        ax.scatter(*p[stable].T, s=40, c="k", label="stable", zorder=3)
        ax.scatter(*p[~stable].T, s=40, facecolors="none", edgecolors="tab:red", label="unstable", zorder=3)
        ax.legend(loc="best")
    labels = ["PC1", "PC2", "PC3"][:n_components]
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if n_components == 3:
        ax.set_zlabel(labels[2])
    ax.set_title(f"{len(x)} fixed points ({int(stable.sum())} stable)")
    fig.tight_layout()
    return fig


def plot_spectra(fps):
    """The eigenvalues of every fixed point's Jacobian in the complex plane, against the unit circle
    (the discrete map's stability boundary); stable points' spectra in black, unstable in red."""
    if fps.eigenvalues is None:
        raise RuntimeError("ctrnn: this build has no eigen-decomposition (no LAPACK)")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 400))
    ax.plot(circle.real, circle.imag, "k:", lw=0.8)
    for k in sorted(range(len(fps)), key=lambda k: fps.stable[k]):  # stable points' spectra on top
        ev = fps.eigenvalues[k]
        ax.scatter(ev.real, ev.imag, s=8, color="k" if fps.stable[k] else "tab:red", alpha=0.6)
    ax.set(xlabel="Re", ylabel="Im", title="Jacobian eigenvalues at the fixed points", aspect="equal")
    fig.tight_layout()
    return fig
