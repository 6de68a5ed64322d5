"""Which worker runs which tool: a worker process serves one tool version for its whole life."""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

from agents.sandbox.config import SandboxConfig
from agents.sandbox.results import WorkerStartError
from agents.sandbox.worker_handle import WorkerHandle

log = logging.getLogger(__name__)


async def start_worker(config: SandboxConfig, jail_dir: str, attempts: int = 5,
                       stopped: Callable[[], bool] = lambda: False,
                       failed: Callable[[WorkerStartError], None] = lambda exc: None) -> WorkerHandle | None:
    """Launch a worker, retrying a few times if the machine is momentarily short of resources;
    None once `stopped()`, the last WorkerStartError when every attempt failed."""
    last: WorkerStartError | None = None
    for attempt in range(attempts):
        if stopped():
            return None
        try:
            return await WorkerHandle.start(config, jail_dir)
        except WorkerStartError as exc:
            last = exc
            failed(exc)
            log.warning("sandbox worker failed to start (attempt %d): %s", attempt + 1, exc)
            await asyncio.sleep(0.2 * (attempt + 1))
    raise last


class WorkerAssignment:
    """Clean workers (no tool code ever ran in them) and idle workers dedicated to one tool each.

    This is what isolates tools from each other: whatever state a tool leaves behind in its
    interpreter (module, class or builtin attributes, contexts, caches, registries, random state,
    interpreter settings) stays in a process that never runs any other code, and dies with it.
    """

    def __init__(self, config: SandboxConfig, jail_dir: str) -> None:
        self.config = config
        self.jail_dir = jail_dir
        self.clean: asyncio.Queue[WorkerHandle] = asyncio.Queue()
        self.dedicated: OrderedDict[str, list[WorkerHandle]] = OrderedDict()  # least recently used first
        self.busy: set[WorkerHandle] = set()
        self.spawning: set[asyncio.Task] = set()
        self.closed = False
        self.last_spawn_error: Exception | None = None
        self._waiting = 0

    def add_clean(self, worker: WorkerHandle) -> None:
        """A freshly started worker joins the clean ones."""
        self.clean.put_nowait(worker)

    async def acquire(self, key: str) -> WorkerHandle:
        """An idle worker already serving tool `key`, else a clean one that will serve only `key`."""
        while True:
            idle = self.dedicated.get(key)
            if idle:
                worker = idle.pop()
                if not idle:
                    del self.dedicated[key]
            else:
                worker = await self._take_clean()
                worker.tool = key
            if worker.launched.proc.poll() is None:
                break
            # A worker that died while waiting would fail the batch's first call as if the
            # tool had ended it, so it is replaced before anything is sent.
            log.warning("an idle sandbox worker had exited (code %s); taking another",
                        worker.launched.proc.returncode)
            await worker.retire()
        self.busy.add(worker)
        return worker

    async def _take_clean(self) -> WorkerHandle:
        """Wait for a clean worker, keeping enough of them starting in the background."""
        self._waiting += 1
        try:
            self._top_up()
            if self.clean.empty():
                try:
                    return await asyncio.wait_for(self.clean.get(), self.config.start_timeout_s * 3)
                except asyncio.TimeoutError:
                    raise WorkerStartError(f"no sandbox worker became available: {self.last_spawn_error!r}") from None
            return self.clean.get_nowait()
        finally:
            self._waiting -= 1
            self._top_up()

    def _top_up(self) -> None:
        """Start workers until the clean ones (ready or starting) cover the spares and every waiter."""
        if self.closed:
            return
        want = self.config.spares + max(1, self._waiting)
        for _ in range(want - self.clean.qsize() - len(self.spawning)):
            task = asyncio.get_running_loop().create_task(self._spawn_one())
            self.spawning.add(task)
            task.add_done_callback(self.spawning.discard)

    async def release(self, worker: WorkerHandle, recycle: bool) -> None:
        """Keep the worker for its tool's next calls, or retire it."""
        self.busy.discard(worker)
        if recycle or worker.dead or self.closed or worker.calls >= self.config.max_calls_per_worker:
            await worker.retire()
            return
        self.dedicated.setdefault(worker.tool, []).append(worker)
        self.dedicated.move_to_end(worker.tool)
        evicted = []
        while sum(map(len, self.dedicated.values())) > self.config.max_idle_workers:
            oldest, workers = next(iter(self.dedicated.items()))
            evicted.append(workers.pop(0))
            if not workers:
                del self.dedicated[oldest]
        for old in evicted:
            await old.retire()

    async def _spawn_one(self) -> None:
        """Launch a worker into the clean queue (start_worker retries a momentary shortage)."""
        try:
            worker = await start_worker(self.config, self.jail_dir, stopped=lambda: self.closed,
                                        failed=self._spawn_failed)
        except WorkerStartError:
            return
        if worker is None:
            return
        if self.closed:
            await worker.retire()
        else:
            self.clean.put_nowait(worker)

    def _spawn_failed(self, exc: WorkerStartError) -> None:
        self.last_spawn_error = exc

    async def close(self) -> None:
        """Kill every worker: clean, idle, busy and starting."""
        self.closed = True
        for task in list(self.spawning):
            task.cancel()
        workers = list(self.busy) + [w for idle in self.dedicated.values() for w in idle]
        self.dedicated.clear()
        while not self.clean.empty():
            workers.append(self.clean.get_nowait())
        for worker in workers:
            await worker.retire()
