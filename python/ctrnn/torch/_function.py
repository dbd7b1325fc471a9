"""The engine as one autograd operation: forward runs the engine's forward pass, backward its BPTT.

``run(engine, training, x, params, record)`` computes ``(y, r)`` from inputs x (T, B, I) or (E,
T, B, I) and the module's parameters in ParamArray order (w_in, w_hid, w_out as torch's
(post, pre), b_in, b_hid, b_out, h0, alpha; each with a leading E axis for an ensemble; None for an array
that is not learned, which the engine keeps at zero): y (E, T, B, O) and r (E, T, B, H), or (T,
B, O) and (T, B, H) for one network on a 3-D x (allocated so, not views: the caller may edit them
in place). The engine gets the parameters at every forward (``set_params``: weights transposed to
its pre x post, biases and h0 read in place), so it never computes with a stale copy. (It does
not skip an unchanged parameter: torch's version counter does not see an edit through ``.data``,
which nn4n's own constraint code and its users make, so "unchanged" cannot be told safely; the
hand-over costs a transposed copy of each weight, small beside a forward.) With
``record`` the result carries an autograd node (``EngineFunction``) whose backward hands dL/dy and
dL/dr to the engine's BPTT, which writes dL/d(parameter) only for the parameters that require grad
(and dL/dx when x does). The parameters are saved as torch's own operations save them: a backward
after they were changed in place fails with torch's error.

The hand-over costs little beside torch's own loop (bench/RESULTS.md, issue 19), because every
Python-level tensor operation costs microseconds: tensors go to the engine as DLPack capsules of
``torch.utils.dlpack.to_dlpack`` (``Tensor.__dlpack__`` is a Python method, 20x slower), in torch's
layout (the binding's ``torch_layout``: a weight and its gradient as torch's (post, pre), no
ensemble axis for one network), so that no view is made here. On the CPU the binding copies a
weight's transposed view densely, and the gradient is written in the parameter's layout, which
torch's gradient accumulation takes as it is; on a GPU (the library takes dense device arrays) a
weight is transposed by torch, and its gradient is the transposed view of an array in the
engine's layout.

The engine keeps the trace of its last forward only. A backward whose forward is no longer the
engine's last (two forwards, then the first's backward) replays that forward first: the same
parameters, the same noise (the engine's forward-call counter set back) and, in keep mode, the
same carried state.
"""
import weakref

import torch
from torch.autograd.function import once_differentiable
from torch.utils.dlpack import to_dlpack

_WEIGHTS = 3  # w_in, w_hid, w_out: the first three arrays, transposed between torch and the engine


class Engine:
    """A ``_core.Network`` or ``_core.DoubleNetwork`` with the facts its calls need."""

    def __init__(self, net, device):
        self.net = net
        self.device = device
        self.trace = None  # the id of the recorded forward whose trace the engine holds
        self._next = 0
        E, (I, H, O) = net.ensemble_size, net.dims
        self.E, self.I, self.H, self.O = E, I, H, O
        self.keep = net.init_state == "keep"
        self.host = device.type == "cpu"  # strided views go to the engine (the binding copies them)

    def new_trace(self):
        self._next += 1
        return self._next

    def to_engine(self, k, p):
        """Parameter k for set_params in torch's layout: the parameter itself on the CPU; on a GPU
        dense in the engine's layout (a weight: the (post, pre) view of its dense transpose)."""
        p = p.detach()
        if self.host:
            return p
        return p.mT.contiguous().mT if k < _WEIGHTS else p.contiguous()

    def new_gradient(self, k, p):
        """The gradient to return for parameter k, p, which the engine writes in torch's layout: on
        the CPU in p's own layout (the binding writes any strides), which torch's gradient
        accumulation takes as it is; on a GPU dense (a weight's: the transposed view of a dense
        (pre, post) array)."""
        if self.host:
            return torch.empty_like(p)
        if k >= _WEIGHTS:
            return p.new_empty(p.shape)
        return p.new_empty(p.shape[:-2] + (p.shape[-1], p.shape[-2])).mT

    def stream(self):
        if self.device.type == "cuda":
            return torch.cuda.current_stream(self.device).cuda_stream
        return 0

    def set_params(self, params, stream):
        self.net.set_params([None if p is None else to_dlpack(self.to_engine(k, p)) for k, p in enumerate(params)],
                            stream, True)

    def forward(self, x, params, training):
        """The engine's forward on x with these parameters: y and r (shapes: this file's docstring)."""
        net = self.net
        if training:
            net.train()
        else:
            net.eval()
        stream = self.stream()
        self.set_params(params, stream)
        lead = x.shape[:-3] if self.E == 1 else (self.E,)  # one network on a 3-D x: y (T, B, O)
        T, B = x.shape[-3], x.shape[-2]
        y = x.new_empty(lead + (T, B, self.O))
        r = x.new_empty(lead + (T, B, self.H))
        net.forward(to_dlpack(x), to_dlpack(y), to_dlpack(r), stream, True)
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
        ctx.kept = engine.net.kept_state() if engine.keep else None
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
        if gy is None and gr is None:
            return (None,) * (3 + len(params))
        if engine.trace != ctx.trace:
            _replay(ctx, engine, x, params)
        needs = ctx.needs_input_grad
        if gy is None:
            gy = x.new_zeros(gr.shape[:-1] + (engine.O,))
        if gr is not None:
            gr = to_dlpack(gr.contiguous())
        grads = [engine.new_gradient(k, p) if needs[3 + k] else None for k, p in enumerate(params)]
        du = x.new_empty(x.shape) if needs[2] else None
        engine.net.backward(to_dlpack(gy.contiguous()), gr, [None if g is None else to_dlpack(g) for g in grads],
                            engine.stream(), None if du is None else to_dlpack(du), True)
        return (None, None, du, *grads)


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
    engine.forward(x, params, ctx.training)
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
