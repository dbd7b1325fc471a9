"""ctrnn.torch.CTRNN: nn4n 1.1.1's CTRNN as a torch.nn.Module whose forward and BPTT are ctrnn's."""
import math
import warnings

import numpy as np
import torch

from .. import _core
from ..model import _per_layer, config_json
from . import _init
from ._function import Engine, run

_DEFAULTS = {
    "dims": [1, 100, 1], "activation": "relu", "biases": None, "weights": "uniform", "tau": 100, "dt": 10,
    "preact_noise": 0, "postact_noise": 0, "init_state": "zero", "sparsity_masks": None, "ei_masks": None,
    "plasticity_masks": None, "synapse_growth_masks": None, "ensemble_size": 1, "seed": None,
    "learn_alpha": False, "tau_max": None, "tau_plasticity": None,
}
# nn4n 1.1.1's deprecated keywords and its warnings (model/ctrnn.py, _handle_warnings).
_DIMS_KEYS = ("input_dim", "hidden_size", "output_dim")
_DEPRECATED = {
    "ei_balance": "ei_balance is deprecated. No ei_balance specification is needed.",
    "allow_negative": "allow_negative is deprecated. No allow_negative specification is needed.",
    "use_dale": "use_dale is deprecated. Use ei_masks instead. No Dale's law is applied.",
    "new_synapses": "new_synapses is deprecated. Use sparsity_masks instead. No synapse constraint is applied.",
    "learnable": "learnable is deprecated. Use `plasticity_masks` instead.",
    "positivity_constraints": "positivity_constraints is deprecated. Use `ei_masks` instead.",
    "sparsity_constraints": "sparsity_constraints is deprecated. Use sparsity_masks instead.",
    "scaling": "scaling is deprecated. Use `weights` instead.",
    "self_connections": "self_connections is deprecated. Use sparsity_masks instead.",
    "layer_distributions": "layer_distributions is deprecated. Use `weights` instead.",
    "layer_biases": "layer_biases is deprecated. Use `biases` instead.",
    "layer_masks": "layer_masks is deprecated. Use `sparsity_masks`, `ei_masks`, and `plasticity_masks` instead.",
}
_LAYER_NAMES = ("input_layer", "hidden_layer", "readout_layer")


class LinearLayer(torch.nn.Module):
    """One of the three layers, as nn4n names its parts: ``weight`` (post, pre) as torch's Linear
    (with a leading E axis for an ensemble), ``bias`` (post) (requires_grad False when the config
    said None: then it stays zero), and the masks as buffers that follow ``to()`` but are not in
    the state dict (nn4n keeps them out of it too): ``sparsity_mask`` (0/1), ``ei_mask`` (+1/-1),
    ``plasticity_mask`` (normalized scales), each (post, pre) or None; and the E/I mask as the
    bounds ``ei_low``, ``ei_high`` of the projection's clamp."""

    def __init__(self, weight, bias, bias_learned, sparsity_mask, ei_mask, plasticity_mask):
        super().__init__()
        self.input_dim, self.output_dim = weight.shape[-1], weight.shape[-2]
        self.weight = torch.nn.Parameter(weight)
        self.bias = torch.nn.Parameter(bias, requires_grad=bias_learned)
        self.bias_learned = bias_learned  # the config's: the engine takes the bias (else it stays 0)
        self.register_buffer("sparsity_mask", sparsity_mask, persistent=False)
        self.register_buffer("ei_mask", ei_mask, persistent=False)
        self.register_buffer("plasticity_mask", plasticity_mask, persistent=False)
        # Dale's law as bounds per synapse, [0, inf) from an excitatory neuron and (-inf, 0] from
        # an inhibitory one: nn4n's where(ei > 0, w.clamp(min=0), w.clamp(max=0)) as one in-place
        # clamp (20x faster at H = 64: bench/RESULTS.md, issue 19)
        excitatory = None if ei_mask is None else ei_mask > 0
        self.register_buffer("ei_low", None if ei_mask is None else torch.where(excitatory, 0.0, -math.inf),
                             persistent=False)
        self.register_buffer("ei_high", None if ei_mask is None else torch.where(excitatory, math.inf, 0.0),
                             persistent=False)
        # whether a training forward projects the weight (the masks are the config's: fixed)
        self.constrained = sparsity_mask is not None or ei_mask is not None

    def enforce_constraints(self):
        """nn4n's projection of the weight onto the masks, in place on its data (as nn4n: no
        autograd version bump)."""
        w = self.weight.data
        if self.sparsity_mask is not None:
            w.mul_(self.sparsity_mask)
        if self.ei_low is not None:
            w.clamp_(min=self.ei_low, max=self.ei_high)

    def apply_plasticity(self):
        """nn4n's apply_plasticity: the weight's gradient times the plasticity scales."""
        if self.weight.grad is None:
            raise RuntimeError("Weight gradient is None, possibly because the forward loop is non-differentiable")
        with torch.no_grad():
            self.weight.grad.mul_(self.plasticity_mask)


class RecurrentLayer(torch.nn.Module):
    """nn4n's recurrent layer: ``input_layer``, ``hidden_layer`` and ``hidden_state`` (the learned
    initial membrane potential h0 (H), requires_grad only with init_state "learn"). ``alpha`` =
    dt / tau: nn4n 1.1.1's float, a tensor for per-neuron or per-network time constants, or, with
    learn_alpha, a parameter (H) or (E, H) (nn4n 1.2.0's) kept within [alpha_min, 1]."""

    def __init__(self, input_layer, hidden_layer, hidden_state, alpha, activation, init_state, preact_noise,
                 postact_noise, learn_alpha=False, alpha_min=0.0, tau_plasticity=None):
        super().__init__()
        self.act, self.init_state = activation, init_state
        self.learn_alpha, self.alpha_min = learn_alpha, alpha_min
        self.alpha = torch.nn.Parameter(alpha) if learn_alpha else alpha
        # (H) scales of alpha's gradient in apply_plasticity (None: leave it)
        self.register_buffer("tau_plasticity", tau_plasticity, persistent=False)
        self.preact_noise, self.postact_noise = preact_noise, postact_noise
        self.hidden_size = hidden_layer.output_dim
        self.hidden_state = torch.nn.Parameter(hidden_state, requires_grad=init_state == "learn")
        self.input_layer = input_layer
        self.hidden_layer = hidden_layer


class CTRNN(torch.nn.Module):
    """nn4n 1.1.1's CTRNN as a ``torch.nn.Module``, computed by ctrnn's engine.

    Keywords and defaults are nn4n's: dims=[1, 100, 1], activation="relu" ("relu", "tanh",
    "sigmoid", "retanh"), biases=None, weights="uniform", tau=100 (also, beyond nn4n 1.1.1, a (H,)
    or (E, H) array of per-neuron time constants, or ctrnn.per_network([...])), dt=10, preact_noise=0,
    postact_noise=0, init_state="zero" ("zero", "keep", "learn"), sparsity_masks, ei_masks,
    plasticity_masks (one value or a list of three: input, hidden, readout; arrays pre x post,
    as nn4n's parameter page states), plus ensemble_size=1 and seed=None. Without a seed the
    initial weights and biases are drawn from torch's generator exactly as nn4n draws them (so
    ``torch.manual_seed`` controls them); with one, by ctrnn's seeded initialization.
    learn_alpha=True (nn4n 1.2.0's keyword; ``learn_tau`` is accepted as ctrnn.CTRNN's name for it)
    makes ``recurrent_layer.alpha`` = dt / tau a parameter, (H) or (E, H), learned with the weights
    by the user's optimizer and kept within [dt / tau_max, 1] (tau_max=None: 1000 dt) at every
    forward; tau_plasticity (H) scales alpha's gradient in ``apply_plasticity()`` (0 freezes a
    neuron's tau), as the plasticity masks scale the weights'. The noise
    comes from the engine's counter-based generator, seeded by ``seed`` (or a draw from torch's
    generator). nn4n's deprecated keywords are accepted with its warnings (input_dim, hidden_size
    and output_dim give dims; self_connections=False forbids self-connections; the others change
    nothing); any other keyword is a TypeError naming it.

    ``forward(x)``: x (T, B, I) time-major (or (E, T, B, I): one input per network) returns
    ``(outputs, [states])``: outputs (T, B, O) and firing rates (T, B, H), with a leading E axis
    for an ensemble or a 4-D x. float32 parameters run on the float engine (the CPU backend for
    CPU tensors, the CUDA backend on the tensors' GPU), float64 ones (``double()``) on the double
    CPU reference. Gradients flow to every parameter and to x through the engine's BPTT.

    Module tree and parameter names are nn4n's (``recurrent_layer.input_layer.weight`` (H, I),
    ``recurrent_layer.hidden_layer.weight`` (H, H), ``readout_layer.weight`` (O, H), the three
    ``.bias`` and ``recurrent_layer.hidden_state`` (H)), so ``load_state_dict`` takes an nn4n
    model's state dict and nn4n takes ours. Where nn4n 1.1.1 has bugs the behaviour contract
    (docs/contract.md) stands: noise in training mode without an explicit ``train()``, E/I balance
    by the E/I mask, "keep" carrying the membrane potential, d|r|/dr = 0 at 0.
    """

    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs_checkpoint = dict(kwargs)  # what save() writes, as nn4n does
        self._build(kwargs)

    # --- construction ------------------------------------------------------------------------
    def _build(self, kwargs):
        kwargs = dict(kwargs)
        kwargs.pop("suppress_warnings", None)
        if "learn_tau" in kwargs:  # ctrnn.CTRNN's name of nn4n 1.2.0's learn_alpha
            learn_tau = kwargs.pop("learn_tau")
            if "learn_alpha" in kwargs and bool(kwargs["learn_alpha"]) != bool(learn_tau):
                raise TypeError("CTRNN.__init__(): learn_tau and learn_alpha name the same setting; got "
                                f"learn_tau={learn_tau!r} and learn_alpha={kwargs['learn_alpha']!r}")
            kwargs["learn_alpha"] = learn_tau
        settings = dict(_DEFAULTS)
        self_connections = True
        if any(k in kwargs for k in _DIMS_KEYS):
            given = [kwargs.pop(k, d) for k, d in zip(_DIMS_KEYS, (1, 100, 1))]
            if "dims" not in kwargs:
                settings["dims"] = given
            warnings.warn("input_dim, output_dim, hidden_size are deprecated. Use dims instead.", UserWarning,
                          stacklevel=4)
        for key, message in _DEPRECATED.items():
            if key in kwargs:
                value = kwargs.pop(key)
                if key == "self_connections":
                    self_connections = bool(value)
                warnings.warn(message, UserWarning, stacklevel=4)
        unknown = [k for k in kwargs if k not in settings]
        if unknown:
            raise TypeError(f"CTRNN.__init__() got an unexpected keyword argument '{unknown[0]}'")
        settings.update(kwargs)
        seed = settings.pop("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise TypeError(f"CTRNN.__init__(): argument 'seed' must be a non-negative int or None, got {seed!r}")
        if seed is None:
            draws = self._nn4n_draws(settings)
            # the engine's noise seed, drawn after the weights so that those are nn4n's draws
            engine_seed = int(torch.randint(0, 2**62, ()).item())
        else:
            draws, engine_seed = None, int(seed)
        learn_alpha = settings.pop("learn_alpha")
        if not isinstance(learn_alpha, (bool, np.bool_)):
            raise TypeError(f"CTRNN.__init__(): argument 'learn_alpha' must be a bool, got {learn_alpha!r}")
        text, arrays = config_json(seed=engine_seed, self_connections=self_connections, learn_tau=bool(learn_alpha),
                                   **settings)
        self._config = (text, arrays)
        self._engines = {}
        net = self._engine(torch.float32, torch.device("cpu")).net
        params = {k: torch.from_numpy(v) for k, v in net.params().items()}  # (E, pre, post) etc.
        layers = net.layers()
        E, (I, H, O) = net.ensemble_size, net.dims
        single = E == 1

        def layout(a):  # engine (E, pre, post) -> (post, pre), with E only for an ensemble
            a = torch.as_tensor(a).transpose(-1, -2).contiguous().float()
            return a[0] if single else a

        def optional(a):
            return None if a is None else layout(a)

        masks = [(optional(d["sparsity_mask"]), optional(d["ei_mask"]), layout(d["plasticity"])) for d in layers]
        weights = [layout(params[n]) for n in ("w_in", "w_hid", "w_out")]
        biases = [params[n][0] if single else params[n] for n in ("b_in", "b_hid", "b_out")]
        if draws is not None:
            for l, (w, b) in enumerate(draws):
                if w is not None:
                    sparsity, ei, _ = masks[l]
                    if sparsity is not None:
                        w = w * sparsity
                    if ei is not None:
                        w = _init.balance(torch.where(ei > 0, w.clamp(min=0), w.clamp(max=0)), ei)
                    weights[l] = w
                if b is not None:
                    biases[l] = b
        layer = [LinearLayer(weights[l], biases[l], bool(layers[l]["bias_learnable"]), *masks[l]) for l in range(3)]
        h0 = params["h0"][0] if single else params["h0"]
        self.dims = [I, H, O]
        self.ensemble_size = E
        self.preact_noise, self.postact_noise = settings["preact_noise"], settings["postact_noise"]
        tau_plasticity = settings["tau_plasticity"]  # checked by the engine above
        if tau_plasticity is not None:
            tau_plasticity = torch.as_tensor(np.asarray(tau_plasticity, dtype=np.float64)).float()
        if learn_alpha:  # a parameter per neuron, as nn4n 1.2.0's, whatever the form of tau
            alpha = params["alpha"][0] if single else params["alpha"]
        else:  # dt / tau: a float (nn4n's), or per network and neuron (H) / (E, H)
            alpha = net.alpha
            if not isinstance(alpha, float):
                alpha = torch.from_numpy(alpha).float()
                alpha = alpha[0] if single else alpha
        self.recurrent_layer = RecurrentLayer(layer[0], layer[1], h0.float(), alpha, net.activation,
                                              net.init_state, self.preact_noise, self.postact_noise,
                                              bool(learn_alpha), net.alpha_min, tau_plasticity)
        self.readout_layer = layer[2]
        if settings["synapse_growth_masks"] is not None:
            warnings.warn("ctrnn.torch: synapse_growth_masks has no effect here (synapses grow in ctrnn.Trainer's "
                          "optimizer steps; nn4n 1.1.1 ignores it too)", UserWarning, stacklevel=4)

    @staticmethod
    def _nn4n_draws(settings):
        """nn4n's draws from torch's generator for the generated (string-specified) weights and
        biases, in nn4n's order; None where the engine's value stands (arrays, None/zero biases
        are zeros in both). Refuses nothing: the engine checks the settings next."""
        try:
            I, H, O = (int(d) for d in settings["dims"])
            E = int(settings["ensemble_size"])
            weights, biases = _per_layer("weights", settings["weights"]), _per_layer("biases", settings["biases"])
        except (TypeError, ValueError):
            return None  # the engine names what is wrong
        if min(I, H, O, E) <= 0:
            return None
        pre, post = (I, H, H), (H, H, O)
        lead = () if E == 1 else (E,)
        out = []
        for l in range(3):
            w = _init.draw(weights[l], lead + (post[l], pre[l]), pre[l]) if isinstance(weights[l], str) else None
            b = None
            if biases[l] in ("uniform", "normal"):
                b = _init.draw(biases[l], lead + (post[l],), pre[l])
            out.append((w, b))
        return out

    def _engine(self, dtype, device):
        """The engine for parameters of this dtype on this device (made at first use)."""
        key = (dtype, device.type, device.index)
        engine = self._engines.get(key)
        if engine is None:
            text, arrays = self._config
            if dtype == torch.float64:
                if device.type != "cpu":
                    raise RuntimeError(f"ctrnn.torch: float64 parameters run on the CPU only (the CUDA backend is "
                                       f"float32), got parameters on {device}")
                net = _core.DoubleNetwork(text, arrays, "cpu")
            elif dtype == torch.float32:
                if device.type == "cuda":
                    with torch.cuda.device(device):
                        net = _core.Network(text, arrays, "cuda")
                elif device.type == "cpu":
                    net = _core.Network(text, arrays, "cpu")
                else:
                    raise RuntimeError(f"ctrnn.torch: parameters on {device}: expected the CPU or a CUDA device")
            else:
                raise TypeError(f"ctrnn.torch: parameters of dtype {dtype}: expected torch.float32 or torch.float64")
            for other in self._engines.values():  # the noise stream goes on where it was
                net.forward_calls = max(net.forward_calls, other.net.forward_calls)
            engine = self._engines[key] = Engine(net, device)
        return engine

    # --- nn4n's interface ----------------------------------------------------------------------
    @property
    def layers(self):
        """[input_layer, hidden_layer, readout_layer], read from the ``_modules`` dicts without
        Module.__getattr__'s slower lookup (a microsecond each: this runs at every forward)."""
        rl = self._modules["recurrent_layer"]
        return [rl._modules["input_layer"], rl._modules["hidden_layer"], self._modules["readout_layer"]]

    def _params(self):
        """The engine's parameters in its order; None where an array is not learned (the engine
        keeps its own: zeros, or alpha = dt / tau without learn_alpha). Read from the
        ``_parameters`` dicts at every call (``torch.func.functional_call`` swaps entries there),
        as ``layers`` reads the modules: this runs at every forward."""
        rl = self._modules["recurrent_layer"]
        layers = self.layers
        out = [l._parameters["weight"] for l in layers]
        out += [l._parameters["bias"] if l.bias_learned else None for l in layers]
        out.append(rl._parameters["hidden_state"] if rl.init_state == "learn" else None)
        out.append(rl._parameters["alpha"] if rl.learn_alpha else None)  # else the engine's dt / tau
        return out

    def forward(self, x):
        """x (T, B, I) or (E, T, B, I) -> (outputs, [states]); see the class documentation."""
        return _forward(self, x)

    def _enforce_constraints(self):
        for layer in self.layers:
            if layer.constrained:
                layer.enforce_constraints()

    def _clamp_alpha(self):
        """A learned alpha into [alpha_min, 1] in place on its data (no autograd version bump, as
        the weights' projection), so that the parameter is the alpha the engine computes with
        (the engine clamps what it is given too)."""
        rl = self._modules["recurrent_layer"]
        alpha = rl._parameters["alpha"]
        if isinstance(alpha, torch.nn.Parameter):  # not a tensor functional_call swapped in
            alpha.data.clamp_(rl.alpha_min, 1.0)

    def apply_plasticity(self):
        """Scales each weight's gradient by its plasticity mask, as nn4n does, and a learned
        alpha's by tau_plasticity when given (call it between ``backward()`` and
        ``optimizer.step()``)."""
        for layer in self.layers:
            layer.apply_plasticity()
        rl = self.recurrent_layer
        if rl.learn_alpha and rl.tau_plasticity is not None and rl.alpha.grad is not None:
            with torch.no_grad():
                rl.alpha.grad.mul_(rl.tau_plasticity.to(rl.alpha.grad.dtype))

    def print_layers(self):
        """Prints nn4n's layer report (plus E/I counts and plasticity levels) of the current
        parameters."""
        engine = self._synced_engine()
        print(engine.net.print_layers(), end="")

    def plot_layers(self):
        """Plots each weight matrix (pre x post) with its distribution, as nn4n does (needs
        matplotlib); returns the figures."""
        from .. import plot

        figures = []
        for name, layer in zip(_LAYER_NAMES, self.layers):
            w = layer.weight.detach().cpu().double()
            w = w[0] if w.dim() == 3 else w  # an ensemble: the first network's
            figures.append(plot.layer(w.t().numpy(), name))
        return figures

    def _synced_engine(self):
        """The engine of the parameters' dtype and device, holding their current values."""
        w = self.recurrent_layer.hidden_layer.weight
        engine = self._engine(w.dtype, w.device)
        engine.set_params(self._params(), engine.stream())
        return engine

    def reset_state(self):
        """init_state "keep": forget the carried state (the next forward starts from zeros)."""
        for engine in self._engines.values():
            engine.net.reset_state()

    # --- nn4n's .pth files ---------------------------------------------------------------------
    def save(self, path):
        """Writes nn4n's checkpoint: ``{"model_state_dict": state_dict(), "kwargs": the
        constructor's keywords}`` (arrays in the keywords as torch tensors, which torch.load reads
        with weights_only=True)."""
        path = str(path)
        if not (path.endswith(".pth") or path.endswith(".pt")):
            raise ValueError(f"ctrnn.torch: invalid path {path!r}: expected a name ending in .pth or .pt")
        torch.save({"model_state_dict": self.state_dict(), "kwargs": _tensors(self.kwargs_checkpoint)}, path)

    def load(self, path, map_location=None, weights_only=True):
        """Reads an nn4n (or ctrnn.torch) checkpoint: rebuilds the module from its keywords and
        loads its state dict. nn4n's files whose keywords hold numpy arrays need
        weights_only=False (torch.load's unpickling of arbitrary objects: trusted files only)."""
        path = str(path)
        if not (path.endswith(".pth") or path.endswith(".pt")):
            raise ValueError(f"ctrnn.torch: invalid path {path!r}: expected a name ending in .pth or .pt")
        checkpoint = torch.load(path, map_location=map_location, weights_only=weights_only)
        if not isinstance(checkpoint, dict) or "model_state_dict" not in checkpoint or "kwargs" not in checkpoint:
            raise ValueError(f"ctrnn.torch: invalid checkpoint {path!r}: expected nn4n's "
                             "{'model_state_dict', 'kwargs'}")
        kwargs = dict(checkpoint["kwargs"])
        kwargs.pop("suppress_warnings", None)
        device = self.recurrent_layer.hidden_layer.weight.device
        self.kwargs_checkpoint = kwargs
        with warnings.catch_warnings():  # nn4n loads with suppress_warnings=True
            warnings.simplefilter("ignore")
            self._build(kwargs)
        self.load_state_dict(checkpoint["model_state_dict"])
        return self.to(device)

    def extra_repr(self):
        rl = self.recurrent_layer
        alpha = rl.alpha
        alpha = f"{alpha:g}" if isinstance(alpha, float) else f"<{alpha.min():g} to {alpha.max():g}, {tuple(alpha.shape)}>"
        if rl.learn_alpha:
            alpha += f" learned in [{rl.alpha_min:g}, 1]"
        return (f"dims={self.dims}, activation={self.recurrent_layer.act!r}, alpha={alpha}, "
                f"init_state={self.recurrent_layer.init_state!r}, ensemble_size={self.ensemble_size}")


def _tensors(value):
    """numpy arrays (also inside lists) as torch tensors."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(v) for v in value)
    if isinstance(value, dict):
        return {k: _tensors(v) for k, v in value.items()}
    return value


def _check_input(model, x, w):
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"CTRNN.forward(): argument 'x' must be a Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"CTRNN.forward(): argument 'x' must be a floating-point tensor, got {x.dtype}")
    E, I = model.ensemble_size, model.dims[0]
    if x.dim() not in (3, 4) or x.shape[-1] != I or (x.dim() == 4 and x.shape[0] != E) or x.shape[-3] == 0 \
            or x.shape[-2] == 0:
        raise ValueError(f"CTRNN.forward(): argument 'x' must have shape (T, B, {I}) or ({E}, T, B, {I}) with "
                         f"T, B >= 1, got {tuple(x.shape)}")
    if x.device != w.device:
        raise RuntimeError(f"CTRNN.forward(): argument 'x' is on {x.device}, the parameters on {w.device}: expected "
                           "all tensors to be on the same device")


@torch.compiler.disable
def _forward(model, x):
    """The forward pass outside any torch.compile graph (the engine is one opaque call)."""
    params = model._params()
    w = params[1]  # the hidden weight: its dtype and device choose the engine
    _check_input(model, x, w)
    if model.training:
        model._enforce_constraints()
    if model._modules["recurrent_layer"].learn_alpha:  # in either mode: an alpha out of (0, 1] is no dynamics
        model._clamp_alpha()
    engine = model._engine(w.dtype, w.device)
    x = x.to(w.dtype).contiguous()
    record = torch.is_grad_enabled() and (x.requires_grad or any(p is not None and p.requires_grad for p in params))
    y, r = run(engine, model.training, x, params, record)
    return y, [r]
