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


class ArgumentError(ValueError):
    """The model's call does not fit the tool: unknown tool, missing or mistyped arguments."""


def call_schema(candidates: Sequence[ApiSpec]) -> dict:
    """One candidate: its arguments schema (the name is implied); several: {tool, arguments}."""
    if len(candidates) == 1:
        return dict(candidates[0].parameters)
    return {"type": "object", "properties": {
        "tool": {"type": "string", "enum": [c.name for c in candidates]},
        "arguments": {"type": "object"}}, "required": ["tool", "arguments"]}


def render_call(call: ToolCall, single: bool) -> str:
    """A call as the model is asked to write it (so demos show exactly the expected reply)."""
    payload: Any = call.arguments if single else {"tool": call.name, "arguments": call.arguments}
    return json.dumps(payload, ensure_ascii=False)


def render_demos(demos: Sequence[ToolDemo], single: bool, budget_chars: int) -> str:
    """Demos as worked examples, cut to a character budget so the prompt never grows with the store."""
    lines: list[str] = []
    used = 0
    for demo in demos:
        block = (f"Request: {_clip(demo.query, 300)}\nCall: {render_call(demo.call, single)}\n"
                 f"Result: {_clip(demo.observation, 160)}\n")
        if used + len(block) > budget_chars:
            break
        lines.append(block)
        used += len(block)
    return "Examples of correct calls:\n" + "\n".join(lines) + "\n" if lines else ""


def render_arguments(parameters: dict) -> str:
    """The arguments schema as one short line per parameter (small models copy raw JSON schemas)."""
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
    """The prompt that turns a request into one call of one of the candidate tools."""
    single = len(candidates) == 1
    tools = "\n\n".join(f"Tool {c.name}:\n{c.description[:description_chars]}\n{render_arguments(c.parameters)}"
                        for c in candidates)
    ask = (f"Give the arguments of {candidates[0].name} for this question as a JSON object mapping "
           "parameter names to values." if single else
           'Pick the tool for this question and answer {"tool": name, "arguments": {...}}.')
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{tools}\n\n{render_demos(demos, single, demo_chars)}"
                                        f"Question:\n{question}\n\n{ask}"}]


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
    result = await llm.structured(role, messages, call_schema(candidates), max_repairs=max_repairs)
    return parse_call(result.value, candidates), result.record


def _clip(text: str, width: int) -> str:
    """One line, at most `width` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 3] + "..."
