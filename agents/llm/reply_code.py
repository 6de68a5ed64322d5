"""Find the program in a model's reply: the fenced block, else the code-looking lines, trimmed to parse."""
from __future__ import annotations

import ast
import re

FENCE = re.compile(r"```(?:python|py|Python)?[ \t]*\n(.*?)(?:```|$)", re.S)


def extract_program(reply: str) -> str | None:
    """The longest parseable prefix of the reply's first code block (or of the reply)."""
    blocks = [b for b in FENCE.findall(reply or "") if b.strip()]
    source = blocks[0] if blocks else (reply or "")
    lines = source.strip("\n").splitlines()
    # Drop trailing lines until the rest parses: small models often stop mid-statement.
    while lines:
        candidate = "\n".join(lines).rstrip() + "\n"
        try:
            tree = ast.parse(candidate)
        except SyntaxError:
            lines.pop()
            continue
        return candidate if tree.body else None
    return None
