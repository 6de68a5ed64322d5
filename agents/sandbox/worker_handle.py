"""Host side of one worker on the event loop: send a batch, answer call-backs, enforce the deadline."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import msgpack

from agents.sandbox.config import SandboxConfig
from agents.sandbox.results import WorkerStartError
from agents.sandbox.frame_codec import collector_paused
from agents.sandbox.worker_process import LaunchedWorker, launch

OnCallback = Callable[[dict], Awaitable[dict]]
EXIT_MEMORY = 71  # same as worker_main.py
_CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE}


class ProtocolViolation(Exception):
    """The worker sent something that is not a valid frame (a tool wrote to the protocol pipe)."""


@dataclass
class BatchOutcome:
    """Per call in order: an error code (0: ok) and the value or error detail; and how the worker
    failed if it did (batch index, kind, detail)."""

    codes: bytearray
    values: list
    failure: tuple[int, str, str] | None = None


class _PipeProtocol(asyncio.Protocol):
    """Write side of the pipe: only needs to notice that the worker went away."""

    def connection_lost(self, exc: Exception | None) -> None:
        """Nothing to do: the read side reports the death."""


class WorkerHandle:
    """One live worker; used by one batch at a time (the pool guarantees it)."""

    def __init__(self, launched: LaunchedWorker, reader: asyncio.StreamReader,
                 writer: asyncio.WriteTransport, reader_transport: asyncio.ReadTransport) -> None:
        self.launched = launched
        self.reader = reader
        self.writer = writer
        self.reader_transport = reader_transport
        self.tool: str | None = None  # the only tool version this worker ever runs
        self.has_code = False  # whether that tool's code was sent
        self.calls = 0
        self.dead = False
        self.layers: dict[str, bool] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._kill_index: int | None = None
        self._paused = False
        self._timeout_s = 1.0
        self._hard_cap = 0.0

    @classmethod
    async def start(cls, config: SandboxConfig, jail_dir: str) -> "WorkerHandle":
        """Launch a worker, wire its pipes into the loop and wait for its hello."""
        # Launched from the loop's own thread (a few ms): a worker's parent-death signal follows the
        # thread that forked it, and a launch in a cancelled to_thread() would leak the process.
        launched = launch(config, jail_dir)
        try:
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader(limit=1 << 20)
            read_file = os.fdopen(launched.from_worker, "rb", buffering=0)
            write_file = os.fdopen(launched.to_worker, "wb", buffering=0)
            launched.from_worker = launched.to_worker = -1  # now owned by the transports
            read_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), read_file)
            write_transport, _ = await loop.connect_write_pipe(_PipeProtocol, write_file)
        except BaseException:
            launched.kill()
            launched.close_fds()
            raise
        handle = cls(launched, reader, write_transport, read_transport)
        try:
            hello = await asyncio.wait_for(handle._read_frame(1 << 20), config.start_timeout_s)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ProtocolViolation, ConnectionError) as exc:
            await handle.retire()
            raise WorkerStartError(f"sandbox worker did not start ({type(exc).__name__}); "
                                   "run with LATM_SANDBOX_DEBUG=1 to see its stderr") from exc
        except BaseException:
            handle.launched.kill()
            handle.dead = True
            raise
        if hello[0] != "hello":
            await handle.retire()
            raise WorkerStartError(f"sandbox worker failed to start: {hello[1] if len(hello) > 1 else hello}")
        handle.layers = {str(k): bool(v) for k, v in dict(hello[1]).items()}
        return handle

    async def _read_frame(self, max_frame: int) -> list:
        """One frame from the worker; anything malformed is a ProtocolViolation."""
        size = int.from_bytes(await self.reader.readexactly(4), "big")
        if size > max_frame:
            raise ProtocolViolation(f"frame of {size} bytes exceeds the {max_frame}-byte limit")
        body = await self.reader.readexactly(size)
        try:
            with collector_paused():
                frame = msgpack.unpackb(body, raw=False, strict_map_key=False)
        except Exception as exc:  # any decoding failure means garbage on the pipe
            raise ProtocolViolation(f"undecodable frame ({type(exc).__name__})") from exc
        if not isinstance(frame, list) or not frame or not isinstance(frame[0], str):
            raise ProtocolViolation("frame is not a tagged list")
        return frame

    def _send(self, frame: bytes) -> None:
        """Queue one frame to the worker (non-blocking; the transport buffers)."""
        if self.writer.is_closing():
            raise ConnectionResetError("worker pipe closed")
        self.writer.write(len(frame).to_bytes(4, "big") + frame)

    def _arm(self) -> None:
        """Check the deadline now and schedule the next check."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._paused or self.dead:
            return
        index, started = self.launched.read_progress()
        now = time.monotonic()
        deadline = self._hard_cap if index < -1 else min(started + self._timeout_s, self._hard_cap)
        if now >= deadline:
            self._kill_index = index
            self.launched.kill()
            return
        self._timer = asyncio.get_running_loop().call_later(deadline - now, self._arm)

    async def run_batch(self, frame: bytes, count: int, timeout_s: float,
                        on_callback: OnCallback | None, max_frame: int) -> BatchOutcome:
        """Send a prepared 'run' frame and collect `count` raw results (or the failure that stopped them)."""
        now = time.monotonic()
        self.launched.write_progress(-1, now)
        self._timeout_s, self._hard_cap, self._kill_index = timeout_s, now + timeout_s * (count + 1) + 0.5, None
        codes, values = bytearray(), []
        self._arm()
        try:
            self._send(frame)
            while True:
                reply = await self._read_frame(max_frame)
                tag = reply[0]
                if tag in ("part", "done") and len(reply) == 3 and type(reply[1]) is bytes \
                        and type(reply[2]) is list and len(reply[1]) == len(reply[2]):
                    codes += reply[1]
                    values += reply[2]
                    if tag == "done":
                        break
                elif tag == "cb" and len(reply) == 2 and isinstance(reply[1], dict):
                    await self._answer_callback(reply[1], on_callback)
                else:
                    raise ProtocolViolation(f"unexpected frame {tag!r:.40}")
            if len(values) != count:
                raise ProtocolViolation(f"{len(values)} results for {count} calls")
        except ProtocolViolation as exc:
            self.launched.kill()
            return BatchOutcome(codes, values, await self._diagnose(f"the tool corrupted the sandbox protocol pipe ({exc})"))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            return BatchOutcome(codes, values, await self._diagnose(None))
        except BaseException:
            # Cancelled by the caller mid-batch: the worker's state is unknown, so it must go.
            self.launched.kill()
            self.dead = True
            raise
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self.calls += count
        return BatchOutcome(codes, values, None)

    async def _answer_callback(self, payload: dict, on_callback: OnCallback | None) -> None:
        """Await the caller's handler with the deadline paused, then unblock the worker."""
        self._paused = True
        paused_at = time.monotonic()
        try:
            if on_callback is None:
                reply: list[Any] = ["cbr", False, None, "host_call needs an on_callback handler: pass "
                                    "on_callback= to Sandbox.call/call_many"]
            else:
                try:
                    value = await on_callback(payload)
                    reply = ["cbr", True, value, ""] if isinstance(value, dict) else \
                        ["cbr", False, None, f"on_callback returned {type(value).__name__}, not a dict"]
                except Exception as exc:  # the handler's failure becomes an error inside the tool
                    reply = ["cbr", False, None, f"host handler failed: {type(exc).__name__}: {exc}"[:2000]]
            try:
                data = msgpack.packb(reply, use_bin_type=True)
            except (TypeError, ValueError, OverflowError) as exc:
                data = msgpack.packb(["cbr", False, None, f"on_callback reply is not JSON-safe: {exc}"])
        finally:
            pause = time.monotonic() - paused_at
            index, started = self.launched.read_progress()
            self.launched.write_progress(index, started + pause)
            self._hard_cap += pause
            self._paused = False
        self._send(data)
        self._arm()

    async def _diagnose(self, violation: str | None) -> tuple[int, str, str]:
        """Why the worker stopped answering, as (batch index of the culprit, error kind, detail)."""
        self.dead = True
        index = self._kill_index if self._kill_index is not None else self.launched.read_progress()[0]
        if self._kill_index is not None:
            phase = "loading the code" if index == -1 else "the call"
            await self._reap()
            return index, "timeout", f"{phase} exceeded the {self._timeout_s:g} s deadline; the worker was killed"
        if violation is not None:
            await self._reap()
            return index, "forbidden", violation + "; the worker was killed"
        code = await self._reap()
        if code is not None and code < 0:
            sig = -code
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            if sig == signal.SIGXCPU:
                return index, "timeout", "the worker used up its CPU-time limit (SIGXCPU)"
            if sig in _CRASH_SIGNALS or sig == signal.SIGKILL:
                return index, "memory", f"the worker crashed ({name}): memory or stack exhausted"
            if sig == signal.SIGSYS:
                return index, "forbidden", "the worker made a forbidden system call (SIGSYS)"
            return index, "forbidden", f"the worker was stopped by signal {name}"
        if code == EXIT_MEMORY:
            return index, "memory", "the worker ran out of memory outside the tool's own code"
        return index, "forbidden", (f"the worker exited during the call (exit code {code}): the tool "
                                    "closed its pipes or ended the interpreter")

    async def _reap(self, wait_s: float = 2.0) -> int | None:
        """Wait for the process to end (killing it if it lingers) and return its exit code."""
        proc = self.launched.proc
        deadline = time.monotonic() + wait_s
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        if proc.poll() is None:
            self.launched.kill()
            await asyncio.to_thread(proc.wait)
        return proc.returncode

    async def retire(self) -> None:
        """Kill the worker and release everything it holds."""
        self.dead = True
        self.launched.kill()
        for transport in (self.writer, self.reader_transport):
            transport.close()
        await self._reap(0.5)
        self.launched.close_fds()
