"""New-task bookkeeping: unmatched requests of one kind gather examples until a tool is made."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Literal

from store.tool_spec import Example, ToolSpec

GroupState = Literal["collecting", "making", "ready", "failed"]

_WORD = re.compile(r"[a-z]+")


def group_key(text: str, task: str | None) -> str:
    """The kind of a request: its task label, else a fingerprint of its opening words.

    Requests of one kind share a phrasing template whose first words carry no values, so
    the first five alphabetic words (numbers and symbols dropped) separate the kinds.
    """
    if task:
        return task
    return "fp:" + " ".join(_WORD.findall(text.lower())[:5])


@dataclass
class TaskGroup:
    """One kind of request on its way from first sighting to a stored tool."""

    key: str
    state: GroupState = "collecting"
    examples: list[Example] = field(default_factory=list)
    tool: ToolSpec | None = None
    reason: str = ""
    made: asyncio.Event = field(default_factory=asyncio.Event)
    pending_labels: int = 0
    tool_failures: int = 0
    tool_uses: int = 0
    attempts: int = 0  # making attempts so far
    since_failure: int = 0  # solver answers since the last attempt failed
    retry_examples: list[Example] = field(default_factory=list)  # for the next attempt
    remaking: bool = False  # another attempt runs while the solver keeps answering
    checked_history: bool = False  # whether the store's record of earlier failures was read

    def add_example(self, text: str, label: str | None, needed: int) -> bool:
        """Keep a labelled example while collecting; True when enough exist to make the tool."""
        if self.state == "collecting" and label and len(self.examples) < needed:
            if all(e.input != text for e in self.examples):
                self.examples.append(Example(input=text, target=label))
        return self.state == "collecting" and len(self.examples) >= needed

    def finish(self, tool: ToolSpec | None, reason: str = "") -> None:
        """Settle the group: a tool to use, or a failure that sends its requests to the solver."""
        self.tool = tool
        self.state = "ready" if tool else "failed"
        self.reason = reason
        self.remaking = False
        self.since_failure = 0
        self.tool_uses = self.tool_failures = 0  # a new tool's health starts afresh
        self.made.set()

    def note_solver_answer(self, text: str, label: str | None, needed: int) -> None:
        """A failed group keeps labelled requests as examples for its next making attempt."""
        self.since_failure += 1
        if label and len(self.retry_examples) < needed and all(e.input != text for e in self.retry_examples):
            self.retry_examples.append(Example(input=text, target=label))

    def remake_due(self, after: int, needed: int) -> bool:
        """Another attempt is due after `after` solver answers, twice as many after each failure."""
        return (self.state == "failed" and not self.remaking and after > 0
                and len(self.retry_examples) >= needed
                and self.since_failure >= after * 2 ** max(self.attempts - 1, 0))


class TaskGroups:
    """All groups of the run, by key."""

    def __init__(self) -> None:
        self._groups: dict[str, TaskGroup] = {}

    def get(self, text: str, task: str | None) -> TaskGroup:
        key = group_key(text, task)
        if key not in self._groups:
            self._groups[key] = TaskGroup(key=key)
        return self._groups[key]

    def all(self) -> list[TaskGroup]:
        return list(self._groups.values())
