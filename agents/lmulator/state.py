"""Program state from the LM is data: parse replies with ast.literal_eval only, cap them, encode them."""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any

from agents.lmulator.errors import (
    StateReplyError, StateReplyIsCode, StateReplyMalformed, StateReplyNotLiteral, StateReplyTooLarge,
)

RESERVED_PREFIX = "coc_"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
FENCE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.S)
# The last literal-looking token of a chatty reply ("... so it is True.").
TRAILING_LITERAL = re.compile(
    r"""(True|False|None|-?\d+(?:\.\d+)?|'[^'\n]*'|"[^"\n]*"|\[[^\[\]\n]*\]|\([^()\n]*\))\W*$""")
# AST nodes that make a reply code rather than data.
CODE_NODES = (ast.Call, ast.Attribute, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
              ast.GeneratorExp, ast.Subscript, ast.NamedExpr, ast.Await, ast.Yield,
              ast.YieldFrom, ast.Starred, ast.JoinedStr, ast.IfExp, ast.Compare, ast.BoolOp)
SEVERITY = {StateReplyIsCode: 3, StateReplyTooLarge: 2, StateReplyNotLiteral: 1,
            StateReplyMalformed: 0}


@dataclass(frozen=True)
class ReplyLimits:
    """Caps on one state reply: characters, nesting depth and container items."""

    max_chars: int = 4000
    max_depth: int = 6
    max_items: int = 500


def parse_value_reply(text: str, limits: ReplyLimits = ReplyLimits()) -> Any:
    """The single literal value an LM reply states (value mode); raises a StateReplyError."""
    bare = re.fullmatch(r"\W*(yes|no)\W*", text or "", re.I)
    if bare:  # a bare yes/no answers a predicate; it is not a variable name
        return bare.group(1).lower() == "yes"
    errors: list[StateReplyError] = []
    primary = primary_candidates(text)
    for candidate in dedupe(primary + value_candidates(text)):
        try:
            return literal_from_source(candidate, text, limits)
        except StateReplyMalformed as exc:
            errors.append(exc)
        except StateReplyError as exc:
            # A reply that is code, or a whole well-formed literal that breaks the caps, is
            # final: never mine a smaller literal out of it.
            if isinstance(exc, StateReplyIsCode) or candidate in primary:
                raise
            errors.append(exc)
    raise worst(errors, text)


def parse_state_reply(text: str, limits: ReplyLimits = ReplyLimits()) -> dict[str, Any]:
    """The variable updates an LM reply states: a dict literal or `name = literal` lines."""
    errors: list[StateReplyError] = []
    primary = primary_candidates(text)
    for candidate in dedupe(primary + state_candidates(text)):
        try:
            updates = state_from_source(candidate, text, limits)
        except StateReplyMalformed as exc:
            errors.append(exc)
            continue
        except StateReplyError as exc:
            if isinstance(exc, StateReplyIsCode) or candidate in primary:
                raise
            errors.append(exc)
            continue
        for name in updates:
            check_name(name, text)
        return updates
    raise worst(errors, text)


def primary_candidates(text: str) -> list[str]:
    """The reply as a whole, or the inside of its code fences: their verdict is final."""
    text = text.strip()
    return dedupe([m.strip() for m in FENCE.findall(text)] + [text])


def value_candidates(text: str) -> list[str]:
    """Substrings of a reply that may hold the literal, most specific first."""
    text = text.strip()
    found = [m.strip() for m in FENCE.findall(text)]
    found.append(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines:
        found += [lines[0], lines[-1]]
        for line in (lines[0], lines[-1]):
            # "value: True", "x = 3", "=> 'yes'": keep what follows the marker.
            m = re.match(r"^[\w .`]*?(?:=>|->|=|:)\s*(.+)$", line)
            if m:
                found.append(m.group(1).strip())
        m = TRAILING_LITERAL.search(lines[-1])
        if m:
            found.append(m.group(1))
        # "Yes, a carrot is a vegetable." answers a predicate: read it as a boolean.
        word = re.match(r"^\W*(yes|no|true|false)\b", lines[0], re.I)
        if word:
            found.append("True" if word.group(1).lower() in ("yes", "true") else "False")
    return dedupe(found)


def state_candidates(text: str) -> list[str]:
    """Substrings of a reply that may hold the state dict or assignment lines."""
    text = text.strip()
    found = [m.strip() for m in FENCE.findall(text)]
    found.append(text)
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        found.append(text[start:end + 1])
    assignments = [line.strip() for line in text.splitlines()
                   if re.match(r"^\s*[A-Za-z_]\w*\s*=[^=]", line)]
    if assignments:
        found.append("\n".join(assignments))
    return dedupe(found)


def check_size(source: str, reply: str, limits: ReplyLimits, fix: str) -> None:
    """Reject a reply over the character cap before parsing it; `fix` says what to do."""
    if len(source) > limits.max_chars:
        raise StateReplyTooLarge(
            f"state reply has {len(source)} characters, over the cap of {limits.max_chars}: {fix}",
            reply=reply)


def literal_from_source(source: str, reply: str, limits: ReplyLimits) -> Any:
    """Parse one expression source as a literal, classifying every way it can fail."""
    check_size(source, reply, limits, "ask for a smaller value or raise LMulatorConfig.max_reply_chars")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise StateReplyMalformed(
            "state reply is not a Python literal: reply with e.g. True, 3, 'text' or "
            "{'name': value}", reply=reply) from None
    return literal_from_node(tree.body, reply, limits)


def literal_from_node(node: ast.AST, reply: str, limits: ReplyLimits) -> Any:
    """Evaluate one parsed expression node with ast.literal_eval after rejecting code."""
    for sub in ast.walk(node):
        if isinstance(sub, CODE_NODES) or (isinstance(sub, ast.Name)
                                           and sub.id not in ("True", "False", "None")):
            raise StateReplyIsCode(
                f"state reply contains code ({type(sub).__name__}), not data: the LM must "
                "reply with literal values only", reply=reply)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise StateReplyNotLiteral(
            "state reply is not a plain literal (only str, int, float, bool, None, list, "
            "tuple, set and dict are allowed)", reply=reply) from None
    check_value(value, reply, limits)
    return value


def state_from_source(source: str, reply: str, limits: ReplyLimits) -> dict[str, Any]:
    """Parse a dict literal, or `name = literal` lines, into a name -> value mapping."""
    check_size(source, reply, limits, "raise LMulatorConfig.max_reply_chars or simplify the program")
    try:
        tree = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise StateReplyMalformed(
            "state reply is neither a dict literal nor `name = value` lines: reply like "
            "{'answer': [1, 2]}", reply=reply) from None
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        value = literal_from_node(tree.body[0].value, reply, limits)
        if not isinstance(value, dict):
            raise StateReplyNotLiteral(
                f"state reply is a {type(value).__name__}, not a dict of variable updates: "
                "reply like {'answer': [1, 2]}", reply=reply)
        return value
    updates: dict[str, Any] = {}
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            kind = "code" if not isinstance(stmt, (ast.Expr, ast.Assign)) else "expression"
            error = StateReplyIsCode if kind == "code" else StateReplyMalformed
            raise error(f"state reply line {ast.unparse(stmt)[:60]!r} is not `name = literal`",
                        reply=reply)
        updates[stmt.targets[0].id] = literal_from_node(stmt.value, reply, limits)
    return updates


def check_name(name: Any, reply: str) -> None:
    """Reject update keys that are not plain variable names of the program."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise StateReplyNotLiteral(f"state reply key {name!r} is not a variable name",
                                   reply=reply)
    if name.startswith(RESERVED_PREFIX) or name.startswith("__"):
        raise StateReplyNotLiteral(f"state reply key {name!r} names an LMulator-internal or "
                                   "dunder variable, which the LM may not set", reply=reply)


def check_value(value: Any, reply: str, limits: ReplyLimits) -> None:
    """Enforce depth, item-count and type caps on a parsed literal."""
    count = 0

    def visit(v: Any, depth: int) -> None:
        nonlocal count
        count += 1
        if depth > limits.max_depth or count > limits.max_items:
            raise StateReplyTooLarge(
                f"state reply nests deeper than {limits.max_depth} or holds more than "
                f"{limits.max_items} items", reply=reply)
        if isinstance(v, (bytes, complex)) or (isinstance(v, float) and not math.isfinite(v)):
            raise StateReplyNotLiteral(f"state reply holds a {type(v).__name__} value that "
                                       "cannot cross the sandbox pipe", reply=reply)
        if isinstance(v, dict):
            for k, item in v.items():
                visit(k, depth + 1)
                visit(item, depth + 1)
        elif isinstance(v, (list, tuple, set, frozenset)):
            for item in v:
                visit(item, depth + 1)

    visit(value, 0)


def worst(errors: list[StateReplyError], reply: str) -> StateReplyError:
    """The most severe of the candidate errors (code beats size beats shape beats syntax)."""
    if not errors:
        return StateReplyMalformed("state reply is empty: reply with a Python literal",
                                   reply=reply)
    return max(errors, key=lambda e: SEVERITY.get(type(e), 0))


def dedupe(items: list[str]) -> list[str]:
    """Drop empty and repeated candidates, keeping order."""
    seen: set[str] = set()
    return [i for i in items if i and not (i in seen or seen.add(i))]


def encode_for_worker(value: Any) -> Any:
    """JSON-safe form of a literal with tuples, sets and dicts tagged so the worker can rebuild them."""
    if isinstance(value, (list,)):
        return [encode_for_worker(v) for v in value]
    if isinstance(value, tuple):
        return {"coc:tuple": [encode_for_worker(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"coc:set": [encode_for_worker(v) for v in sorted(value, key=repr)]}
    if isinstance(value, dict):
        return {"coc:dict": [[encode_for_worker(k), encode_for_worker(v)]
                             for k, v in value.items()]}
    return value


def decode_from_worker(value: Any) -> Any:
    """Inverse of encode_for_worker, for host-side tests and checks."""
    if isinstance(value, list):
        return [decode_from_worker(v) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, items), = value.items()
        if tag == "coc:tuple":
            return tuple(decode_from_worker(v) for v in items)
        if tag == "coc:set":
            return {decode_from_worker(v) for v in items}
        if tag == "coc:dict":
            return {decode_from_worker(k): decode_from_worker(v) for k, v in items}
    return value
