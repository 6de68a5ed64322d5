"""The making journal: every draw the maker made, one JSON line each, for people asking why a
making failed (`LATM_MAKING_JOURNAL=draws.jsonl`; `latm draws` reads it back)."""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from bus.wire.messages import Verdict

log = logging.getLogger(__name__)

JOURNAL_ENV = "LATM_MAKING_JOURNAL"
# A prompt or reply is kept whole up to this length: enough for any compute function and plan.
TEXT_CHARS = 6000


def journal_path_from_env() -> str | None:
    """The journal file named by the environment, if any."""
    return os.environ.get(JOURNAL_ENV) or None


class MakingJournal:
    """Appends one line per draw to a JSON Lines file; a journal that cannot be written is
    switched off with one warning, and never fails a making."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def draw(self, task: str, shape: str, ask: str, history: list[dict], reply: str,
             code: str | None, verdict: Verdict | None) -> None:
        """Record one draw: what was asked, the reply, and how its code fared (None: no code)."""
        if self.path is None:
            return
        entry = {"at": round(time.time(), 3), "task": task, "shape": shape, "ask": ask,
                 "conversation": [{"role": m["role"], "content": _cut(m["content"])}
                                  for m in history],
                 "reply": _cut(reply), "code": code}
        if verdict is not None:
            entry.update(passed=verdict.passed, total=verdict.total,
                         failures=[{"input": c.input, "expected": c.expected, "got": c.got,
                                    "error": c.error} for c in verdict.cases if not c.ok])
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
        except OSError as exc:
            log.warning("making journal %s switched off: %s", self.path, exc)
            self.path = None


def read_journal(path: str, task: str | None = None) -> list[dict]:
    """The journal's entries, optionally of one task; unreadable lines are skipped."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and (task is None or entry.get("task") == task):
            entries.append(entry)
    return entries


def _cut(text: str) -> str:
    """Text kept up to TEXT_CHARS, marked when cut."""
    return text if len(text) <= TEXT_CHARS else text[:TEXT_CHARS] + " ..."
