"""Demos per tool: successful calls from exploration, deduplicated, retrieved by query similarity."""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from pydantic import Field

from bus.wire.api_spec import ToolCall
from bus.wire.tool_spec import Frozen
from store.sqlite_db import SqliteFile
from store.tool_search import ToolIndex, text_weights

# Queries that differ only in case, spacing or punctuation are the same query; numbers count.
TOKEN = re.compile(r"[a-z0-9]+")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tool_demos (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tool TEXT NOT NULL,
    query TEXT NOT NULL,
    query_key TEXT NOT NULL,
    call_json TEXT NOT NULL,
    call_key TEXT NOT NULL,
    observation TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (tool, query_key),
    UNIQUE (tool, call_key)
);
"""


class ToolDemo(Frozen):
    """A worked example for tool users: a query, the call that served it, what the tool returned."""

    tool: str = Field(description="tool id or API name the demo is for")
    query: str = Field(description="the user query")
    call: ToolCall = Field(description="the call that fulfilled it")
    observation: str = Field(default="", description="what the tool returned (shortened)")


class ToolDemos:
    """Demo rows in the store's SQLite file; one index per tool, rebuilt when its demos change."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating if needed) the demo table in the file at `path`."""
        self.db = SqliteFile(path, SCHEMA)
        self.path = self.db.path
        self._indexes: dict[str, tuple[int, ToolIndex, dict[str, ToolDemo]]] = {}
        self._lock = threading.Lock()

    def __reduce__(self):
        """Pickle as the path only: the receiver opens its own connection."""
        return (ToolDemos, (str(self.path),))

    def add(self, demo: ToolDemo) -> bool:
        """Keep a demo unless the tool already has one with the same query words or the same call."""
        query_key = " ".join(TOKEN.findall(demo.query.lower())) or demo.query.strip()
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO tool_demos (tool, query, query_key, call_json, call_key, observation, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (demo.tool, demo.query, query_key, demo.call.model_dump_json(),
                 f"{demo.call.name}\0{demo.call.canonical()}", demo.observation, time.time()))
        return cursor.rowcount == 1

    def list(self, tool: str | None = None) -> list[ToolDemo]:
        """Every demo of a tool (or of every tool), oldest first."""
        sql, args = ("SELECT tool, query, call_json, observation FROM tool_demos ORDER BY seq", ()) if tool is None \
            else ("SELECT tool, query, call_json, observation FROM tool_demos WHERE tool = ? ORDER BY seq", (tool,))
        rows = self.db.conn().execute(sql, args)
        return [ToolDemo(tool=t, query=q, call=ToolCall.model_validate_json(c), observation=o)
                for t, q, c, o in rows]

    def count(self, tool: str | None = None) -> int:
        """Demos stored for one tool, or for all tools."""
        sql, args = ("SELECT COUNT(*) FROM tool_demos", ()) if tool is None else \
            ("SELECT COUNT(*) FROM tool_demos WHERE tool = ?", (tool,))
        return int(self.db.conn().execute(sql, args).fetchone()[0])

    def tools(self) -> dict[str, int]:
        """Tool -> number of demos, for tools that have any."""
        rows = self.db.conn().execute("SELECT tool, COUNT(*) FROM tool_demos GROUP BY tool ORDER BY tool")
        return {tool: int(n) for tool, n in rows}

    def retrieve(self, tools: list[str], query: str, k: int) -> list[ToolDemo]:
        """The k demos of these tools most similar to the query, best first; cost independent of k stored."""
        scored: list[tuple[float, int, ToolDemo]] = []
        for tool in tools:
            index, demos = self._index(tool)
            for rank, ((_, seq), score) in enumerate(index.query(query, k=k)):
                scored.append((score, rank, demos[seq]))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [demo for _, _, demo in scored[:k]]

    def similar(self, query: str, k: int) -> list[tuple[float, ToolDemo]]:
        """The k demos of any tool most similar to the query, with their scores, best first."""
        # One index over every tool's demos, so scores compare across tools (a per-tool index
        # weighs words by that tool's own demos only).
        index, demos = self._index(None)
        return [(score, demos[key]) for (_, key), score in index.query(query, k=k)]

    def _index(self, tool: str | None) -> tuple[ToolIndex, dict[str, ToolDemo]]:
        """The demo index of a tool (None: of every tool), rebuilt only when its demo count changed."""
        count = self.count(tool)
        with self._lock:
            cached = self._indexes.get(tool)
            if cached is not None and cached[0] == count:
                return cached[1], cached[2]
        demos = {str(i): demo for i, demo in enumerate(self.list(tool))}
        index = ToolIndex()
        index.index_documents(((demo.tool, key), text_weights(demo.query)) for key, demo in demos.items())
        with self._lock:
            self._indexes[tool] = (count, index, demos)
        return index, demos

