"""ctrnn.analysis: the fixed-point finder from Python (the C++ tests check the algorithm; these
check the package: arguments, results, the file, the pictures, bad input)."""
import numpy as np
import pytest

import ctrnn
from ctrnn import analysis


def bistable_pair():
    """Two weakly coupled bistable tanh neurons: 9 fixed points (4 stable, 4 saddles, 1 source)."""
    w_hid = np.array([[2.0, 0.2], [0.1, 1.8]])
    return ctrnn.CTRNN(dims=[1, 2, 1], activation="tanh", weights=["zero", w_hid, "zero"],
                       biases=["zero", np.array([0.05, -0.03]), "zero"]).eval()


def grid(per_axis=15):
    a = np.linspace(-3, 3, per_axis)
    return np.stack(np.meshgrid(a, a), axis=-1).reshape(-1, 2)


def test_finds_the_nine_points_of_a_bistable_pair():
    fps = analysis.fixed_points(bistable_pair(), inputs=np.zeros(1), states=grid(), max_q=1e-9)
    assert len(fps) == 1 and fps.candidates == 225
    f = fps[0]
    assert len(f) == 9
    assert f.x_star.shape == (9, 2) and f.jacobians.shape == (9, 2, 2) and f.eigenvalues.shape == (9, 2)
    assert int(f.stable.sum()) == 4
    assert sorted(f.unstable_modes().tolist()) == [0] * 4 + [1] * 4 + [2]
    # F(x*) = x* up to the search's tolerance; the stability reading of the continuous system agrees.
    np.testing.assert_allclose(f.F_x_star, f.x_star, atol=1e-5)
    assert np.all((f.continuous_eigenvalues(10.0).real.max(axis=1) < 0) == f.stable)


def test_trajectories_and_sampled_candidates():
    model = bistable_pair()
    u = np.zeros((30, 4, 1), np.float32)
    v = analysis.trajectories(model, u)
    assert v.shape == (30, 4, 2) and v.dtype == np.float32
    x = analysis.sample_states(v, 50, noise_scale=0.5, seed=3)
    assert x.shape == (50, 2)
    np.testing.assert_array_equal(x, analysis.sample_states(v, 50, noise_scale=0.5, seed=3))
    fps = analysis.fixed_points(model, np.zeros(1), trajectories=v + 1.0, n=64, seed=1)
    assert fps.candidates == 64 and len(fps[0]) >= 1


def test_ensembles_get_one_record_per_network():
    model = ctrnn.CTRNN(dims=[2, 6, 1], activation="tanh", ensemble_size=3, seed=2).eval()
    states = np.random.default_rng(0).normal(size=(3, 20, 6))
    fps = analysis.fixed_points(model, np.zeros((3, 20, 2)), states, max_iters=300)
    assert len(fps) == 3
    assert all(f.x_star.shape[1] == 6 for f in fps.networks)


def test_saved_record_loads_back(tmp_path):
    fps = analysis.fixed_points(bistable_pair(), np.zeros(1), grid(5))
    path = tmp_path / "fp.safetensors"
    fps.save(path)
    back = analysis.load(path)
    np.testing.assert_array_equal(back[0].x_star, fps[0].x_star)
    np.testing.assert_array_equal(back[0].eigenvectors, fps[0].eigenvectors)
    np.testing.assert_array_equal(back[0].stable, fps[0].stable)


def test_pictures(tmp_path):
    pytest.importorskip("matplotlib")
    from ctrnn import plot

    model = bistable_pair()
    v = analysis.trajectories(model, np.random.default_rng(1).normal(size=(40, 6, 1)).astype(np.float32))
    fps = analysis.fixed_points(model, np.zeros(1), grid(), max_q=1e-9)
    for fig, name in [(analysis.plot_fixed_points(fps[0], v), "pcs.png"),
                      (analysis.plot_fixed_points(fps[0], None, n_components=3), "pcs3.png"),
                      (analysis.plot_spectra(fps[0]), "spectra.png")]:
        assert (tmp_path / name).stat().st_size > 0 if plot.save(fig, tmp_path / name) else False


@pytest.mark.parametrize("call, name", [
    (lambda m: analysis.fixed_points(m, np.zeros(1), np.zeros((4, 3))), "states"),
    (lambda m: analysis.fixed_points(m, np.zeros(1), np.zeros((0, 2))), "states"),
    (lambda m: analysis.fixed_points(m, np.zeros(1), np.array([[0.0, np.nan]])), "states"),
    (lambda m: analysis.fixed_points(m, np.zeros((3, 2)), np.zeros((4, 2))), "inputs"),
    (lambda m: analysis.fixed_points(m, np.zeros(1), np.zeros((4, 2)), max_iters=-1), "max_iters"),
    (lambda m: analysis.sample_states(np.zeros((3, 2, 2)), 0), "n"),
])
def test_bad_input_is_refused_naming_it(call, name):
    with pytest.raises(ctrnn.InvalidArgument, match=f"invalid {name}"):
        call(bistable_pair())


def test_bad_arguments_in_python():
    model = bistable_pair()
    with pytest.raises(TypeError, match="exactly one of states and trajectories"):
        analysis.fixed_points(model, np.zeros(1))
    with pytest.raises(ctrnn.InvalidArgument, match="invalid option tolq: expected one of max_iters, tol_q"):
        analysis.fixed_points(model, np.zeros(1), np.zeros((2, 2)), tolq=1)
    with pytest.raises(TypeError, match="expected a ctrnn.CTRNN"):
        analysis.fixed_points(object(), np.zeros(1), np.zeros((2, 2)))


def test_trained_decision_network_points_are_roots_scipy_confirms():
    """On a trained perceptual-decision network, every reported fixed point (q below 1e-10) is
    within 1e-5 of the root scipy.optimize.root finds from it, in float64, for the fixation input,
    no input and a stimulus."""
    scipy_optimize = pytest.importorskip("scipy.optimize")
    task = ctrnn.tasks.perceptual_decision(fixation_steps=5, stimulus_steps=15, decision_steps=5)
    model = ctrnn.CTRNN(dims=[3, 32, 2], activation="tanh", tau=50, dt=10, biases="zero", seed=1, device="cpu")
    trainer = ctrnn.Trainer(model, lr=1e-2, clip=1.0)
    for _, batch in zip(range(400), task.batches(32, seed=0)):
        trainer.step(batch["u"], batch["target"], batch["mask"])
    model.eval()
    trials = task.batch(256, seed=1)
    y, _ = model(trials["u"])
    assert task.accuracy(trials, y) > 0.7  # it learned the task
    v = analysis.trajectories(model, trials["u"])
    p = model.parameters()
    w_hid, w_in, b_in, b_hid = (p[k][0].astype(np.float64) for k in ("w_hid", "w_in", "b_in", "b_hid"))
    checked = 0
    for u in (np.array([1.0, 0.0, 0.0]), np.zeros(3), np.array([1.0, 0.8, 0.2])):
        fps = analysis.fixed_points(model, u, trajectories=v, n=256, max_q=1e-10)[0]
        drive = u @ w_in + b_in + b_hid
        residual = lambda x: model.alpha * (np.tanh(x) @ w_hid + drive - x)  # noqa: E731  F(x) - x
        for x in fps.x_star:
            root = scipy_optimize.root(residual, x)
            assert root.success, root.message
            # float32 states at q ~ 1e-13 sit ~1e-7 from the float64 root (|F - x| / alpha over the
            # smallest singular value of J - I); 1e-5 leaves room for slow directions.
            assert np.max(np.abs(root.x - x)) < 1e-5
            checked += 1
    assert checked >= 3


def test_torch_module_models_are_analysed_with_their_current_parameters():
    torch = pytest.importorskip("torch")
    import ctrnn.torch

    model = ctrnn.torch.CTRNN(dims=[2, 6, 1], activation="tanh", biases="zero", seed=2)
    with torch.no_grad():  # a change after construction must be what the analysis sees
        model.recurrent_layer.hidden_layer.weight.mul_(2.0)
    fps = analysis.fixed_points(model, np.zeros(2), np.random.default_rng(0).normal(size=(40, 6)), max_q=1e-10)
    w = model.recurrent_layer.hidden_layer.weight.detach().double().numpy()  # (post, pre)
    b = (model.recurrent_layer.hidden_layer.bias + model.recurrent_layer.input_layer.bias).detach().double().numpy()
    assert len(fps[0]) >= 1
    alpha = 0.1  # nn4n's default dt / tau
    for x in fps[0].x_star:  # F(x) = x with the module's own parameters: |F(x) - x| = sqrt(2 q) <= 1.5e-5
        np.testing.assert_allclose(alpha * (np.tanh(x) @ w.T + b - x), 0.0, atol=1.5e-5)
