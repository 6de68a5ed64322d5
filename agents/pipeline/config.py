"""Configuration of the main job: replica counts, batching, and each agent's own knobs."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.dispatching.dispatcher import DispatcherConfig
from agents.exploring.episode import ExploreBudget
from agents.making.maker import MakerConfig
from agents.pipeline.coordinator import CoordinatorConfig
from store.store_location import DEFAULT_STORE_PATH


class PipelineConfig(BaseModel):
    """Everything `latm run` needs besides the LLM endpoints."""

    model_config = ConfigDict(extra="forbid")
    store_path: str = Field(default=DEFAULT_STORE_PATH, description="SQLite file of the tool cache")
    users: int = Field(default=2, ge=1, description="tool-user replicas")
    verifiers: int = Field(default=1, ge=0, description="verifier replicas (0: verify inside the maker)")
    dispatchers: int = Field(default=1, ge=1, description="dispatcher replicas")
    solvers: int = Field(default=1, ge=1, description="solver (LMulator) replicas")
    batch_size: int = Field(default=64, ge=1, description="messages per actor call (micro-batching)")
    max_in_flight: int = Field(default=4, ge=1, description="batches in flight per replica (backpressure)")
    tool_timeout_s: float = Field(default=2.0, gt=0, description="wall-clock limit of one tool call")
    placement: bool = Field(default=False, description="ask for the cluster's custom resources (maker, tool_user)")
    coordinator: CoordinatorConfig = Field(default_factory=CoordinatorConfig, description="new-task path")
    maker: MakerConfig = Field(default_factory=MakerConfig, description="sample-and-verify budgets")
    dispatcher: DispatcherConfig = Field(default_factory=DispatcherConfig, description="retrieval and judge")
    explore: ExploreBudget = Field(default_factory=ExploreBudget, description="background exploration of each "
                                   "newly stored structured tool (episodes=0: none)")
