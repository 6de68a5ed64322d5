"""The trace of one LMulator run: each line executed, who ran it (Python or the LM), what changed."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.lmulator.transform import TransformedProgram


class TraceStep(BaseModel):
    """One executed statement (or header) of the program."""

    line: int = Field(description="1-based line number in the original program")
    text: str = Field(description="the statement as written")
    by: Literal["python", "lm"] = Field(description="who ran it: the interpreter or the LM")
    scope: str = Field(default="<module>", description="enclosing function, or <module>")
    changes: dict[str, str] = Field(default_factory=dict,
                                    description="variables set by the step, name -> repr")
    value: str | None = Field(default=None,
                              description="repr of the expression value the LM supplied")
    call: str | None = Field(default=None, description="the helper call the LM answered, "
                             "with argument values, e.g. is_fruit('fig')")


class Trace(BaseModel):
    """Every step of a run plus its counters; `render()` prints it for people."""

    steps: list[TraceStep] = Field(default_factory=list, description="steps in execution order")
    python_lines: int = Field(default=0, description="statements Python ran")
    simulated_lines: int = Field(default=0, description="statements or expressions the LM ran")
    line_runners: dict[int, Literal["python", "lm"]] = Field(
        default_factory=dict, description="each program line that ran -> who ran it (the LM "
        "if it simulated that line even once)")
    truncated: bool = Field(default=False, description="True when steps beyond the cap were "
                            "counted but not recorded")
    output: list[str] = Field(default_factory=list, description="what the program printed")
    rejected: list[str] = Field(default_factory=list,
                                description="LM replies rejected as unusable state, with why")

    @property
    def simulated_share(self) -> float:
        """Fraction of executed lines that the LM simulated."""
        total = self.python_lines + self.simulated_lines
        return self.simulated_lines / total if total else 0.0

    @property
    def simulated_program_lines(self) -> int:
        """How many distinct program lines the LM simulated (a loop body counts once)."""
        return sum(1 for by in self.line_runners.values() if by == "lm")

    def render(self, width: int = 60) -> str:
        """A readable table: line, runner, statement, change."""
        out = [f"{'line':>5}  {'by':<6}  {'statement':<{width}}  change"]
        for step in self.steps:
            text = step.text.splitlines()[0] if step.text else ""
            if len(text) > width:
                text = text[:width - 3] + "..."
            change = "; ".join(f"{k} = {v}" for k, v in step.changes.items())
            if step.value is not None:
                head = f"{step.call} -> {step.value}" if step.call else f"value {step.value}"
                change = head + (f"; {change}" if change else "")
            by = "LM" if step.by == "lm" else "python"
            out.append(f"{step.line:>5}  {by:<6}  {text:<{width}}  {change}")
        if self.truncated:
            out.append(f"  ... trace capped at {len(self.steps)} steps")
        out.append(f"python lines: {self.python_lines}  simulated lines: {self.simulated_lines}"
                   f"  (program lines run: {len(self.line_runners)}, "
                   f"simulated: {self.simulated_program_lines})")
        for line in self.output:
            out.append(f"printed: {line}")
        for reason in self.rejected:
            out.append(f"rejected LM reply: {reason}")
        return "\n".join(out)


def build_trace(program: TransformedProgram, raw: dict[str, Any] | None,
                host_steps: list[TraceStep], rejected: list[str]) -> Trace:
    """Join the worker's raw trace with the site table; fall back to the host's own steps when
    the worker died before returning one (timeout, memory)."""
    if raw is None:
        return Trace(steps=host_steps, simulated_lines=len(host_steps), rejected=rejected,
                     line_runners={step.line: "lm" for step in host_steps})
    steps = []
    for item in raw.get("trace") or []:
        site = program.sites.get(item.get("site"))
        if site is None:
            continue
        steps.append(TraceStep(line=site.line, text=site.text, by=item.get("by", "python"),
                               scope=site.scope, changes=dict(item.get("changes") or {}),
                               value=item.get("value"), call=item.get("call")))
    python_lines = int(raw.get("python_lines") or 0)
    simulated = int(raw.get("simulated_lines") or 0)
    return Trace(steps=steps, python_lines=python_lines, simulated_lines=simulated,
                 line_runners=_line_runners(program, raw.get("ran_sites") or []),
                 truncated=len(steps) < python_lines + simulated,
                 output=list(raw.get("output") or []), rejected=rejected)


def _line_runners(program: TransformedProgram, ran_sites: list) -> dict[int, str]:
    """Program line -> who ran it, from the worker's [site, by] pairs; a line holding several
    sites counts as simulated when the LM ran any of them."""
    runners: dict[int, str] = {}
    for site_id, by in ran_sites:
        site = program.sites.get(site_id)
        if site is not None and runners.get(site.line) != "lm":
            runners[site.line] = by
    return runners
