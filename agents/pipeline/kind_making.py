"""One making attempt for a kind: claim it, let the maker try (nearest stored tools first), record the result."""
from __future__ import annotations

import contextlib
from typing import Callable

from agents.pipeline.making_claims import MakingClaims
from agents.pipeline.services import Services
from agents.pipeline.store_writes import StoreWrites
from agents.pipeline.task_groups import TaskGroup
from bus.wire.messages import MakeTool, ToolMade
from bus.wire.tool_spec import ToolSpec
from store.store_errors import ToolStoreError


class KindMaking:
    """Runs making attempts for the coordinator and keeps every maker result of the run."""

    def __init__(self, services: Services, writes: StoreWrites, train_examples: int,
                 reuse_candidates: int, on_event: Callable[[str, dict], None]) -> None:
        self.services = services
        self.writes = writes
        self.train_examples = train_examples
        self.reuse_candidates = reuse_candidates
        self.on_event = on_event
        self.made: list[ToolMade] = []
        self._claims: MakingClaims | None = None  # opened on the first making

    async def attempt(self, group: TaskGroup) -> tuple[ToolSpec | None, str]:
        """Make the group's tool under this run's lease on its kind: (tool, reason it failed)."""
        self._claims = self._claims or MakingClaims(self.services.store)
        claim = await self._claims.claim(group.key)
        if not claim.held:  # another run made (or failed to make) this kind meanwhile
            return claim.tool, claim.failure
        try:
            made = await self._make(group)
        finally:
            with contextlib.suppress(ToolStoreError):  # an expiring lease frees the kind anyway
                self._claims.release(group.key)
        return (made.tool, "") if made.ok and made.tool is not None else (None, made.reason)

    async def _make(self, group: TaskGroup) -> ToolMade:
        group.attempts += 1
        k = min(self.train_examples, max(1, len(group.examples) // 2))
        # Retrieval missed these requests, but a stored tool may still do the job (another
        # phrasing of a known kind): the maker verifies the nearest few before making anything.
        query = "\n".join(e.input for e in group.examples[:k])
        known = [spec for spec, score in self.services.store.search(query, k=self.reuse_candidates) if score > 0]
        msg = MakeTool(task=group.key, train=group.examples[:k], validation=group.examples[k:],
                       known_tools=known)
        self.on_event("making", {"task": group.key, "train": len(msg.train), "validation": len(msg.validation),
                                 "attempt": group.attempts})
        try:
            made = await self.services.make(msg)
        except Exception as exc:  # the maker died or the runtime failed: record, answer by solver
            made = ToolMade(request_id=msg.request_id, task=group.key, ok=False,
                            reason=f"maker failed: {type(exc).__name__}: {exc}"[:500])
        self.made.append(made)
        self.on_event("made", {"task": group.key, "ok": made.ok, "samples": made.samples, "reused": made.reused,
                               "tokens": made.spend.role("maker").tokens, "cost_usd": made.spend.cost_usd,
                               "reason": made.reason, "tool": made.tool})
        # Stored before the group's requests see the tool, so every later reader finds it.
        if self.writes.making_settled(group.key, made):
            self.services.tool_stored(made.tool)
        return made
