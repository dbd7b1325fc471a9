"""ctrnn.torch.CTRNN as a torch.nn.Module: autograd semantics (no_grad, accumulation, freed graphs,
double backward, replayed forwards), modes and constraints, plasticity, dtypes, nn4n's keywords,
bad arguments, torch.compile, and the GPU (skipped without one)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import ctrnn  # noqa: E402
from ctrnn.torch import CTRNN, RNNLoss  # noqa: E402

I, H, O, T, B = 3, 12, 2, 9, 4


def dale(pre, post, excitatory):
    return np.where(np.arange(pre)[:, None] < excitatory, 1.0, -1.0) * np.ones((pre, post))


def inputs(seed=0, shape=(T, B, I), dtype=torch.float32):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_import_ctrnn_does_not_import_torch():
    code = "import sys, ctrnn; m = ctrnn.CTRNN(dims=[1, 4, 1], device='cpu'); assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_grad_forward_keeps_no_graph_and_a_graph_forward_does():
    model = CTRNN(dims=[I, H, O], seed=1)
    with torch.no_grad():
        y, [r] = model(inputs())
    assert y.grad_fn is None and r.grad_fn is None
    y, [r] = model(inputs())
    assert y.grad_fn is not None and r.grad_fn is not None
    assert y.shape == (T, B, O) and r.shape == (T, B, H)


def test_gradients_accumulate_and_set_to_none_is_respected():
    model = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", seed=2).eval()
    x = inputs()
    model(x)[0].square().sum().backward()
    first = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model(x)[0].square().sum().backward()
    for n, p in model.named_parameters():
        if p.requires_grad:
            torch.testing.assert_close(p.grad, 2 * first[n], rtol=1e-6, atol=0)
    model.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in model.parameters())
    # parameters that do not require grad get none (the bias of a layer whose biases entry is None)
    plain = CTRNN(dims=[I, H, O], seed=2)
    plain(x)[0].sum().backward()
    assert plain.readout_layer.bias.grad is None and plain.readout_layer.weight.grad is not None


def test_losses_on_outputs_and_rates_both_reach_the_parameters():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=3).eval()
    x = inputs().requires_grad_(True)
    y, [r] = model(x)
    (y.sum() + r.square().sum()).backward()
    g_both = model.recurrent_layer.hidden_layer.weight.grad.clone()
    model.zero_grad()
    x.grad = None
    y, [r] = model(x)
    y.sum().backward()
    assert not torch.allclose(model.recurrent_layer.hidden_layer.weight.grad, g_both)
    assert x.grad is not None and x.grad.shape == x.shape


def test_backward_twice_and_double_backward_fail_as_torch_does():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=4)
    loss = model(inputs())[0].sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    # Double backward: the engine's BPTT is differentiable once (torch's once_differentiable).
    x = inputs().requires_grad_(True)
    y, _ = model(x)
    v = torch.ones_like(y, requires_grad=True)
    (gx,) = torch.autograd.grad(y, x, grad_outputs=v, create_graph=True)
    with pytest.raises(RuntimeError, match="differentiate twice"):
        gx.sum().backward()
    y, _ = model(x)
    (gx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        gx.sum().backward()


def test_a_backward_after_an_optimizer_step_fails_as_torch_does():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=4)
    loss = model(inputs())[0].sum()
    with torch.no_grad():
        model.recurrent_layer.hidden_layer.weight.add_(0.01)  # what optimizer.step() does
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_backward_after_a_later_forward_replays_its_own_forward():
    """The engine keeps its last forward's trace: the first forward's backward, after a second
    forward on other inputs, must still give the first forward's gradients (noise included)."""
    model = CTRNN(dims=[I, H, O], activation="tanh", preact_noise=0.1, postact_noise=0.05, seed=5)
    x1, x2 = inputs(1), inputs(2)
    calls = model._engine(torch.float32, torch.device("cpu")).net.forward_calls
    y1, [r1] = model(x1)
    (y1.sum() + r1.sum()).backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    model._engine(torch.float32, torch.device("cpu")).net.forward_calls = calls  # the same noise again
    y1b, [r1b] = model(x1)
    torch.testing.assert_close(y1b, y1, rtol=0, atol=0)
    y2, _ = model(x2)
    (y1b.sum() + r1b.sum()).backward()
    for n, g in expected.items():
        torch.testing.assert_close(model.get_parameter(n).grad, g, rtol=0, atol=0, msg=n)


def test_a_replay_in_keep_mode_starts_from_its_own_carried_state_and_restores_the_later_one():
    model = CTRNN(dims=[I, H, O], activation="tanh", init_state="keep", seed=5).eval()
    twin = CTRNN(dims=[I, H, O], activation="tanh", init_state="keep", seed=5).eval()
    x = inputs(1)
    model(x)  # a carried state to start from
    y1, _ = model(x)
    y1.sum().backward()
    expected = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    model.reset_state()
    model(x)
    y1b, _ = model(x)
    y2, _ = model(x)
    y1b.sum().backward()  # replays the second forward from its carried state
    for n, g in expected.items():
        torch.testing.assert_close(model.get_parameter(n).grad, g, rtol=0, atol=0, msg=n)
    with torch.no_grad():
        for _ in range(3):
            twin(x)
        torch.testing.assert_close(model(x)[0], twin(x)[0], rtol=0, atol=0)  # the later state was restored


def test_every_forward_computes_with_the_parameters_current_values():
    """The engine takes the parameters at every forward, whatever changed them since the last one:
    an in-place edit (which bumps torch's version counter), an edit through .data (which does
    not, as nn4n's own constraint code and many user scripts do), load_state_dict, an optimizer
    step, or a new tensor put in as .data. Each forward is compared with a fresh model holding the
    same values."""
    model = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn", seed=21).eval()
    x = inputs()

    def check():
        twin = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn", seed=22).eval()
        twin.load_state_dict(model.state_dict())
        with torch.no_grad():
            torch.testing.assert_close(model(x)[0], twin(x)[0], rtol=0, atol=0)

    model(x)  # the engine holds these values now
    w = model.recurrent_layer.hidden_layer.weight
    with torch.no_grad():
        w.mul_(1.5)
    check()
    model.readout_layer.weight.data.add_(0.1)  # no version bump
    check()
    model.recurrent_layer.hidden_layer.bias.data[0] = 2.0
    check()
    other = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn", seed=23)
    model.load_state_dict(other.state_dict())
    check()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    model(x)[0].square().sum().backward()
    optimizer.step()
    check()
    w.data = torch.randn(H, H, generator=torch.Generator().manual_seed(24)) * 0.3  # new storage
    check()
    model.recurrent_layer.hidden_state.data.fill_(0.3)
    check()


def test_outputs_are_not_views_and_gradients_come_in_the_parameters_layout():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=25).eval()
    y, [r] = model(inputs())
    assert y._base is None and r._base is None  # editable in place like any other output
    seen = {}
    w = model.recurrent_layer.hidden_layer.weight
    w.register_hook(lambda g: seen.setdefault("g", g))
    (y.mul_(2).sum() + r.sum()).backward()
    assert seen["g"].shape == w.shape and w.grad.shape == w.shape and w.grad.is_contiguous()
    # the hook saw the same values that landed in .grad
    torch.testing.assert_close(w.grad, seen["g"], rtol=0, atol=0)


@pytest.mark.parametrize("E, x_shape", [(1, (T, B, I)), (1, (1, T, B, I)), (2, (T, B, I)), (2, (2, T, B, I))])
def test_the_gpus_hand_over_gives_the_cpus_results(E, x_shape):
    """The hand-over a GPU engine gets (dense weights in the engine's layout, gradients written
    through transposed views of dense arrays: _function.py's Engine with host False), run on the
    CPU backend, gives the results of the CPU's (torch's tensors as they are) bit for bit: every
    kind of parameter, losses on outputs and rates and on the rates alone, one network and an
    ensemble, shared and per-network inputs."""
    def build():
        return CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn", learn_alpha=True,
                     tau=[100.0 + 10 * j for j in range(H)], ensemble_size=E, seed=27).eval()
    cpu, gpu_like = build(), build()
    engine = gpu_like._engine(torch.float32, torch.device("cpu"))
    engine.host = False
    for k, p in enumerate(gpu_like._params()):  # what a GPU engine takes: dense arrays in its layout
        a, g = engine.to_engine(k, p), engine.new_gradient(k, p)
        assert a.shape == g.shape == p.shape
        assert (a.mT.is_contiguous() and g.mT.is_contiguous()) if k < 3 else (a.is_contiguous() and g.is_contiguous())
    for loss in (lambda y, r: y.square().sum() + r.sum(), lambda y, r: r.square().sum()):
        results = []
        for model in (cpu, gpu_like):
            model.zero_grad(set_to_none=True)
            x = inputs(28, x_shape).requires_grad_(True)
            y, [r] = model(x)
            loss(y, r).backward()
            grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
            assert all(g.shape == p.shape for g, p in zip(grads.values(), (p for p in model.parameters()
                                                                           if p.requires_grad)))
            results.append((y.detach(), r.detach(), x.grad, grads))
        (y_a, r_a, dx_a, g_a), (y_b, r_b, dx_b, g_b) = results
        assert y_a.shape == x_shape[:-3] + (T, B, O) if E == 1 else y_a.shape == (E, T, B, O)
        for a, b in ((y_a, y_b), (r_a, r_b), (dx_a, dx_b)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert set(g_a) == set(g_b) and len(g_a) == 8
        for n in g_a:
            torch.testing.assert_close(g_a[n], g_b[n], rtol=0, atol=0, msg=n)


def test_a_parameter_of_other_strides_gets_its_gradient_in_its_own_layout():
    """A weight whose data has transposed strides (``w.data = ...t()``, as scripts do) is read with
    its values and gets its gradient from the engine with its own strides (so torch's accumulation
    takes it without a copy), equal to a contiguous twin's."""
    x = inputs()
    dense, strided = (CTRNN(dims=[I, H, O], activation="tanh", seed=29).eval() for _ in range(2))
    given = []  # the gradients as the engine's backward returns them, before accumulation
    for layer in strided.layers:
        layer.weight.data = layer.weight.detach().t().contiguous().t()
        assert not layer.weight.is_contiguous()
        layer.weight.register_hook(given.append)
    for model in (dense, strided):
        y, [r] = model(x)
        (y.square().sum() + r.sum()).backward()
    assert [g.stride() for g in given] == [layer.weight.stride() for layer in strided.layers]
    for a, b in zip(dense.layers, strided.layers):
        torch.testing.assert_close(b.weight.grad, a.weight.grad, rtol=0, atol=0)


def test_a_frozen_parameter_gets_no_gradient_and_the_others_theirs():
    x = inputs()
    full = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", seed=26).eval()
    frozen = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", seed=26).eval()
    frozen.recurrent_layer.hidden_layer.weight.requires_grad_(False)
    frozen.readout_layer.bias.requires_grad_(False)
    for model in (full, frozen):
        model(x)[0].square().sum().backward()
    for (name, p), q in zip(full.named_parameters(), frozen.parameters()):
        if not q.requires_grad:
            assert q.grad is None, name
        elif p.requires_grad:
            torch.testing.assert_close(q.grad, p.grad, rtol=0, atol=0, msg=name)


def test_training_mode_adds_noise_and_eval_mode_none():
    model = CTRNN(dims=[I, H, O], preact_noise=0.2, postact_noise=0.1, seed=6)
    x = inputs()
    with torch.no_grad():
        assert not torch.equal(model(x)[0], model(x)[0])  # training (the default): fresh noise per call
        model.eval()
        assert torch.equal(model(x)[0], model(x)[0])


def test_training_forward_projects_weights_in_place_as_nn4n():
    sparsity = (np.random.default_rng(0).random((H, H)) < 0.5).astype(float)
    model = CTRNN(dims=[I, H, O], sparsity_masks=[None, sparsity, None], ei_masks=[None, dale(H, H, 8), None], seed=7)
    w = model.recurrent_layer.hidden_layer.weight
    with torch.no_grad():
        w.fill_(-0.1)  # breaks both masks
    model.eval()
    model(inputs())
    assert torch.all(w == -0.1)  # eval mode leaves the parameter alone (the engine projects its copy)
    model.train()
    model(inputs())
    expected = torch.from_numpy(np.where(sparsity * dale(H, H, 8) < 0, -0.1, 0.0).T).float()
    torch.testing.assert_close(w.detach(), expected, rtol=0, atol=0)


def test_eval_forward_computes_with_projected_weights():
    """docs/contract.md: every write is projected, so an eval forward with a mask-breaking
    parameter equals the forward with the projected one."""
    ei = dale(H, H, 8)
    model = CTRNN(dims=[I, H, O], ei_masks=[None, ei, None], activation="tanh", seed=8).eval()
    with torch.no_grad():
        model.recurrent_layer.hidden_layer.weight.normal_(0, 0.3)
    broken = model(inputs())[0]
    model.train()
    model(inputs())  # projects in place
    model.eval()
    torch.testing.assert_close(model(inputs())[0], broken, rtol=0, atol=0)


def test_apply_plasticity_scales_the_weight_gradients():
    plasticity = np.random.default_rng(1).choice([0.0, 1.0, 3.0], size=(H, H))
    model = CTRNN(dims=[I, H, O], plasticity_masks=[None, plasticity, None], activation="tanh", seed=9).eval()
    model(inputs())[0].sum().backward()
    g = model.recurrent_layer.hidden_layer.weight.grad.clone()
    g_in = model.recurrent_layer.input_layer.weight.grad.clone()
    model.apply_plasticity()
    scale = torch.from_numpy(plasticity / 3.0).float().t()  # normalized to [0, 1] over the masks
    torch.testing.assert_close(model.recurrent_layer.hidden_layer.weight.grad, g * scale)
    torch.testing.assert_close(model.recurrent_layer.input_layer.weight.grad, g_in)  # no mask: ones
    fresh = CTRNN(dims=[I, H, O], seed=9)
    with pytest.raises(RuntimeError, match="gradient is None"):
        fresh.apply_plasticity()


def test_ensemble_shapes_and_per_network_inputs():
    E = 3
    model = CTRNN(dims=[I, H, O], ensemble_size=E, seed=10)
    assert model.recurrent_layer.hidden_layer.weight.shape == (E, H, H)
    assert model.readout_layer.bias.shape == (E, O)
    y, [r] = model(inputs())
    assert y.shape == (E, T, B, O) and r.shape == (E, T, B, H)
    x = inputs(shape=(E, T, B, I)).requires_grad_(True)
    y, [r] = model(x)
    loss, terms = RNNLoss(model, lambda_fr=0.1, lambda_hid=0.1)(y, torch.zeros_like(y), states=[r])
    loss.backward()
    assert x.grad.shape == x.shape and terms.shape == (3,)


def test_double_runs_the_double_engine_close_to_float():
    model = CTRNN(dims=[I, H, O], activation="tanh", biases="uniform", init_state="learn", seed=11).eval()
    x = inputs()
    y32 = model(x)[0]
    model.double()
    y64 = model(x.double())[0]
    assert y64.dtype == torch.float64
    torch.testing.assert_close(y64.float(), y32, rtol=1e-5, atol=1e-6)  # float32 rounding over T steps
    model.float()
    torch.testing.assert_close(model(x)[0], y32, rtol=0, atol=0)


def test_rnnloss_equals_its_definition():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=12)
    y, [r] = model(inputs())
    label = torch.ones_like(y)
    loss = RNNLoss(model, lambda_mse=2, lambda_in=0.1, lambda_hid=0.2, lambda_out=0.3, lambda_fr=0.4, lambda_fr_sd=0.5,
                   lambda_fr_cv=0.6)
    total, terms = loss(y, label, states=r)
    w = [layer.weight for layer in model.layers]
    m = r.mean(dim=(0, 1))
    c = r.abs().mean(dim=0)
    expected = torch.stack([2 * (y - label).square().mean(), 0.1 * w[0].square().sum() / (I * H),
                            0.2 * w[1].square().sum() / (H * H), 0.3 * w[2].square().sum() / (H * O),
                            0.4 * m.square().mean(), 0.5 * m.square().std(), 0.6 * c.std() / c.mean()])
    torch.testing.assert_close(terms, expected)
    torch.testing.assert_close(total, expected.sum())
    assert RNNLoss(model)(y, label)[1].shape == (1,)  # only the non-zero terms, as nn4n


def test_nn4n_deprecated_keywords_warn():
    with pytest.warns(UserWarning, match="deprecated"):
        model = CTRNN(input_dim=2, hidden_size=7, output_dim=3, seed=13)
    assert model.dims == [2, 7, 3]
    with pytest.warns(UserWarning, match="self_connections is deprecated"):
        model = CTRNN(dims=[I, H, O], self_connections=False, seed=14)
    w = model.recurrent_layer.hidden_layer.weight.detach()
    assert torch.all(torch.diagonal(w) == 0)  # honoured: no self-connections
    with pytest.warns(UserWarning, match="use_dale is deprecated"):
        CTRNN(dims=[I, H, O], use_dale=True, seed=15)


@pytest.mark.parametrize("kwargs, error, name", [
    (dict(dims=[I, 0, O]), ValueError, "dims"),
    (dict(activation="softplus"), ValueError, "activation"),
    (dict(tau=1, dt=10), ValueError, "alpha"),
    (dict(init_state="random"), ValueError, "init_state"),
    (dict(ei_masks=[None, np.ones((H + 1, H)), None]), ValueError, "ei_masks"),
    (dict(not_a_keyword=1), TypeError, "not_a_keyword"),
    (dict(seed=-1), TypeError, "seed"),
])
def test_bad_constructor_arguments_are_named(kwargs, error, name):
    args = dict(dims=[I, H, O])
    args.update(kwargs)
    with pytest.raises(error, match=name):
        CTRNN(**args)


def test_bad_forward_arguments_are_named():
    model = CTRNN(dims=[I, H, O], seed=16)
    with pytest.raises(TypeError, match="'x'"):
        model(np.zeros((T, B, I), dtype=np.float32))
    with pytest.raises(TypeError, match="'x'"):
        model(torch.zeros((T, B, I), dtype=torch.int64))
    for shape in [(T, B), (T, B, I + 1), (2, T, B, I), (0, B, I)]:
        with pytest.raises(ValueError, match="'x'"):
            model(torch.zeros(shape))
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(CTRNN(dims=[I, H + 1, O], seed=16).state_dict())
    with pytest.raises(ValueError, match="path"):
        model.save("model.bin")


def test_torch_compile_runs_the_module():
    model = CTRNN(dims=[I, H, O], activation="tanh", seed=17).eval()
    compiled = torch.compile(model)
    x = inputs()
    y, [r] = compiled(x)
    torch.testing.assert_close(y, model(x)[0], rtol=0, atol=0)
    y.sum().backward()
    assert model.recurrent_layer.hidden_layer.weight.grad is not None


def test_print_and_plot_layers(capsys):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model = CTRNN(dims=[I, H, O], ei_masks=[None, dale(H, H, 8), None], seed=18)
    with torch.no_grad():
        model.readout_layer.weight.fill_(0.25)
    model.print_layers()
    out = capsys.readouterr().out
    assert "0.25" in out  # the current parameters, not the initial ones
    figures = model.plot_layers()
    assert len(figures) == 3


def test_keep_mode_carries_the_membrane_potential():
    model = CTRNN(dims=[I, H, O], init_state="keep", activation="tanh", seed=19).eval()
    x = inputs()
    with torch.no_grad():
        first, second = model(x)[0], model(x)[0]
        assert not torch.equal(first, second)
        model.reset_state()
        torch.testing.assert_close(model(x)[0], first, rtol=0, atol=0)


gpu = pytest.mark.skipif(not (torch.cuda.is_available() and ctrnn.cuda_available()),
                         reason="needs a GPU and the extension's CUDA backend")


@gpu
def test_cuda_equals_cpu_without_moving_parameters():
    torch.manual_seed(20)
    cpu = CTRNN(dims=[I, 64, O], activation="tanh", biases="uniform", init_state="learn", seed=20)
    gpu_model = CTRNN(dims=[I, 64, O], activation="tanh", biases="uniform", init_state="learn", seed=20).cuda()
    pointers = {n: p.data_ptr() for n, p in gpu_model.named_parameters()}
    x = inputs()
    opt_cpu = torch.optim.Adam(cpu.parameters(), lr=1e-3)
    opt_gpu = torch.optim.Adam(gpu_model.parameters(), lr=1e-3)
    for _ in range(3):
        for model, opt, xx in ((cpu, opt_cpu, x), (gpu_model, opt_gpu, x.cuda())):
            y, [r] = model(xx)
            loss = y.square().mean() + r.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    # cuBLAS and OpenBLAS sum in other orders: float32 rounding through 3 steps (docs: 1e-4)
    for (n, a), (_, b) in zip(cpu.named_parameters(), gpu_model.named_parameters()):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-4, atol=1e-5, msg=n)
    assert {n: p.data_ptr() for n, p in gpu_model.named_parameters()} == pointers


@gpu
def test_cuda_work_is_ordered_on_a_side_stream():
    model = CTRNN(dims=[I, 64, O], activation="tanh", seed=21).cuda().eval()
    x = inputs().cuda()
    expected = model(x)[0]
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        x_side = x * 1.0  # queued on the side stream, read by the engine after it
        y, _ = model(x_side)
        y_copy = y.clone()
    side.synchronize()
    torch.testing.assert_close(y_copy, expected, rtol=0, atol=0)
