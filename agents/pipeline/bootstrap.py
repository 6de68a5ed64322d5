"""Wire the main job: endpoints (embedded model if none), the Ray runtime, the agent actors."""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from agents.llm.config import LLMConfig
from agents.llm.embedded import configure_with_embedded
from agents.pipeline.config import PipelineConfig
from agents.pipeline.ray_services import RayServices
from bus.runtime import start_runtime, stop_runtime


def runtime_resources(config: PipelineConfig) -> dict[str, float]:
    """Custom resources a local runtime declares so placement requests can be met on one machine."""
    return {"maker": 1, "tool_user": config.users, "verifier": max(config.verifiers, 1),
            "lmulator": config.solvers}


@contextlib.asynccontextmanager
async def open_services(llm_config: LLMConfig | None, config: PipelineConfig,
                        address: str | None = None) -> AsyncIterator[tuple[RayServices, LLMConfig]]:
    """Start (or attach to) Ray and every agent; tear all of it down on the way out."""
    llm_config = configure_with_embedded(llm_config or LLMConfig.load())
    Path(config.store_path).parent.mkdir(parents=True, exist_ok=True)
    config = config.model_copy(update={"store_path": str(Path(config.store_path).resolve())})
    attached = bool(address or os.environ.get("RAY_ADDRESS"))
    start_runtime(address, resources=None if attached else runtime_resources(config))
    services = RayServices(llm_config, config)
    try:
        yield services, llm_config
    finally:
        await services.close()
        if not attached:
            stop_runtime()
