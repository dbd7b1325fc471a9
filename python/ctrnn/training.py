"""ctrnn.Trainer: training steps on the user's own batches, and a fit loop."""
import os
import time

import numpy as np

from . import _arrays, _core

LOSS_TERMS = ("mse", "in", "hid", "out", "fr", "fr_sd", "fr_cv")


def per_network(values):
    """One value per network of an ensemble, for a Trainer's lr, momentum, weight_decay, clip or a
    loss lambda: ``Trainer(model, lr=ctrnn.per_network([1e-3, 3e-3, 1e-2]))``. (A plain number
    means the same value for every network.) The config file's form, ``{"per_network": [...]}``,
    is accepted as well."""
    return {"per_network": [_arrays.real(f"per_network[{i}]", x) for i, x in enumerate(values)]}


def _hyper(name, value):
    """A per-network value as it is (its entries real numbers; the library checks the rest), anything
    else as a real number (TypeError naming it otherwise; a bare list is refused, not read as one
    value per network)."""
    if isinstance(value, dict) and set(value) == {"per_network"} and isinstance(value["per_network"], (list, tuple)):
        return {"per_network": [_arrays.real(f"{name}[{e}]", x) for e, x in enumerate(value["per_network"])]}
    if isinstance(value, dict) or (isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) != 0):
        raise TypeError(f"ctrnn: invalid {name}: expected a real number or ctrnn.per_network([one per network]), "
                        f"got {type(value).__name__}")
    return _arrays.real(name, value)


def _lambdas(loss):
    """nn4n's RNNLoss keywords (lambda_mse, lambda_in, ...) or the bare term names -> {term: lambda}."""
    if loss is None:
        return {}
    if not isinstance(loss, dict):
        raise TypeError(f"ctrnn: invalid loss: expected a dict such as {{'lambda_fr': 0.01}}, got {type(loss).__name__}")
    out = {}
    for key, value in loss.items():
        term = key[len("lambda_"):] if isinstance(key, str) and key.startswith("lambda_") else key
        if term not in LOSS_TERMS:
            raise ValueError(f"ctrnn: invalid loss: expected keys lambda_{{{', '.join(LOSS_TERMS)}}}, got {key!r}")
        out[term] = _hyper(f"loss[{key!r}]", value)
    return out


def _as_batch(batch):
    """(u, target), (u, target, mask) or a dict with u, target and optionally mask/label."""
    if isinstance(batch, dict):
        if "u" not in batch or "target" not in batch:
            raise ValueError(f"ctrnn: invalid batch: expected a dict with 'u' and 'target', got keys {sorted(map(str, batch))}")
        return batch["u"], batch["target"], batch.get("mask")
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1], batch[2] if len(batch) == 3 else None
    raise TypeError("ctrnn: invalid batch: expected (u, target), (u, target, mask) or a dict with 'u' and "
                    f"'target', got {type(batch).__name__}")


class Trainer:
    """Trains a ``ctrnn.CTRNN`` (every network of an ensemble, each with its own loss).

    optimizer "adam" or "sgd" with PyTorch's semantics (betas, eps, momentum, weight_decay);
    clip: maximum gradient norm per network (0: none); loss: nn4n's RNNLoss weights, e.g.
    ``{"lambda_mse": 1, "lambda_fr": 0.01}`` (lambda_mse 1 and the others 0 by default).
    lr, momentum, weight_decay, clip and each lambda are a number (every network) or
    ``ctrnn.per_network([...])`` (one value per network of the ensemble).
    Computation runs without the GIL; calls on the trainers of one model run one at a time (the
    model's lock, see ``ctrnn.CTRNN``).
    """

    def __init__(self, model, optimizer="adam", lr=1e-3, loss=None, clip=0.0, betas=(0.9, 0.999), eps=1e-8,
                 momentum=0.0, weight_decay=0.0):
        if not hasattr(model, "_net"):
            raise TypeError(f"ctrnn: invalid model: expected a ctrnn.CTRNN, got {type(model).__name__}")
        if not isinstance(optimizer, str):
            raise TypeError(f"ctrnn: invalid optimizer: expected \"adam\" or \"sgd\", got {type(optimizer).__name__}")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"ctrnn: invalid betas: expected a pair (beta1, beta2), got {betas!r}")
        real = _arrays.real
        self.model = model
        args = (optimizer, _hyper("lr", lr), real("betas[0]", betas[0]), real("betas[1]", betas[1]), real("eps", eps),
                _hyper("momentum", momentum), _hyper("weight_decay", weight_decay), _hyper("clip", clip),
                _lambdas(loss))
        with model._lock:
            self._trainer = _core.Trainer(model._net, *args)
        self.history = []
        self._resumed_from = ""  # the checkpoint this trainer's state continues (fit's out= may hold it)

    @classmethod
    def _wrap(cls, model, trainer, resumed_from=""):
        t = cls.__new__(cls)
        t.model, t._trainer, t.history, t._resumed_from = model, trainer, [], str(resumed_from)
        return t

    @property
    def steps_done(self):
        with self.model._lock:
            return self._trainer.steps_done

    @property
    def diverged(self):
        """Which networks have diverged (a NaN or Inf loss or update): a bool array (E,); they are
        frozen, the others train on."""
        return np.array(self._trainer.diverged, dtype=bool)

    def _report(self, raw):
        single = self.model.ensemble_size == 1
        if "diverged" in raw:
            raw["diverged"] = np.array(raw["diverged"], dtype=bool)
        return {k: ((bool(v[0]) if v.dtype == bool else float(v[0])) if single else v) for k, v in raw.items()}

    def _call(self, fn, u, target, mask):
        u, frame = _arrays.data("u", u)
        target, _ = _arrays.data("target", target)
        mask, _ = _arrays.data("mask", mask, allow_none=True)
        with self.model._lock:
            raw = fn(u, target, mask, frame.stream())
        return self._report(raw)

    def step(self, u, target, mask=None):
        """One optimizer step on a batch. u (T, B, I) or (E, T, B, I); target (T, B, O) or
        (E, T, B, O); mask None, (T, B) or (T, B, O) of weights >= 0.

        Returns the loss terms: {"total", "mse", "in", "hid", "out", "fr", "fr_sd", "fr_cv",
        "grad_norm", "diverged"} (unweighted terms; total = sum of lambda * term; grad_norm before
        clipping; diverged: whether the network has diverged), floats and a bool for one network,
        arrays (E,) for an ensemble. A network whose loss is NaN or Inf, or whose update would
        make a parameter NaN or Inf, diverges: it is frozen at its last good values and the others
        train on. When every network has diverged, the step raises ``ctrnn.NonFiniteLoss`` and
        changes nothing (so one network stops at its first NaN or Inf loss)."""
        return self._call(self._trainer.step, u, target, mask)

    def evaluate(self, u, target, mask=None):
        """The loss terms on a batch without training (the model's mode decides the noise)."""
        return self._call(self._trainer.evaluate, u, target, mask)

    def fit(self, batches, steps=None, validation=None, validate_every=100, checkpoint_every=0, out=None,
            overwrite=False, progress=True):
        """Trains on `batches`: an iterable of batches ((u, target), (u, target, mask) or dicts), e.g. a
        ``ctrnn.tasks`` generator; stops after `steps` steps or when the iterable ends.

        validation: a batch evaluated every `validate_every` steps and at the end (in eval mode).
        out: a folder for ``metrics.csv`` (the CLI's columns) and, every `checkpoint_every`
        steps and at the end, ``checkpoint.safetensors`` (with the optimizer state), under the
        CLI's rules: the folder is locked while fit runs (a `ctrnn train` or another fit into it
        is refused); an earlier run's checkpoint or metrics there is replaced only with
        ``overwrite=True``, unless this trainer continues that checkpoint (loaded from it with
        ``ctrnn.load(path, with_trainer=True)``, or saved there by an earlier fit), whose metrics
        rows up to its step are kept. Bad folders raise ``ctrnn.InvalidArgument`` before any step.
        progress: a tqdm progress bar when tqdm is installed.
        Returns ``self.history``: one dict per step (step, the loss terms, elapsed_s, and
        val_* entries at validation steps)."""
        for name, value, least in (("steps", steps, 0), ("validate_every", validate_every, 1),
                                   ("checkpoint_every", checkpoint_every, 0)):
            if value is not None and _arrays.integer(name, value) < least:
                raise ValueError(f"ctrnn: invalid {name}: expected a count >= {least}, got {value}")
        if checkpoint_every and out is None:
            raise ValueError("ctrnn: invalid checkpoint_every: needs out=FOLDER to write checkpoints into")
        run = None
        if out is not None:  # the CLI's output policy, refused before any step (ctrnn/run_folder.hpp)
            run = _core.RunOutput(os.fspath(out), self._resumed_from, bool(overwrite), self.steps_done)
        bar = _progress_bar(steps) if progress else None
        start = time.perf_counter()
        done = 0
        try:
            for batch in batches if steps != 0 else ():
                u, target, mask = _as_batch(batch)
                report = self.step(u, target, mask)
                done += 1
                record = {"step": self.steps_done, **report, "elapsed_s": time.perf_counter() - start}
                if validation is not None and (done % validate_every == 0 or done == steps):
                    record.update(self._validate(validation))
                self.history.append(record)
                if run is not None:
                    _write_metrics(run, record)
                if checkpoint_every and done % checkpoint_every == 0:
                    self._save(run)
                if bar is not None:
                    bar.update(1)
                    live = ~np.atleast_1d(record["diverged"])  # the networks still training
                    bar.set_postfix(loss=f"{np.mean(np.atleast_1d(record['total'])[live]):.4g}")
                if done == steps:
                    break
            if validation is not None and self.history and "val_total" not in self.history[-1]:
                self.history[-1].update(self._validate(validation))
            if run is not None:
                self._save(run)
        finally:
            if bar is not None:
                bar.close()
            if run is not None:
                run.close()
        return self.history

    def _save(self, run):
        with self.model._lock:  # the state of one point between other threads' calls
            run.save(self.model._net, self._trainer)
        self._resumed_from = run.checkpoint  # a later fit into the same folder continues it

    def _validate(self, batch):
        with self.model._lock:  # no other thread's call sees the model in eval mode meanwhile
            was_training = self.model.training
            self.model.eval()
            try:
                u, target, mask = _as_batch(batch)
                return {"val_" + k: v for k, v in self.evaluate(u, target, mask).items()}
            finally:
                if was_training:
                    self.model.train()


def _progress_bar(total):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step")


def _write_metrics(run, record):
    """A metrics.csv row per network (the library's MetricsCsv: the CLI's columns and digits)."""
    column = lambda key: np.atleast_1d(np.asarray(record[key], dtype=np.float64)).tolist()
    terms = np.stack([np.atleast_1d(np.asarray(record[t], dtype=np.float64)) for t in LOSS_TERMS], axis=-1)
    run.write_metrics(record["step"], column("total"), terms.tolist(), column("grad_norm"),
                      np.atleast_1d(record["diverged"]).astype(bool).tolist(),
                      column("val_total") if "val_total" in record else [], record["elapsed_s"])
