"""The local backend: packs run in worker processes on this machine, `workers` at a time, the cores
split between them (each pack's training run gets `threads` BLAS threads). A pack whose worker dies
(a signal, the out-of-memory killer) is started again, resuming from its checkpoint, up to
`max_retries` times, as Ray retries a task whose worker died; a pack whose training run raises (bad
data, every network diverged) is not retried: that is its result."""
import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LocalBackend:
    def __init__(self, out, base_dir, token, workers, threads, max_retries):
        self.out, self.base_dir, self.token = out, base_dir, token
        self.workers, self.threads, self.max_retries = workers, threads, max_retries
        self.description = f"local: {workers} worker{'s' * (workers != 1)} x {threads} thread{'s' * (threads != 1)}"
        self._waiting = collections.deque()  # (pack, deaths so far)
        self._running = {}  # index -> (process, pack, deaths so far, result path)
        self._tmp = tempfile.mkdtemp(prefix="ctrnn-sweep-")

    def submit(self, pack):
        self._waiting.append((pack, 0))
        self._fill()

    def pending(self):
        return len(self._waiting) + len(self._running)

    def _fill(self):
        while self._waiting and len(self._running) < self.workers:
            pack, deaths = self._waiting.popleft()
            name = f"{pack['index']:06d}-{deaths}"
            job, result = os.path.join(self._tmp, name + ".job.json"), os.path.join(self._tmp, name + ".result.json")
            with open(job, "w") as f:
                json.dump({"pack": pack, "out": self.out, "base_dir": self.base_dir, "threads": self.threads,
                           "token": self.token, "driver": os.getpid()}, f)
            # Its own session: a Ctrl-C at the terminal reaches the driver, which stops the workers (close).
            process = subprocess.Popen([sys.executable, "-m", "ctrnn.sweep._worker", job, result],
                                       start_new_session=True, stdin=subprocess.DEVNULL)
            self._running[pack["index"]] = (process, pack, deaths, result)

    def wait(self, timeout):
        """Events of packs whose worker ended within `timeout` seconds: (index, "done", result),
        (index, "failed", message) or (index, "lost", message) for a worker that died and whose pack
        starts again."""
        deadline = time.monotonic() + timeout
        while True:
            ended = [i for i, (p, *_) in self._running.items() if p.poll() is not None]
            if ended or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        events = []
        for index in ended:
            process, pack, deaths, result_path = self._running.pop(index)
            try:
                with open(result_path) as f:
                    result = json.load(f)
            except (OSError, ValueError):
                result = None
            if result is not None and "ok" in result:
                events.append((index, "done", result["ok"]))
            elif result is not None:
                events.append((index, "failed", result["error"]))
            else:
                code = process.returncode
                how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
                if deaths < self.max_retries:
                    self._waiting.append((pack, deaths + 1))
                    events.append((index, "lost", f"worker pid {process.pid} {how}; starting it again "
                                                  f"(retry {deaths + 1} of {self.max_retries})"))
                else:
                    events.append((index, "failed", f"worker pid {process.pid} {how}, after {self.max_retries} "
                                                    f"retr{'y' if self.max_retries == 1 else 'ies'}"))
        self._fill()
        return events

    def close(self):
        """Stops the workers still running (SIGTERM: the training run saves its checkpoint where it
        handles the signal; otherwise the last periodic checkpoint stands) and removes the job files."""
        for process, *_ in self._running.values():
            if process.poll() is None:
                process.terminate()
        for process, *_ in self._running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._running.clear()
        self._waiting.clear()
        shutil.rmtree(self._tmp, ignore_errors=True)
