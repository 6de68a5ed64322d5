"""The LMulator actor: answers SimulateLine (one program line the LM runs in its head) over the bus."""
from __future__ import annotations

import ast
from typing import Any, ClassVar

from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from agents.lmulator.errors import StateReplyError
from agents.lmulator.prompts import line_messages
from agents.lmulator.replies import reply_from_text
from agents.lmulator.runner import LMulatorConfig
from agents.lmulator.state import ReplyLimits
from agents.lmulator.transform import Site
from bus.wire.messages import ErrorInfo, SimulateLine, StateChange


class LMulatorAgent:
    """Plain class hosted by the runtime's spawn/Pool; needs only an LLM client (no sandbox)."""

    handlers: ClassVar[dict[type, str]] = {SimulateLine: "simulate_line"}

    def __init__(self, llm: LLMClient, lmulator_config: LMulatorConfig | None = None) -> None:
        self.llm = llm
        self.config = lmulator_config or LMulatorConfig()

    async def close(self) -> None:
        """Release the HTTP client."""
        await self.llm.aclose()

    async def simulate_line(self, msg: SimulateLine) -> StateChange:
        """Ask the LM how one failing line changes the given state."""
        site = Site(id=0, line=msg.line_no, text=msg.line, mode="state", kind="line",
                    scope="<module>", assignable=tuple(dict.fromkeys(
                        bound_names(msg.line) + list(msg.state))))
        shown = {k: repr(v)[:300] for k, v in msg.state.items()}
        messages = line_messages(msg.program, site, shown, msg.error)
        try:
            completion = await self.llm.chat(self.config.role, messages,
                                             max_tokens=self.config.line_max_tokens)
            reply = reply_from_text(site, completion.text,
                                    ReplyLimits(max_chars=self.config.max_reply_chars))
        except (LLMError, StateReplyError) as exc:
            code = getattr(exc, "code", "llm_error")
            return StateChange(request_id=msg.request_id, trace_id=msg.trace_id,
                               error=ErrorInfo(code=code, message=str(exc)))
        return StateChange(request_id=msg.request_id, trace_id=msg.trace_id,
                           updates={k: json_safe(v) for k, v in reply.updates.items()})


def bound_names(line: str) -> list[str]:
    """Names a single line of Python assigns (empty when it does not parse on its own)."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return []
    return [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Store)]


def json_safe(value: Any) -> Any:
    """Literals as JSON/msgpack data: tuples and sets become lists, keys become strings."""
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [json_safe(v) for v in sorted(value, key=repr)]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value
