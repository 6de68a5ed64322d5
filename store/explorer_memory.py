"""The explorer's long-term memory: every query tried on a tool, with its outcome, across runs."""
from __future__ import annotations

import time
from pathlib import Path

from pydantic import Field

from bus.wire.api_spec import ToolCall
from bus.wire.tool_spec import Frozen
from store.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS explore_trials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tool TEXT NOT NULL,
    query TEXT NOT NULL,
    call_json TEXT,
    observation TEXT NOT NULL,
    success INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS explore_trials_by_tool ON explore_trials (tool, seq);
"""


class Trial(Frozen):
    """One trial of an episode: the imagined query, the last call tried, what came back, the verdict."""

    tool: str = Field(description="tool id or API name explored")
    query: str = Field(description="the imagined user query")
    call: ToolCall | None = Field(default=None, description="the last call tried; None when none parsed")
    observation: str = Field(default="", description="the tool's result or typed error, shortened")
    success: bool = Field(default=False, description="the call worked and the reflection judged the query fulfilled")
    note: str = Field(default="", description="the reflection's reason, or the step error")


class ExplorerMemory:
    """Trial rows in the store's SQLite file; safe across processes like the tool store."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating if needed) the trial table in the file at `path`."""
        self.db = SqliteFile(path, SCHEMA)
        self.path = self.db.path

    def __reduce__(self):
        """Pickle as the path only: the receiver opens its own connection."""
        return (ExplorerMemory, (str(self.path),))

    def record(self, trial: Trial) -> None:
        """Persist one trial as soon as it is done (a crash later loses nothing before it)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO explore_trials (tool, query, call_json, observation, success, note, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (trial.tool, trial.query, trial.call.model_dump_json() if trial.call else None,
                 trial.observation, int(trial.success), trial.note, time.time()))

    def recent(self, tool: str, limit: int = 20) -> list[Trial]:
        """The latest `limit` trials of a tool, oldest first (what the next episode is shown)."""
        rows = self.db.conn().execute(
            "SELECT tool, query, call_json, observation, success, note FROM explore_trials "
            "WHERE tool = ? ORDER BY seq DESC LIMIT ?", (tool, limit)).fetchall()
        return [Trial(tool=t, query=q, call=ToolCall.model_validate_json(c) if c else None,
                      observation=o, success=bool(s), note=n) for t, q, c, o, s, n in reversed(rows)]

    def count(self, tool: str) -> tuple[int, int]:
        """(trials, successes) recorded for a tool."""
        row = self.db.conn().execute(
            "SELECT COUNT(*), COALESCE(SUM(success), 0) FROM explore_trials WHERE tool = ?", (tool,)).fetchone()
        return int(row[0]), int(row[1])
