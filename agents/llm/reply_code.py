"""Find Python code in a model's reply: its fenced blocks (else the bare reply), trimmed to parse."""
from __future__ import annotations

import ast
import re

FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE)


def code_blocks(reply: str) -> list[str]:
    """The reply's non-empty fenced blocks, or the whole reply when it has none."""
    return [b for b in FENCE.findall(reply or "") if b.strip()] or [reply or ""]


def parseable_prefix(source: str) -> str | None:
    """The longest run of leading lines that parses: small models often stop mid-statement or
    add an explanation after the code."""
    lines = source.strip("\n").splitlines()
    for end in range(len(lines), 0, -1):
        candidate = "\n".join(lines[:end])
        try:
            ast.parse(candidate)
        except SyntaxError:
            continue
        return candidate
    return None


def extract_program(reply: str) -> str | None:
    """The parseable part of the reply's first code block, when it holds any statement."""
    source = parseable_prefix(code_blocks(reply)[0])
    if source is None or not ast.parse(source).body:
        return None
    return source.rstrip() + "\n"
