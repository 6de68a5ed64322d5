"""Task labels routed to a tool made for another label (one that passed the label's examples)."""
from __future__ import annotations

from store.sqlite_db import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS task_aliases (
    task TEXT PRIMARY KEY,
    tool_id TEXT NOT NULL
);
"""


class TaskAliases:
    """The aliases table of the store's file."""

    def __init__(self, db: SqliteFile) -> None:
        self.db = db

    def set(self, task: str, tool_id: str) -> None:
        """Route `task` to an existing tool."""
        with self.db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO task_aliases (task, tool_id) VALUES (?, ?)", (task, tool_id))

    def tool_of(self, task: str) -> str | None:
        """The tool a task label is an alias of, if any."""
        row = self.db.conn().execute("SELECT tool_id FROM task_aliases WHERE task = ?", (task,)).fetchone()
        return row[0] if row else None

    def drop_tool(self, conn, tool_id: str) -> None:
        """Inside a write: forget the aliases of a removed tool."""
        conn.execute("DELETE FROM task_aliases WHERE tool_id = ?", (tool_id,))
