"""`latm serve` on one machine: uvicorn on the same event loop as the coordinator and the Ray pools."""
from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Protocol

import uvicorn

from agents.llm.config import LLMConfig
from agents.pipeline.bootstrap import open_services
from agents.pipeline.config import PipelineConfig
from agents.pipeline.coordinator import Coordinator
from agents.serving.batch_jobs import BatchJobs
from agents.serving.front_door import FrontDoor
from agents.serving.http_app import build_app
from agents.serving.settings import ServeSettings

CHECKPOINT_S = 5.0  # how often results reach the run ledger while serving


class RunRecorder(Protocol):
    """Where results and tool-making events go (the run ledger)."""

    run_id: str

    def add(self, record: dict) -> None: ...

    def event(self, kind: str, data: dict) -> None: ...

    def flush(self) -> None: ...

    def finish(self, figures: dict) -> None: ...


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before Ray starts, so a taken port fails at once; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot bind {host}:{port} ({exc.strerror}); pick another --port or 0 for a free one") from None
    sock.listen(2048)
    sock.setblocking(False)
    return sock


async def serve(settings: ServeSettings, llm_config: LLMConfig | None, config: PipelineConfig, *,
                address: str | None = None, recorder: RunRecorder | None = None,
                announce: Callable[[str], None] = print,
                on_event: Callable[[str, dict], None] | None = None) -> dict:
    """Serve until SIGINT/SIGTERM; returns the session's run figures."""
    settings.check()
    sock = bind_socket(settings.host, settings.port)
    run_id = recorder.run_id if recorder else uuid.uuid4().hex[:12]

    def event(kind: str, data: dict) -> None:
        if recorder:
            recorder.event(kind, data)
        if on_event:
            on_event(kind, data)
    async with open_services(llm_config, config, address) as (services, llm_config):
        # A caller should not wait minutes for a tool: while one is made its kind goes to the solver.
        coordinator = Coordinator(services, config.coordinator.model_copy(update={"wait_for_tool": False}), event)
        door = FrontDoor(coordinator, services.store, max_pending=settings.max_pending,
                         retry_after_s=settings.retry_after_s, prices=llm_config.prices,
                         maker_model=llm_config.role("maker").model, run_id=run_id,
                         on_result=recorder.add if recorder else None)
        # No proxy-header rewriting: latm trusts no forwarding proxy, and it costs a middleware per request.
        server = QuietServer(uvicorn.Config(
            build_app(door, settings, BatchJobs(door.answer)), log_level="warning", access_log=False, lifespan="off",
            timeout_keep_alive=60, backlog=2048, proxy_headers=False))
        checkpoints = asyncio.ensure_future(_checkpoint(door, recorder))
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        announce(f"latm serve: listening on http://{shown}:{port}/v1 (run {run_id}; Ctrl-C stops)")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.stop)
        try:
            await server.serve(sockets=[sock])
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            checkpoints.cancel()
            coordinator.flush_health()
            figures = door.figures()
            if recorder:
                recorder.finish(figures)
    return {**figures, "run_id": run_id}


class QuietServer(uvicorn.Server):
    """uvicorn whose stop is ours: a signal ends serving, then the ledger and agents close in order
    (uvicorn's own handler would re-raise the signal afterwards and kill the process mid-cleanup)."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield

    def stop(self) -> None:
        """Finish in-flight requests and return from serve(); a second call stops at once."""
        self.force_exit = self.should_exit
        self.should_exit = True


async def _checkpoint(door: FrontDoor, recorder: RunRecorder | None) -> None:
    """Write results to the ledger now and then, so `latm report` works on a live session."""
    while recorder is not None:
        await asyncio.sleep(CHECKPOINT_S)
        recorder.finish(door.figures())
