"""The one place the main job is wired: each agent gets the clients, stores, sandboxes and verifier it uses."""
from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from agents.dispatching.dispatcher import Dispatcher
from agents.exploring.explorer import Explorer, ExplorerStores
from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.embedded import configure_with_embedded
from agents.making.maker import Maker, MakerConfig
from agents.making.verifier import Verifier
from agents.making.verifier_pool import VerifierPool
from agents.pipeline.config import PipelineConfig
from agents.pipeline.local_services import LocalServices
from agents.pipeline.ray_services import RayServices
from agents.pipeline.services import AgentRecipes, Recipe
from agents.sandbox import Sandbox, SandboxConfig
from agents.solving.solver_agent import SolverAgent
from agents.using.tool_user import ToolUser
from bus.runtime import start_runtime, stop_runtime
from store.tool_demos import ToolDemos
from store.tool_store import ToolStore


def verifier(llm_config: LLMConfig, timeout_s: float) -> Recipe:
    """A verifier: its own sandbox, and the user role's client for argument extraction."""
    return Recipe(Verifier, (Sandbox(), LLMClient(llm_config), timeout_s))


def maker(llm_config: LLMConfig, config: MakerConfig, timeout_s: float, verifier_replicas: int = 0,
          verifier_resources: dict[str, float] | None = None) -> Recipe:
    """The maker with verifier actors (replicas > 0, inside the runtime) or a verifier of its own."""
    check = verifier(llm_config, timeout_s)
    verify = VerifierPool(check.args, verifier_replicas, verifier_resources) if verifier_replicas else check.build()
    return Recipe(Maker, (LLMClient(llm_config), verify, config))


def explorer(store_path: str, llm_config: LLMConfig, timeout_s: float = 2.0,
             simulate_http: bool = False) -> Recipe:
    """The explorer: its stores in the tool store's file, a client, and a sandbox for stored tools."""
    # Trials run one at a time: one warm worker and no spare.
    sandbox = Sandbox(SandboxConfig(workers=1, spares=0))
    return Recipe(Explorer, (ExplorerStores.at(store_path), LLMClient(llm_config), sandbox, timeout_s, simulate_http))


def agent_recipes(llm_config: LLMConfig, config: PipelineConfig, in_actors: bool) -> AgentRecipes:
    """Every role of the main job; in actors the maker verifies on `config.verifiers` verifier actors."""
    placed = config.placement and in_actors
    return AgentRecipes(
        dispatcher=Recipe(Dispatcher, (ToolStore(config.store_path), LLMClient(llm_config), config.dispatcher)),
        user=Recipe(ToolUser, (Sandbox(), LLMClient(llm_config), ToolDemos(config.store_path),
                               config.tool_timeout_s)),
        maker=maker(llm_config, config.maker, config.tool_timeout_s, config.verifiers if in_actors else 0,
                    {"verifier": 1} if placed else None),
        solver=Recipe(SolverAgent, (LLMClient(llm_config), Sandbox())),
        explorer=explorer(config.store_path, llm_config, config.tool_timeout_s))


def local_services(llm_config: LLMConfig, config: PipelineConfig) -> LocalServices:
    """The agents in this process (not started: call `start()`)."""
    return LocalServices(agent_recipes(llm_config, config, in_actors=False), config)


def ray_services(llm_config: LLMConfig, config: PipelineConfig) -> RayServices:
    """The agents as actors of the running Ray runtime (not started: call `start()`)."""
    return RayServices(agent_recipes(llm_config, config, in_actors=True), config)


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
    services = ray_services(llm_config, config)
    try:
        await services.start()
        yield services, llm_config
    finally:
        await services.close()
        if not attached:
            stop_runtime()
