"""One SQLite file shared by several processes: WAL mode, a connection per thread and process."""
from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from store.store_errors import StoreBusyError, StoreFullError, StoreIOError, ToolStoreError

_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)")
BUSY_TIMEOUT_ENV = "LATM_STORE_BUSY_TIMEOUT_S"
DEFAULT_BUSY_TIMEOUT_S = 30.0
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_IO = {sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}


def busy_timeout_s() -> float:
    """How long a statement waits for another process's lock before failing (env override for tests)."""
    try:
        return max(0.0, float(os.environ.get(BUSY_TIMEOUT_ENV, DEFAULT_BUSY_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_S


def typed_error(path: Path, exc: sqlite3.Error) -> ToolStoreError:
    """The store error, with its fix, for an SQLite failure on `path`."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _BUSY or "locked" in str(exc):
        return StoreBusyError(
            f"{path} is locked by another process (waited {busy_timeout_s():g} s): finish or close the other "
            f"program holding it (a sqlite3 shell with an open transaction, a stuck run), raise "
            f"{BUSY_TIMEOUT_ENV}, or pass another --store; nothing was written by this operation")
    if primary == sqlite3.SQLITE_FULL or "full" in str(exc):
        return StoreFullError(
            f"the disk under {path} is full ({exc}): free space on that device or pass --store on another "
            "disk; the failed write was rolled back and the store is intact")
    if primary in _IO:
        return StoreIOError(f"cannot read or write {path} ({exc}): check the file system, the file's "
                            "permissions and free space, or pass another --store")
    return ToolStoreError(f"SQLite failed on {path} ({exc}); run `sqlite3 {path} 'PRAGMA integrity_check'` "
                          "and move the file away if it is damaged")


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
        """Create missing tables; a file that has them all opens without taking the write lock."""
        conn = self.conn()
        try:
            tables = set(_TABLE.findall(schema))
            present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables <= present:
                return  # a reader must open a store another process is writing to
            conn.executescript(schema)  # commits on its own, so it runs outside `write()`
        except sqlite3.DatabaseError as exc:
            error = typed_error(self.path, exc)
            if type(error) is ToolStoreError:
                raise ToolStoreError(f"cannot open {self.path} as SQLite ({exc}): move the file away or pass "
                                     "another path") from exc
            raise error from exc

    def conn(self) -> sqlite3.Connection:
        """This thread's connection; a forked child opens its own instead of reusing the parent's."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=busy_timeout_s(), isolation_level=None,
                                       factory=_TypedErrorsConnection)
                conn.store_path = self.path
                conn.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL: a commit survives the process being killed; only power loss may undo the last ones.
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA foreign_keys=ON")
            except ToolStoreError:
                raise
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
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # a failed COMMIT (disk full) leaves it open: undo it all
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()


class _TypedErrorsConnection(sqlite3.Connection):
    """A connection whose lock, full-disk and I/O failures surface as typed store errors."""

    store_path = Path("?")

    def execute(self, *args):
        """Run one statement; SQLite failures become typed store errors."""
        try:
            return super().execute(*args)
        except sqlite3.OperationalError as exc:
            raise typed_error(self.store_path, exc) from exc

    def executemany(self, *args):
        """Run one statement for many rows; SQLite failures become typed store errors."""
        try:
            return super().executemany(*args)
        except sqlite3.OperationalError as exc:
            raise typed_error(self.store_path, exc) from exc
