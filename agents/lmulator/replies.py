"""Turn an LM reply for one site into the call-back answer the worker applies."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents.lmulator.state import (
    ReplyLimits, encode_for_worker, parse_state_reply, parse_value_reply,
)
from agents.lmulator.transform import Site

ITERABLE_TYPES = (list, tuple, str, dict, set)


@dataclass
class SiteReply:
    """The parsed effect of one simulated line, in plain and in wire form."""

    wire: dict[str, Any]                       # what host_call returns to the worker
    value: Any = None                          # value mode: the parsed value
    updates: dict[str, Any] = field(default_factory=dict)  # state mode: accepted updates
    ignored: list[str] = field(default_factory=list)       # names the site may not set


def reply_from_text(site: Site, text: str, limits: ReplyLimits = ReplyLimits()) -> SiteReply:
    """Parse an LM reply for a site; raises a StateReplyError when it is not usable data."""
    if site.mode == "value":
        value = parse_value_reply(text, limits)
        if site.kind == "for" and not isinstance(value, ITERABLE_TYPES):
            value = [value]  # a for loop needs something iterable; one item is the best reading
        return SiteReply(wire={"value": encode_for_worker(value)}, value=value)
    updates = parse_state_reply(text, limits)
    allowed = set(site.allowed)
    accepted = {k: v for k, v in updates.items() if k in allowed}
    ignored = [k for k in updates if k not in allowed]
    return SiteReply(wire={"updates": {k: encode_for_worker(v) for k, v in accepted.items()}},
                     updates=accepted, ignored=ignored)
