"""The one call format of tool users and the explorer: prompt, JSON schema and parsing of a tool call."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.llm.accounting import CallRecord
from agents.llm.client import LLMClient
from bus.wire.api_spec import ApiSpec, ToolCall
from store.tool_demos import ToolDemo

SYSTEM = "You call tools for a user. Reply with a JSON object only."
# Said instead of the raw JSON schema, which a small model copies into its answer; the grammar
# derived from call_schema enforces the shape anyway where the server supports it.
SINGLE_FORMAT = ("Answer with one JSON object whose keys are the tool's argument names listed above and "
                 "whose values come from the question. A tool without arguments gets {}.")
MULTI_FORMAT = ('Answer with one JSON object {"tool": "<tool name>", "arguments": {...}}: the tool that serves '
                "the question, and its argument names listed above with values from the question. A tool "
                "without arguments gets {}.")
_GRAMMAR_TYPES = {"string", "integer", "number", "boolean", "array", "object"}
# Longest text value the grammar lets a model write: a small model can otherwise fill a string
# until its token limit, and the cut reply is not JSON.
MAX_TEXT = 160


class ArgumentError(ValueError):
    """The model's call does not fit the tool: unknown tool, missing or mistyped arguments."""


def argument_schema(parameters: dict) -> dict:
    """The arguments schema a grammar can enforce: the declared names and types only, no prose or defaults."""
    props: dict[str, dict] = {}
    for name, prop in (parameters.get("properties") or {}).items():
        kind = prop.get("type")
        # An untyped argument (the data sets' DATE, ENUM, ...) is written as text.
        shaped: dict[str, Any] = {"type": kind if kind in _GRAMMAR_TYPES else "string"}
        if shaped["type"] == "string":
            shaped["maxLength"] = MAX_TEXT
        if kind == "array" and isinstance(prop.get("items"), dict):
            shaped["items"] = argument_schema({"properties": {"x": prop["items"]}})["properties"]["x"]
        if isinstance(prop.get("enum"), list):
            shaped["enum"] = prop["enum"]
        props[str(name)] = shaped
    return {"type": "object", "properties": props,
            "required": [r for r in parameters.get("required") or [] if r in props], "additionalProperties": False}


def call_schema(candidates: Sequence[ApiSpec]) -> dict:
    """One candidate: its arguments schema (the name is implied); several: one {tool, arguments} shape per tool."""
    if len(candidates) == 1:
        return argument_schema(candidates[0].parameters)
    return {"anyOf": [{"type": "object", "properties": {"tool": {"const": c.name},
                                                        "arguments": argument_schema(c.parameters)},
                       "required": ["tool", "arguments"], "additionalProperties": False} for c in candidates]}


def render_call(call: ToolCall, single: bool) -> str:
    """A call as the model is asked to write it (so demos show exactly the expected reply)."""
    payload: Any = call.arguments if single else {"tool": call.name, "arguments": call.arguments}
    return json.dumps(payload, ensure_ascii=False)


def demo_turns(demos: Sequence[ToolDemo], single: bool, budget_chars: int, ask: str) -> list[tuple[str, str]]:
    """Demos as earlier (question, reply) turns in the reply format, cut to a character budget, closest last."""
    turns: list[tuple[str, str]] = []
    used = 0
    for demo in demos:
        question, reply = f"Question:\n{_clip(demo.query, 300)}\n\n{ask}", render_call(demo.call, single)
        if used + len(question) + len(reply) > budget_chars:
            break
        turns.append((question, reply))
        used += len(question) + len(reply)
    # The most similar demo goes right before the question: a small model follows the nearest example most.
    return turns[::-1]


def render_arguments(parameters: dict) -> str:
    """The arguments as one short line per parameter (small models copy raw JSON schemas)."""
    props = parameters.get("properties") or {}
    if not props:
        return "Arguments: none (use {})"
    required = set(parameters.get("required") or [])
    lines = [f"- {name} ({prop.get('type', 'any')}{', required' if name in required else ''}"
             + (f", default {json.dumps(prop['default'])}" if "default" in prop else "") + ")"
             + (f": {_clip(prop['description'], 100)}" if prop.get("description") else "")
             for name, prop in props.items()]
    return "Arguments:\n" + "\n".join(lines)


def call_messages(question: str, candidates: Sequence[ApiSpec], demos: Sequence[ToolDemo] = (),
                  demo_chars: int = 1500, description_chars: int = 1500) -> list[dict]:
    """The conversation that turns a request into one call: tools, demo turns, then the question."""
    single = len(candidates) == 1
    tools = "\n\n".join(f"Tool {c.name}:\n{c.description[:description_chars]}\n{render_arguments(c.parameters)}"
                        for c in candidates)
    ask = (f"Give the arguments of {candidates[0].name} for this question as a JSON object." if single
           else "Pick the tool for this question and give its arguments.")
    turns = [*demo_turns(demos, single, demo_chars, ask), (f"Question:\n{question}\n\n{ask}", "")]
    intro = f"{tools}\n\nExamples of correct calls follow.\n\n" if len(turns) > 1 else f"{tools}\n\n"
    messages = [{"role": "system", "content": SYSTEM}]
    for i, (asked, reply) in enumerate(turns):
        messages.append({"role": "user", "content": intro + asked if i == 0 else asked})
        if reply:
            messages.append({"role": "assistant", "content": reply})
    return messages


def parse_call(value: Any, candidates: Sequence[ApiSpec]) -> ToolCall:
    """The structured reply as a ToolCall; ArgumentError when it names no candidate or has no arguments."""
    if not isinstance(value, dict):
        raise ArgumentError(f"expected a JSON object, got {type(value).__name__}")
    if len(candidates) == 1:
        return ToolCall(name=candidates[0].name, arguments=value)
    names = {c.name for c in candidates}
    if value.get("tool") not in names or not isinstance(value.get("arguments"), dict):
        raise ArgumentError(f"the call must name one of {sorted(names)} and give an arguments object, "
                            f"got {json.dumps(value)[:200]}")
    return ToolCall(name=value["tool"], arguments=value["arguments"])


async def extract_call(llm: LLMClient, role: str, question: str, candidates: Sequence[ApiSpec],
                       demos: Sequence[ToolDemo] = (), feedback: Sequence[tuple[ToolCall, str]] = (),
                       demo_chars: int = 1500, max_repairs: int = 2,
                       description_chars: int = 1500) -> tuple[ToolCall, CallRecord]:
    """Ask `role` for one call; earlier (call, observation) pairs become corrective turns."""
    if not candidates:
        raise ArgumentError("no candidate tools to call")
    single = len(candidates) == 1
    messages = call_messages(question, candidates, demos, demo_chars, description_chars)
    for call, observation in feedback:
        messages += [{"role": "assistant", "content": render_call(call, single)},
                     {"role": "user", "content": f"Result: {_clip(observation, 400)}\nThat call did not "
                                                 "work. Reply with a corrected call as a JSON object."}]
    result = await llm.structured(role, messages, call_schema(candidates), max_repairs=max_repairs,
                                  instructions=SINGLE_FORMAT if single else MULTI_FORMAT)
    return parse_call(result.value, candidates), result.record


def _clip(text: str, width: int) -> str:
    """One line, at most `width` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 3] + "..."
