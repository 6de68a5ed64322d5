"""The one module that talks to OpenAI-compatible servers: per-role routing, retries, accounting."""
from __future__ import annotations

import asyncio
import functools
import os
import time
import weakref
from typing import Any

from pydantic import BaseModel, Field

from agents.llm.accounting import CallRecord, Ledger, combine
from agents.llm.config import LLMConfig, RoleConfig
from agents.llm.errors import (EndpointUnreachable, LLMConfigError, LLMRequestRejected,
                               LLMTimeout, MalformedResponse, StructuredOutputError)
from agents.llm.retry_policy import backoff_delay, rejects_request, status_error
from agents.llm.structured import SchemaMismatch, SchemaTarget, Structured, with_instructions

ROLE_HEADER = "X-Latm-Role"
# When `auto` structured mode is refused, try the next way of asking for JSON.
FALLBACK_MODE = {"json_schema": "json_object", "json_object": "prompt", "tools": "prompt"}
# Local servers need no key, but the openai client insists on one.
NO_KEY = "no-key-needed"


class Completion(BaseModel):
    """Result of LLMClient.chat."""

    text: str = Field(description="the assistant message content ('' when only tool calls)")
    record: CallRecord = Field(description="tokens, latency and cost of this call")
    tool_calls: list[dict] = Field(default_factory=list, description="[{id, name, arguments}] "
                                   "with arguments as the raw JSON text")
    finish_reason: str | None = Field(default=None, description="stop, length, tool_calls, ...")


class LLMClient:
    """Routes each role to its endpoint, limits concurrency, retries, and records every call."""

    def __init__(self, config: LLMConfig | None = None, *, ledger: Ledger | None = None,
                 auto_embedded: bool = True, embedded: Any = None) -> None:
        self.config = config or LLMConfig.load()
        self.ledger = ledger or Ledger(self.config.prices)
        self.auto_embedded = auto_embedded
        # Semaphores and HTTP clients belong to one event loop (Ray actors, asyncio.run in CLIs).
        self._per_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._auto_models: dict[str, str] = {}
        self._structured_modes: dict[str, str] = {}
        self._embedded = embedded  # embedded model name -> EmbeddedModel (tests, benchmarks)
        self._embedded_urls: dict[str, str] = {}  # embedded model name -> live server URL

    def __reduce__(self):
        """Pickle as the configuration only (e.g. sent to a Ray actor): the receiver opens its own connections."""
        return (functools.partial(LLMClient, auto_embedded=self.auto_embedded), (self.config,))

    # -- public API ------------------------------------------------------------------------
    async def chat(self, role: str, messages: list[dict], *, temperature: float | None = None,
                   max_tokens: int | None = None, stop: list[str] | None = None,
                   seed: int | None = None, tools: list[dict] | None = None,
                   tool_choice: Any = None, response_format: dict | None = None) -> Completion:
        """One chat completion for `role`; raises an LLMError subclass on failure."""
        cfg = self.config.role(role)
        params: dict[str, Any] = {
            "messages": messages,
            "temperature": cfg.temperature if temperature is None else temperature,
            "max_tokens": max_tokens or cfg.max_tokens}
        optional = {"stop": stop, "seed": seed, "tools": tools, "tool_choice": tool_choice,
                    "response_format": response_format}
        params.update({k: v for k, v in optional.items() if v is not None})
        async with self._slot(role, cfg):
            return await self._complete(role, cfg, params)

    async def structured(self, role: str, messages: list[dict],
                         schema: type[BaseModel] | dict | Any, *, temperature: float | None = None,
                         max_tokens: int | None = None, seed: int | None = None,
                         max_repairs: int = 2, mode: str | None = None,
                         instructions: str | None = None) -> Structured:
        """A value matching `schema` (pydantic model, JSON-schema dict, function or signature
        text); invalid output is re-asked with the error up to `max_repairs` times, then
        StructuredOutputError. `instructions` replaces the schema dump in the system message
        when the prompt already says what to write (small models copy a raw schema)."""
        cfg = self.config.role(role)
        target = SchemaTarget(schema)
        url = cfg.base_url or "embedded"
        auto = (mode or cfg.structured_mode) == "auto"
        # llama.cpp (the embedded server) takes json_object + schema, not json_schema.
        first_try = "json_object" if cfg.embedded or not cfg.base_url else "json_schema"
        current = self._structured_modes.get(url, first_try) if auto else (
            mode or cfg.structured_mode)
        convo = with_instructions(messages, instructions or target.instructions())
        records: list[CallRecord] = []
        text, problem = "", "no attempt made"
        async with self._slot(role, cfg):
            while len(records) <= max_repairs:
                params: dict[str, Any] = {
                    "messages": convo, "max_tokens": max_tokens or cfg.max_tokens,
                    "temperature": cfg.temperature if temperature is None else temperature}
                if seed is not None:
                    params["seed"] = seed
                if current in ("json_schema", "json_object"):
                    params["response_format"] = target.response_format(current)
                elif current == "tools":
                    params["tools"] = [target.tool()]
                    params["tool_choice"] = {"type": "function",
                                             "function": {"name": target.name}}
                try:
                    completion = await self._complete(role, cfg, params)
                except LLMRequestRejected:
                    if not auto or current == "prompt":
                        raise
                    current = FALLBACK_MODE[current]  # the server refused this way of asking
                    self._structured_modes[url] = current
                    continue
                records.append(completion.record)
                text = (completion.tool_calls[0]["arguments"] if completion.tool_calls
                        else completion.text)
                try:
                    value = target.parse(text)
                except SchemaMismatch as exc:
                    problem = str(exc)
                    convo = convo + [{"role": "assistant", "content": text},
                                     {"role": "user", "content": target.repair_prompt(problem)}]
                    continue
                return Structured(value=value, record=combine(records), raw_text=text,
                                  attempts=len(records), mode=current)
        raise StructuredOutputError(
            f"role {role!r} gave no valid {target.name} after {len(records)} attempts "
            f"(last problem: {problem}); use a stronger model for this role, simplify the "
            "schema or raise max_repairs", role=role, raw_text=text, attempts=len(records),
            records=records)

    async def ping(self, role: str) -> Completion:
        """A one-token chat: proves the role's endpoint answers."""
        return await self.chat(role, [{"role": "user", "content": "Say OK."}], max_tokens=1)

    async def endpoint(self, role: str) -> tuple[str, str]:
        """(base_url, model) the role will use, starting the embedded model if needed."""
        cfg = self.config.role(role)
        url, key = await self._resolve_url(role, cfg)
        return url, await self._model_name(role, cfg, url, key)

    async def aclose(self) -> None:
        """Close the HTTP clients of the running event loop."""
        state = self._per_loop.pop(asyncio.get_running_loop(), None)
        for client in (state or {}).get("clients", {}).values():
            await client.close()

    # -- internals -------------------------------------------------------------------------
    def _loop_state(self) -> dict:
        """Semaphores and clients of the running loop, created on first use."""
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            state = self._per_loop[loop] = {"sems": {}, "clients": {}}
        return state

    def _slot(self, role: str, cfg: RoleConfig) -> asyncio.Semaphore:
        """The role's concurrency semaphore in the running loop."""
        sems = self._loop_state()["sems"]
        if role not in sems:
            sems[role] = asyncio.Semaphore(cfg.concurrency)
        return sems[role]

    def _client(self, url: str, key: str) -> openai.AsyncOpenAI:
        """One AsyncOpenAI per endpoint and key in the running loop; its own retries are off."""
        import openai  # imported on first use: it costs about a second, every CLI start paid it
        clients = self._loop_state()["clients"]
        if (url, key) not in clients:
            clients[(url, key)] = openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0)
        return clients[(url, key)]

    async def _resolve_url(self, role: str, cfg: RoleConfig, restart: bool = False
                           ) -> tuple[str, str]:
        """(base_url, api_key) of a role; an embedded model serves unconfigured roles and is
        (re)started after a connection error."""
        if cfg.base_url and not cfg.embedded:
            return cfg.base_url, os.environ.get(cfg.api_key_env) or NO_KEY
        if not cfg.base_url and not self.auto_embedded:
            raise LLMConfigError(
                f"no endpoint for role {role!r}: set LATM_{role.upper()}_BASE_URL (or "
                "OPENAI_BASE_URL), or leave auto_embedded on to use the embedded model",
                role=role)
        name = self.config.embedded_model_for(role)
        if restart or name not in self._embedded_urls:
            if cfg.base_url and not restart:
                self._embedded_urls[name] = cfg.base_url  # trust it until a connection fails
            else:
                self._embedded_urls[name] = await asyncio.to_thread(
                    self.embedded_server(name).ensure_started)
        return self._embedded_urls[name], NO_KEY

    def embedded_server(self, name: str):
        """The EmbeddedModel of `name` this client (re)starts; the process-wide one unless given."""
        from agents.llm.embedded import server_for
        return server_for(name, self._embedded)

    async def _model_name(self, role: str, cfg: RoleConfig, url: str, key: str) -> str:
        """The configured model, else the first one the endpoint lists (cached per URL)."""
        if cfg.embedded or not cfg.base_url:
            return self.config.embedded_model_for(role)  # the alias its server answers to
        if cfg.model:
            return cfg.model
        if url not in self._auto_models:
            import openai
            env = f"LATM_{role.upper()}"
            try:
                page = await asyncio.wait_for(self._client(url, key).models.list(),
                                              cfg.timeout_s)
            except (openai.APIConnectionError, asyncio.TimeoutError) as exc:
                raise EndpointUnreachable(f"role {role!r}: cannot reach {url} to list its models "
                                          f"({type(exc).__name__}); start that server or fix "
                                          f"{env}_BASE_URL", role=role) from None
            except openai.OpenAIError as exc:
                raise LLMConfigError(f"role {role!r}: {url}/models failed ({exc}); set "
                                     f"{env}_MODEL", role=role) from None
            if not page.data:
                raise LLMConfigError(f"role {role!r}: {url} lists no models; set {env}_MODEL",
                                     role=role)
            self._auto_models[url] = page.data[0].id
        return self._auto_models[url]

    async def _complete(self, role: str, cfg: RoleConfig, params: dict) -> Completion:
        """Send one request with retries and backoff, then record and return it."""
        import openai
        started, wall = time.time(), time.perf_counter()
        url, key = await self._resolve_url(role, cfg)
        model = await self._model_name(role, cfg, url, key)
        last: Exception | None = None
        for attempt in range(cfg.max_retries + 1):
            if attempt:
                await asyncio.sleep(backoff_delay(cfg, attempt, last))
            try:
                response = await asyncio.wait_for(
                    self._client(url, key).chat.completions.create(
                        model=model, timeout=cfg.timeout_s,
                        extra_headers={ROLE_HEADER: role}, **params),
                    cfg.timeout_s + 1.0)
                return self._finish(role, model, response, started, wall, attempt + 1)
            except (openai.APITimeoutError, asyncio.TimeoutError):
                last = LLMTimeout(f"role {role!r}: {url} did not answer within "
                                  f"{cfg.timeout_s}s; raise LATM_{role.upper()}_TIMEOUT_S or "
                                  "use a faster endpoint", role=role)
            except openai.APIConnectionError as exc:
                last = EndpointUnreachable(f"role {role!r}: cannot connect to {url} ({exc}); "
                                           f"start that server or fix LATM_{role.upper()}"
                                           "_BASE_URL", role=role)
                if cfg.embedded or not cfg.base_url:
                    url, key = await self._resolve_url(role, cfg, restart=True)
            except openai.APIStatusError as exc:
                last = status_error(role, cfg, url, model, exc)
                if rejects_request(exc):
                    raise last from None
            except (openai.APIResponseValidationError, ValueError, AttributeError) as exc:
                last = MalformedResponse(f"role {role!r}: {url} answered with something that "
                                         f"is not a chat completion ({exc}); check that it is "
                                         "an OpenAI-compatible server", role=role)
        assert last is not None
        raise last

    def _finish(self, role: str, model: str, response: Any, started: float, wall: float,
                attempts: int) -> Completion:
        """Turn a ChatCompletion into a Completion and record its usage."""
        if not getattr(response, "choices", None):
            raise ValueError("no choices in the response")
        choice = response.choices[0]
        usage = response.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
        name = model or getattr(response, "model", "") or "unknown"
        cost, priced = self.config.prices.cost(name, prompt, completion)
        record = self.ledger.record(CallRecord(
            role=role, model=name, prompt_tokens=prompt, completion_tokens=completion,
            latency_s=time.perf_counter() - wall, cost_usd=cost, priced=priced,
            attempts=attempts, started_at=started))
        calls = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                 for c in (choice.message.tool_calls or []) if getattr(c, "function", None)]
        return Completion(text=choice.message.content or "", record=record, tool_calls=calls,
                          finish_reason=choice.finish_reason)
