"""The Ray backend: each pack is one Ray task on an existing cluster (or a local one Ray starts), and
Ray does the rest: it places tasks by their resources (`cpus_per_pack`, `gpus_per_pack`) and, when the
worker process or the node running a task dies, runs the task again (up to `max_retries` times); the
task (``_pack.run_pack``) then resumes the pack from its last checkpoint. The sweep's folder must be on
a path that every node sees (a shared file system). Ray is imported only here, when asked for."""

INSTALL_HINT = "pip install 'ctrnn[ray]' (or pip install ray)"


def import_ray():
    try:
        import ray
    except ImportError as e:
        raise ImportError(f"ctrnn: backend=\"ray\" needs Ray, which is not installed here ({e}): {INSTALL_HINT}") from e
    return ray


class RayBackend:
    def __init__(self, out, base_dir, token, address, cpus_per_pack, gpus_per_pack, max_retries):
        ray = self._ray = import_ray()
        from ._pack import run_pack

        self.out, self.base_dir, self.token = out, base_dir, token
        # Connect unless the caller already has (then the connection stays theirs). address None: Ray's
        # own choice (RAY_ADDRESS, a running local cluster, else a new one in this process).
        self._owns_connection = not ray.is_initialized()
        if self._owns_connection:
            ray.init(address=address, logging_level="WARNING")
        self.threads = max(1, int(cpus_per_pack))  # BLAS threads of a pack: the CPUs Ray reserves for it
        # max_retries covers system failures (the worker process or its node dying), not exceptions
        # raised by the training run (retry_exceptions is off): those are the pack's result.
        self._task = ray.remote(num_cpus=cpus_per_pack, num_gpus=gpus_per_pack, max_retries=max_retries)(run_pack)
        resources = ray.cluster_resources()
        self.description = (f"ray {ray.__version__} at {address or 'auto'} ({resources.get('CPU', 0):g} CPUs, "
                            f"{resources.get('GPU', 0):g} GPUs): {cpus_per_pack:g} CPU, {gpus_per_pack:g} GPU per pack")
        self._refs = {}  # ObjectRef -> pack index

    def submit(self, pack):
        ref = self._task.remote(pack, self.out, self.base_dir, self.threads, self.token)
        self._refs[ref] = pack["index"]

    def pending(self):
        return len(self._refs)

    def wait(self, timeout):
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=timeout)
        events = []
        for ref in ready:
            index = self._refs.pop(ref)
            try:
                events.append((index, "done", self._ray.get(ref)))
            except self._ray.exceptions.RayError as e:  # the run's own exception, or retries exhausted
                cause = getattr(e, "cause", None)
                message = f"{type(cause).__name__}: {cause}" if cause is not None else str(e).strip().splitlines()[-1]
                events.append((index, "failed", message))
        return events

    def close(self):
        # An interrupted driver: its tasks stop. Ray interrupts a running one as Ctrl-C would, which the
        # training run takes as a stop request (checkpoint saved); rerunning the sweep resumes them.
        for ref in self._refs:
            self._ray.cancel(ref)
        self._refs.clear()
        if self._owns_connection:
            self._ray.shutdown()
