"""Structured-tool arguments: a JSON schema from the signature, filled in by the user model."""
from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from agents.llm.accounting import CallRecord
from agents.llm.client import LLMClient
from agents.using.tool_calls import ArgumentError, extract_call
from bus.wire.api_spec import ApiSpec
from bus.wire.tool_spec import ToolSpec
from store.tool_demos import ToolDemo

__all__ = ["ArgumentError", "argument_list", "extract_arguments", "signature_schema", "spec_api", "tool_api"]

_TYPES: dict[str, dict] = {
    "str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "bool": {"type": "boolean"}, "list": {"type": "array"}, "dict": {"type": "object"},
}


def signature_schema(code: str, entry: str) -> dict:
    """JSON schema of the entry function's parameters, from its annotations."""
    func = next((n for n in ast.parse(code).body
                 if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if func is None:
        raise ArgumentError(f"the tool defines no function {entry!r}")
    props = {a.arg: _annotation_schema(a.annotation) for a in func.args.args}
    return {"type": "object", "properties": props, "required": list(props),
            "additionalProperties": False}


def _annotation_schema(node: ast.expr | None) -> dict:
    """Map a simple annotation (int, list[str], ...) to a JSON schema; unknown means any string."""
    if node is None:
        return {"type": "string"}
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("list", "List", "tuple"):
        return {"type": "array", "items": _annotation_schema(node.slice)}
    return dict(_TYPES.get(ast.unparse(node), {"type": "string"}))


def argument_list(code: str, entry: str, values: dict[str, Any]) -> list[Any]:
    """Order the extracted values as positional arguments, checking none is missing."""
    names = list(signature_schema(code, entry)["properties"])
    missing = [n for n in names if n not in values]
    if missing:
        raise ArgumentError(f"missing arguments {missing}")
    return [values[n] for n in names]


def tool_api(name: str, code: str, entry: str, signature: str = "", docstring: str = "") -> ApiSpec:
    """A structured tool as callers see it: its code is its description, its signature its schema."""
    head = "".join(f"{line}\n" for line in (docstring, f"Signature: {signature}" if signature else "") if line)
    description = f"{head}```python\n{code.strip()}\n```"
    return ApiSpec(name=name, description=description, parameters=signature_schema(code, entry))


def spec_api(spec: ToolSpec) -> ApiSpec:
    """The ApiSpec of a stored structured tool."""
    return tool_api(spec.tool_id, spec.code, spec.entry, spec.signature, spec.docstring)


async def extract_arguments(llm: LLMClient, question: str, code: str, entry: str, signature: str,
                            demos: Sequence[ToolDemo] = (), demo_chars: int = 1500,
                            name: str = "") -> tuple[list[Any], CallRecord]:
    """Ask the user role for the arguments (with retrieved demos); raise ArgumentError (typed) on garbage."""
    api = tool_api(name or entry, code, entry, signature)
    call, record = await extract_call(llm, "user", question, [api], demos, demo_chars=demo_chars)
    return argument_list(code, entry, call.arguments), record
