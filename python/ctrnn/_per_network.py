"""Values that may differ between the networks of an ensemble, in the engine's JSON forms
(docs/contract.md "Per-network values" and "Parameters"): one number for all, or
{"per_network": [...]}; and tau, which may also be per hidden neuron."""
import numpy as np

from . import _arrays


def per_network(values):
    """One value per network of an ensemble, for a Trainer's lr, momentum, weight_decay, clip or a
    loss lambda, and for a model's tau, preact_noise or postact_noise:
    ``Trainer(model, lr=ctrnn.per_network([1e-3, 3e-3, 1e-2]))``. (A plain number means the same
    value for every network.) The config file's form, ``{"per_network": [...]}``, is accepted as
    well."""
    return {"per_network": [_arrays.real(f"per_network[{i}]", x) for i, x in enumerate(values)]}


def hyper(name, value):
    """A per-network value as it is (its entries real numbers; the library checks the rest), anything
    else as a real number (TypeError naming it otherwise; a bare list is refused, not read as one
    value per network)."""
    if isinstance(value, dict) and set(value) == {"per_network"} and isinstance(value["per_network"], (list, tuple)):
        return {"per_network": [_arrays.real(f"{name}[{e}]", x) for e, x in enumerate(value["per_network"])]}
    if isinstance(value, dict) or (isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) != 0):
        raise TypeError(f"ctrnn: invalid {name}: expected a real number or ctrnn.per_network([one per network]), "
                        f"got {type(value).__name__}")
    return _arrays.real(name, value)


def time_constants(value):
    """tau in the config's form: a number (all), ctrnn.per_network([...]) (one per network), a
    (H,) array or list (one per hidden neuron, every network alike) or a (E, H) array (each network's
    own); the library checks the lengths against E and H."""
    if isinstance(value, dict):
        return hyper("tau", value)
    if np.ndim(value) == 0:  # a number (numpy's and torch's scalars too; complex and strings refused)
        return _arrays.real("tau", value)
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "biuf":  # no silent cast of complex or object entries
        raise TypeError(f"ctrnn: invalid tau: expected a number, a (H,) or (E, H) array of real numbers or "
                        f"ctrnn.per_network([one per network]), got {type(value).__name__}"
                        + ("" if a is None else f" of dtype {a.dtype}"))
    a = a.astype(np.float64)
    if a.ndim == 1:
        return a.tolist()
    if a.ndim == 2:
        return {"per_network": a.tolist()}
    raise ValueError(f"ctrnn: invalid tau: expected a number, a (H,) or (E, H) array or "
                     f"ctrnn.per_network([one per network]), got an array of shape {a.shape}")
