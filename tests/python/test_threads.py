"""Threads (README, Guarantees): the engine releases the GIL during its calls; calls on one model and
its trainers run one at a time, each whole, and different models run in parallel. Eight threads
hammer one model and one trainer and every result is checked against the serial run's; each test
repeats its round a few times to catch races that do not show every time.

Why the serial results are known whatever the interleaving: concurrent forwards run in eval mode
(no noise), so each input has one answer; concurrent training steps all use one batch, so N steps
in any order are the serial N steps (the noise of a step is addressed by the model's forward
count, the same sequence whoever calls), and each step's loss is one of the serial sequence's."""
import threading

import numpy as np
import pytest

import ctrnn

THREADS = 8
ROUNDS = 3
STEPS_PER_THREAD = 4


def make_model(seed=0, **kwargs):
    args = dict(dims=[3, 48, 2], activation="tanh", preact_noise=0.05, biases="zero", init_state="learn", seed=seed,
                device="cpu")
    args.update(kwargs)
    return ctrnn.CTRNN(**args)


def batch(seed, T=20, B=16):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((T, B, 3)).astype(np.float32)
    target = rng.standard_normal((T, B, 2)).astype(np.float32)
    return u, target


def run_threads(fn, n=THREADS):
    """fn(k) on n threads started together; re-raises the first exception of any."""
    start = threading.Barrier(n)
    errors = []

    def body(k):
        try:
            start.wait()
            fn(k)
        except BaseException as e:  # noqa: B036 - reported to the test below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def same_params(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_forwards_on_one_model_equal_the_serial_ones(round_):
    model = make_model().eval()
    inputs = [batch(100 * round_ + k)[0] for k in range(THREADS)]
    expected = [model(u)[0].copy() for u in inputs]
    outs = [np.full((1, 20, 16, 2), np.nan, np.float32) for _ in range(THREADS)]
    rates = [np.full((1, 20, 16, 48), np.nan, np.float32) for _ in range(THREADS)]
    got = [[] for _ in range(THREADS)]

    def work(k):
        for _ in range(5):
            got[k].append(model(inputs[k])[0].copy())
            model(inputs[k], out=(outs[k], rates[k]))  # into arrays given
            got[k].append(outs[k][0].copy())

    run_threads(work)
    for k in range(THREADS):
        for y in got[k]:
            np.testing.assert_array_equal(y, expected[k], err_msg=f"thread {k}")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_steps_on_one_trainer_equal_the_serial_steps(round_):
    u, target = batch(7 + round_)
    n = THREADS * STEPS_PER_THREAD
    serial_model = make_model(seed=round_)
    serial = ctrnn.Trainer(serial_model, lr=1e-2, clip=1.0)
    serial_losses, snapshots = [], [serial_model.parameters()]
    for _ in range(n):
        serial_losses.append(serial.step(u, target)["total"])
        snapshots.append(serial_model.parameters())

    model = make_model(seed=round_)
    trainer = ctrnn.Trainer(model, lr=1e-2, clip=1.0)
    losses = [[] for _ in range(THREADS)]
    reads = [[] for _ in range(THREADS)]

    def work(k):
        for _ in range(STEPS_PER_THREAD):
            losses[k].append(trainer.step(u, target)["total"])
            reads[k].append(model.parameters())  # while other threads step
            model.layers  # noqa: B018 - a read of every array, for the race it could have

    run_threads(work)
    assert trainer.steps_done == n
    assert same_params(model.parameters(), snapshots[-1]), "the weights after N concurrent steps differ from N serial ones"
    assert sorted(x for ls in losses for x in ls) == sorted(serial_losses)
    for k in range(THREADS):
        for p in reads[k]:
            assert any(same_params(p, s) for s in snapshots), f"thread {k} read parameters of no serial step"


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_mixed_calls_on_one_model_never_crash_or_mix(round_):
    """Steps, evaluations, forwards in eval mode, parameter reads and writes and mode changes at
    once: each call sees a model that some serial order of the calls left."""
    model = make_model(seed=round_)
    trainer = ctrnn.Trainer(model, lr=1e-3)
    u, target = batch(50 + round_)
    w = model.parameters()["w_hid"][0].copy()

    def work(k):
        for i in range(6):
            kind = (k + i) % 4
            if kind == 0:
                r = trainer.step(u, target)
                assert np.isfinite(r["total"])
            elif kind == 1:
                r = trainer.evaluate(u, target)
                assert np.isfinite(r["total"])
            elif kind == 2:
                model.set_weight("hidden", w)
                model.set_initial_state(np.zeros(48, np.float32))
            else:
                y, [r] = model(u)
                assert y.shape == (20, 16, 2) and np.all(np.isfinite(y)) and np.all(np.isfinite(r))

    run_threads(work)
    assert trainer.steps_done == sum(1 for k in range(THREADS) for i in range(6) if (k + i) % 4 == 0)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_different_models_in_parallel_give_their_serial_results(round_):
    data = [batch(300 + k) for k in range(THREADS)]

    def train(model, k):
        trainer = ctrnn.Trainer(model, lr=1e-2)
        for _ in range(STEPS_PER_THREAD):
            trainer.step(*data[k])
        model.eval()
        return model(data[k][0])[0]

    expected = []
    for k in range(THREADS):
        m = make_model(seed=k)
        y = train(m, k)
        expected.append((m.parameters(), y))
    models = [make_model(seed=k) for k in range(THREADS)]
    got = [None] * THREADS

    def work(k):
        got[k] = train(models[k], k)

    run_threads(work)
    for k in range(THREADS):
        assert same_params(models[k].parameters(), expected[k][0]), f"model {k}"
        np.testing.assert_array_equal(got[k], expected[k][1], err_msg=f"model {k}")


def test_a_saved_checkpoint_is_one_serial_state(tmp_path):
    """save() during steps of other threads writes the state after some whole step."""
    u, target = batch(9)
    serial_model = make_model(seed=5)
    serial = ctrnn.Trainer(serial_model, lr=1e-2)
    snapshots = [serial_model.parameters()]
    for _ in range(THREADS * 2):
        serial.step(u, target)
        snapshots.append(serial_model.parameters())
    model = make_model(seed=5)
    trainer = ctrnn.Trainer(model, lr=1e-2)

    def work(k):
        trainer.step(u, target)
        path = tmp_path / f"ck{k}.safetensors"
        model.save(path, trainer=trainer)
        trainer.step(u, target)
        loaded = ctrnn.load(path, device="cpu")
        assert any(same_params(loaded.parameters(), s) for s in snapshots), f"checkpoint {k}"

    run_threads(work)
    assert same_params(model.parameters(), snapshots[-1])
