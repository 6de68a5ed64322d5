"""One SQLite file shared by several processes: WAL mode, a connection per thread and process."""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.store_errors import ToolStoreError

BUSY_TIMEOUT_S = 30.0


class SqliteFile:
    """Hands out per-thread connections to one database file and runs short write transactions."""

    def __init__(self, path: str | Path, schema: str) -> None:
        """Open (creating if needed) the file at `path` and apply `schema` (idempotent DDL)."""
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ToolStoreError(f"cannot create folder for {self.path}: {exc}; pass a writable path") from exc
        self._local = threading.local()
        self._apply_schema(schema)

    def _apply_schema(self, schema: str) -> None:
        """Create tables; executescript commits on its own, so it runs outside `write()`."""
        conn = self.conn()
        try:
            conn.executescript(schema)
        except sqlite3.DatabaseError as exc:
            raise ToolStoreError(f"cannot open {self.path} as SQLite ({exc}): move the file away or pass another path") from exc

    def conn(self) -> sqlite3.Connection:
        """This thread's connection; a forked child opens its own instead of reusing the parent's."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise ToolStoreError(f"cannot open {self.path} as SQLite ({exc}): check the path and its permissions, "
                                     "or move the file away") from exc
            local.conn, local.pid = conn, os.getpid()
        return local.conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A short immediate transaction: takes the write lock up front so writers never deadlock."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()
