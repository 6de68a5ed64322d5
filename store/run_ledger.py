"""Results of `latm run`, one row per request, so a crashed run resumes and any run can be summarised."""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from store.sqlite_db import SqliteFile

DEFAULT_LEDGER_PATH = ".latm/runs.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS run_results (
    run_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    route TEXT NOT NULL,
    tool_id TEXT,
    version TEXT,
    answer TEXT,
    correct INTEGER,
    llm_calls INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    latency REAL NOT NULL,
    error TEXT,
    extra TEXT NOT NULL,
    PRIMARY KEY (run_id, request_id)
);
CREATE TABLE IF NOT EXISTS run_info (
    run_id TEXT PRIMARY KEY,
    info TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    output TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS runs_by_output ON runs (output, started_at);
"""
COLUMNS = ("run_id", "request_id", "route", "tool_id", "version", "answer", "correct", "llm_calls", "tokens",
           "cost", "latency", "error", "extra")


class RunRow(BaseModel):
    """The outcome of one request in one run."""

    model_config = ConfigDict(frozen=True)
    run_id: str = Field(description="the run this result belongs to")
    request_id: str = Field(description="the request's id from the input file")
    route: str = Field(description="how it was answered, e.g. 'tool', 'solver' or 'error'")
    tool_id: str | None = Field(default=None, description="tool used, if any")
    version: str | None = Field(default=None, description="tool version used, if any")
    answer: str | None = Field(default=None, description="the answer given, None on error")
    correct: bool | None = Field(default=None, description="matches the target; None when there was no target")
    llm_calls: int = Field(default=0, description="LLM calls spent on this request")
    tokens: int = Field(default=0, description="prompt plus completion tokens spent")
    cost: float = Field(default=0.0, description="estimated spend in USD")
    latency: float = Field(default=0.0, description="seconds from submission to answer")
    error: str | None = Field(default=None, description="error message, None on success")
    extra: dict = Field(default_factory=dict, description="anything else worth keeping (JSON-safe)")


class RunSummary(BaseModel):
    """Totals of one run."""

    model_config = ConfigDict(frozen=True)
    run_id: str = Field(description="the run summarised")
    requests: int = Field(description="rows recorded")
    errors: int = Field(description="rows with an error")
    scored: int = Field(description="rows with a target (correct is not None)")
    correct: int = Field(description="rows answered correctly")
    accuracy: float | None = Field(description="correct / scored, None when nothing was scored")
    tool_hits: int = Field(description="rows answered by a tool")
    cache_hit_rate: float = Field(description="tool_hits / requests (0 for an empty run)")
    llm_calls: int = Field(description="LLM calls in total")
    tokens: int = Field(description="tokens in total")
    cost: float = Field(description="spend in total")
    mean_latency: float = Field(description="mean seconds per request")


class RunLedger:
    """An SQLite table of run results; writes are idempotent per (run_id, request_id)."""

    def __init__(self, path: str | Path = DEFAULT_LEDGER_PATH) -> None:
        """Open or create the ledger file."""
        self.db = SqliteFile(path, SCHEMA)
        self.path = self.db.path

    def __reduce__(self):
        """Pickle as the path only: the receiver opens its own connections."""
        return (RunLedger, (str(self.path),))

    def record(self, row: RunRow) -> None:
        """Store one result (a re-run of the same request replaces it)."""
        self.record_many([row])

    def record_many(self, rows: Iterable[RunRow]) -> int:
        """Store results in one transaction; returns rows written."""
        rows = list(rows)
        if rows:
            with self.db.write() as conn:
                _insert(conn, rows)
        return len(rows)

    def start_run(self, run_id: str, output: str) -> None:
        """Remember which results file a run writes, so `--resume` continues the same run id."""
        with self.db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO runs (run_id, output, started_at) VALUES (?, ?, ?)",
                         (run_id, output, time.time()))

    def finish_run(self, run_id: str) -> None:
        """Mark a run complete (every input line answered)."""
        with self.db.write() as conn:
            conn.execute("UPDATE runs SET finished_at = ? WHERE run_id = ?", (time.time(), run_id))

    def last_run_for(self, output: str) -> str | None:
        """The id of the latest run that wrote this results file, if any."""
        row = self.db.conn().execute("SELECT run_id FROM runs WHERE output = ? ORDER BY started_at DESC LIMIT 1",
                                     (output,)).fetchone()
        return row[0] if row else None

    def reconcile(self, run_id: str, rows: list[RunRow]) -> int:
        """Make the run's rows exactly `rows` (the results file's): drop others, write these; one transaction."""
        keep = {row.request_id for row in rows}
        with self.db.write() as conn:
            stale = [(run_id, rid) for (rid,) in conn.execute(
                "SELECT request_id FROM run_results WHERE run_id = ?", (run_id,)).fetchall() if rid not in keep]
            conn.executemany("DELETE FROM run_results WHERE run_id = ? AND request_id = ?", stale)
            _insert(conn, rows)
        return len(stale)

    def done_ids(self, run_id: str) -> set[str]:
        """Request ids already recorded for a run: skip these when resuming."""
        rows = self.db.conn().execute("SELECT request_id FROM run_results WHERE run_id = ?", (run_id,))
        return {request_id for (request_id,) in rows}

    def rows(self, run_id: str) -> list[RunRow]:
        """Every recorded result of a run, in request id order."""
        cursor = self.db.conn().execute(
            f"SELECT {', '.join(COLUMNS)} FROM run_results WHERE run_id = ? ORDER BY request_id", (run_id,))
        return [_row(values) for values in cursor]

    def runs(self) -> list[str]:
        """Ids of every run recorded."""
        return [run_id for (run_id,) in self.db.conn().execute("SELECT DISTINCT run_id FROM run_results ORDER BY run_id")]

    def latest_run(self) -> str | None:
        """The run whose last result was recorded most recently."""
        row = self.db.conn().execute("SELECT run_id FROM run_results ORDER BY rowid DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def summary(self, run_id: str) -> RunSummary:
        """Accuracy, cache hit rate and spend of a run, computed in SQL."""
        n, errors, scored, correct, hits, calls, tokens, cost, latency = self.db.conn().execute(
            "SELECT COUNT(*), COUNT(error), COUNT(correct), COALESCE(SUM(correct), 0), COUNT(tool_id),"
            " COALESCE(SUM(llm_calls), 0), COALESCE(SUM(tokens), 0), COALESCE(SUM(cost), 0), COALESCE(AVG(latency), 0)"
            " FROM run_results WHERE run_id = ?", (run_id,)).fetchone()
        return RunSummary(run_id=run_id, requests=n, errors=errors, scored=scored, correct=correct,
                          accuracy=correct / scored if scored else None, tool_hits=hits,
                          cache_hit_rate=hits / n if n else 0.0, llm_calls=calls, tokens=tokens, cost=cost,
                          mean_latency=latency)

    def record_info(self, run_id: str, info: dict) -> None:
        """Store a run's own facts (summary figures, tool-making events) as JSON, replacing earlier ones."""
        with self.db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO run_info (run_id, info) VALUES (?, ?)",
                         (run_id, json.dumps(info, default=str)))

    def info(self, run_id: str) -> dict:
        """A run's facts as stored by record_info; empty when none were stored."""
        row = self.db.conn().execute("SELECT info FROM run_info WHERE run_id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row else {}

    def close(self) -> None:
        """Close this thread's database connection."""
        self.db.close()


def _insert(conn, rows: list[RunRow]) -> None:
    """Write rows inside the caller's transaction; a request's row replaces its earlier one (idempotent)."""
    values = [tuple(json.dumps(row.extra) if name == "extra" else getattr(row, name) for name in COLUMNS)
              for row in rows]
    conn.executemany(f"INSERT OR REPLACE INTO run_results ({', '.join(COLUMNS)}) "
                     f"VALUES ({', '.join('?' * len(COLUMNS))})", values)


def _row(values: tuple) -> RunRow:
    """A database row back into a RunRow."""
    fields = dict(zip(COLUMNS, values))
    fields["extra"] = json.loads(fields["extra"] or "{}")
    fields["correct"] = None if fields["correct"] is None else bool(fields["correct"])
    return RunRow(**fields)
