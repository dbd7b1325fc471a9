#!/usr/bin/env python3
"""Golden fixtures from nn4n 1.1.1 itself, for tests/test_golden.cpp.

    python3 tests/golden/make_golden.py            # (re)write tests/golden/data/*.safetensors
    python3 tests/golden/make_golden.py --check    # regenerate into a temporary folder and
                                                   # compare with the committed fixtures

The script creates (if absent) a virtual environment outside the source tree (default
~/.cache/ctrnn-golden-venv; --venv PATH or CTRNN_GOLDEN_VENV overrides), installs
tests/golden/requirements.txt into it from PyPI, and re-executes itself with that interpreter.
--no-venv runs with the current interpreter instead (it must have the pinned packages).

Every fixture holds nn4n's model after its own initialization, converted to ctrnn's pre x post
orientation (nn4n stores weight as (post, pre): ours = weight.T), the masks, inputs, targets,
outputs, states, loss terms and gradients. Tensor names are listed in tests/golden/README.md.
Everything is seeded and single-threaded, so regeneration reproduces the files byte for byte.
"""
import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
DEFAULT_OUT = HERE / "data"
DEFAULT_VENV = Path(os.environ.get("CTRNN_GOLDEN_VENV", "~/.cache/ctrnn-golden-venv")).expanduser()
STAMP_NAME = "ctrnn-golden-requirements.sha256"


# ----------------------------------------------------------------------------------------------
# Virtual environment
# ----------------------------------------------------------------------------------------------
def ensure_venv(venv_dir: Path) -> Path:
    """Creates the venv and installs the pinned requirements unless the stamp says they are in."""
    python = venv_dir / "bin" / "python"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    stamp = venv_dir / STAMP_NAME
    if not python.exists():
        print(f"make_golden: creating virtual environment {venv_dir}", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv_dir)])
    if not stamp.exists() or stamp.read_text().strip() != want:
        # PyPI's Linux torch wheel needs the nvidia-* CUDA wheels (~2.5 GB) even on a CPU-only
        # machine: `import torch` fails with "libcudart.so.12: cannot open shared object file"
        # when they are left out (tried: torch --no-deps plus its pure-Python deps). So this is a
        # normal install.
        print(f"make_golden: installing {REQUIREMENTS.name} into {venv_dir} (about 3 GB)", flush=True)
        subprocess.check_call([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                               "--only-binary", ":all:", "-r", str(REQUIREMENTS)])
        stamp.write_text(want + "\n")
    return python


def in_venv(venv_dir: Path) -> bool:
    try:
        return Path(sys.prefix).resolve() == venv_dir.resolve()
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------
TERMS = ["in", "hid", "out", "fr", "fr_sd", "fr_cv"]  # RNNLoss's order after the MSE
WEIGHT_TERM_PARAM = {"in": "w_in", "hid": "w_hid", "out": "w_out"}
PARAMS = ["w_in", "w_hid", "w_out", "b_in", "b_hid", "b_out", "h0"]
WEIGHTS = ["w_in", "w_hid", "w_out"]


def layer_shapes(dims):
    i, h, o = dims
    return [(i, h), (h, h), (h, o)]  # pre x post, as nn4n's masks are given


def bernoulli(rng, shape, p, value=1.0):
    return np.where(rng.random(shape) < p, value, 0.0)


def dale_rows(pre, post, n_exc, inhibitory_value=-1.0):
    m = np.full((pre, post), inhibitory_value)
    m[:n_exc] = 1.0
    return m


def isolate_neuron(sparsity, k):
    """No synapse into hidden neuron k: its input- and hidden-layer columns are 0."""
    sparsity[0][:, k] = 0.0
    sparsity[1][:, k] = 0.0
    return sparsity


def case_list():
    """Each case: nn4n CTRNN kwargs plus T, B, lambdas and how masks and h0 are drawn."""
    cases = []

    def add(name, description, **kw):
        kw.setdefault("init_state", "zero")
        kw.setdefault("tau", 100.0)
        kw.setdefault("dt", 10.0)
        kw.setdefault("preact_noise", 0.0)
        kw.setdefault("postact_noise", 0.0)
        kw.setdefault("masks", lambda rng, dims: {})
        kw.setdefault("h0", None)
        cases.append(dict(name=name, description=description, **kw))

    add("relu_nobias_zero", "relu, no biases, zero initial state, weight and rate regularizers",
        activation="relu", dims=[3, 20, 2], T=50, B=4, biases=[None, None, None],
        weights=["uniform"] * 3, lambdas=dict(**{"in": 0.5}, hid=0.3, out=0.2, fr=0.1, fr_sd=0.05))

    add("tanh_uniform_learn", "tanh, uniform biases, learned non-zero h0, noise configured but eval mode",
        activation="tanh", dims=[4, 24, 3], T=60, B=3, biases=["uniform"] * 3, weights=["uniform"] * 3,
        init_state="learn", preact_noise=0.2, postact_noise=0.1,
        h0=lambda g, h: 0.5 * torch.randn(h, generator=g),
        lambdas=dict(hid=0.1, fr=0.2, fr_sd=0.1, fr_cv=0.05))

    add("sigmoid_zerobias_normal", "sigmoid, 'zero' biases, normal weights, every regularizer",
        activation="sigmoid", dims=[2, 16, 5], T=50, B=2, biases=["zero"] * 3, weights=["normal"] * 3,
        lambdas=dict(**{"in": 0.2}, hid=0.2, out=0.2, fr=0.2, fr_sd=0.2, fr_cv=0.2))

    def retanh_tie_masks(rng, dims):
        sp = [bernoulli(rng, s, 0.8) for s in layer_shapes(dims)[:2]] + [None]
        return {"sparsity_masks": isolate_neuron(sp, 0)}

    def retanh_tie_h0(g, h):
        h0 = 0.5 * torch.randn(h, generator=g)
        h0[0] = 0.0  # neuron 0 has no input and b_in[0] = 0: v stays exactly 0 (retanh tie)
        h0[1:h:4] = 0.0  # more exact zeros in h0: dh0 there uses the tie's half gradient
        return h0

    add("retanh_learn_tie", "retanh, learned h0 with exact zeros, an isolated neuron whose v stays 0 "
        "(torch.maximum's half gradient at the tie), mixed biases",
        activation="retanh", dims=[3, 16, 2], T=50, B=5, biases=["zero", None, "uniform"],
        weights=["uniform"] * 3, init_state="learn", masks=retanh_tie_masks, h0=retanh_tie_h0,
        lambdas=dict(out=0.1, fr=0.1))

    def relu_sparse_masks(rng, dims):
        s = layer_shapes(dims)
        # non-zero entries other than 1 count as synapses too
        sp = [bernoulli(rng, s[0], 0.5, 2.5), bernoulli(rng, s[1], 0.3), bernoulli(rng, s[2], 0.7)]
        return {"sparsity_masks": isolate_neuron(sp, 5)}

    add("relu_sparse_uniform", "relu, sparsity masks on all three layers (one neuron with no input); "
        "fr_cv's dL/dr is NaN where r == 0 in nn4n, its parameter gradients are finite",
        activation="relu", dims=[5, 32, 3], T=50, B=4, biases=["uniform"] * 3, weights=["uniform"] * 3,
        masks=relu_sparse_masks, lambdas=dict(**{"in": 0.2}, hid=0.2, out=0.2, fr=0.3, fr_cv=0.1))

    def dale_masks(rng, dims):
        i, h, o = dims
        n_exc = int(round(0.8 * h))
        return {"ei_masks": [None, dale_rows(h, h, n_exc), dale_rows(h, o, n_exc)],
                "sparsity_masks": [None, bernoulli(rng, (h, h), 0.5), None]}

    add("dale_relu", "relu Dale network: 80% excitatory hidden units (E/I masks on the hidden and "
        "readout rows), sparse recurrence",
        activation="relu", dims=[3, 40, 2], T=50, B=4, biases=["zero"] * 3, weights=["uniform"] * 3,
        masks=dale_masks, lambdas=dict(hid=0.5, fr=0.1, fr_sd=0.1))

    def dale_tanh_masks(rng, dims):
        i, h, o = dims
        n_exc = int(round(0.8 * h))
        # 0 marks inhibitory here (nn4n and SPEC: entry <= 0 is inhibitory)
        return {"ei_masks": [dale_rows(i, h, 3, 0.0), dale_rows(h, h, n_exc, 0.0), dale_rows(h, o, n_exc, 0.0)]}

    add("dale_tanh_learn", "tanh Dale network, 80% excitatory, E/I masks on all three layers with 0 "
        "marking inhibitory, learned h0, noise configured but eval mode",
        activation="tanh", dims=[4, 25, 3], T=50, B=3, biases=["uniform"] * 3, weights=["normal"] * 3,
        init_state="learn", preact_noise=0.1, postact_noise=0.05, masks=dale_tanh_masks,
        h0=lambda g, h: 0.3 * torch.randn(h, generator=g), lambdas=dict(**{"in": 0.1}, fr_cv=0.1))

    def plasticity_5(rng, dims):
        s = layer_shapes(dims)
        return {"plasticity_masks": [rng.choice([1.0, 5.0], size=s[0]),
                                     rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], size=s[1]), None]}

    add("plasticity_5_levels", "tanh, plasticity masks with 5 levels (nn4n's maximum), readout mask "
        "missing (ones)",
        activation="tanh", dims=[4, 20, 3], T=50, B=4, biases=[None] * 3, weights=["uniform"] * 3,
        masks=plasticity_5, lambdas=dict(hid=0.1))

    def plasticity_3(rng, dims):
        s = layer_shapes(dims)
        return {"plasticity_masks": [None, rng.choice([0.1, 0.5, 2.0], size=s[1]),
                                     rng.choice([0.1, 2.0], size=s[2])],
                "sparsity_masks": [None, bernoulli(rng, s[1], 0.6), None]}

    add("plasticity_3_levels_sigmoid", "sigmoid, plasticity levels {0.1, 0.5, 2} normalized together "
        "with a missing input mask (ones, not normalized), sparse recurrence",
        activation="sigmoid", dims=[6, 18, 4], T=50, B=2, biases=["uniform"] * 3, weights=["uniform"] * 3,
        masks=plasticity_3, lambdas=dict(fr=0.1, fr_cv=0.1))

    add("relu_normal_learn_b8", "relu, normal weights and biases, learned h0, alpha 0.4, batch 8",
        activation="relu", dims=[6, 12, 4], T=50, B=8, biases=["normal"] * 3, weights=["normal"] * 3,
        init_state="learn", tau=50.0, dt=20.0, h0=lambda g, h: torch.randn(h, generator=g),
        lambdas=dict(out=0.3))

    add("tanh_b1_t80", "tanh, batch 1, 80 steps, dims [1, 30, 1], no biases",
        activation="tanh", dims=[1, 30, 1], T=80, B=1, biases=[None] * 3, weights=["uniform"] * 3,
        lambdas=dict(fr=0.2, fr_sd=0.2, fr_cv=0.2))

    add("sigmoid_learn_alpha1", "sigmoid, mixed biases, learned h0, alpha = 1, every regularizer",
        activation="sigmoid", dims=[7, 18, 1], T=50, B=3, biases=["uniform", None, "zero"],
        weights=["uniform"] * 3, init_state="learn", tau=10.0, dt=10.0, preact_noise=0.3,
        h0=lambda g, h: torch.randn(h, generator=g),
        lambdas=dict(**{"in": 0.1}, hid=0.1, out=0.1, fr=0.1, fr_sd=0.1, fr_cv=0.1))

    def retanh_sparse(rng, dims):
        s = layer_shapes(dims)
        return {"sparsity_masks": [bernoulli(rng, s[0], 0.7), bernoulli(rng, s[1], 0.4), None]}

    add("retanh_zero_uniform_sparse", "retanh, zero initial state, uniform biases, normal weights, sparse",
        activation="retanh", dims=[2, 24, 6], T=50, B=4, biases=["uniform"] * 3, weights=["normal"] * 3,
        masks=retanh_sparse, lambdas=dict(hid=0.1, fr=0.1, fr_sd=0.1))

    add("relu_zero_hidden_learn", "relu, hidden weights 'zero', learned h0, 'zero' biases",
        activation="relu", dims=[3, 10, 3], T=50, B=2, biases=["zero"] * 3,
        weights=["normal", "zero", "uniform"], init_state="learn",
        h0=lambda g, h: torch.rand(h, generator=g), lambdas=dict(**{"in": 0.2}, hid=0.2))
    return cases


# ----------------------------------------------------------------------------------------------
# Running nn4n
# ----------------------------------------------------------------------------------------------
def nn4n_params(model):
    rl = model.recurrent_layer
    return {"w_in": rl.input_layer.weight, "w_hid": rl.hidden_layer.weight, "w_out": model.readout_layer.weight,
            "b_in": rl.input_layer.bias, "b_hid": rl.hidden_layer.bias, "b_out": model.readout_layer.bias,
            "h0": rl.hidden_state}


def to_ours(name, t):
    """nn4n's (post, pre) weight -> ctrnn's (pre, post); vectors unchanged. float32, contiguous."""
    t = t.detach()
    if name in WEIGHTS:
        t = t.T
    return t.contiguous().to(torch.float32).clone()


def grad_or_zeros(name, param, grad):
    return to_ours(name, grad if grad is not None else torch.zeros_like(param))


def our_config(case, mask_names):
    """The config in ctrnn's JSON format; masks as references to tensors of the same file."""
    def masks(key):
        names = mask_names.get(key)
        return None if names is None else [None if n is None else {"tensor": n} for n in names]

    return {
        "dims": case["dims"], "activation": case["activation"], "biases": case["biases"],
        # Deviation "Weight arrays": nn4n cannot take weight arrays (it checks them as pre x post but
        # uses them as post x pre, and in 1.1.1 rejects them outright), so the fixture names the
        # distribution nn4n drew from and the C++ test overwrites our weights with nn4n's.
        "weights": case["weights"],
        "tau": case["tau"], "dt": case["dt"],
        "preact_noise": case["preact_noise"], "postact_noise": case["postact_noise"],
        "init_state": case["init_state"],
        "sparsity_masks": masks("sparsity_masks"), "ei_masks": masks("ei_masks"),
        "plasticity_masks": masks("plasticity_masks"), "synapse_growth_masks": None,
        "seed": 0, "ensemble_size": 1,
    }


def versions():
    from importlib.metadata import version
    return {p: version(p) for p in ["nn4n", "torch", "numpy", "safetensors"]}


def build_model(case, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    masks = case["masks"](rng, case["dims"])
    # Deviation "E/I balance": nn4n sums by the sparsity mask and so always divides the matrix by
    # 10; irrelevant here because the C++ test is given nn4n's resulting weights.
    # Deviation (nn4n crash): biases=0 raises in nn4n 1.1.1, so the cases use 'zero'.
    kwargs = dict(dims=list(case["dims"]), activation=case["activation"], biases=list(case["biases"]),
                  weights=list(case["weights"]), tau=case["tau"], dt=case["dt"],
                  preact_noise=case["preact_noise"], postact_noise=case["postact_noise"],
                  init_state=case["init_state"])
    for key, value in masks.items():
        kwargs[key] = [None if m is None else m.copy() for m in value]
    model = CTRNN(**kwargs)
    return model, masks


def mask_tensors(masks, tensors):
    names = {}
    for key, value in masks.items():
        names[key] = []
        for layer, m in enumerate(value):
            if m is None:
                names[key].append(None)
                continue
            name = f"config.{key}[{layer}]"
            tensors[name] = torch.from_numpy(np.ascontiguousarray(m, dtype=np.float64))  # exact given values
            names[key].append(name)
    return names


def run_case(case, seed):
    model, masks = build_model(case, seed)
    I, H, O = case["dims"]
    T, B = case["T"], case["B"]
    g = torch.Generator().manual_seed(seed + 1)
    if case["init_state"] == "learn":
        model.recurrent_layer.hidden_state.data = case["h0"](g, H).to(torch.float32)
    # Deviation "Noise": nn4n adds noise only after an explicit train(); every numeric case runs in
    # eval mode, where neither nn4n nor ctrnn adds noise (the configured sigmas are kept in the
    # config to show that eval mode ignores them).
    model.eval()
    u = torch.randn(T, B, I, generator=g)
    target = 0.5 * torch.randn(T, B, O, generator=g)

    y, states = model(u)
    r = states[0]
    lambdas = {k: float(case["lambdas"].get(k, 0.0)) for k in TERMS}
    loss_fn = RNNLoss(model, lambda_mse=1, **{f"lambda_{k}": v for k, v in lambdas.items()})
    total, parts = loss_fn(y, target, states=r)
    part_names = ["mse"] + [k for k in TERMS if lambdas[k] != 0]
    assert len(part_names) == len(parts)

    P = nn4n_params(model)
    learned = [n for n in PARAMS if P[n].requires_grad]
    tensors = {"u": u.clone(), "target": target.clone(), "y": y.detach().clone(), "r": r.detach().clone(),
               "loss.total": total.detach().clone()}
    for n in PARAMS:
        tensors[n] = to_ours(n, P[n])
    for layer, lay in enumerate(model.layers):  # nn4n's normalized plasticity, back to pre x post
        tensors[f"nn4n.plasticity[{layer}]"] = lay.plasticity_mask.T.to(torch.float64).contiguous().clone()

    # Each loss term (lambda * term, as RNNLoss returns it) and its own gradients. The gradients
    # come from an RNNLoss with only that term (lambda_mse = 0 for the others): differentiating
    # parts[i] of the full loss would also run 0 * (every other term's backward), and fr_cv's
    # backward has NaN where r == 0, which 0 * NaN would spread into every term's dL/dr.
    for i, name in enumerate(part_names):
        tensors[f"loss.{name}"] = parts[i].detach().clone()
        only = {"lambda_mse": 1 if name == "mse" else 0}
        if name != "mse":
            only[f"lambda_{name}"] = lambdas[name]
        term, _ = RNNLoss(model, **only)(y, target, states=r)
        assert torch.equal(term, parts[i]), f"{case['name']}: {name} alone differs from its part"
        inputs = [P[n] for n in learned] + [r]
        grads = dict(zip(learned + ["r"], torch.autograd.grad(term, inputs, retain_graph=True,
                                                                allow_unused=True)))
        if name in WEIGHT_TERM_PARAM:
            own = WEIGHT_TERM_PARAM[name]
            for n, gr in grads.items():
                assert n == own or gr is None or not gr.any(), f"{name} depends on {n}"
            tensors[f"grad.{name}.{own}"] = grad_or_zeros(own, P[own], grads[own])
            continue
        for n in PARAMS:
            tensors[f"grad.{name}.{n}"] = grad_or_zeros(n, P[n], grads.get(n))
        if name != "mse":  # the firing-rate terms' direct dL/dr (T, B, H)
            tensors[f"grad.{name}.r"] = grads["r"].detach().clone()

    # The whole loss through loss.backward(), then nn4n's apply_plasticity().
    model.zero_grad()
    total.backward()
    for n in PARAMS:
        tensors[f"grad.total.{n}"] = grad_or_zeros(n, P[n], P[n].grad)
    model.apply_plasticity()
    for n in WEIGHTS:
        tensors[f"grad.plastic.{n}"] = grad_or_zeros(n, P[n], P[n].grad)

    for name, t in tensors.items():
        if name == "grad.fr_cv.r":
            # nn4n's fr_cv is mean_t sqrt(square(r)): its gradient is 0 * inf = NaN where r == 0
            # (relu, retanh). Stored as nn4n computes it; relu's backward masks the NaN out of the
            # parameter gradients (checked finite below). The C++ test expects 0 there.
            assert not (torch.isnan(t) & (tensors["r"] != 0)).any(), f"{case['name']}: NaN where r != 0"
            continue
        assert torch.isfinite(t).all(), f"{case['name']}: {name} is not finite"
    metadata = {
        "config": json.dumps(our_config(case, mask_tensors(masks, tensors))),
        "case": case["name"], "description": case["description"], "T": str(T), "B": str(B),
        "lambdas": json.dumps(dict(mse=1.0, **lambdas)), "loss_terms": json.dumps(part_names),
        "seed": str(seed), "versions": json.dumps(versions()),
    }
    return tensors, metadata


def run_adam(seed):
    """tanh, uniform biases, dims [3, 16, 2], T 50, B 4, sparse recurrence: 5 Adam steps, nn4n-style."""
    case = dict(name="adam_5_steps", activation="tanh", dims=[3, 16, 2], T=50, B=4, biases=["uniform"] * 3,
                weights=["uniform"] * 3, init_state="zero", tau=100.0, dt=10.0, preact_noise=0.0,
                postact_noise=0.0,
                masks=lambda rng, dims: {"sparsity_masks": [None, bernoulli(rng, (dims[1], dims[1]), 0.7), None]})
    model, masks = build_model(case, seed)
    I, H, O = case["dims"]
    T, B = case["T"], case["B"]
    g = torch.Generator().manual_seed(seed + 1)
    u = torch.randn(T, B, I, generator=g)
    target = 0.5 * torch.randn(T, B, O, generator=g)
    model.train()  # nn4n's train(): noise from the config (0 here) and constraints before each forward
    lr, betas, eps, steps = 1e-2, (0.9, 0.999), 1e-8, 5
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas, eps=eps, weight_decay=0)
    loss_fn = RNNLoss(model)  # lambda_mse = 1, no regularizers: the plain MSE
    P = nn4n_params(model)
    names = [n for n in PARAMS if P[n].requires_grad]  # h0 is not learned (init_state zero)
    tensors = {"u": u.clone(), "target": target.clone()}
    for n in names:
        tensors[f"initial.{n}"] = to_ours(n, P[n])
    losses = []
    for k in range(1, steps + 1):
        y, _ = model(u)  # training mode: nn4n enforces sparsity/Dale first
        loss, _ = loss_fn(y, target)
        opt.zero_grad()
        loss.backward()
        for n in names:
            tensors[f"step{k}.grad.{n}"] = to_ours(n, P[n].grad)
        opt.step()
        losses.append(loss.item())
        # What the next forward would use: nn4n projects at the start of each training forward.
        with torch.no_grad():
            model._enforce_constraints()
        for n in names:
            tensors[f"step{k}.{n}"] = to_ours(n, P[n])
    tensors["loss"] = torch.tensor(losses, dtype=torch.float32)
    metadata = {
        "config": json.dumps(our_config(case, mask_tensors(masks, tensors))),
        "case": case["name"],
        "description": "5 steps of torch.optim.Adam on nn4n's MSE in training mode; weights after each "
                       "step projected by the masks",
        "T": str(T), "B": str(B), "steps": str(steps), "learned": json.dumps(names),
        "optimizer": json.dumps({"name": "adam", "lr": lr, "betas": list(betas), "eps": eps,
                                 "weight_decay": 0.0, "amsgrad": False}),
        "seed": str(seed), "versions": json.dumps(versions()),
    }
    for name, t in tensors.items():
        assert torch.isfinite(t).all(), f"adam: {name} is not finite"
    return tensors, metadata


def write(path, tensors, metadata):
    """safetensors with a deterministic header (the safetensors package orders the metadata as a
    hash map does, so its files differ from run to run in the header's bytes). Tensors are sorted
    by element size (largest first, so every tensor is aligned) and name; the file is read back
    with the safetensors package to check it."""
    from safetensors.torch import load_file
    dtypes = {torch.float64: "F64", torch.float32: "F32"}
    names = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header = {"__metadata__": dict(sorted(metadata.items()))}
    blobs, offset = [], 0
    for n in names:
        t = tensors[n].detach().contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[n] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # data starts 8-byte aligned
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    back = load_file(str(path))
    assert sorted(back) == sorted(tensors) and all(
        back[n].numpy().tobytes() == tensors[n].detach().contiguous().numpy().tobytes() for n in tensors), path


def generate(out_dir: Path, only=None):
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, case in enumerate(case_list()):
        if only and case["name"] not in only:
            continue
        tensors, metadata = run_case(case, seed=1000 + 17 * index)
        path = out_dir / f"{case['name']}.safetensors"
        write(path, tensors, metadata)
        written.append(path)
    if not only or "adam_5_steps" in only:
        tensors, metadata = run_adam(seed=4242)
        path = out_dir / "adam_5_steps.safetensors"
        write(path, tensors, metadata)
        written.append(path)
    return written


def compare(new_dir: Path, old_dir: Path, subset: bool) -> bool:
    from safetensors.torch import load_file
    ok = True
    new = sorted(p.name for p in new_dir.glob("*.safetensors"))
    old = sorted(p.name for p in old_dir.glob("*.safetensors"))
    if not subset and new != old:
        print(f"file lists differ: new {new}, committed {old}")
        ok = False
    for name in new:
        a, b = new_dir / name, old_dir / name
        if not b.exists():
            print(f"  MISSING    {name} (not in {old_dir})")
            ok = False
            continue
        if a.read_bytes() == b.read_bytes():
            print(f"  identical  {name}")
            continue
        ok = False
        from safetensors import safe_open
        with safe_open(str(a), "pt") as fa, safe_open(str(b), "pt") as fb:
            if fa.metadata() != fb.metadata():
                print(f"  DIFFERENT  {name}: metadata")
        ta, tb = load_file(str(a)), load_file(str(b))
        worst = max(((k, (ta[k].double() - tb[k].double()).abs().max().item()) for k in ta if k in tb
                     and ta[k].shape == tb[k].shape), key=lambda kv: kv[1], default=("-", 0.0))
        print(f"  DIFFERENT  {name}: worst tensor {worst[0]} max |diff| {worst[1]:.3g}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default tests/golden/data)")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV,
                    help="virtual environment (default $CTRNN_GOLDEN_VENV or ~/.cache/ctrnn-golden-venv)")
    ap.add_argument("--no-venv", action="store_true", help="use the current interpreter as it is")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with --out instead of writing")
    ap.add_argument("--case", action="append", help="only this case (repeatable)")
    args = ap.parse_args()

    venv_dir = args.venv.expanduser()
    if not args.no_venv and not in_venv(venv_dir):
        python = ensure_venv(venv_dir)
        argv = [str(python), str(Path(__file__).resolve())] + sys.argv[1:]
        os.execv(str(python), argv)

    global np, torch, CTRNN, RNNLoss
    import numpy as np
    import torch
    from nn4n.criterion import RNNLoss
    from nn4n.model import CTRNN
    torch.set_num_threads(1)  # the same reduction order on every run
    torch.use_deterministic_algorithms(True)
    print(f"make_golden: {json.dumps(versions())}", flush=True)

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp), args.case)
            ok = compare(Path(tmp), args.out, subset=bool(args.case))
        print("make_golden: regenerated fixtures are identical" if ok else "make_golden: fixtures differ")
        sys.exit(0 if ok else 1)
    for path in generate(args.out, args.case):
        print(f"  wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path} "
              f"({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
