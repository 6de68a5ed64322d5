"""The functional cache: immutable tool versions in one SQLite file, with stats, status and retrieval."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict, Field

from store import making_failures, task_aliases
from bus.wire.tool_spec import ToolShape, ToolSpec, ToolStatus
from store.making_failures import MakingFailures
from store.sqlite_db import SqliteFile
from store.store_errors import ToolImportError, ToolNotFound, ToolStoreError
from store.store_location import DEFAULT_STORE_PATH
from store.task_aliases import TaskAliases
from store.tool_exchange import export_line, parse_export_line
from store.tool_search import ToolIndex

SCHEMA = """
CREATE TABLE IF NOT EXISTS tool_versions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tool_id TEXT NOT NULL,
    version TEXT NOT NULL,
    task TEXT NOT NULL,
    shape TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    spec_json TEXT NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tool_id, version)
);
CREATE INDEX IF NOT EXISTS tool_versions_by_task ON tool_versions (task, status);
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('generation', 0);
""" + making_failures.SCHEMA + task_aliases.SCHEMA

STATUSES = ("active", "quarantined")


class ToolSummary(BaseModel):
    """One line of `latm tools list`: the version a tool id serves and its health."""

    model_config = ConfigDict(frozen=True)
    tool_id: str = Field(description="stable tool name")
    task: str = Field(description="the task the tool solves")
    version: str = Field(description="latest active version, or latest version if none is active")
    shape: ToolShape = Field(description="how the tool is called")
    status: ToolStatus = Field(description="status of that version")
    versions: int = Field(description="number of stored versions of this tool id")
    uses: int = Field(description="calls recorded for that version")
    failures: int = Field(description="failed calls recorded for that version")
    created_at: float = Field(description="unix time that version was stored")


class ToolStats(BaseModel):
    """Health counters of one tool version (or of all versions of a tool when version is None)."""

    model_config = ConfigDict(frozen=True)
    tool_id: str = Field(description="tool name")
    version: str | None = Field(description="the version, or None for the sum over versions")
    uses: int = Field(description="recorded calls")
    failures: int = Field(description="recorded failed calls")


class ImportReport(BaseModel):
    """What `import_` did with each record of a JSON-lines file."""

    model_config = ConfigDict(frozen=True)
    imported: int = Field(description="new versions stored")
    existing: int = Field(description="versions already present (left untouched)")
    errors: tuple[str, ...] = Field(description="one message per refused record")


class ToolStore:
    """Tool versions keyed by (tool_id, content hash); safe for one writer and many readers across processes."""

    def __init__(self, path: str | Path = DEFAULT_STORE_PATH) -> None:
        """Open or create the store file."""
        self.db = SqliteFile(path, SCHEMA)
        self.path = self.db.path
        self.failures = MakingFailures(self.db)
        self.aliases = TaskAliases(self.db)
        self._specs: dict[tuple[str, str], ToolSpec] = {}
        self._index = ToolIndex()
        self._index_generation = -1
        self._lock = threading.Lock()

    def __reduce__(self):
        """Pickle as the path only (e.g. when sent to a Ray actor): the receiver opens its own connections."""
        return (ToolStore, (str(self.path),))

    # ---- writing -------------------------------------------------------------------------
    def put(self, spec: ToolSpec) -> str:
        """Store a version (first write wins, re-puts are no-ops) and return its version hash."""
        if spec.provenance.created_at == 0:
            provenance = spec.provenance.model_copy(update={"created_at": time.time()})
            spec = spec.model_copy(update={"provenance": provenance})
        version = spec.version
        with self.db.write() as conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO tool_versions (tool_id, version, task, shape, status, created_at, spec_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (spec.tool_id, version, spec.task, spec.shape, spec.status, spec.provenance.created_at,
                 spec.model_dump_json()),
            )
            if cursor.rowcount:
                self._bump(conn)
        return version

    def record_use(self, tool_id: str, version: str, ok: bool, n: int = 1) -> None:
        """Count n calls of a version (all failed when ok is False); unknown versions are ignored."""
        self.record_uses([(tool_id, version, ok, n)])

    def record_uses(self, events: Iterable[tuple[str, str, bool, int]]) -> int:
        """Count many (tool_id, version, ok, n) events in one transaction; returns rows updated."""
        rows = [(n, 0 if ok else n, tool_id, version) for tool_id, version, ok, n in events]
        if not rows:
            return 0
        with self.db.write() as conn:
            cursor = conn.executemany(
                "UPDATE tool_versions SET uses = uses + ?, failures = failures + ? WHERE tool_id = ? AND version = ?",
                rows,
            )
            return cursor.rowcount

    def set_status(self, tool_id: str, status: ToolStatus, version: str | None = None) -> int:
        """Quarantine or re-activate every version of a tool (or one version); returns versions changed."""
        if status not in STATUSES:
            raise ToolStoreError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        sql, params = "UPDATE tool_versions SET status = ? WHERE tool_id = ?", [status, tool_id]
        if version is not None:
            sql, params = sql + " AND version = ?", params + [version]
        with self.db.write() as conn:
            if not conn.execute("SELECT 1 FROM tool_versions WHERE tool_id = ?" + (" AND version = ?" if version else ""),
                                params[1:]).fetchone():
                raise ToolNotFound(tool_id, version)
            changed = conn.execute(sql, params).rowcount
            self._bump(conn)
        return changed

    def remove(self, tool_id: str) -> int:
        """Delete every version of a tool with its stats; returns versions deleted."""
        with self.db.write() as conn:
            deleted = conn.execute("DELETE FROM tool_versions WHERE tool_id = ?", (tool_id,)).rowcount
            if not deleted:
                raise ToolNotFound(tool_id)
            self.aliases.drop_tool(conn, tool_id)
            self._bump(conn)
        return deleted

    @staticmethod
    def _bump(conn) -> None:
        """Advance the catalogue generation so every process rebuilds its search index."""
        conn.execute("UPDATE store_meta SET value = value + 1 WHERE key = 'generation'")
    # ---- reading -------------------------------------------------------------------------
    def get(self, tool_id: str, version: str | None = None, *, include_quarantined: bool = False) -> ToolSpec | None:
        """The latest active version (or the named one); quarantined versions only on request."""
        sql = "SELECT version, status, spec_json FROM tool_versions WHERE tool_id = ?"
        params: list = [tool_id]
        if version is not None:
            sql, params = sql + " AND version = ?", params + [version]
        if not include_quarantined:
            sql += " AND status = 'active'"
        row = self.db.conn().execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return self._spec(tool_id, *row) if row else None

    def require(self, tool_id: str, version: str | None = None) -> ToolSpec:
        """Like `get` (quarantined included) but raises ToolNotFound instead of returning None."""
        spec = self.get(tool_id, version, include_quarantined=True)
        if spec is None:
            raise ToolNotFound(tool_id, version)
        return spec

    def versions(self, tool_id: str) -> list[str]:
        """Every stored version of a tool, oldest first."""
        rows = self.db.conn().execute("SELECT version FROM tool_versions WHERE tool_id = ? ORDER BY seq", (tool_id,))
        return [version for (version,) in rows]

    def find_by_task(self, task: str) -> ToolSpec | None:
        """The most recently stored active tool for a task, else the tool the task is an alias of."""
        conn = self.db.conn()
        row = conn.execute(
            "SELECT tool_id, version, status, spec_json FROM tool_versions WHERE task = ? AND status = 'active'"
            " ORDER BY seq DESC LIMIT 1", (task,)).fetchone()
        if row:
            return self._spec(*row)
        alias = self.aliases.tool_of(task)
        return self.get(alias) if alias else None

    def list(self, status: ToolStatus | None = None) -> list[ToolSummary]:
        """One summary per tool id (the version it serves), optionally only those with this status."""
        rows = self.db.conn().execute(
            "SELECT tool_id, version, task, shape, status, uses, failures, created_at FROM tool_versions ORDER BY seq")
        by_tool: dict[str, list[tuple]] = {}
        for row in rows:
            by_tool.setdefault(row[0], []).append(row)
        summaries = []
        for tool_id, versions in sorted(by_tool.items()):
            active = [row for row in versions if row[4] == "active"]
            _, version, task, shape, state, uses, failures, created_at = (active or versions)[-1]
            if status is None or state == status:
                summaries.append(ToolSummary(tool_id=tool_id, task=task, version=version, shape=shape, status=state,
                                             versions=len(versions), uses=uses, failures=failures,
                                             created_at=created_at))
        return summaries

    def stats(self, tool_id: str, version: str | None = None) -> ToolStats:
        """Uses and failures of a version, or summed over all versions; raises ToolNotFound."""
        sql = "SELECT COUNT(*), COALESCE(SUM(uses), 0), COALESCE(SUM(failures), 0) FROM tool_versions WHERE tool_id = ?"
        params = [tool_id] + ([version] if version else [])
        count, uses, failures = self.db.conn().execute(sql + (" AND version = ?" if version else ""), params).fetchone()
        if not count:
            raise ToolNotFound(tool_id, version)
        return ToolStats(tool_id=tool_id, version=version, uses=uses, failures=failures)

    def generation(self) -> int:
        """Counter that changes whenever the catalogue (not the stats) changes, in any process."""
        return self.db.conn().execute("SELECT value FROM store_meta WHERE key = 'generation'").fetchone()[0]

    def search(self, text: str, k: int = 3) -> list[tuple[ToolSpec, float]]:
        """The k active tools most similar to a request, best first, with cosine scores in 0..1."""
        with self._lock:
            generation = self.generation()
            if generation != self._index_generation:
                self._index.rebuild(self._latest_active())
                self._index_generation = generation
            hits = self._index.query(text, k)
        return [(self._specs[key], score) for key, score in hits]

    def _latest_active(self) -> list[ToolSpec]:
        """The served version of every tool id, parsing only versions not seen before."""
        rows = self.db.conn().execute(
            "SELECT tool_id, version FROM tool_versions WHERE status = 'active' ORDER BY seq").fetchall()
        latest = {tool_id: version for tool_id, version in rows}
        specs = []
        for tool_id, version in latest.items():
            spec = self._specs.get((tool_id, version))
            specs.append(spec if spec is not None else self.get(tool_id, version))
        return [spec for spec in specs if spec is not None]

    def _spec(self, tool_id: str, version: str, status: str, spec_json: str) -> ToolSpec:
        """Parse a stored row once (versions are immutable), with its current status."""
        key = (tool_id, version)
        spec = self._specs.get(key)
        if spec is None:
            spec = self._specs[key] = ToolSpec.model_validate_json(spec_json)
        return spec if spec.status == status else spec.model_copy(update={"status": status})

    # ---- exchange ------------------------------------------------------------------------
    def export(self, path_or_file: str | Path | IO[str], tool_id: str | None = None) -> int:
        """Write every version (or one tool's) as JSON lines carrying their version hash; returns lines written."""
        sql = "SELECT tool_id, version, status, spec_json FROM tool_versions"
        rows = self.db.conn().execute(sql + (" WHERE tool_id = ? ORDER BY seq" if tool_id else " ORDER BY seq"),
                                      (tool_id,) if tool_id else ()).fetchall()
        if tool_id and not rows:
            raise ToolNotFound(tool_id)
        lines = []
        for row in rows:
            spec = self._spec(*row)
            lines.append(export_line(spec))
        if isinstance(path_or_file, (str, Path)):
            Path(path_or_file).write_text("".join(lines), encoding="utf-8")
        else:
            path_or_file.writelines(lines)
        return len(lines)

    def import_(self, path_or_file: str | Path | IO[str]) -> ImportReport:
        """Store each record of an export file; a record whose code does not hash to its version is refused."""
        if isinstance(path_or_file, (str, Path)):
            try:
                text = Path(path_or_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ToolStoreError(f"cannot read {path_or_file}: {exc}; pass a file written by `latm tools export`") from exc
        else:
            text = path_or_file.read()
        imported = existing = 0
        errors = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                spec = parse_export_line(line, number)
            except ToolImportError as exc:
                errors.append(str(exc))
                continue
            if spec.version in self.versions(spec.tool_id):
                existing += 1
            else:
                self.put(spec)
                imported += 1
        return ImportReport(imported=imported, existing=existing, errors=tuple(errors))

    def close(self) -> None:
        """Close this thread's database connection."""
        self.db.close()

