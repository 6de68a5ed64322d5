"""`latm serve --address`: replicated HTTP ingress on Ray Serve; the pipeline's shared state in one actor."""
from __future__ import annotations

import asyncio
import signal
import socket
import threading
import uuid
from pathlib import Path

import ray
from ray import serve

from agents.llm.config import LLMConfig
from agents.pipeline.chat_completion import ChatAsk
from agents.pipeline.config import PipelineConfig
from agents.serving.batch_jobs import BatchApiError, BatchJobs
from agents.serving.front_door import Overloaded
from agents.serving.http_app import build_app
from agents.serving.settings import ServeSettings
from bus.wire.codec import from_wire, to_wire
from bus.wire.messages import ToolAnswer

APP_NAME = "latm"
BATCH_MAX, BATCH_WAIT_S = 64, 0.002  # one actor call carries up to 64 asks, held at most 2 ms


class PipelineActor:
    """The coordinator, agents and figures of the whole cluster session; every HTTP replica calls it."""

    def __init__(self, llm_config: LLMConfig, config: PipelineConfig, settings: ServeSettings, run_id: str,
                 recorder=None) -> None:
        self.args = (llm_config, config, settings, run_id)
        self.recorder = recorder
        self.door = None
        self.jobs = None

    async def start(self) -> str:
        """Start the agents (pools of actors) from inside this actor; idempotent."""
        from agents.llm.embedded import configure_with_embedded
        from agents.pipeline.coordinator import Coordinator
        from agents.pipeline.bootstrap import ray_services
        from agents.serving.front_door import FrontDoor
        if self.door is None:
            llm_config, config, settings, run_id = self.args
            llm_config = configure_with_embedded(llm_config)
            services = ray_services(llm_config, config)
            await services.start()
            record = self.recorder
            coordinator = Coordinator(services, config.coordinator.model_copy(update={"wait_for_tool": False}),
                                      record.event if record else None)
            self.door = FrontDoor(coordinator, services.store, max_pending=settings.max_pending,
                                  retry_after_s=settings.retry_after_s, prices=llm_config.prices,
                                  maker_model=llm_config.role("maker").model, run_id=run_id,
                                  on_result=record.add if record else None)
            self.jobs = BatchJobs(self.door.answer)
        return "ready"

    async def answer_many(self, asks: list[tuple[str, str | None]]) -> list[bytes | None]:
        """Answers as wire bytes, in order; None where the admission bound turned the ask away."""
        async def one(text: str, task: str | None) -> bytes | None:
            try:
                return to_wire(await self.door.answer(ChatAsk(text=text, task=task)))
            except Overloaded:
                return None
        return await asyncio.gather(*(one(text, task) for text, task in asks))

    async def health(self) -> dict:
        return await self.door.health()

    async def metrics_text(self) -> bytes:
        return await self.door.metrics_text()

    async def jobs_call(self, method: str, *args) -> tuple:
        """The Batch API's state lives here, so any replica can answer a poll for any batch.

        A refusal travels as data, ("error", status, message, param), not as a pickled exception.
        """
        try:
            return ("ok", await getattr(self.jobs, method)(*args))
        except BatchApiError as exc:
            return ("error", exc.status, exc.message, exc.param)

    async def finish(self) -> dict:
        """Write tool health and the session's figures; returns the figures."""
        self.door.coordinator.flush_health()
        figures = self.door.figures()
        if self.recorder:
            self.recorder.finish(figures)
        return figures


class RemoteDoor:
    """The front door as seen from an HTTP replica: asks micro-batched into calls of the pipeline actor."""

    def __init__(self, pipeline, settings: ServeSettings) -> None:
        self.pipeline = pipeline
        self.settings = settings
        self._queue: list[tuple[ChatAsk, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def answer(self, ask: ChatAsk) -> ToolAnswer:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((ask, future))
        if len(self._queue) >= BATCH_MAX:
            self._send()
        elif self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush_soon())
        wire = await future
        if wire is None:
            raise Overloaded(self.settings.max_pending, self.settings.retry_after_s)
        return from_wire(wire)

    async def _flush_soon(self) -> None:
        await asyncio.sleep(BATCH_WAIT_S)
        self._flusher = None
        self._send()

    def _send(self) -> None:
        batch, self._queue = self._queue, []
        if batch:
            asyncio.ensure_future(self._deliver(batch))

    async def _deliver(self, batch: list[tuple[ChatAsk, asyncio.Future]]) -> None:
        try:
            results = await self.pipeline.answer_many.remote([(a.text, a.task) for a, _ in batch])
        except Exception as exc:  # the actor died or the cluster failed: these asks fail, the replica goes on
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results):
            future.set_result(result)

    async def health(self) -> dict:
        return await self.pipeline.health.remote()

    async def metrics_text(self) -> bytes:
        return await self.pipeline.metrics_text.remote()


class RemoteJobs:
    """BatchJobs as seen from an HTTP replica: each call forwarded to the pipeline actor."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline

    def __getattr__(self, method: str):
        async def call(*args):
            outcome = await self.pipeline.jobs_call.remote(method, *args)
            if outcome[0] == "error":
                raise BatchApiError(*outcome[1:])
            return outcome[1]
        return call


@serve.ingress()
class ChatIngress:
    """One HTTP replica: parsing, auth and responses here; answers from the pipeline actor."""

    def __init__(self, settings: ServeSettings, pipeline) -> None:
        self.settings = settings
        self.door = RemoteDoor(pipeline, settings)

    def __serve_build_asgi_app__(self):
        return build_app(self.door, self.settings, RemoteJobs(self.door.pipeline))


def serve_on_cluster(settings: ServeSettings, llm_config: LLMConfig, config: PipelineConfig, address: str,
                     replicas: int, recorder=None, announce=print) -> dict:
    """Deploy on the cluster at `address`, serve until SIGINT/SIGTERM, then take it all down."""
    from bus.runtime import start_runtime
    start_runtime(address)
    # Actors open the store by path: make it absolute, as the local path does.
    store = Path(config.store_path).resolve()
    store.parent.mkdir(parents=True, exist_ok=True)
    config = config.model_copy(update={"store_path": str(store)})
    run_id = recorder.run_id if recorder else uuid.uuid4().hex[:12]
    pipeline = ray.remote(PipelineActor).options(num_cpus=0, max_concurrency=10_000).remote(
        llm_config, config, settings, run_id, recorder)
    ray.get(pipeline.start.remote())
    port = settings.port or _free_port(settings.host)
    serve.start(http_options={"host": settings.host, "port": port})
    ingress = serve.deployment(ChatIngress, name="chat", num_replicas=replicas,
                               ray_actor_options={"num_cpus": 0}, max_ongoing_requests=settings.max_pending)
    serve.run(ingress.bind(settings, pipeline), name=APP_NAME, route_prefix="/")
    announce(f"latm serve: listening on http://{settings.host}:{port}/v1 (run {run_id}; Ray Serve, "
             f"{replicas} replicas; Ctrl-C stops)")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    try:
        return {**ray.get(pipeline.finish.remote()), "run_id": run_id}
    finally:
        serve.delete(APP_NAME)
        serve.shutdown()
        ray.kill(pipeline)


def _free_port(host: str) -> int:
    """A port free now on `host` (Ray Serve's proxy needs a number, not 0)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
