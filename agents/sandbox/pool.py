"""The Sandbox: a warm pool of isolated workers that runs untrusted tool code with typed per-call results."""
from __future__ import annotations

import asyncio
import os
import re
from functools import partial
from itertools import repeat
from typing import NamedTuple

import msgpack

from agents.sandbox.ast_check import check_code, code_hash
from agents.sandbox.config import INSECURE_ENV, SandboxConfig
from agents.sandbox.layers import CORE_LAYERS
from agents.sandbox.results import (ERROR_KINDS, CallResult, ForbiddenCode, SandboxClosedError,
                                    SandboxInsecureError, SandboxNotStartedError)
from agents.sandbox.frame_codec import collector_paused
from agents.sandbox.worker_assignment import WorkerAssignment, start_worker
from agents.sandbox.worker_handle import OnCallback, WorkerHandle
from agents.sandbox.worker_process import make_jail_dir

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECYCLE_KINDS = frozenset({"timeout", "memory", "forbidden"})
# Batches of at least twice this many calls are split into chunks of at least this size.
_SPLIT_MIN = 256
_RUN_HEAD = b"\x95\xa3run"  # msgpack: a 5-item array, then 'run'


class Sandbox:
    """Runs `entry(*args)` from untrusted `code` in isolated worker processes; safe for concurrent callers."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.layers: dict[str, bool] = {}
        self._workers: WorkerAssignment | None = None
        self._slots: asyncio.Semaphore | None = None
        self._start_lock: asyncio.Lock | None = None
        self._started = False
        self._closed = False
        self._jail_dir: str | None = None
        self._checked: dict[str, str] = {}  # code that passed the checks -> its content hash

    def __reduce__(self):
        """Pickle as the configuration only (e.g. sent to a Ray actor): the receiver starts its own workers."""
        return (Sandbox, (self.config,))

    async def __aenter__(self) -> "Sandbox":
        """Start the pool."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        """Close the pool."""
        await self.close()

    async def start(self) -> None:
        """Start the warm workers; raise SandboxInsecureError if core layers are missing and not opted in."""
        if self._closed:
            raise SandboxClosedError("this Sandbox was closed; create a new one")
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._started:
                return
            self._slots = asyncio.Semaphore(self.config.workers)
            self._jail_dir = make_jail_dir()
            count = self.config.workers + self.config.spares
            # A worker that fails to start on a loaded machine is tried once more (seen in CI); the
            # background top-up tries more often, since no caller waits on it.
            workers = await asyncio.gather(*(start_worker(self.config, self._jail_dir, attempts=2)
                                             for _ in range(count)), return_exceptions=True)
            errors = [w for w in workers if isinstance(w, BaseException)]
            live = [w for w in workers if not isinstance(w, BaseException)]
            if errors:
                for worker in live:
                    await worker.retire()
                self._remove_jail()
                raise errors[0]
            self.layers = dict(live[0].layers, ast_check=self.config.ast_check)
            missing = [name for name in CORE_LAYERS if not self.layers.get(name)]
            if missing and not self.config.allow_insecure:
                for worker in live:
                    await worker.retire()
                self._remove_jail()
                raise SandboxInsecureError(
                    f"sandbox layers unavailable: {', '.join(missing)}. Run as root on Linux with libseccomp, "
                    f"or accept weaker isolation with SandboxConfig(allow_insecure=True) or {INSECURE_ENV}=1")
            self._workers = WorkerAssignment(self.config, self._jail_dir)
            for worker in live:
                self._workers.add_clean(worker)
            self._started = True

    async def close(self) -> None:
        """Kill every worker and remove the jail directory."""
        self._closed = True
        if self._workers is not None:
            await self._workers.close()
        self._remove_jail()

    def _remove_jail(self) -> None:
        """Delete the (empty) jail directory."""
        if self._jail_dir:
            try:
                os.rmdir(self._jail_dir)
            except OSError:
                pass
            self._jail_dir = None

    async def call(self, code: str, entry: str, args: list, *, timeout_s: float = 2.0,
                   on_callback: OnCallback | None = None) -> CallResult:
        """Run `entry(*args)` once; never raises for anything the tool does."""
        return (await self.call_many(code, entry, [args], timeout_s=timeout_s, on_callback=on_callback))[0]

    async def call_many(self, code: str, entry: str, arg_lists: list[list], *, timeout_s: float = 2.0,
                        on_callback: OnCallback | None = None) -> list[CallResult]:
        """Run `entry(*args)` for every args list in as few round trips as possible; one result per call."""
        if self._closed:
            raise SandboxClosedError("this Sandbox was closed; create a new one")
        arg_lists = list(arg_lists)
        if not arg_lists:
            return []
        key = self._checked.get(code) if isinstance(code, str) else None
        if key is None or not _IDENTIFIER.match(entry if isinstance(entry, str) else ""):
            problem = self._code_problem(code, entry)
            if problem is not None:
                return [CallResult.failure("rejected", problem)] * len(arg_lists)
            key = code_hash(code)
            if len(self._checked) >= 256:
                self._checked.clear()
            if len(code) <= 50_000:
                self._checked[code] = key
        if not self._started:
            raise SandboxNotStartedError("this Sandbox is not started; await its start() first (agents start "
                                         "theirs in start()) or use `async with Sandbox()`")
        results: list[CallResult | None] = [None] * len(arg_lists)
        for index in [i for i, args in enumerate(arg_lists) if type(args) is not list]:
            args = arg_lists[index]
            if isinstance(args, (list, tuple)):
                arg_lists[index] = list(args)
            else:
                results[index] = CallResult.failure("rejected", f"arguments must be a list, got {type(args).__name__}")
        batch = _Batch(key, code, entry, arg_lists, results, max(0.001, float(timeout_s)), on_callback)
        await self._run_split(batch, [i for i, r in enumerate(results) if r is None])
        return results  # type: ignore[return-value]

    def _code_problem(self, code: object, entry: object) -> str | None:
        """Why the code or entry is refused before any worker sees it, or None."""
        if not isinstance(code, str):
            return "code must be a string of Python source"
        if len(code) > self.config.max_code_chars:
            return f"code is {len(code)} characters; the limit is {self.config.max_code_chars}"
        if not isinstance(entry, str) or not _IDENTIFIER.match(entry):
            return f"entry must be a function name, got {entry!r:.60}"
        if self.config.ast_check:
            try:
                check_code(code)
            except ForbiddenCode as exc:
                return f"forbidden code: {exc}"
        return None

    async def _run_split(self, batch: "_Batch", runnable: list[int]) -> None:
        """Cut a big batch into chunks that the free workers take in turn; small ones go to one worker."""
        if self.config.workers == 1 or len(runnable) < 2 * _SPLIT_MIN:
            await self._run_until_done(batch, runnable)
            return
        # Several chunks per worker: the host encodes and decodes one chunk while workers run others.
        size = max(_SPLIT_MIN, -(-len(runnable) // (4 * self.config.workers)))
        await asyncio.gather(*(self._run_until_done(batch, runnable[i:i + size])
                               for i in range(0, len(runnable), size)))

    async def _run_until_done(self, batch: "_Batch", pending: list[int]) -> None:
        """Run the calls at indices `pending`; after a worker dies, mark its culprit and re-run the rest on a fresh one."""
        results = batch.results
        while pending:
            if self._closed:
                raise SandboxClosedError("the Sandbox was closed while calls were running")
            # Encoded before a worker is taken, so a worker never waits for it.
            packed, pending = self._encode_args(batch, pending)
            if not pending:
                return
            worker = await self._acquire(batch.key)
            try:
                head = _RUN_HEAD + msgpack.packb(batch.key) + msgpack.packb(None if worker.has_code else batch.code) \
                    + msgpack.packb(batch.entry)
                worker.has_code = True
                outcome = await worker.run_batch(head + packed, len(pending), batch.timeout_s, batch.on_callback,
                                                 self.config.max_frame_bytes)
            except BaseException:
                await self._release(worker, recycle=True)
                raise
            done = len(outcome.values)
            with collector_paused():
                failed = _book(outcome, pending[:done], results)
            recycle = outcome.failure is not None or any(self._needs_recycle(results[i]) for i in failed)
            await self._release(worker, recycle=recycle)
            if outcome.failure is None:
                return
            culprit, kind, detail = outcome.failure
            if culprit == -1:
                for index in pending[done:]:
                    results[index] = CallResult.failure(kind, detail)  # type: ignore[arg-type]
                return
            culprit = culprit if done <= culprit < len(pending) else done
            if culprit < len(pending):
                results[pending[culprit]] = CallResult.failure(kind, detail)  # type: ignore[arg-type]
            pending = pending[done:culprit] + pending[culprit + 1:]

    def _needs_recycle(self, result: CallResult | None) -> bool:
        """Whether this result leaves the worker in a state it should not keep serving from."""
        if result is None or result.ok:
            return False
        return result.error in _RECYCLE_KINDS or (result.error == "tool_error" and self.config.recycle_on_tool_error)

    @staticmethod
    def _encode_args(batch: "_Batch", pending: list[int]) -> tuple[bytes, list[int]]:
        """The packed argument lists of `pending`; calls whose arguments cannot be encoded are rejected here."""
        arg_lists = batch.arg_lists
        try:
            return msgpack.packb([arg_lists[i] for i in pending], use_bin_type=True), pending
        except (TypeError, ValueError, OverflowError):
            good = []
            for index in pending:
                try:
                    msgpack.packb(arg_lists[index], use_bin_type=True)
                    good.append(index)
                except (TypeError, ValueError, OverflowError) as exc:
                    batch.results[index] = CallResult.failure("rejected", f"arguments cannot be encoded: {exc}")
            return (msgpack.packb([arg_lists[i] for i in good], use_bin_type=True) if good else b""), good

    @property
    def _spawning(self) -> set[asyncio.Task]:
        """Workers being started in the background (the benchmark times their replacement)."""
        return self._workers.spawning if self._workers is not None else set()

    async def _acquire(self, key: str) -> WorkerHandle:
        """Wait for a call slot and a worker that serves only tool `key`."""
        assert self._slots is not None and self._workers is not None
        await self._slots.acquire()
        try:
            return await self._workers.acquire(key)
        except BaseException:
            self._slots.release()
            raise

    async def _release(self, worker: WorkerHandle, recycle: bool) -> None:
        """Give the worker back to its tool, or retire it."""
        assert self._slots is not None and self._workers is not None
        self._slots.release()
        await self._workers.release(worker, recycle)


class _Batch(NamedTuple):
    """One call_many: the tool, its argument lists, where results go and how calls run."""

    key: str
    code: str
    entry: str
    arg_lists: list
    results: list
    timeout_s: float
    on_callback: OnCallback | None


_success = partial(tuple.__new__, CallResult)


def _book(outcome, indices: list[int], results: list) -> list[int]:
    """Store the worker's results for `indices`; return the indices of the failed calls."""
    codes, values = outcome.codes, outcome.values
    n = len(values)
    if codes.count(0) == n:  # the hot path: a whole batch of successes, built in C
        fresh = map(_success, zip(repeat(True), values, repeat(None), repeat("")))
        if n and indices[-1] - indices[0] == n - 1:  # indices are ascending: contiguous
            results[indices[0]:indices[0] + n] = fresh
        else:
            for index, result in zip(indices, fresh):
                results[index] = result
        return []
    failed = []
    for index, code, value in zip(indices, codes, values):
        if code == 0:
            results[index] = CallResult(True, value, None, "")
            continue
        failed.append(index)
        if code <= len(ERROR_KINDS) and type(value) is str:
            results[index] = CallResult(False, None, ERROR_KINDS[code - 1], value)  # type: ignore[arg-type]
        else:
            results[index] = CallResult.failure("invalid_output", "the worker returned a malformed result item")
    return failed
