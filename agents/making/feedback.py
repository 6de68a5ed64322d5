"""What the maker says about candidates: feedback to the model, reasons to the run, tool names."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agents.making.asks import same
from bus.wire.messages import MakeTool

if TYPE_CHECKING:
    from agents.making.maker import MakerConfig, _Candidate, _Spend


# A frame of the tool's traceback and the source line under it (the sandbox keeps the source).
_FRAME = re.compile(r'File "<tool [^>]*>", line \d+, in (\w+)\n[ \t]+(\S.*)')
# The staged harness's frame around compute: its line is not the model's.
_HARNESS_FRAMES = {"check_compute"}


def raised(error: str) -> str:
    """A failed call's outcome said briefly: the exception and the line of the model's code that
    raised it (the innermost frame of the tool), instead of a traceback whose line numbers count
    the harness's lines and whose functions may be renamed (`solve` becomes `core_solve`)."""
    kind, _, detail = error.partition(": ")
    frames = _FRAME.findall(detail)
    exception = next((line.strip() for line in reversed(detail.splitlines())
                      if line.strip() and not set(line.strip()) <= set("^~")), "")
    if kind != "tool_error" or not frames or not exception:
        return f"raised {error}"
    name, line = frames[-1]
    return f"raised {exception}" + ("" if name in _HARNESS_FRAMES else
                                    f"\n  at this line: {line.strip()}")


def describe_failures(cand: "_Candidate", n_train: int, limit: int = 3) -> str:
    """Feedback text: what the candidate got wrong on training cases, trimmed to a few. Held-out
    cases are never shown, or they would stop being held out."""
    if cand.verdict is None:
        return f"Your reply could not be used: {cand.problem or 'no function found'}."
    lines = []
    for case in [c for c in cand.verdict.cases[:n_train] if not c.ok][:limit]:
        given = repr(cand.ask.show(case.input)) if cand.ask.show is not same else case.input
        given = given if len(given) < 400 else given[:400] + " ..."
        outcome = raised(case.error) if case.error else f"returned {case.got!r}"
        lines.append(f"Given: {given}\nExpected: {case.expected!r}\nYour function {outcome}")
    return "\n\n".join(lines) or ("It returns the right answers for these examples but wrong "
                                   "ones for other questions of the kind: make it general.")


def failure_reason(best: "_Candidate | None", spend: "_Spend", config: "MakerConfig") -> str:
    """One line saying why making failed, for the run's records."""
    budget = "token budget spent" if spend.tokens >= config.token_budget else "rounds exhausted"
    if best is None or best.verdict is None:
        return f"{budget}: no candidate ran ({best.problem if best else 'no samples'})"
    return f"{budget}: best candidate passed {best.verdict.passed}/{best.verdict.total} cases"


def default_doc(msg: MakeTool) -> str:
    """A retrieval-friendly description when the model wrote no docstring."""
    sample = msg.train[0].input if msg.train else ""
    return f"Solves {msg.task} questions such as: {sample[:300]}"


def slugify(task: str) -> str:
    """A tool id from a task name: lowercase words joined by underscores."""
    return re.sub(r"[^a-z0-9]+", "_", task.lower()).strip("_") or "tool"
