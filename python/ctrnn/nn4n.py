"""Converting an nn4n 1.1.1 CTRNN into a ctrnn.CTRNN.

nn4n keeps each layer's weight as torch's (post, pre) (``x @ weight.T``); ctrnn's arrays are pre x
post, so the weights are transposed here. Masks are pre x post in both.
"""
import numpy as np

from . import _arrays
from .model import CTRNN, _per_layer

# nn4n 1.1.1's state-dict keys, per layer (input, hidden, readout).
WEIGHT_KEYS = ("recurrent_layer.input_layer.weight", "recurrent_layer.hidden_layer.weight", "readout_layer.weight")
BIAS_KEYS = ("recurrent_layer.input_layer.bias", "recurrent_layer.hidden_layer.bias", "readout_layer.bias")
HIDDEN_STATE_KEY = "recurrent_layer.hidden_state"


def _numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _settings_of_module(model):
    """The constructor arguments of a live nn4n CTRNN (its attributes after nn4n's checks)."""
    rl = model.recurrent_layer
    layers = [rl.input_layer, rl.hidden_layer, model.readout_layer]

    def masks(values):
        return [None if v is None else _numpy(v) for v in values]

    return {
        "dims": list(model.dims), "activation": rl.act, "tau": 1.0, "dt": float(rl.alpha),  # alpha = dt / tau
        "preact_noise": float(model.preact_noise), "postact_noise": float(model.postact_noise),
        "init_state": rl.init_state,
        # nn4n's bias is a zero Parameter without requires_grad when the config said None.
        "biases": ["zero" if layer.bias.requires_grad else None for layer in layers],
        "sparsity_masks": masks(model.sparsity_masks), "ei_masks": masks(model.ei_masks),
        # nn4n normalized them already (missing ones are ones); normalizing again changes nothing.
        "plasticity_masks": masks(model.plasticity_masks),
    }


def from_nn4n(source, **kwargs):
    """A ctrnn.CTRNN with an nn4n model's weights, biases and initial state.

    source: a live nn4n ``CTRNN`` (needs torch; its settings are read from the object), or its
    ``state_dict()`` given as a mapping of arrays (numpy or torch; no torch needed), keys
    ``recurrent_layer.input_layer.weight`` (H, I), ``recurrent_layer.hidden_layer.weight``
    (H, H), ``readout_layer.weight`` (O, H), the three ``.bias`` and optionally
    ``recurrent_layer.hidden_state`` (H). With a state dict, pass the settings nn4n was built
    with (activation, tau, dt, biases, init_state, masks, ...) as keyword arguments, as for
    ``ctrnn.CTRNN``; dims are taken from the weights. Keyword arguments also override the
    settings read from a live object (e.g. device, ensemble_size, seed).

    A layer whose ``biases`` entry is None must have nn4n's zero bias (else ValueError).
    """
    if hasattr(source, "state_dict") and hasattr(source, "recurrent_layer"):
        settings = _settings_of_module(source)
        state = {k: _numpy(v) for k, v in source.state_dict().items()}
        settings.update(kwargs)
    elif hasattr(source, "keys"):
        settings = dict(kwargs)
        state = {k: _numpy(v) for k, v in source.items()}
    else:
        raise TypeError(f"ctrnn: invalid source: expected an nn4n CTRNN or its state dict, got {type(source).__name__}")
    missing = [k for k in WEIGHT_KEYS + BIAS_KEYS if k not in state]
    if missing:
        raise ValueError(f"ctrnn: invalid source: expected nn4n 1.1.1's state-dict keys, missing {missing}")

    weights = [_arrays.config_array(k, state[k]).T for k in WEIGHT_KEYS]  # (post, pre) -> pre x post
    dims = [weights[0].shape[0], weights[1].shape[0], weights[2].shape[1]]
    if "dims" in settings and list(settings["dims"]) != dims:
        raise ValueError(f"ctrnn: invalid dims: expected {dims} (the state dict's weights), got {list(settings['dims'])}")
    settings["dims"] = dims
    biases = _per_layer("biases", settings.get("biases"))
    for l, key in enumerate(BIAS_KEYS):
        b = _arrays.config_array(key, state[key])
        if biases[l] is None:
            if np.any(b != 0):
                raise ValueError(f"ctrnn: invalid biases[{l}]: None (not learned) but the state dict's {key} is not zero")
        else:
            biases[l] = b
    settings["biases"] = biases
    settings["weights"] = weights
    model = CTRNN(**settings)
    if model.init_state == "learn" and HIDDEN_STATE_KEY in state:
        model.set_initial_state(np.ascontiguousarray(state[HIDDEN_STATE_KEY], dtype=np.float32))
    return model
