"""Prompts that ask the LM to simulate one program line (Chain of Code's LMulator step)."""
from __future__ import annotations

from agents.lmulator.transform import Site

PROMPT_VERSION = "lmulator-line/1"
MAX_PROGRAM_CHARS = 6000

SYSTEM = (
    "You are a Python interpreter with common sense. Some lines of the program call helper "
    "functions that have no code (like is_sarcastic(s)) or need knowledge Python lacks. When "
    "such a line comes up, you work out what it would produce from the helper's name, its "
    "arguments and the program's intent. You reply with data only: a Python literal, never "
    "code and never an explanation."
)


def numbered_program(source: str, line: int) -> str:
    """The program with line numbers and an arrow at the current line, trimmed around it."""
    lines = source.splitlines()
    rows = [f"{'>>' if i == line else '  '}{i:>4}  {text}" for i, text in enumerate(lines, 1)]
    text = "\n".join(rows)
    if len(text) <= MAX_PROGRAM_CHARS:
        return text
    # Keep a window around the current line when the program is long.
    lo, hi = max(0, line - 40), min(len(rows), line + 20)
    return "\n".join(["  ..."] + rows[lo:hi] + ["  ..."])


def state_lines(state: dict[str, str]) -> str:
    """Current variables as `name = repr` lines."""
    if not state:
        return "(no variables yet)"
    return "\n".join(f"{name} = {shown}" for name, shown in state.items())


# One worked exchange per reply shape: tiny models copy the format of the examples.
SHOTS = [
    {"role": "user", "content": "Program:\n>>   1  answer = is_vegetable('carrot')\n\n"
     "`is_vegetable` has no code. What does `is_vegetable('carrot')` return? Reply with only "
     "that value as a Python literal."},
    {"role": "assistant", "content": "True"},
    {"role": "user", "content": "Program:\n     1  names = ['Ann']\n>>   2  names.push('Bo')\n"
     "\nVariables now:\nnames = ['Ann']\n\nReply with only a Python dict literal mapping each "
     "variable the line changes to its new value."},
    {"role": "assistant", "content": "{'names': ['Ann', 'Bo']}"},
]


def line_messages(source: str, site: Site, state: dict[str, str], error: str,
                  context: str | None = None, call: str | None = None) -> list[dict[str, str]]:
    """Chat messages asking for the value (value mode) or the state change (state mode)."""
    parts = ["Program:", numbered_program(source, site.line), ""]
    if context:
        parts += ["Task the program solves:", context.strip()[:2000], ""]
    parts += ["Variables now:", state_lines(state), "",
              f"Python could not run line {site.line} ({error[:200]})."]
    if call is not None:
        parts.append(
            f"`{site.expr_name}` has no code, so you must work out its result. Here the call is "
            f"`{call}`. What does `{call}` return? Reply with only that value as a Python "
            "literal.")
    elif site.mode == "value":
        parts.append(
            f"What is the value of `{site.expr}` here? Reply with only that value as a Python "
            "literal.")
    else:
        names = ", ".join(site.allowed) or "any variable of the program"
        parts.append(
            f"Run line {site.line} (`{site.text.splitlines()[0]}`) in your head. Reply with only "
            "a Python dict literal mapping each variable the line changes to its new value, for "
            f"example {{'answer': ['yes']}}. Variables it may change: {names}.")
    return [{"role": "system", "content": SYSTEM}, *SHOTS,
            {"role": "user", "content": "\n".join(parts)}]


def retry_message(reason: str, mode: str) -> dict[str, str]:
    """Follow-up after a rejected reply, saying why and what shape to use."""
    shape = "a Python literal value" if mode == "value" else "a Python dict literal"
    return {"role": "user",
            "content": f"That reply was rejected: {reason}. Reply again with only {shape}."}
