"""JSON-schema targets for structured output: derive a schema, extract JSON from text, validate."""
from __future__ import annotations

import ast
import inspect
import json
import re
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agents.llm.accounting import CallRecord

FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
# Annotations a textual signature may use; anything else becomes Any.
SIGNATURE_TYPES: dict[str, Any] = {
    "str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
    "Any": Any, "None": type(None),
}


class SchemaMismatch(ValueError):
    """A parsed value does not fit the schema; the message is fed back to the model."""


class Structured(BaseModel):
    """Result of LLMClient.structured: the validated value and what it cost."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    value: Any = Field(description="a model instance (pydantic schema) or a dict (dict schema)")
    record: CallRecord = Field(description="sum over every call of the exchange")
    raw_text: str = Field(default="", description="the model output the value was parsed from")
    attempts: int = Field(default=1, description="model calls used, incl. repairs")
    mode: str = Field(default="prompt", description="json_schema, json_object, tools or prompt")


class SchemaTarget:
    """A JSON schema plus how to validate a parsed value against it."""

    def __init__(self, schema: type[BaseModel] | dict | Callable | str,
                 name: str | None = None) -> None:
        self.model: type[BaseModel] | None = None
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            self.model = schema
        elif isinstance(schema, str) or (callable(schema) and not isinstance(schema, dict)):
            self.model = model_from_signature(schema)
        elif not isinstance(schema, dict):
            raise TypeError("schema must be a pydantic model class, a JSON-schema dict, "
                            "a function or a signature string")
        self.json_schema: dict = self.model.model_json_schema() if self.model else dict(schema)
        raw_name = name or (self.model.__name__ if self.model else
                            self.json_schema.get("title", "answer"))
        self.name = re.sub(r"[^A-Za-z0-9_-]", "_", str(raw_name))[:64] or "answer"

    def validate(self, data: Any) -> Any:
        """Return the value (model instance or data) or raise SchemaMismatch explaining why."""
        if self.model is not None:
            try:
                return self.model.model_validate(data)
            except ValidationError as exc:
                raise SchemaMismatch("; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                    for e in exc.errors())) from None
        import jsonschema  # ships with ray; only dict schemas need it
        errors = sorted(jsonschema.Draft202012Validator(self.json_schema).iter_errors(data),
                        key=lambda e: list(e.path))
        if errors:
            raise SchemaMismatch("; ".join(
                f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5]))
        return data

    def parse(self, text: str) -> Any:
        """Extract the JSON in `text` and validate it; SchemaMismatch on any problem."""
        return self.validate(extract_json(text))

    def instructions(self) -> str:
        """The system instruction that asks for one JSON object matching the schema."""
        return ("Answer with one JSON object and nothing else (no prose, no code fence). "
                "It must match this JSON schema:\n" + json.dumps(self.json_schema))

    def repair_prompt(self, problem: str) -> str:
        """The follow-up message asking the model to fix an invalid answer."""
        return (f"That answer is not valid: {problem}. Reply again with only the corrected JSON "
                "object matching the schema.")

    def response_format(self, mode: str) -> dict:
        """The response_format parameter for json_schema (OpenAI) or json_object (llama.cpp)."""
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {
                "name": self.name, "schema": self.json_schema, "strict": False}}
        return {"type": "json_object", "schema": self.json_schema}

    def tool(self) -> dict:
        """A single function tool whose parameters are the schema (for tool-calling mode)."""
        return {"type": "function", "function": {
            "name": self.name, "description": f"Return the {self.name} as arguments.",
            "parameters": self.json_schema}}


def extract_json(text: str) -> Any:
    """The first JSON value in `text`: whole text, a ```json fence, or the first {...}/[...]."""
    text = (text or "").strip()
    if not text:
        raise SchemaMismatch("the reply was empty; expected a JSON object")
    candidates = [text] + [m.group(1).strip() for m in FENCE.finditer(text)]
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            return decoder.raw_decode(text, match.start())[0]
        except json.JSONDecodeError:
            continue
    raise SchemaMismatch(f"no JSON object found in the reply {text[:120]!r}")


def model_from_signature(sig: Callable | str) -> type[BaseModel]:
    """A pydantic model of a function's parameters, from the function or text like
    'solve(a: int, b: str = "x") -> str'."""
    if isinstance(sig, str):
        return _model_from_text(sig)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(sig).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = Any if param.annotation is param.empty else param.annotation
        default = ... if param.default is param.empty else param.default
        fields[name] = (annotation, default)
    return create_model(f"{getattr(sig, '__name__', 'call')}_args", **fields)


def _model_from_text(text: str) -> type[BaseModel]:
    """Parse a signature string with ast; unknown annotations become Any."""
    source = text.strip().removeprefix("def ").rstrip(":")
    try:
        func = ast.parse(f"def {source}: pass").body[0]
    except SyntaxError as exc:
        raise ValueError(f"cannot parse signature {text!r}: {exc.msg}") from None
    assert isinstance(func, ast.FunctionDef)
    args = func.args.args
    defaults = [None] * (len(args) - len(func.args.defaults)) + list(func.args.defaults)
    fields: dict[str, Any] = {}
    for arg, default in zip(args, defaults):
        annotation = _annotation(arg.annotation)
        value = ... if default is None else ast.literal_eval(default)
        fields[arg.arg] = (annotation, value)
    return create_model(f"{func.name}_args", **fields)


def _annotation(node: ast.expr | None) -> Any:
    """Map a simple annotation (str, list[int], dict[str, float]) to a type; else Any."""
    if node is None:
        return Any
    if isinstance(node, ast.Name):
        return SIGNATURE_TYPES.get(node.id, Any)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        base = SIGNATURE_TYPES.get(node.value.id)
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        params = tuple(_annotation(n) for n in inner)
        if base is list and len(params) == 1:
            return list[params[0]]
        if base is dict and len(params) == 2:
            return dict[params[0], params[1]]
    return Any


def with_instructions(messages: list[dict], instructions: str) -> list[dict]:
    """Add the schema instruction to the system message (one system message suits every template)."""
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content') or ''}\n\n{instructions}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": instructions}, *messages]
