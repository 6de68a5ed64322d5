"""The API simulator: the `simulator` role answers as the API would; answers are cached per call."""
from __future__ import annotations

import json

from agents.exploring.backends import Observation, checked
from agents.llm.accounting import CallRecord
from agents.llm.client import LLMClient
from agents.llm.errors import LLMError
from bus.wire.api_spec import ApiSpec, ToolCall
from store.api_cache import ApiCache

SYSTEM = ("You simulate a web API. Given its description and a call, reply with only the response "
          "body the real API would return (usually JSON), plausible and consistent with earlier responses.")


def simulator_messages(api: ApiSpec, call: ToolCall, earlier: list[tuple[str, str]]) -> list[dict]:
    """Description, a few earlier (arguments, response) pairs for consistency, then the call."""
    shown = "".join(f"Arguments: {args}\nResponse: {resp[:400]}\n\n" for args, resp in earlier)
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"API {api.name}:\n{api.description[:1500]}\n\n{shown}"
                                        f"Arguments: {json.dumps(call.arguments, ensure_ascii=False)}\nResponse:"}]


class SimulatedApi:
    """An external API offline: schema-checked calls, answered by the simulator role, cached in SQLite."""

    def __init__(self, api: ApiSpec, llm: LLMClient, cache: ApiCache, max_tokens: int = 200) -> None:
        self.api, self.llm, self.cache, self.max_tokens = api, llm, cache, max_tokens
        self.records: list[CallRecord] = []

    async def execute(self, call: ToolCall) -> Observation:
        """The cached answer to this call, else a new simulated one; schema violations are typed errors."""
        refused = checked(self.api, call)
        if refused:
            return refused
        cached = self.cache.get(self.api.name, call.arguments)
        if cached is not None:
            return Observation(ok=True, text=cached)
        try:
            completion = await self.llm.chat(
                "simulator", simulator_messages(self.api, call, self.cache.recent(self.api.name)),
                temperature=0.0, max_tokens=self.max_tokens)
        except LLMError as exc:
            return Observation(ok=False, error="simulator_unavailable", text=str(exc)[:500])
        self.records.append(completion.record)
        text = completion.text.strip()
        if not text:
            return Observation(ok=False, error="simulator_empty",
                               text="the simulator gave no response; use a stronger simulator model")
        return Observation(ok=True, text=self.cache.put(self.api.name, call.arguments, text))
