"""The ways of asking the maker model for a tool of the core, end-to-end or structured shape."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.making import prompts
from agents.making.template import ADAPTERS, find_template
from bus.wire.messages import MakeTool


def same(value):
    """Identity: a reply's function is the tool, and a question is what it is given."""
    return value


@dataclass(frozen=True)
class Ask:
    """One way of asking for a tool: the opening conversation and how a reply becomes the tool."""

    opening: list[dict]
    entry: str  # the function the model is asked to write
    wrap: Callable[[str], str] = same  # the model's function -> the tool's source
    show: Callable[[str], object] = same  # a question -> what the model's function is given


def asks_for(msg: MakeTool, shape: str) -> list[Ask]:
    """The ways of asking for a tool of this shape (none when the shape does not apply)."""
    train = list(msg.train)
    if shape == "end_to_end":
        return [Ask(prompts.propose_messages(train, "solve", structured=False), "solve")]
    if shape == "structured":
        return [Ask(prompts.propose_messages(train, "tool", structured=True), "tool")]
    template = find_template([ex.input for ex in train])
    if template is None:
        return []
    asks = []
    # Alternate adapters and with/without examples, so even two samples differ in kind.
    for adapter, with_examples in (("words", False), ("text", True), ("text", False), ("words", True)):
        parameter, _ = ADAPTERS[adapter]
        show = (lambda q: template.varying_part(q).split()) if adapter == "words" else template.varying_part
        examples = [(show(ex.input), ex.target) for ex in train] if with_examples else []
        opening = prompts.core_messages(template.instruction, parameter, examples)
        asks.append(Ask(opening, "solve", wrap=lambda code, a=adapter: template.wrap(code, a), show=show))
    return asks
