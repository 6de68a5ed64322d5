"""Prompts of the explorer's steps: imagine a new query, reflect on whether a trial fulfilled it."""
from __future__ import annotations

import json

from pydantic import BaseModel, Field

from agents.using.tool_calls import render_arguments
from bus.wire.api_spec import ApiSpec
from store.explorer_memory import Trial

SYSTEM = "You are learning to use a tool by practising on it. Reply with a JSON object only."
# Said instead of the raw JSON schemas, which a small model copies (its queries read "A new question
# about the ImaginedQuery tool ..."); the server's grammar enforces the shape.
IMAGINE_FORMAT = 'Answer with one JSON object whose only key is "query" and whose value is the request.'
REFLECT_FORMAT = 'Answer with one JSON object: {"fulfilled": true or false, "reason": one short sentence}.'

EXAMPLES = [
    (ApiSpec(name="get_stock_price", description="Get the latest trading price of a stock by its ticker symbol.",
             parameters={"type": "object", "properties": {"symbol": {"type": "string"}}, "required": ["symbol"]}),
     "What is the Tesla stock (TSLA) trading at right now?"),
    (ApiSpec(name="Holidays%%List", description="List the public holidays of the current year. (Part of: holiday "
                                                "calendars for every country.)"),
     "Hi! Could you list this year's public holidays for me?"),
]


class ImaginedQuery(BaseModel):
    """The imagine step's reply."""

    # Bounds reach the server's grammar: a small model otherwise rambles to its token limit and the cut JSON fails.
    query: str = Field(min_length=3, max_length=240,
                       description="one request a real user could send that this tool serves")


class Reflection(BaseModel):
    """The reflect step's reply."""

    fulfilled: bool = Field(description="whether the result answers the query")
    reason: str = Field(default="", max_length=120, description="why, in one sentence")


def _tool_text(api: ApiSpec) -> str:
    return f"Tool {api.name}:\n{api.description[:1500]}\n{render_arguments(api.parameters)}"


def _memory_lines(trials: list[Trial]) -> str:
    return "".join(f"- {t.query[:160]} [{'worked' if t.success else 'failed'}]\n" for t in trials)


def _episode_lines(trials: list[Trial]) -> str:
    return "".join(f"- Query: {t.query[:200]}\n  Call: {json.dumps(t.call.arguments) if t.call else 'none'}\n"
                   f"  Result: {t.observation[:200]}\n  Outcome: {'worked' if t.success else 'failed'}"
                   f" {t.note[:120]}\n" for t in trials)


def _imagine_ask(api: ApiSpec, memory: str = "", episode: str = "") -> str:
    # Short: a small model loses the instruction after a long description.
    return (f"Tool {api.name}: {api.description[:300]}\n{render_arguments(api.parameters)}\n\n{memory}{episode}"
            "Write one new, specific request a user could make that this tool can serve, as the user would "
            "ask it, with concrete values. It must differ from the queries above.")


def imagine_messages(api: ApiSpec, long_term: list[Trial], short_term: list[Trial]) -> list[dict]:
    """Ask for one plausible user query, unlike the earlier ones (long- and short-term memory)."""
    memory = f"Queries already tried on this tool:\n{_memory_lines(long_term)}\n" if long_term else ""
    episode = f"Earlier trials in this session:\n{_episode_lines(short_term)}\n" if short_term else ""
    # Worked turns on made-up tools: a small model copies the form of a reply far better than it follows
    # prose (without them SmolLM2-135M answered with the tool's name or a URL from its description).
    examples = [turn for tool, query in EXAMPLES for turn in (
        {"role": "user", "content": _imagine_ask(tool)}, {"role": "assistant", "content": json.dumps({"query": query})})]
    return [{"role": "system", "content": SYSTEM}, *examples,
            {"role": "user", "content": _imagine_ask(api, memory, episode)}]


def reflect_messages(api: ApiSpec, query: str, call_json: str, observation: str) -> list[dict]:
    """Ask whether the call's result fulfils the query."""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{_tool_text(api)}\n\nQuery: {query}\nCall arguments: {call_json}\n"
                                        f"Result: {observation[:800]}\n\nDid this call answer the query? "
                                        'Answer {"fulfilled": true or false, "reason": "..."}.'}]
