"""A kind of request's life as one state machine: collecting examples, making, ready, failed, quarantined.

    collecting ─(enough examples | input ended with some)─▶ making ─(tool)─▶ ready ─(failing)─▶ quarantined
        │ (too few when input ended / failed in earlier runs)     └─(none)─▶ failed ◀──(none)── remaking
        └──────────────────────────────────────────────────────────────────▶ failed ─(remake due)─▶ remaking

Failed and quarantined kinds are answered by the solver; their answers count towards a remake
(after `remake_after` of them, twice as many after each further failure), which runs while the
solver keeps answering. The coordinator asks `step()` what to do with each request and performs
the side effects (making, solving, store writes); the group alone decides its state.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Literal

from bus.wire.tool_spec import Example, ToolSpec

GroupState = Literal["collecting", "making", "ready", "failed", "remaking", "quarantined"]
# What the coordinator does with one request of the group:
#   use     answer with the group's tool
#   solve   answer with the solver (nothing else to do)
#   retry   answer with the solver, then report it with `solver_answered` (counts towards a remake)
#   label   answer with the solver inside `labelling()`; its answer becomes an example
#   make    start making (the group is now making), then ask again
#   await   wait until the tool being made settles (`made`), then ask again
#   wait    wait for any group to change (the labels this one needs are on their way), then ask again
Step = Literal["use", "solve", "retry", "label", "make", "await", "wait"]
ANSWERED_BY_SOLVER = ("failed", "remaking", "quarantined")

_WORD = re.compile(r"[a-z]+")


def group_key(text: str, task: str | None) -> str:
    """The kind of a request: its task label, else a fingerprint of its opening words.

    Requests of one kind share a phrasing template whose first words carry no values, so
    the first five alphabetic words (numbers and symbols dropped) separate the kinds.
    """
    if task:
        return task
    return "fp:" + " ".join(_WORD.findall(text.lower())[:5])


class BadTransition(RuntimeError):
    """An event the group's current state does not allow (a bug in the caller)."""


@dataclass
class TaskGroup:
    """One kind of request on its way from first sighting to a stored tool."""

    key: str
    needed: int = 6  # labelled examples that make a tool (training plus held out)
    remake_after: int = 100  # solver answers before a failed kind is made again (0: never)
    state: GroupState = "collecting"
    examples: list[Example] = field(default_factory=list)
    tool: ToolSpec | None = None
    reason: str = ""
    made: asyncio.Event = field(default_factory=asyncio.Event)  # set once the first attempt settles
    pending_labels: int = 0  # solver answers on their way that will become examples
    tool_failures: int = 0
    tool_uses: int = 0
    attempts: int = 0  # making attempts so far
    since_failure: int = 0  # solver answers since the last attempt failed
    retry_examples: list[Example] = field(default_factory=list)  # for the next attempt
    checked_history: bool = False  # whether the store's record of earlier failures was read

    def step(self, text: str, label: str | None, wait_for_tool: bool) -> Step:
        """What to do with one request now; a labelled request while collecting becomes an example."""
        if self.state == "ready":
            return "use"
        if self.state in ANSWERED_BY_SOLVER:
            return "retry"
        if self.state == "making":
            return "await" if wait_for_tool else "solve"
        if label:
            return "make" if self.add_example(text, label) else "wait"
        if len(self.examples) + self.pending_labels < self.needed:
            self.pending_labels += 1
            return "label"
        return "wait" if wait_for_tool else "solve"  # enough labels are on their way

    def add_example(self, text: str, label: str | None) -> bool:
        """Keep a labelled example while collecting; True (and now making) when there are enough."""
        if self.state == "collecting" and label and len(self.examples) < self.needed:
            if all(e.input != text for e in self.examples):
                self.examples.append(Example(input=text, target=label))
        if self.state == "collecting" and len(self.examples) >= self.needed:
            self.state = "making"
            return True
        return False

    def labelled(self, text: str, label: str | None) -> bool:
        """The solver answer of a `label` step came back (None: it failed); True when making should start."""
        self.pending_labels -= 1
        return self.add_example(text, label)

    def input_ended(self, min_examples: int) -> bool:
        """No more requests will come: make from what was collected (True), or fail for too few."""
        if self.state != "collecting":
            return False
        if len(self.examples) >= min_examples:
            self.state = "making"
            return True
        self.finish(None, f"only {len(self.examples)} labelled example(s)")
        return False

    def recall_failure(self, attempts: int, reason: str) -> bool:
        """Earlier runs failed to make this kind: start on the solver path and the remake schedule."""
        if self.state != "collecting" or self.examples:
            return False
        self.attempts = attempts
        self.finish(None, f"making failed in earlier runs ({attempts}x): {reason}")
        return True

    def finish(self, tool: ToolSpec | None, reason: str = "") -> None:
        """An attempt settled: a tool to use, or a failure that sends the requests to the solver.

        Also from quarantined: a dispatched tool of the kind may be pulled while its own is made.
        """
        if self.state not in ("collecting", "making", "remaking", "quarantined"):
            raise BadTransition(f"group {self.key!r} cannot settle a making attempt while {self.state}")
        self._settle("ready" if tool else "failed", tool, reason)

    def tool_used(self, tool_id: str, ok: bool, after: int, rate: float) -> bool:
        """Count one use of a tool on the kind; True when it failed too often and is now quarantined."""
        self.tool_uses += 1
        self.tool_failures += not ok
        if ok or self.tool_uses < after or self.tool_failures / self.tool_uses < rate:
            return False
        self._settle("quarantined", None, f"tool {tool_id} quarantined after {self.tool_failures} failures")
        return True

    def solver_answered(self, text: str, label: str | None) -> bool:
        """A `retry` answer came back; True (and now remaking with fresh examples) when a remake is due."""
        self.since_failure += 1
        if label and len(self.retry_examples) < self.needed and all(e.input != text for e in self.retry_examples):
            self.retry_examples.append(Example(input=text, target=label))
        if not self.remake_due():
            return False
        self.examples, self.retry_examples = self.retry_examples, []
        self.state = "remaking"
        return True

    def remake_due(self) -> bool:
        """Another attempt is due after `remake_after` solver answers, twice as many after each failure."""
        return (self.state in ("failed", "quarantined") and self.remake_after > 0
                and len(self.retry_examples) >= self.needed
                and self.since_failure >= self.remake_after * 2 ** max(self.attempts - 1, 0))

    def _settle(self, state: GroupState, tool: ToolSpec | None, reason: str) -> None:
        self.state, self.tool, self.reason = state, tool, reason
        self.since_failure = 0
        self.tool_uses = self.tool_failures = 0  # a new tool's health starts afresh
        self.made.set()


class TaskGroups:
    """All groups of the run, by key, each made with the run's example and remake settings."""

    def __init__(self, needed: int = 6, remake_after: int = 100) -> None:
        self.needed = needed
        self.remake_after = remake_after
        self._groups: dict[str, TaskGroup] = {}

    def get(self, text: str, task: str | None) -> TaskGroup:
        key = group_key(text, task)
        if key not in self._groups:
            self._groups[key] = TaskGroup(key=key, needed=self.needed, remake_after=self.remake_after)
        return self._groups[key]

    def all(self) -> list[TaskGroup]:
        return list(self._groups.values())
