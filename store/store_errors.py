"""Typed errors of the store package; each message says how to fix the problem."""
from __future__ import annotations


class ToolStoreError(Exception):
    """Base class: the tool store or run ledger cannot do what was asked."""


class ToolNotFound(ToolStoreError, KeyError):
    """No stored tool (or version) matches the id asked for."""

    def __init__(self, tool_id: str, version: str | None = None) -> None:
        what = f"tool {tool_id!r}" + (f" version {version!r}" if version else "")
        super().__init__(f"{what} is not in the store: run `latm tools list` to see stored ids")
        self.tool_id = tool_id
        self.version = version

    def __str__(self) -> str:
        """Plain message (KeyError would quote it)."""
        return str(self.args[0])


class ToolImportError(ToolStoreError):
    """A record of an import file was refused (bad JSON, bad fields, or tampered code)."""


class StoreUnavailableError(ToolStoreError):
    """The store's file cannot be used right now (locked, disk full, I/O): stop, fix, resume."""


class StoreBusyError(StoreUnavailableError):
    """Another process held the SQLite file's lock for longer than the busy timeout."""


class StoreFullError(StoreUnavailableError):
    """The disk (or the file system's quota) under the SQLite file is full; the write was rolled back."""


class StoreIOError(StoreUnavailableError):
    """The SQLite file could not be read or written (I/O error, read-only file or folder)."""
