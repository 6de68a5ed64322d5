"""The run's one writer of the tool store: made tools, aliases, making failures, tool health and status."""
from __future__ import annotations

from collections import Counter
from typing import Callable

from bus.wire.messages import ToolMade
from store.store_errors import ToolStoreError
from store.tool_store import ToolStore


class StoreWrites:
    """Agents only read the store; the coordinator's writes all go through here, in the driver."""

    def __init__(self, store: ToolStore, on_event: Callable[[str, dict], None],
                 health_batch: int = 1000) -> None:
        self.store = store
        self.on_event = on_event
        self.health_batch = health_batch
        self._health: Counter[tuple[str, str, bool]] = Counter()

    def making_settled(self, key: str, made: ToolMade) -> bool:
        """Record the maker's result for a kind; True when a new tool version was stored."""
        if made.ok and made.tool is not None:
            if made.reused:  # later runs route this label to the tool directly
                self.store.aliases.set(key, made.tool.tool_id)
            else:
                self.store.put(made.tool)
            self.store.failures.clear(key)
            return not made.reused
        # Only a real try is remembered: an outage (no sample drawn) says nothing of the kind.
        if made.samples:
            self.store.failures.record(key, made.reason)
        return False

    def quarantine(self, tool_id: str) -> None:
        """Pull a tool from service (every version)."""
        self.store.set_status(tool_id, "quarantined")

    def count_use(self, tool_id: str, version: str, ok: bool) -> None:
        """Count one use; counts are written in batches (statistics, not a ledger)."""
        self._health[(tool_id, version, ok)] += 1
        if sum(self._health.values()) >= self.health_batch:
            self.flush_health()

    def flush_health(self) -> None:
        """Write tool uses and failures in one transaction (a failure is reported, not fatal)."""
        if self._health:
            try:
                self.store.record_uses([(t, v, ok, n) for (t, v, ok), n in self._health.items()])
            except ToolStoreError as exc:
                self.on_event("store_error", {"task": "tool health", "error": str(exc)})
            self._health.clear()
