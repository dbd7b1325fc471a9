"""What a sweep reports while it runs: one line per pack event (started, resumed, checkpoint, done,
diverged, failed, retried) and an overall progress bar (packs done, networks done, ETA): tqdm's when
tqdm is installed and a terminal or notebook shows it, else a progress line after each finished pack
and every 30 seconds.

Events come from two places: the backend (a pack's run ended: done or failed; a local worker died)
and the packs' folders, which the driver reads every poll (``_pack.read_worker``: a process started
the pack, and whether under this call's token as a retry; ``_pack.checkpoint_state``: a checkpoint
was written). Reading folders rather than messages makes Ray's retries, which happen inside Ray,
visible the same way as local ones; it needs the folder on a path the driver sees, which the Ray
backend needs anyway. Progress is counted in network-steps (each pack's networks times its steps),
so the ETA moves with checkpoints, not only when whole packs finish."""
import json
import os
import sys
import time

from .. import _core
from ._pack import checkpoint_state, outcome, pack_dir, read_worker

LINE_EVERY_S = 30


def _clock(seconds):
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def pack_steps(pack):
    """The steps a pack trains to (its config's training.steps), or None when the config leaves it to
    the library's default."""
    return json.loads(pack["config"]).get("training", {}).get("steps")


class _Pack:
    def __init__(self, pack, out):
        self.index, self.name = pack["index"], os.path.basename(os.path.normpath(pack["dir"]))
        self.folder, self.networks, self.steps = pack_dir(out, pack), len(pack["networks"]), pack_steps(pack)
        state = checkpoint_state(self.folder)
        self.step = state[0] if state else 0  # of the last checkpoint seen
        self.attempt = None  # (pid, attempt) of the worker.json seen
        self.finished = False

    def fraction(self):
        return 1.0 if self.finished else (min(1.0, self.step / self.steps) if self.steps else 0.0)

    def complete_on_disk(self):
        return self.steps is not None and self.step >= self.steps


class Progress:
    def __init__(self, packs, out, token, enabled):
        self.token, self.enabled = token, enabled
        self.packs = {p["index"]: _Pack(p, out) for p in packs}
        self.networks = sum(p.networks for p in self.packs.values())
        self.start = time.monotonic()
        self.done_before = 0.0  # network-steps done before this call, in networks
        self._bar = None
        self._last_line = self.start

    # -- lines and the bar ---------------------------------------------------------------------------
    def line(self, text):
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def begin(self, description, to_run):
        """The sweep's first line; then the bar (tqdm's when installed)."""
        finished = len(self.packs) - len(to_run)
        resumed = sum(1 for i in to_run if self.packs[i].step > 0)
        self.line(f"sweep: {len(self.packs)} packs, {self.networks} networks | {finished} packs done before, "
                  f"{resumed} to resume, {len(to_run) - resumed} to start | {description}")
        self.done_before = self._progress()
        # A bar where someone watches it (a terminal, a notebook); lines in logs.
        if not self.enabled or not (sys.stderr.isatty() or "ipykernel" in sys.modules):
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=self.networks, initial=self.done_before, dynamic_ncols=True,
                         bar_format="{desc} |{bar}| {percentage:3.0f}% [{elapsed}<{remaining}]")
        self._update_bar()

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _progress(self):
        """Work done, in networks: each pack's networks times the fraction of its steps done."""
        return sum(p.networks * p.fraction() for p in self.packs.values())

    def _counts(self):
        packs = sum(p.finished for p in self.packs.values())
        networks = sum(p.networks for p in self.packs.values() if p.finished)
        return f"packs {packs}/{len(self.packs)} | networks {networks}/{self.networks}"

    def _update_bar(self, force_line=False):
        if not self.enabled:
            return
        done = self._progress()
        if self._bar is not None:
            self._bar.n = done
            self._bar.set_description_str(self._counts(), refresh=True)
            return
        now = time.monotonic()
        if not force_line and now - self._last_line < LINE_EVERY_S:
            return
        self._last_line = now
        rate = (done - self.done_before) / max(now - self.start, 1e-9)
        eta = _clock((self.networks - done) / rate) if rate > 0 else "?"
        self.line(f"progress: {self._counts()} | {done / max(self.networks, 1):.0%} | elapsed "
                  f"{_clock(now - self.start)} | ETA {eta}")

    # -- events --------------------------------------------------------------------------------------
    def already_done(self, index):
        """A pack whose checkpoint is at its last step, or all of whose networks diverged (a rerun skips
        it; a pack that failed is tried again)."""
        p = self.packs[index]
        if p.complete_on_disk() or outcome(p.folder) == "diverged":
            p.finished = True
        return p.finished

    def poll(self):
        """Reads the folders of the packs under way: starts, retries, checkpoints."""
        for p in self.packs.values():
            if p.finished:
                continue
            worker = read_worker(p.folder)
            if worker is not None and worker.get("token") == self.token:
                key = (worker.get("pid"), worker.get("attempt"))
                if key != p.attempt:
                    p.attempt = key
                    self._started(p, worker)
            state = checkpoint_state(p.folder)
            if state is not None and state[0] != p.step:
                p.step = state[0]
                if not p.complete_on_disk():  # the final one is reported as done
                    self.line(f"pack {p.name} checkpoint: step {p.step}/{p.steps or '?'}")
        self._update_bar()

    def _started(self, p, worker):
        where = f"pid {worker.get('pid')} on {worker.get('host')}"
        from_step = worker.get("from_step", 0)
        at = f" at step {from_step}/{p.steps or '?'}" if from_step else ""
        if worker.get("attempt", 1) > 1:
            self.line(f"pack {p.name} retried (attempt {worker['attempt']}): resumed{at or ' from the start'}, {where}")
        elif from_step:
            self.line(f"pack {p.name} resumed{at}, {p.networks} networks, {where}")
        else:
            self.line(f"pack {p.name} started: {p.networks} networks, {p.steps or '?'} steps, {where}")

    def finished(self, index, kind, payload):
        """A backend's event: "done" (payload: run_pack's result), "failed" or "lost" (a message)."""
        p = self.packs[index]
        self.poll()  # its start and last checkpoint first, in order
        if kind == "lost":
            self.line(f"pack {p.name} lost: {payload}")
            return
        p.finished = True
        if kind == "failed":
            if outcome(p.folder) is None:  # its worker died without a word (the run records its own errors)
                _core.record_pack_outcome(p.folder, "failed", payload)
            self.line(f"pack {p.name} failed: {payload}")
        elif payload["run"]["status"] == "all_diverged":
            self.line(f"pack {p.name} diverged: {payload['run']['message']}")
        elif payload["run"]["status"] == "stopped":
            p.finished = False
            self.line(f"pack {p.name} stopped at step {payload['run']['steps_done']}: {payload['run']['message']}")
        else:
            state = checkpoint_state(p.folder)
            step, loss, diverged = state if state else (0, [], [])
            live = [l for l, d in zip(loss, diverged) if not d] if diverged else loss
            summary = f"loss {min(live):.4g}..{max(live):.4g}" if live else "no loss"
            if any(diverged):
                self.line(f"pack {p.name} done with {sum(diverged)}/{p.networks} networks diverged: step {step}, "
                          f"{summary} (the others)")
            else:
                self.line(f"pack {p.name} done: step {step}, {p.networks} networks, {summary}")
        self._update_bar(force_line=True)

    def summary(self, rows, results_path):
        self.close()
        status = {}
        for r in rows:
            status[r.get("status", "?")] = status.get(r.get("status", "?"), 0) + 1
        counts = ", ".join(f"{n} {s}" for s, n in sorted(status.items()))
        self.line(f"sweep: {len(rows)} networks ({counts}) in {_clock(time.monotonic() - self.start)} | "
                  f"results: {results_path}")
