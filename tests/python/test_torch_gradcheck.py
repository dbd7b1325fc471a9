"""torch.autograd.gradcheck of ctrnn.torch.CTRNN in float64 (the double CPU reference): the
engine's BPTT as autograd's backward, for every activation and init_state, with sparsity, E/I and
plasticity masks, ensembles, and the input gradient (docs/contract.md "Backward pass")."""
import pytest

torch = pytest.importorskip("torch")
from torch.func import functional_call  # noqa: E402

from ctrnn.torch import CTRNN  # noqa: E402

I, H, O, T, B = 2, 5, 2, 6, 3


def masks(E, seed):
    """Sparsity (about 70% dense), E/I (first 3 of 5 hidden neurons excitatory) and 3-level
    plasticity masks, pre x post, per layer."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(I, H), (H, H), (H, O)]
    sparsity = [(torch.rand(s, generator=g) < 0.7).double().numpy() for s in shapes]
    ei = [None, None, None]
    for l in (1, 2):
        m = torch.ones(shapes[l], dtype=torch.float64)
        m[3:] = -1
        ei[l] = m.numpy()
    plasticity = [torch.randint(1, 4, s, generator=g).double().numpy() for s in shapes]
    return dict(sparsity_masks=sparsity, ei_masks=ei, plasticity_masks=plasticity)


def build(activation, init_state, E=1, with_masks=True):
    kwargs = dict(dims=[I, H, O], activation=activation, init_state=init_state, biases="uniform", ensemble_size=E,
                  seed=3)
    if with_masks:
        kwargs.update(masks(E, 4))
    model = CTRNN(**kwargs).double().eval()  # eval: no noise (none is configured either)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for layer in model.layers:
            w = layer.weight
            # Entries that Dale's law clamped to 0 get a small value of the allowed sign: a finite
            # difference across the clamp's kink is no derivative. (Masked entries are handled by
            # the sparsity product in `function` below.)
            if layer.ei_mask is not None:
                zero = w == 0
                w[zero] = 0.05 * layer.ei_mask[zero]
        if init_state == "learn":
            model.recurrent_layer.hidden_state.copy_(torch.rand(model.recurrent_layer.hidden_state.shape,
                                                                generator=g, dtype=torch.float64) - 0.5)
    return model


def function(model):
    """(x, *parameters) -> (y, r) through the module, the weights times their sparsity masks (so
    that a masked entry, which the engine's projection zeroes, has a zero derivative on both
    sides of the check)."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    sparsity = {f"{prefix}.weight": layer.sparsity_mask for prefix, layer in
                zip(("recurrent_layer.input_layer", "recurrent_layer.hidden_layer", "readout_layer"), model.layers)}

    def f(x, *params):
        values = {}
        for n, p in zip(names, params):
            s = sparsity.get(n)
            values[n] = p if s is None else p * s
        if model.recurrent_layer.init_state == "keep":
            model.reset_state()  # every call starts from zeros: a function of its inputs only
        y, [r] = functional_call(model, values, (x,))
        return y, r

    inputs = [p.detach().clone().requires_grad_(True) for n, p in model.named_parameters() if p.requires_grad]
    return f, inputs


@pytest.mark.parametrize("init_state", ["zero", "keep", "learn"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "retanh"])
def test_gradcheck_every_activation_and_init_state_with_masks(activation, init_state):
    model = build(activation, init_state)
    f, params = function(model)
    x = torch.randn(T, B, I, dtype=torch.float64, generator=torch.Generator().manual_seed(6), requires_grad=True)
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("per_network_x", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_gradcheck_ensemble_with_shared_and_per_network_inputs(activation, per_network_x):
    E = 2
    model = build(activation, "learn", E=E)
    f, params = function(model)
    shape = (E, T, B, I) if per_network_x else (T, B, I)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(7), requires_grad=True)
    assert torch.autograd.gradcheck(f, (x, *params), eps=1e-6, atol=1e-7, rtol=1e-5)


def test_gradcheck_without_masks_and_only_the_input():
    model = build("sigmoid", "zero", with_masks=False)
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.randn(T, B, I, dtype=torch.float64, generator=torch.Generator().manual_seed(8), requires_grad=True)

    def f(x):
        y, [r] = model(x)
        return y, r

    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7, rtol=1e-5)
