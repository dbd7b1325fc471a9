"""ctrnn.CTRNN: nn4n's CTRNN (version 1.1.1) on the C++/CUDA engine."""
import json
import threading
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _arrays, _core
from ._per_network import hyper, time_constants

_LAYERS = ("input", "hidden", "readout")
_PER_LAYER = ("biases", "weights", "sparsity_masks", "ei_masks", "plasticity_masks", "synapse_growth_masks")


@dataclass
class Layer:
    """One layer as ``CTRNN.layers`` reports it. Arrays are pre x post, (pre, post) for a single
    network and (E, pre, post) for an ensemble; weights are as the forward pass uses them (after
    the masks are applied)."""

    name: str
    pre: int
    post: int
    weight: np.ndarray
    bias: np.ndarray
    weight_learnable: bool
    bias_learnable: bool
    sparsity_mask: Optional[np.ndarray]
    ei_mask: Optional[np.ndarray]
    plasticity: np.ndarray
    growth_probability: Optional[np.ndarray]


def _per_layer(name, value):
    """nn4n's broadcasting: one value for all three layers, or a list of three."""
    if isinstance(value, (list, tuple)):
        if len(value) != 3:
            raise ValueError(f"ctrnn: invalid {name}: expected one value or a list of three (input, hidden, "
                             f"readout), got a list of {len(value)}")
        return list(value)
    if value is None or isinstance(value, (str, int, float)):
        return [value] * 3
    raise TypeError(f"ctrnn: invalid {name}: expected one value or a list of three (one per layer), "
                    f"got {type(value).__name__}; give arrays in a list: [input, hidden, readout]")


def _spec(name, value, arrays):
    """The JSON form of one layer's value; arrays go to `arrays`, referenced by name."""
    if value is None or isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    arrays[name] = _arrays.config_array(name, value)
    return {"tensor": name}


class CTRNN:
    """A continuous-time RNN (an ensemble of ``ensemble_size`` independent networks), with nn4n
    1.1.1's parameters and defaults:

    dims=[1, 100, 1], activation="relu" ("relu", "tanh", "sigmoid", "retanh"), biases=None,
    weights="uniform", tau=100, dt=10, preact_noise=0, postact_noise=0, init_state="zero"
    ("zero", "keep", "learn"), sparsity_masks=None, ei_masks=None, plasticity_masks=None,
    synapse_growth_masks=None; plus ensemble_size=1, seed=0 (all random draws), first_network=0
    (network e draws its weights and noise as network first_network + e of the seed's streams:
    ``first_network=k`` with ensemble_size=1 reruns network k of an ensemble alone) and device
    ("auto": the GPU when present, "cpu", "cuda") and math ("fp32", or "tf32" on the GPU).

    tau is one number, ``ctrnn.per_network([...])`` (one per network), a (H,) array (one per hidden
    neuron) or a (E, H) array (each network's neurons); preact_noise and postact_noise one number or
    ``ctrnn.per_network([...])``. Network k of an ensemble then runs exactly as a one-network model
    with its values and ``first_network=k``.

    learn_tau=True learns the time constants with the weights: alpha = dt / tau (E, H) becomes a
    parameter (``parameters()["alpha"]``), kept within [dt / tau_max, 1] (tau_max: None for 1000
    dt); tau_plasticity (H,) scales each neuron's alpha update (0 freezes its tau). See the
    behaviour contract, "Learned time constants".

    Per-layer values (biases, weights, masks) are one value for all three layers or a list of
    three (input, hidden, readout). Arrays (numpy or nested lists, any real dtype) are **pre x
    post** (row = source neuron): input (I, H), hidden (H, H), readout (H, O); biases (post,);
    each optionally with a leading E axis (one per network). nn4n's own parameter tensors
    (``layer.weight`` in its state dict) are post x pre: convert them with ``from_nn4n``.

    Differences from nn4n 1.1.1 (its bugs; see the behaviour contract): training mode (the
    default) adds noise without an explicit ``train()``; E/I balance uses the E/I mask; "keep"
    carries the membrane potential; weight arrays are used as given (pre x post); plasticity
    scales each optimizer update and allows any number of levels.

    Invalid arguments raise ``ctrnn.InvalidArgument`` (a ValueError) naming the parameter.

    Threads: the engine releases the GIL during its calls, so several threads can compute at
    once. Calls on one model (and on the trainers of it) run one at a time, each whole, in the
    order the threads get to them; different models run in parallel.
    """

    # Serializes the engine calls on this model and its trainers (self._lock, an RLock, so that a
    # composite call such as Trainer.fit's validation holds it across its parts): two calls on one
    # network at once would mix its buffers, forward trace and noise counter.

    def __init__(self, dims=(1, 100, 1), activation="relu", biases=None, weights="uniform", tau=100, dt=10,
                 preact_noise=0, postact_noise=0, init_state="zero", sparsity_masks=None, ei_masks=None,
                 plasticity_masks=None, synapse_growth_masks=None, ensemble_size=1, seed=0, device="auto",
                 math="fp32", first_network=0, learn_tau=False, tau_max=None, tau_plasticity=None):
        text, arrays = config_json(dims=dims, activation=activation, biases=biases, weights=weights, tau=tau, dt=dt,
                                   preact_noise=preact_noise, postact_noise=postact_noise, init_state=init_state,
                                   sparsity_masks=sparsity_masks, ei_masks=ei_masks, plasticity_masks=plasticity_masks,
                                   synapse_growth_masks=synapse_growth_masks, ensemble_size=ensemble_size, seed=seed,
                                   first_network=first_network, learn_tau=learn_tau, tau_max=tau_max,
                                   tau_plasticity=tau_plasticity)
        self._net = _core.Network(text, arrays, str(device), str(math))
        self._lock = threading.RLock()

    checkpoint_metadata = {}  # a loaded model: the checkpoint's metadata (config, task, step, ...)

    @classmethod
    def _wrap(cls, network, metadata=None):
        model = cls.__new__(cls)
        model._net = network
        model._lock = threading.RLock()
        model.checkpoint_metadata = dict(metadata or {})
        return model

    # --- nn4n's interface -------------------------------------------------------------------
    def forward(self, u, out=None):
        """Runs the networks on inputs u: (T, B, I) shared by all networks, or (E, T, B, I).

        Returns ``(outputs, [states])`` as nn4n does: outputs (T, B, O) and states (T, B, H) for
        a single network and 3-D input; with an ensemble or 4-D input both carry the leading E
        axis. float32 arrays of u's kind on u's device (numpy for numpy, torch tensors for torch,
        CuPy arrays for CuPy), written in place by the engine: a CUDA tensor is read on its device
        and the results stay there, ordered on the framework's current stream.

        out: optional ``(y, r)`` float32 C-contiguous arrays of shapes (E, T, B, O) and (E, T, B,
        H) to write the results into (no allocation); they are what is returned (squeezed as above).
        """
        u, frame = _arrays.data("u", u)
        E, (_, H, O) = self._net.ensemble_size, self._net.dims
        T, B = (u.shape[-3], u.shape[-2]) if u.ndim in (3, 4) else (0, 0)  # else the library refuses u
        y_out, r_out = (None, None) if out is None else _out_pair(out)
        y = _arrays.output("y", y_out, frame, (E, T, B, O))
        r = _arrays.output("r", r_out, frame, (E, T, B, H))
        with self._lock:
            self._net.forward(u, y, r, frame.stream())
        if y_out is not None:
            y, r = y_out, r_out
        if u.ndim == 3 and E == 1:
            y, r = y[0], r[0]
        return y, [r]

    __call__ = forward

    def train(self):
        """Training mode (the default): noise is added."""
        with self._lock:
            self._net.train()
        return self

    def eval(self):
        """Evaluation mode: no noise."""
        with self._lock:
            self._net.eval()
        return self

    @property
    def training(self):
        with self._lock:
            return self._net.training

    def print_layers(self):
        """Prints nn4n's layer report (plus E/I counts and plasticity levels)."""
        with self._lock:
            text = self._net.print_layers()
        print(text, end="")

    @property
    def layers(self):
        """The three layers (input, hidden, readout) as ``ctrnn.Layer`` records."""
        single = self._net.ensemble_size == 1
        out = []
        with self._lock:
            layers = self._net.layers()
        for d in layers:
            if single:
                d = {k: (v[0] if isinstance(v, np.ndarray) else v) for k, v in d.items()}
            out.append(Layer(**d))
        return out

    # --- parameters --------------------------------------------------------------------------
    def parameters(self):
        """Every parameter as float32 arrays with the leading E axis: w_in (E, I, H), w_hid
        (E, H, H), w_out (E, H, O), b_in, b_hid (E, H), b_out (E, O), h0 (E, H), alpha = dt / tau
        (E, H). Copies."""
        with self._lock:
            return self._net.params()

    def set_weight(self, layer, weight):
        """layer: 0/"input", 1/"hidden", 2/"readout"; weight (pre, post) or (E, pre, post)."""
        w = _arrays.host_data("weight", weight)
        with self._lock:
            self._net.set_weight(_layer_index(layer), w)

    def set_bias(self, layer, bias):
        b = _arrays.host_data("bias", bias)
        with self._lock:
            self._net.set_bias(_layer_index(layer), b)

    def set_initial_state(self, h0):
        """h0 (H,) or (E, H); init_state="learn" only."""
        h = _arrays.host_data("h0", h0)
        with self._lock:
            self._net.set_initial_state(h)

    def reset_state(self):
        """init_state="keep": forget the carried state."""
        with self._lock:
            self._net.reset_state()

    def backward(self, dy, dr=None, input_gradient=False):
        """Gradients of the last forward: dy = dL/dy (E, T, B, O), optional dr = dL/dr (E, T, B, H).
        Returns a dict of arrays like ``parameters()`` (zero for parameters that are not learned),
        of dy's kind on dy's device (written there by the engine, without a host round trip).
        input_gradient=True adds "u": dL/du shaped as the forward's u ((T, B, I), summed over the
        networks, for a shared u; (E, T, B, I) for a per-network u)."""
        dy, frame = _arrays.data("dy", dy)
        dr, _ = _arrays.data("dr", dr, allow_none=True)
        grads = {name: frame.empty(shape) for name, shape in self._net.param_shapes().items()}
        with self._lock:
            du = frame.empty(self._net.input_shape()) if input_gradient else None
            self._net.backward(dy, dr, list(grads.values()), frame.stream(), du)
        if input_gradient:
            grads["u"] = du
        return grads

    # --- facts -------------------------------------------------------------------------------
    dims = property(lambda self: list(self._net.dims))
    ensemble_size = property(lambda self: self._net.ensemble_size)
    alpha = property(lambda self: self._net.alpha,
                     doc="dt / tau: a float when one tau for all, else an (E, H) array (each network's neurons)")
    activation = property(lambda self: self._net.activation)
    init_state = property(lambda self: self._net.init_state)
    device = property(lambda self: self._net.device, doc='"cpu" or "cuda": where it computes')

    def __repr__(self):
        alpha = self.alpha
        alpha = f"{alpha:g}" if isinstance(alpha, float) else f"<{alpha.min():g} to {alpha.max():g}, (E, H)>"
        return (f"ctrnn.CTRNN(dims={self.dims}, activation={self.activation!r}, alpha={alpha}, "
                f"ensemble_size={self.ensemble_size}, device={self.device!r})")

    # --- checkpoints -------------------------------------------------------------------------
    def save(self, path, trainer=None):
        """Writes a checkpoint (the CLI's safetensors format, written atomically); with a trainer,
        its optimizer state too, so that ``ctrnn.load(path, with_trainer=True)`` resumes."""
        with self._lock:
            _core.save_checkpoint(str(path), self._net, None if trainer is None else trainer._trainer)


def config_json(*, dims, activation, biases, weights, tau, dt, preact_noise, postact_noise, init_state, sparsity_masks,
                ei_masks, plasticity_masks, synapse_growth_masks, ensemble_size, seed, self_connections=True,
                first_network=0, learn_tau=False, tau_max=None, tau_plasticity=None):
    """The engine's config (``_core.Network``'s arguments): JSON text with nn4n's names, and its
    arrays (name -> float64 array) referenced from it."""
    arrays = {}
    config = {
        "dims": list(dims) if isinstance(dims, tuple) else dims, "activation": activation,
        "tau": time_constants(tau), "dt": dt, "preact_noise": hyper("preact_noise", preact_noise),
        "postact_noise": hyper("postact_noise", postact_noise), "init_state": init_state,
        "ensemble_size": ensemble_size, "seed": seed, "self_connections": self_connections,
        "first_network": first_network, "learn_tau": learn_tau,
    }
    if tau_max is not None:
        config["tau_max"] = tau_max
    if tau_plasticity is not None:
        config["tau_plasticity"] = np.asarray(tau_plasticity, dtype=np.float64).tolist()
    values = {"biases": biases, "weights": weights, "sparsity_masks": sparsity_masks, "ei_masks": ei_masks,
              "plasticity_masks": plasticity_masks, "synapse_growth_masks": synapse_growth_masks}
    for key in _PER_LAYER:
        layers = _per_layer(key, values[key])
        config[key] = [_spec(f"{key}[{l}]", v, arrays) for l, v in enumerate(layers)]
    for key, value in config.items():  # each on its own, so that the message names the argument
        try:
            json.dumps(value, allow_nan=False, default=_json_scalar)
        except (TypeError, ValueError) as e:
            raise TypeError(f"ctrnn: invalid {key}: {e}") from None
    return json.dumps(config, allow_nan=False, default=_json_scalar), arrays


def _json_scalar(x):
    """numpy scalars (np.int64(64), np.float32(0.1)) in the config become JSON numbers."""
    if isinstance(x, (np.integer, np.floating, np.bool_)):
        return x.item()
    raise TypeError(f"expected a real number, a string or a list, got {type(x).__name__} {x!r}")


def _out_pair(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"ctrnn: invalid out: expected a pair (y, r) of arrays to write into, got {type(out).__name__}")
    return out


def _layer_index(layer):
    if isinstance(layer, str):
        if layer not in _LAYERS:
            raise ValueError(f"ctrnn: invalid layer: expected one of {_LAYERS}, got {layer!r}")
        return _LAYERS.index(layer)
    layer = _arrays.integer("layer", layer)
    if not 0 <= layer <= 2:
        raise ValueError(f"ctrnn: invalid layer: expected 0 (input), 1 (hidden), 2 (readout) or one of {_LAYERS}, "
                         f"got {layer}")
    return layer


def load(path, device="auto", with_trainer=False):
    """A model from a checkpoint (written by ``CTRNN.save``, ``Trainer.fit`` or the CLI).

    with_trainer=True returns ``(model, trainer)`` with the optimizer state restored; the
    checkpoint must have been saved with a trainer (else ``ctrnn.StateError``)."""
    from .training import Trainer

    ck = _core.load_checkpoint(str(path), str(device))
    model = CTRNN._wrap(ck.take_network(), ck.metadata)
    if not with_trainer:
        return model
    return model, Trainer._wrap(model, ck.make_trainer(model._net), resumed_from=path)
