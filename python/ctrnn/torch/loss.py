"""ctrnn.torch.RNNLoss: nn4n 1.1.1's RNNLoss in plain torch operations (docs/contract.md "Loss")."""
import torch

_TERMS = ("lambda_in", "lambda_hid", "lambda_out", "lambda_fr", "lambda_fr_sd", "lambda_fr_cv")


class RNNLoss(torch.nn.Module):
    """nn4n's loss: ``total, terms = loss(pred, label, states=states)``.

    ``lambda_mse * MSE(pred, label)`` plus, for each non-zero lambda, ``lambda_in |W_in|^2 / (I H)``,
    ``lambda_hid |W_hid|^2 / (H H)``, ``lambda_out |W_out|^2 / (H O)`` (squared Frobenius norms of
    the model's weights), ``lambda_fr mean_h(m_h^2)``, ``lambda_fr_sd std_h(m_h^2)`` with
    ``m_h = mean_{t,b} r``, and ``lambda_fr_cv std(c) / mean(c)`` with ``c_{b,h} = mean_t |r|``
    (std unbiased; ``d|r|/dr = 0`` at 0, where nn4n's ``sqrt(r^2)`` gives NaN). ``terms`` stacks the
    weighted terms in that order (MSE first, then only the non-zero ones), as nn4n's does.

    For an ensemble (pred (E, T, B, O), states (E, T, B, H), weights with a leading E axis) each
    term is the sum over the networks of that network's term, so that each network gets the
    gradient of its own loss. ``states`` may be the firing-rate tensor or the one-element list
    ``forward`` returns. Defaults: lambda_mse 1, the others 0.
    """

    def __init__(self, model, lambda_mse=1, lambda_in=0, lambda_hid=0, lambda_out=0, lambda_fr=0, lambda_fr_sd=0,
                 lambda_fr_cv=0):
        super().__init__()
        from .module import CTRNN

        if not isinstance(model, CTRNN):
            raise TypeError(f"RNNLoss(): argument 'model' must be a ctrnn.torch.CTRNN, got {type(model).__name__}")
        lambdas = (lambda_mse, lambda_in, lambda_hid, lambda_out, lambda_fr, lambda_fr_sd, lambda_fr_cv)
        for name, value in zip(("lambda_mse",) + _TERMS, lambdas):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
                    or value == float("inf"):
                raise ValueError(f"RNNLoss(): argument '{name}' must be a finite number >= 0, got {value!r}")
        self.model = model
        self.lambda_mse = lambda_mse
        self.lambda_list = list(lambdas[1:])
        self.loss_list = [self._loss_in, self._loss_hid, self._loss_out, self._loss_fr, self._loss_fr_sd,
                          self._loss_fr_cv]

    @property
    def _ensemble(self):
        return self.model.ensemble_size > 1

    def _weight_term(self, weight):
        w = weight if self._ensemble else weight.unsqueeze(0)
        return (w.square().sum(dim=(1, 2)) / (w.shape[1] * w.shape[2])).sum()

    def _loss_in(self, **kwargs):
        return self._weight_term(self.model.recurrent_layer.input_layer.weight)

    def _loss_hid(self, **kwargs):
        return self._weight_term(self.model.recurrent_layer.hidden_layer.weight)

    def _loss_out(self, **kwargs):
        return self._weight_term(self.model.readout_layer.weight)

    def _rates(self, states):
        if isinstance(states, (list, tuple)):
            if len(states) != 1:
                raise ValueError(f"RNNLoss: argument 'states' must be the rates tensor or a list of one, got a list "
                                 f"of {len(states)}")
            states = states[0]
        if not isinstance(states, torch.Tensor):
            raise TypeError(f"RNNLoss: argument 'states' must be a Tensor, got {type(states).__name__}")
        want = 4 if self._ensemble else 3
        if states.dim() == 3 and want == 4:
            raise ValueError(f"RNNLoss: argument 'states' must be (E, T, B, H) for an ensemble, got "
                             f"{tuple(states.shape)}")
        return states if states.dim() == 4 else states.unsqueeze(0)

    def _loss_fr(self, states, **kwargs):
        m = self._rates(states).mean(dim=(1, 2))  # (E, H)
        return m.square().mean(dim=1).sum()

    def _loss_fr_sd(self, states, **kwargs):
        m = self._rates(states).mean(dim=(1, 2))
        return m.square().std(dim=1).sum()

    def _loss_fr_cv(self, states, **kwargs):
        c = self._rates(states).abs().mean(dim=1)  # (E, B, H)
        c = c.reshape(c.shape[0], -1)
        return (c.std(dim=1) / c.mean(dim=1)).sum()

    def forward(self, pred, label, **kwargs):
        """(total, terms): the weighted sum and the stacked weighted terms."""
        if pred.shape != label.shape:
            raise ValueError(f"RNNLoss: argument 'label' must have pred's shape {tuple(pred.shape)}, got "
                             f"{tuple(label.shape)}")
        se = (pred - label).square()
        mse = se.reshape(se.shape[0], -1).mean(dim=1).sum() if pred.dim() == 4 else se.mean()
        loss = [self.lambda_mse * mse]
        for lam, term in zip(self.lambda_list, self.loss_list):
            if lam != 0:
                if term in (self._loss_fr, self._loss_fr_sd, self._loss_fr_cv) and "states" not in kwargs:
                    raise TypeError("RNNLoss: a firing-rate term needs the keyword argument 'states'")
                loss.append(lam * term(**kwargs))
        loss = torch.stack(loss)
        return loss.sum(), loss
