"""The results file of `latm run`: durable appends, and its repair before `--resume`."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TextIO

from agents.pipeline.batch_format import answered_id, output_text

FINAL_ROUTES = ("tool", "solver")
# Error records that a rerun would only write again: kept on resume instead of retried.
FINAL_ERRORS = ("bad_request_line",)
FSYNC_EVERY_S = 1.0


def final_id(record: dict) -> str | None:
    """The request id a results-file line settles for good (a native or a Batch line), or None."""
    answered = answered_id(record)
    return answered if answered is not None else (str(record.get("id")) if is_final(record) else None)


def is_final(record: dict) -> bool:
    """Whether a result stands for good: an answer, or an error that retrying cannot change."""
    if record.get("route") in FINAL_ROUTES:
        return True
    error = record.get("error")
    return isinstance(error, dict) and error.get("code") in FINAL_ERRORS


class ResultsWriter:
    """Writes one JSON line per result; flushed at once (a killed process loses nothing written),
    fsynced at least every second and at the end (a power cut loses at most the last second)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        try:
            self._fd: int | None = out.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None  # an in-memory stream: nothing to sync
        self._synced_at = time.monotonic()

    def write(self, record: dict) -> None:
        """Append one result line and push it to the operating system."""
        self.out.write(output_text(record) + "\n")  # a Batch input line gets a Batch output line
        self.out.flush()
        if self._fd is not None and time.monotonic() - self._synced_at >= FSYNC_EVERY_S:
            self.sync()

    def sync(self) -> None:
        """Make every line written so far survive a power cut."""
        if self._fd is not None:
            self.out.flush()
            os.fsync(self._fd)
            self._synced_at = time.monotonic()


def prepare_resume(path: str | Path) -> list[dict]:
    """Keep the final records of an interrupted run's results file, one per id, and return them.

    Dropped: a line cut short by the crash, error records (their requests run again) and any
    repeated id. The file is rewritten atomically (temporary file, fsync, rename) only when
    something was dropped, so the resumed run appends to a file holding each id at most once.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    kept: list[dict] = []
    seen: set[str] = set()
    for line in raw.split(b"\n"):
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # the line the crash cut short (or an empty one): that request runs again
        settled = final_id(record) if isinstance(record, dict) else None
        if settled is None or settled in seen:
            continue
        seen.add(settled)
        kept.append(record)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept).encode()
    if body != raw:
        _replace_atomically(path, body)
    return kept


def _replace_atomically(path: Path, body: bytes) -> None:
    """Write `body` beside `path`, sync it, and rename it over `path` (a crash leaves old or new)."""
    temp = path.with_name(f".{path.name}.resume-{os.getpid()}")
    with open(temp, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
