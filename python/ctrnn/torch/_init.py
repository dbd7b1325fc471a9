"""nn4n 1.1.1's initial draws from torch's generator, for a CTRNN built without ``seed``.

nn4n draws, in this order, each layer's weight (post, pre) then its bias (post), for the input,
hidden and readout layers, with torch.rand / torch.randn in float32: uniform
``rand * sqrt(1/k) * 2 - sqrt(1/k)``, normal ``randn / sqrt(k)`` (k the layer's fan-in). The same
calls here give nn4n's numbers after the same ``torch.manual_seed``. The constraints then apply as
in the engine's initialization (docs/contract.md "Constraints"): projection, and the E/I balance
by the E/I mask for generated weights (nn4n balances by the sparsity mask, a bug).
"""
import torch


def draw(spec, shape, fan_in):
    """A generated float32 array of `shape` (spec "uniform", "normal" or "zero"/None: zeros),
    drawn as nn4n 1.1.1 draws it."""
    if spec == "uniform":
        sqrt_k = torch.sqrt(torch.tensor(1 / fan_in))
        w = torch.rand(shape) * sqrt_k
        return w * 2 - sqrt_k
    if spec == "normal":
        return torch.randn(shape) / torch.sqrt(torch.tensor(fan_in))
    return torch.zeros(shape)


def balance(w, ei):
    """The E/I balance of a generated weight (host/constraints.cpp's balance_excitatory_inhibitory,
    per network): w and ei of the same shape, the last two axes one network's matrix."""
    flat_w, flat_ei = w.reshape(-1, w.shape[-2] * w.shape[-1]), ei.reshape(-1, w.shape[-2] * w.shape[-1])
    out = flat_w.clone().double()
    for e in range(out.shape[0]):
        exc_mask = flat_ei[e] > 0
        exc = out[e][exc_mask].sum().item()
        inh = -out[e][~exc_mask].sum().item()
        if exc == 0 or inh == 0:
            out[e] /= 10
        elif exc > inh:
            out[e][exc_mask] *= inh / exc
        elif inh > exc:
            out[e][~exc_mask] *= exc / inh
    return out.to(w.dtype).reshape(w.shape)
