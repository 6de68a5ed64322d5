"""Typed, versioned messages that agents exchange over the bus; one union covers the whole flow."""
from __future__ import annotations

import itertools
import os
import uuid
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from bus.wire.api_spec import ApiSpec
from bus.wire.spend import Spend
from bus.wire.tool_spec import Example, InternedToolCode, ToolShape, ToolSpec

KIND_DOC = "versioned message type; a breaking change adds a new version, e.g. 'tool_request/2'"


def _kind(tag: str) -> Any:
    """Field default for a message's `kind` discriminator."""
    return Field(default=tag, description=KIND_DOC)


# A random per-process prefix plus a counter: unique across processes, and far cheaper than uuid4 per id.
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count()


def _reseed_ids() -> None:
    """Give a forked child its own id prefix so parent and child never mint the same id."""
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX = uuid.uuid4().hex[:16]
    _ID_COUNTER = itertools.count()


os.register_at_fork(after_in_child=_reseed_ids)


def new_request_id() -> str:
    """A fresh request id, unique across processes."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):x}"


class ErrorInfo(BaseModel):
    """Why a request failed: a stable machine code plus a message saying how to fix it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="stable error code, e.g. 'handler_error', 'no_tool', 'timeout'")
    message: str = Field(description="human-readable reason and, where possible, how to fix it")


class Message(BaseModel):
    """Base of every bus message: immutable, strict about unknown fields, carries its ids."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(description=KIND_DOC)
    request_id: str = Field(
        default_factory=new_request_id,
        description="id of the request; a reply carries the id of the request it answers",
    )
    trace_id: str = Field(default="", description="id shared by all messages of one end-to-end flow")


class Echo(Message):
    """A test and benchmark message: the echo agent returns the payload unchanged."""

    kind: Literal["echo/1"] = _kind("echo/1")
    payload: str = Field(default="", description="opaque text to send back")


class ToolRequest(Message):
    """A user request to be answered, by a cached tool if one fits, else by the solver."""

    kind: Literal["tool_request/1"] = _kind("tool_request/1")
    text: str = Field(description="the request text as the user wrote it")
    task: str | None = Field(default=None, description="task name when known (skips dispatch)")
    target: str | None = Field(default=None, description="known correct answer, for evaluation only")


class ToolAnswer(Message):
    """The answer to a ToolRequest, with how it was produced and what it cost."""

    kind: Literal["tool_answer/2"] = _kind("tool_answer/2")
    answer: str | None = Field(default=None, description="the answer text; None when it failed")
    route: Literal["tool", "solver", "error"] = Field(description="who produced the answer")
    tool_id: str | None = Field(default=None, description="tool used, when route is 'tool'")
    tool_version: str | None = Field(default=None, description="content hash of the tool version used")
    confidence: float | None = Field(default=None, description="dispatcher confidence in the tool, 0..1")
    spend: Spend = Field(default=Spend(), description="LLM spend on this request, per role")
    latency_s: float = Field(default=0.0, description="wall-clock seconds from request to answer")
    error: ErrorInfo | None = Field(default=None, description="why it failed, when route is 'error'")

    # The front door (agents/serving/http_app.py) reads these two; new code reads `spend`.
    @property
    def llm_calls(self) -> int:
        """LLM calls spent on this request."""
        return self.spend.calls

    @property
    def cost_usd(self) -> float:
        """Estimated spend on this request."""
        return self.spend.cost_usd


class MakeTool(Message):
    """Ask the maker to write, verify and wrap a tool for a task from labelled examples."""

    kind: Literal["make_tool/1"] = _kind("make_tool/1")
    task: str = Field(description="the task (class of requests) the tool must solve")
    train: list[Example] = Field(description="examples shown to the maker")
    validation: list[Example] = Field(description="held-out examples the tool must pass")
    known_tools: list[ToolSpec] = Field(
        default_factory=list, description="stored tools to try on the examples before making one")


class ToolMade(Message):
    """The maker's result: a verified tool, or the reason none was accepted."""

    kind: Literal["tool_made/2"] = _kind("tool_made/2")
    task: str = Field(description="the task the tool was made for")
    ok: bool = Field(description="True when a tool passed verification")
    tool: ToolSpec | None = Field(default=None, description="the accepted tool, when ok")
    samples: int = Field(default=0, description="candidate programs drawn")
    rounds: int = Field(default=0, description="propose/verify rounds run")
    spend: Spend = Field(default=Spend(), description="LLM spend of making: the maker's samples and "
                         "the other roles' calls while verifying candidates")
    reason: str = Field(default="", description="why no tool was accepted, or a short summary")
    reused: bool = Field(default=False, description="True when a known tool passed, nothing was made")


class VerifyTool(Message):
    """Ask a verifier to run candidate code against examples in the sandbox."""

    kind: Literal["verify_tool/1"] = _kind("verify_tool/1")
    task: str = Field(default="", description="task name, selects the answer-matching rules")
    code: str = Field(description="Python source defining the entry function")
    entry: str = Field(default="solve", description="name of the function to call")
    shape: ToolShape = Field(default="end_to_end", description="how the tool is called")
    cases: list[Example] = Field(description="examples to run; each input goes to the entry")
    timeout_s: float | None = Field(default=None, gt=0,
                                    description="wall-clock limit per case (default: the verifier's own)")


class CaseResult(BaseModel):
    """The outcome of running a tool on one example."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str = Field(description="the example's request text")
    expected: str = Field(description="the example's correct answer")
    got: str | None = Field(default=None, description="what the tool returned, as text")
    ok: bool = Field(description="True when got matches expected")
    error: str | None = Field(default=None, description="error kind and detail when the call failed")


class Verdict(Message):
    """A verifier's result: how many cases passed, with per-case detail."""

    kind: Literal["verdict/2"] = _kind("verdict/2")
    passed: int = Field(description="cases whose output matched")
    total: int = Field(description="cases run")
    cases: list[CaseResult] = Field(default_factory=list, description="per-case results, in order")
    error: ErrorInfo | None = Field(default=None, description="set when no case could run, e.g. forbidden code")
    spend: Spend = Field(default=Spend(),
                         description="LLM spend of verifying (argument extraction, simulated helpers)")


class SolveRequest(Message):
    """Ask the strong solver to answer a question without a tool."""

    kind: Literal["solve_request/1"] = _kind("solve_request/1")
    question: str = Field(description="the request text")
    method: Literal["direct", "cot", "coc"] = Field(
        default="direct", description="direct answer, chain of thought, or chain of code"
    )


class SolveAnswer(Message):
    """The solver's answer and what it cost."""

    kind: Literal["solve_answer/2"] = _kind("solve_answer/2")
    answer: str | None = Field(default=None, description="the answer text; None when it failed")
    method: Literal["direct", "cot", "coc"] = Field(description="the method that produced it")
    program: str | None = Field(default=None, description="the program run, when method is 'coc'")
    spend: Spend = Field(default=Spend(), description="LLM spend, per role")
    error: ErrorInfo | None = Field(default=None, description="why it failed, when answer is None")


class SimulateLine(Message):
    """Ask the LMulator's LM to simulate one program line that Python could not run."""

    kind: Literal["simulate_line/1"] = _kind("simulate_line/1")
    program: str = Field(description="the whole program, for context")
    line_no: int = Field(description="1-based number of the failing line")
    line: str = Field(description="the failing line's source")
    error: str = Field(description="the exception Python raised on that line")
    state: dict[str, Any] = Field(default_factory=dict, description="program variables before the line (JSON-safe)")


class StateChange(Message):
    """The LM's simulated effect of one line: variables to set."""

    kind: Literal["state_change/1"] = _kind("state_change/1")
    updates: dict[str, Any] = Field(default_factory=dict, description="variables to assign (JSON-safe)")
    error: ErrorInfo | None = Field(default=None, description="set when the LM gave no usable state")


class DispatchRequest(Message):
    """Ask the dispatcher which stored tool, if any, serves a request."""

    kind: Literal["dispatch_request/1"] = _kind("dispatch_request/1")
    text: str = Field(description="the request text")
    task: str | None = Field(default=None, description="task name when the request carries one")


class Dispatched(Message):
    """The dispatcher's decision: a tool and its confidence, or a miss."""

    kind: Literal["dispatched/2"] = _kind("dispatched/2")
    tool_id: str | None = Field(default=None, description="chosen tool; None on a miss")
    tool_version: str | None = Field(default=None, description="content hash of the chosen version")
    confidence: float = Field(default=0.0, description="confidence in the choice, 0..1")
    method: Literal["task", "retrieval", "judge", "miss"] = Field(description="how it was decided")
    spend: Spend = Field(default=Spend(), description="LLM spend of the judge, if asked")


class UseTool(Message):
    """Ask a tool user to answer a request with one tool version, which travels with the call."""

    kind: Literal["use_tool/2"] = _kind("use_tool/2")
    text: str = Field(description="the request text")
    task: str | None = Field(default=None, description="task name, selects answer normalisation")
    tool: InternedToolCode = Field(description="the version to call; its code must hash to its version, and a "
                                   "receiver decodes each version once (versions are immutable)")
    confidence: float = Field(default=1.0, description="dispatcher confidence, copied to the answer")


class ExploreTool(Message):
    """Ask the explorer to practise on a stored structured tool or an external API within a budget."""

    kind: Literal["explore_tool/1"] = _kind("explore_tool/1")
    tool_id: str | None = Field(default=None, description="a stored structured tool to explore")
    api: ApiSpec | None = Field(default=None, description="an external API (run over HTTP or simulated)")
    episodes: int = Field(default=1, ge=0, description="episodes to run")
    trials: int = Field(default=3, ge=1, description="imagined queries per episode")
    corrections: int = Field(default=1, ge=0, description="corrective calls after a failed call")


class Explored(Message):
    """What an exploration did: trials, successes, demos kept, and what it cost."""

    kind: Literal["explored/2"] = _kind("explored/2")
    tool: str = Field(description="the tool id or API name explored")
    episodes: int = Field(default=0, description="episodes run")
    trials: int = Field(default=0, description="trials run (queries tried)")
    successes: int = Field(default=0, description="trials whose call worked and fulfilled the query")
    demos_kept: int = Field(default=0, description="new demos stored (after deduplication)")
    step_errors: int = Field(default=0, description="steps whose model output was unusable (the episode went on)")
    spend: Spend = Field(default=Spend(), description="LLM spend per role (explorer, simulator)")
    error: ErrorInfo | None = Field(default=None, description="why nothing could be explored, e.g. no such tool")


class ErrorReply(Message):
    """A reply saying the request could not be handled; the stream goes on."""

    kind: Literal["error/1"] = _kind("error/1")
    code: str = Field(description="stable error code, e.g. 'handler_error', 'bad_message', 'replica_lost'")
    message: str = Field(description="what went wrong and how to fix it")


MESSAGE_CLASSES: tuple[type[Message], ...] = (
    Echo, ToolRequest, ToolAnswer, MakeTool, ToolMade, VerifyTool, Verdict,
    SolveRequest, SolveAnswer, SimulateLine, StateChange, ErrorReply,
    DispatchRequest, Dispatched, UseTool, ExploreTool, Explored,
)

# The wire union: pydantic picks the class by the `kind` tag without trying the others.
AnyMessage = Annotated[Union[MESSAGE_CLASSES], Field(discriminator="kind")]

MESSAGE_TYPES: dict[str, type[Message]] = {cls.model_fields["kind"].default: cls for cls in MESSAGE_CLASSES}
