"""Simulated API responses cached by (API, canonical arguments): the same call always gets the same answer."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bus.wire.api_spec import canonical_json
from store.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_responses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    api TEXT NOT NULL,
    args_key TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (api, args_key)
);
"""


class ApiCache:
    """Response rows in the store's SQLite file; the first answer stored for a call wins."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating if needed) the response table in the file at `path`."""
        self.db = SqliteFile(path, SCHEMA)
        self.path = self.db.path

    def __reduce__(self):
        """Pickle as the path only: the receiver opens its own connection."""
        return (ApiCache, (str(self.path),))

    def get(self, api: str, arguments: dict[str, Any]) -> str | None:
        """The cached response to this call, or None."""
        row = self.db.conn().execute("SELECT response FROM api_responses WHERE api = ? AND args_key = ?",
                                     (api, canonical_json(arguments))).fetchone()
        return row[0] if row else None

    def put(self, api: str, arguments: dict[str, Any], response: str) -> str:
        """Store a response unless one exists (a concurrent writer may have won); return the stored one."""
        key = canonical_json(arguments)
        with self.db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO api_responses (api, args_key, response, created_at) "
                         "VALUES (?, ?, ?, ?)", (api, key, response, time.time()))
            return conn.execute("SELECT response FROM api_responses WHERE api = ? AND args_key = ?",
                                (api, key)).fetchone()[0]

    def recent(self, api: str, limit: int = 3) -> list[tuple[str, str]]:
        """The latest (arguments JSON, response) pairs of an API, oldest first, to keep answers consistent."""
        rows = self.db.conn().execute(
            "SELECT args_key, response FROM api_responses WHERE api = ? ORDER BY seq DESC LIMIT ?",
            (api, limit)).fetchall()
        return list(reversed(rows))
