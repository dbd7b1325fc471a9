"""The engine as one autograd operation: forward runs the engine's forward pass, backward its BPTT.

``run(engine, training, x, params, record)`` computes ``(y, r)``, y (E, T, B, O) and r (E, T, B,
H), from inputs x (T, B, I) or (E, T, B, I) and the module's seven parameters in ParamArray order
(w_in, w_hid, w_out as torch's (post, pre), b_in, b_hid, b_out, h0; each with a leading E axis for
an ensemble; None for an array that is not learned, which the engine keeps at zero). The engine
gets them at every forward (``set_params``: weights transposed to its pre x post on their device,
biases and h0 read in place), so it never computes with a stale copy. With ``record`` the result
carries an autograd node (``EngineFunction``) whose backward hands dL/dy and dL/dr to the engine's
BPTT and returns dL/d(parameter) for every parameter that requires grad, and dL/dx when x does.
The parameters are saved as torch's own operations save them: a backward after they were changed
in place fails with torch's error.

The engine keeps the trace of its last forward only. A backward whose forward is no longer the
engine's last (two forwards, then the first's backward) replays that forward first: the same
parameters, the same noise (the engine's forward-call counter set back) and, in keep mode, the
same carried state.
"""
import weakref

import torch
from torch.autograd.function import once_differentiable


class Engine:
    """A ``_core.Network`` or ``_core.DoubleNetwork`` with the facts its calls need."""

    def __init__(self, net, device):
        self.net = net
        self.device = device
        self.trace = None  # the id of the recorded forward whose trace the engine holds
        self._next = 0
        E, (I, H, O) = net.ensemble_size, net.dims
        self.E, self.I, self.H, self.O = E, I, H, O
        self.param_shapes = list(net.param_shapes().values())

    def new_trace(self):
        self._next += 1
        return self._next

    def to_engine(self, k, p):
        """Parameter k as the engine's array (param_shapes()[k]): a weight transposed to pre x post."""
        p = p.detach()
        if k < 3:
            p = p.transpose(-1, -2).contiguous()
        return p.reshape(self.param_shapes[k])

    def to_param(self, k, g, shape):
        """The engine's gradient of array k in the parameter's layout (`shape`)."""
        if k < 3:
            g = g.transpose(-1, -2).contiguous()
        return g.reshape(shape)

    def stream(self):
        if self.device.type == "cuda":
            return torch.cuda.current_stream(self.device).cuda_stream
        return 0

    def forward(self, x, params, training):
        """The engine's forward on x with these parameters: y (E, T, B, O), r (E, T, B, H)."""
        net = self.net
        if training:
            net.train()
        else:
            net.eval()
        stream = self.stream()
        net.set_params([None if p is None else self.to_engine(k, p) for k, p in enumerate(params)], stream)
        T, B = x.shape[-3], x.shape[-2]
        y = torch.empty((self.E, T, B, self.O), dtype=x.dtype, device=x.device)
        r = torch.empty((self.E, T, B, self.H), dtype=x.dtype, device=x.device)
        net.forward(x.detach(), y, r, stream)
        return y, r


class EngineFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, engine, training, x, *params):
        ctx.set_materialize_grads(False)
        # A weak reference: a graph kept to the end of the program must not keep the engine alive
        # past the extension's teardown (nanobind would report it as leaked).
        ctx.engine, ctx.training = weakref.ref(engine), training
        ctx.call = engine.net.forward_calls
        # keep mode: the carried state this forward starts from, for a replay (a host copy; None
        # in the other modes, which carry nothing)
        ctx.kept = engine.net.kept_state()
        ctx.given = [p is not None for p in params]
        ctx.save_for_backward(x, *params)
        y, r = engine.forward(x, params, training)
        ctx.trace = engine.trace = engine.new_trace()
        return y, r

    @staticmethod
    @once_differentiable
    def backward(ctx, gy, gr):
        x, *params = ctx.saved_tensors
        engine = ctx.engine()
        if engine is None:
            raise RuntimeError("ctrnn.torch: backward of a forward whose CTRNN has been deleted")
        n_inputs = 3 + len(params)
        if gy is None and gr is None:
            return (None,) * n_inputs
        if engine.trace != ctx.trace:
            _replay(ctx, engine, x, params)
        E, T, B = engine.E, x.shape[-3], x.shape[-2]
        gy = torch.zeros((E, T, B, engine.O), dtype=x.dtype, device=x.device) if gy is None else gy.contiguous()
        gr = None if gr is None else gr.contiguous()
        grads = [torch.empty(shape, dtype=x.dtype, device=x.device) for shape in engine.param_shapes]
        du = torch.empty(x.shape, dtype=x.dtype, device=x.device) if ctx.needs_input_grad[2] else None
        engine.net.backward(gy, gr, grads, engine.stream(), du)
        out = [None, None, du]
        for k, p in enumerate(params):
            out.append(engine.to_param(k, grads[k], p.shape) if ctx.needs_input_grad[3 + k] else None)
        return tuple(out)


def _replay(ctx, engine, x, params):
    """Runs ctx's forward again so that the engine holds its trace, leaving the noise stream and
    the carried state (keep mode) where the later forwards left them."""
    net = engine.net
    calls, kept = net.forward_calls, net.kept_state()
    net.forward_calls = ctx.call
    if ctx.kept is None:
        net.reset_state()
    else:
        net.set_kept_state(ctx.kept)
    engine.forward(x, [p if given else None for p, given in zip(params, ctx.given)], ctx.training)
    net.forward_calls = calls
    if kept is None:
        net.reset_state()
    else:
        net.set_kept_state(kept)
    engine.trace = ctx.trace


def run(engine, training, x, params, record):
    """(y, r) of the engine's forward; with `record`, differentiable through EngineFunction."""
    if record:
        return EngineFunction.apply(engine, training, x, *params)
    return engine.forward(x, params, training)
