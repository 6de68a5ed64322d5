"""Leases on making a kind's tool, so runs sharing one store never make the same tool twice."""
from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

from store.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS making_leases (
    task TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


def _owner_dead(owner: str) -> bool:
    """Whether the lease's owner is a process on this machine that no longer runs."""
    host, _, rest = owner.partition("|")
    pid = rest.partition("|")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the lease's expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class MakingLeases:
    """One row per kind being made: who makes it and until when (renewed while making lasts)."""

    def __init__(self, path: str | Path, ttl_s: float = 60.0) -> None:
        """Open the leases table in the tool store's file."""
        self.db = SqliteFile(path, SCHEMA)
        self.ttl_s = ttl_s
        self.owner = f"{socket.gethostname()}|{os.getpid()}|{uuid.uuid4().hex[:8]}"

    def try_acquire(self, task: str) -> str | None:
        """Take the lease (None), or return the live holder; a dead or expired holder's lease is taken over."""
        now = time.time()
        with self.db.write() as conn:
            row = conn.execute("SELECT owner, expires_at FROM making_leases WHERE task = ?", (task,)).fetchone()
            if row is not None and row[0] != self.owner and row[1] > now and not _owner_dead(row[0]):
                return row[0]
            conn.execute("INSERT OR REPLACE INTO making_leases (task, owner, expires_at) VALUES (?, ?, ?)",
                         (task, self.owner, now + self.ttl_s))
        return None

    def renew(self, task: str) -> bool:
        """Extend this process's lease; False when it was lost (it expired and another run took it)."""
        with self.db.write() as conn:
            return conn.execute("UPDATE making_leases SET expires_at = ? WHERE task = ? AND owner = ?",
                                (time.time() + self.ttl_s, task, self.owner)).rowcount == 1

    def release(self, task: str) -> None:
        """Give the lease up (only if this process holds it)."""
        with self.db.write() as conn:
            conn.execute("DELETE FROM making_leases WHERE task = ? AND owner = ?", (task, self.owner))

    def holders(self) -> dict[str, str]:
        """Every kind being made and its holder (for tests and diagnostics)."""
        return dict(self.db.conn().execute("SELECT task, owner FROM making_leases").fetchall())
