"""POST /v1/chat/completions as a bare ASGI app: the front door's hot path, no framework objects per request."""
from __future__ import annotations

import json
import time

from agents.pipeline.chat_completion import (
    ChatBodyError, answer_error_body, completion_body, completion_chunks, error_body, parse_chat_body)
from agents.serving.front_door import Door, Overloaded

JSON_TYPE = (b"content-type", b"application/json")
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
SSE_TYPE = (b"content-type", b"text/event-stream; charset=utf-8")


class ChatEndpoint:
    """Answers a chat completion from a cached tool or the solver; streams it when asked."""

    def __init__(self, door: Door) -> None:
        self.door = door

    async def __call__(self, scope, receive, send) -> int:
        """Respond; returns the status sent (the guard counts it)."""
        try:
            status, headers, parts = await self._respond(receive)
        except Exception as exc:  # one request's failure: a 500 for it, the server goes on
            status, headers, parts = json_reply(500, error_body(
                f"latm failed on this request: {type(exc).__name__}: {exc}"[:500], "server_error"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        # One body message per part: a streaming client sees each event as it is sent.
        for part in parts[:-1]:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": parts[-1]})
        return status

    async def _respond(self, receive) -> tuple[int, list, list[bytes]]:
        """(status, headers, body parts) of the answer to one request."""
        raw = await read_body(receive)
        try:
            ask = parse_chat_body(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return json_reply(400, error_body(f"the request body is not valid JSON ({exc}); send a chat "
                                              f"completion object"))
        except ChatBodyError as exc:
            return json_reply(400, error_body(exc.message, param=exc.param))
        try:
            answer = await self.door.answer(ask)
        except Overloaded as exc:
            return json_reply(429, error_body(str(exc), "rate_limit_error", code="overloaded"),
                              [(b"retry-after", str(exc.retry_after_s).encode())])
        headers = latm_headers(answer)
        if answer.answer is None:
            return json_reply(502, answer_error_body(answer), headers)
        completion_id, created = f"chatcmpl-{answer.request_id}", int(time.time())
        if ask.stream:
            events = [f"data: {_dumps(chunk)}\n\n".encode()
                      for chunk in completion_chunks(answer, ask, completion_id, created)]
            return 200, [SSE_TYPE, *headers], [*events, b"data: [DONE]\n\n"]
        return json_reply(200, completion_body(answer, ask.model, completion_id, created), headers)


async def read_body(receive) -> bytes:
    """The whole request body."""
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    while message.get("more_body"):
        message = await receive()
        parts.append(message.get("body", b""))
    return b"".join(parts)


def json_reply(status: int, content: dict, headers: list | None = None) -> tuple[int, list, list[bytes]]:
    """A JSON response as (status, headers, body parts), compact UTF-8 as Starlette's JSONResponse."""
    body = _dumps(content).encode()
    return status, [JSON_TYPE, (b"content-length", str(len(body)).encode()), *(headers or [])], [body]


def latm_headers(answer) -> list[tuple[bytes, bytes]]:
    """The x-latm-* headers: route, tool and version, LLM calls, cost, latency."""
    headers = [(b"x-latm-route", answer.route.encode()), (b"x-latm-llm-calls", str(answer.llm_calls).encode()),
               (b"x-latm-cost-usd", f"{answer.cost_usd:.8f}".encode()),
               (b"x-latm-latency-ms", f"{answer.latency_s * 1000:.3f}".encode())]
    if answer.tool_id:
        headers.append((b"x-latm-tool-id", answer.tool_id.encode()))
        headers.append((b"x-latm-tool-version", (answer.tool_version or "").encode()))
    return headers
