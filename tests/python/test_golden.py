"""The Python package computes nn4n 1.1.1's numbers (the golden fixtures the C++ tests also use)."""
import json

import numpy as np

import ctrnn
from conftest import PARAMS, Fixture, assert_matches


def test_forward_outputs_and_states(golden):
    model = golden.model()
    y, [r] = model(golden["u"])
    assert y.dtype == np.float32 and y.shape == golden["y"].shape and r.shape == golden["r"].shape
    assert_matches(y, golden["y"], "y")
    assert_matches(r, golden["r"], "r")


def test_mse_gradients(golden):
    model = golden.model()
    y, _ = model(golden["u"])
    dy = (2.0 * (y - golden["target"]) / y.size).astype(np.float32)[None]  # d mean((y - t)^2) / dy
    grads = model.backward(dy)
    for p in PARAMS:
        assert_matches(grads[p][0], golden[f"grad.mse.{p}"], f"grad.mse.{p}")


def test_loss_terms(golden):
    model = golden.model()
    lambdas = json.loads(golden.metadata["lambdas"])
    trainer = ctrnn.Trainer(model, loss={f"lambda_{k}": v for k, v in lambdas.items()})
    report = trainer.evaluate(golden["u"], golden["target"])
    assert_matches(report["total"], golden["loss.total"], "loss.total")
    for term in json.loads(golden.metadata["loss_terms"]):
        assert_matches(lambdas[term] * report[term], golden[f"loss.{term}"], f"loss.{term}")


def test_adam_steps_follow_nn4n_and_torch():
    fx = Fixture("adam_5_steps")
    opt = json.loads(fx.metadata["optimizer"])
    assert opt["weight_decay"] == 0
    model = fx.model(prefix="initial.", device="cpu").train()
    trainer = ctrnn.Trainer(model, "adam", lr=opt["lr"], betas=opt["betas"], eps=opt["eps"])
    for step in range(1, int(fx.metadata["steps"]) + 1):
        report = trainer.step(fx["u"], fx["target"])
        np.testing.assert_allclose(report["total"], fx["loss"][step - 1], rtol=1e-5, err_msg=f"loss of step {step}")
        params = model.parameters()
        for p in PARAMS[:6]:
            assert_matches(params[p][0], fx[f"step{step}.{p}"], f"step{step}.{p}")
