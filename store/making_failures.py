"""Kinds of request the maker failed on, remembered across runs so a later run starts them on the solver."""
from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from store.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS making_failures (
    task TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    last_at REAL NOT NULL
);
"""


class MakingFailure(BaseModel):
    """A kind of request the maker could not make a tool for."""

    model_config = ConfigDict(frozen=True)
    task: str = Field(description="the task label or request fingerprint")
    attempts: int = Field(description="failed making attempts so far")
    reason: str = Field(description="why the last attempt failed")
    last_at: float = Field(description="unix time of the last failed attempt")


class MakingFailures:
    """The failures table of the store's file."""

    def __init__(self, db: SqliteFile) -> None:
        self.db = db

    def record(self, task: str, reason: str) -> int:
        """Count one more failed making attempt for a kind; returns its attempts so far."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO making_failures (task, attempts, reason, last_at) VALUES (?, 1, ?, ?)"
                " ON CONFLICT (task) DO UPDATE SET attempts = attempts + 1, reason = excluded.reason,"
                " last_at = excluded.last_at", (task, reason[:500], time.time()))
            return conn.execute("SELECT attempts FROM making_failures WHERE task = ?", (task,)).fetchone()[0]

    def clear(self, task: str | None = None) -> int:
        """Forget failed attempts (of one kind, or all), so the next run tries making again."""
        with self.db.write() as conn:
            if task is None:
                return conn.execute("DELETE FROM making_failures").rowcount
            return conn.execute("DELETE FROM making_failures WHERE task = ?", (task,)).rowcount

    def list(self, task: str | None = None) -> list[MakingFailure]:
        """Kinds whose making failed and has not succeeded since (or just `task`'s), latest first."""
        sql = "SELECT task, attempts, reason, last_at FROM making_failures"
        rows = self.db.conn().execute(sql + (" WHERE task = ?" if task is not None else "")
                                      + " ORDER BY last_at DESC", (task,) if task is not None else ()).fetchall()
        return [MakingFailure(task=t, attempts=a, reason=r, last_at=at) for t, a, r, at in rows]
