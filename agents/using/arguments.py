"""Structured-tool arguments: a JSON schema from the signature, filled in by the user model."""
from __future__ import annotations

import ast
from typing import Any

from agents.llm.client import LLMClient
from agents.llm.accounting import CallRecord

_TYPES: dict[str, dict] = {
    "str": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "bool": {"type": "boolean"}, "list": {"type": "array"}, "dict": {"type": "object"},
}


class ArgumentError(ValueError):
    """The model's arguments do not fit the tool's signature."""


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


def extraction_messages(question: str, code: str, entry: str, signature: str) -> list[dict]:
    """Prompt the user model to read the call's arguments off the question."""
    return [
        {"role": "system", "content": "You read a question and fill in the arguments of a Python "
                                      "function call. Reply with a JSON object only."},
        {"role": "user", "content": f"Function:\n```python\n{code}\n```\nQuestion:\n{question}\n\n"
                                    f"Give the arguments of {signature} for this question as a JSON "
                                    "object mapping parameter names to values."},
    ]


async def extract_arguments(llm: LLMClient, question: str, code: str, entry: str,
                            signature: str) -> tuple[list[Any], CallRecord]:
    """Ask the user role for the arguments; raise ArgumentError (typed) on garbage."""
    schema = signature_schema(code, entry)
    result = await llm.structured("user", extraction_messages(question, code, entry, signature),
                                  schema)
    values = result.value if isinstance(result.value, dict) else result.value.model_dump()
    return argument_list(code, entry, values), result.record
