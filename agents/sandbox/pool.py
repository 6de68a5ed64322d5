"""The Sandbox: a warm pool of isolated workers that runs untrusted tool code with typed per-call results."""
from __future__ import annotations

import asyncio
import os
import re

import msgpack

from agents.sandbox.ast_check import check_code, code_hash
from agents.sandbox.config import INSECURE_ENV, SandboxConfig
from agents.sandbox.layers import CORE_LAYERS
from agents.sandbox.results import (ERROR_KINDS, CallResult, ForbiddenCode, SandboxClosedError,
                                    SandboxInsecureError, WorkerStartError)
from agents.sandbox.frame_codec import collector_paused
from agents.sandbox.worker_assignment import WorkerAssignment
from agents.sandbox.worker_handle import OnCallback, WorkerHandle
from agents.sandbox.worker_process import make_jail_dir

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECYCLE_KINDS = frozenset({"timeout", "memory", "forbidden"})
# Batches of at least twice this many calls are split into chunks of at least this size.
_SPLIT_MIN = 256


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
            workers = await asyncio.gather(*(WorkerHandle.start(self.config, self._jail_dir) for _ in range(count)),
                                           return_exceptions=True)
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
        await self.start()
        results: list[CallResult | None] = [None] * len(arg_lists)
        runnable = []
        with collector_paused():
            for index, args in enumerate(arg_lists):
                if isinstance(args, tuple):
                    args = list(args)
                if not isinstance(args, list):
                    results[index] = CallResult.failure("rejected", f"arguments must be a list, got {type(args).__name__}")
                else:
                    runnable.append((index, args))
        timeout_s = max(0.001, float(timeout_s))
        await self._run_split(key, code, entry, runnable, results, timeout_s, on_callback)
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

    async def _run_split(self, key, code, entry, runnable, results, timeout_s, on_callback) -> None:
        """Cut a big batch into chunks that the free workers take in turn; small ones go to one worker."""
        if self.config.workers == 1 or len(runnable) < 2 * _SPLIT_MIN:
            await self._run_until_done(key, code, entry, runnable, results, timeout_s, on_callback)
            return
        # Several chunks per worker: the host encodes and decodes one chunk while workers run others.
        size = max(_SPLIT_MIN, -(-len(runnable) // (4 * self.config.workers)))
        chunks = [runnable[i:i + size] for i in range(0, len(runnable), size)]
        await asyncio.gather(*(self._run_until_done(key, code, entry, chunk, results, timeout_s, on_callback)
                               for chunk in chunks))

    async def _run_until_done(self, key, code, entry, pending, results, timeout_s, on_callback) -> None:
        """Run `pending` calls; after a worker dies, mark its culprit and re-run the rest on a fresh one."""
        while pending:
            if self._closed:
                raise SandboxClosedError("the Sandbox was closed while calls were running")
            worker = await self._acquire(key)
            try:
                frame, pending = self._encode_run(key, code, entry, pending, results,
                                                  send_code=not worker.has_code)
                if not pending:
                    await self._release(worker, recycle=False)
                    return
                worker.has_code = True
                outcome = await worker.run_batch(frame, len(pending), timeout_s, on_callback,
                                                 self.config.max_frame_bytes)
            except BaseException:
                await self._release(worker, recycle=True)
                raise
            recycle = outcome.failure is not None
            failed = False
            with collector_paused():
                for (index, _), item in zip(pending, outcome.items):
                    # Hot path of batches: successes are decoded inline, everything else by _decode_item.
                    if type(item) is list and len(item) == 2 and item[0] == 0:
                        results[index] = CallResult(True, item[1], None, "")
                    else:
                        results[index] = _decode_item(item)
                        failed = True
            if failed:
                recycle = recycle or any(self._needs_recycle(results[i]) for i, _ in pending[:len(outcome.items)])
            await self._release(worker, recycle=recycle)
            if outcome.failure is None:
                return
            culprit, kind, detail = outcome.failure
            done = len(outcome.items)
            if culprit == -1:
                for index, _ in pending[done:]:
                    results[index] = CallResult.failure(kind, detail)  # type: ignore[arg-type]
                return
            culprit = culprit if done <= culprit < len(pending) else done
            if culprit < len(pending):
                results[pending[culprit][0]] = CallResult.failure(kind, detail)  # type: ignore[arg-type]
            pending = pending[done:culprit] + pending[culprit + 1:]

    def _needs_recycle(self, result: CallResult | None) -> bool:
        """Whether this result leaves the worker in a state it should not keep serving from."""
        if result is None or result.ok:
            return False
        return result.error in _RECYCLE_KINDS or (result.error == "tool_error" and self.config.recycle_on_tool_error)

    def _encode_run(self, key, code, entry, pending, results, send_code=False):
        """The 'run' frame for `pending`; calls whose arguments cannot be encoded are rejected here."""
        try:
            return msgpack.packb(["run", key, code if send_code else None, entry, [a for _, a in pending]],
                                 use_bin_type=True), pending
        except (TypeError, ValueError, OverflowError):
            good = []
            for index, args in pending:
                try:
                    msgpack.packb(args, use_bin_type=True)
                    good.append((index, args))
                except (TypeError, ValueError, OverflowError) as exc:
                    results[index] = CallResult.failure("rejected", f"arguments cannot be encoded: {exc}")
            if not good:
                return b"", good
            return self._encode_run(key, code, entry, good, results, send_code)

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


def _decode_item(item) -> CallResult:
    """One raw result item from a worker, [0, value] or [error code, detail], as a CallResult."""
    if type(item) is list and len(item) == 2:
        code, value = item
        if code == 0:
            return CallResult(True, value, None, "")
        if type(code) is int and 1 <= code <= len(ERROR_KINDS) and isinstance(value, str):
            return CallResult(False, None, ERROR_KINDS[code - 1], value)  # type: ignore[arg-type]
    return CallResult.failure("invalid_output", "the worker returned a malformed result item")
