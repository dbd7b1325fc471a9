"""ctrnn.torch: nn4n's CTRNN as a torch.nn.Module on ctrnn's engine, and nn4n's RNNLoss.

An nn4n 1.1.1 training loop runs on ctrnn by changing its import::

    from ctrnn.torch import CTRNN, RNNLoss     # was: from nn4n.model import CTRNN
    rnn = CTRNN(dims=[1, 10, 1])
    optimizer = torch.optim.Adam(rnn.parameters(), lr=0.001)
    outputs, states = rnn(inputs)              # inputs (T, B, I), time-major

``import ctrnn`` does not import torch; ``import ctrnn.torch`` does.
"""
from .loss import RNNLoss
from .module import CTRNN

__all__ = ["CTRNN", "RNNLoss"]
