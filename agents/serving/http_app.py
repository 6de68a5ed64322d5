"""The ASGI app of latm serve: chat completions, the Batch API, models, health, metrics; keys, OpenAI-style errors."""
from __future__ import annotations

import hmac
import json
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agents.pipeline.chat_completion import (
    ChatBodyError, answer_error_body, completion_body, completion_chunks, error_body, parse_chat_body)
from agents.serving.batch_routes import BatchRoutes
from agents.serving.front_door import Door, Overloaded
from agents.serving.metrics import CONTENT_TYPE, HttpMetrics
from agents.serving.settings import ServeSettings

OPEN_PATHS = {"/health"}  # liveness probes carry no key
MAX_BODY_BYTES = 512 * 2**20  # a declared body larger than the Batch API's file bound is refused up front


def build_app(door: Door, settings: ServeSettings, jobs) -> "Guard":
    """The Starlette app behind the guard (auth and per-request metrics); `jobs` serves the Batch API."""
    http = HttpMetrics()
    routes = ChatRoutes(door, settings, http)
    app = Starlette(routes=[
        Route("/v1/chat/completions", routes.chat, methods=["POST"]),
        Route("/v1/models", routes.models, methods=["GET"]),
        Route("/health", routes.health, methods=["GET"]),
        Route("/metrics", routes.metrics, methods=["GET"]),
        *BatchRoutes(jobs).routes(),
    ], exception_handlers={HTTPException: http_error, Exception: internal_error})
    return Guard(app, http, settings.api_keys)


class ChatRoutes:
    """Route handlers over one front door."""

    def __init__(self, door: Door, settings: ServeSettings, http: HttpMetrics) -> None:
        self.door = door
        self.settings = settings
        self.http = http

    async def chat(self, request: Request) -> Response:
        """Answer a chat completion from a cached tool or the solver; stream it when asked."""
        raw = await request.body()
        try:
            ask = parse_chat_body(json.loads(raw))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return JSONResponse(error_body(f"the request body is not valid JSON ({exc}); send a chat "
                                           f"completion object"), 400)
        except ChatBodyError as exc:
            return JSONResponse(error_body(exc.message, param=exc.param), 400)
        try:
            answer = await self.door.answer(ask)
        except Overloaded as exc:
            return JSONResponse(error_body(str(exc), "rate_limit_error", code="overloaded"), 429,
                                headers={"Retry-After": str(exc.retry_after_s)})
        headers = latm_headers(answer)
        if answer.answer is None:
            return JSONResponse(answer_error_body(answer), 502, headers=headers)
        completion_id, created = f"chatcmpl-{answer.request_id}", int(time.time())
        if ask.stream:
            chunks = completion_chunks(answer, ask, completion_id, created)
            return StreamingResponse(sse_events(chunks), media_type="text/event-stream", headers=headers)
        return JSONResponse(completion_body(answer, ask.model, completion_id, created), headers=headers)

    async def models(self, request: Request) -> Response:
        """The one model latm serves (requests may name any model)."""
        return JSONResponse({"object": "list", "data": [
            {"id": self.settings.model_name, "object": "model", "created": 0, "owned_by": "latm"}]})

    async def health(self, request: Request) -> Response:
        """Liveness and load."""
        return JSONResponse(await self.door.health())

    async def metrics(self, request: Request) -> Response:
        """Prometheus text."""
        return Response(await self.door.metrics_text() + self.http.render(), media_type=CONTENT_TYPE)


def latm_headers(answer) -> dict[str, str]:
    """The x-latm-* headers: route, tool and version, LLM calls, cost, latency."""
    headers = {"x-latm-route": answer.route, "x-latm-llm-calls": str(answer.llm_calls),
               "x-latm-cost-usd": f"{answer.cost_usd:.8f}", "x-latm-latency-ms": f"{answer.latency_s * 1000:.3f}"}
    if answer.tool_id:
        headers["x-latm-tool-id"] = answer.tool_id
        headers["x-latm-tool-version"] = answer.tool_version or ""
    return headers


async def sse_events(chunks: list[dict]):
    """Server-sent events, ending with [DONE] as OpenAI streams do."""
    for chunk in chunks:
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


async def http_error(request: Request, exc: HTTPException) -> Response:
    """404 / 405 in OpenAI's error shape."""
    hint = {404: "latm serves /v1/chat/completions, /v1/models, /v1/files, /v1/batches, /health and /metrics",
            405: "see the route's allowed methods"}.get(exc.status_code, "")
    return JSONResponse(error_body(f"{exc.detail}: {request.method} {request.url.path}; {hint}",
                                   code=str(exc.status_code)), exc.status_code)


async def internal_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure of one request: a 500 for it, the server goes on."""
    return JSONResponse(error_body(f"latm failed on this request: {type(exc).__name__}: {exc}"[:500],
                                   "server_error"), 500)


class Guard:
    """ASGI wrapper: bearer auth when keys are set, and HTTP counts by path and status."""

    def __init__(self, app, http: HttpMetrics, api_keys: tuple[str, ...]) -> None:
        self.app = app
        self.http = http
        self.keys = [k.encode() for k in api_keys]
        self.known_paths = {r.path for r in app.routes if "{" not in r.path}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"] if scope["path"] in self.known_paths else "other"
        status = [500]

        async def counted_send(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)
        try:
            if self.keys and scope["path"] not in OPEN_PATHS and not self._authorised(scope):
                response = JSONResponse(error_body("missing or invalid API key: send `Authorization: Bearer "
                                                   "<key>` with a key given to latm serve --api-key",
                                                   "authentication_error", code="invalid_api_key"), 401,
                                        headers={"WWW-Authenticate": "Bearer"})
                return await response(scope, receive, counted_send)
            if _declared_length(scope) > MAX_BODY_BYTES:
                response = JSONResponse(error_body(f"the body is larger than {MAX_BODY_BYTES // 2**20} MiB: split "
                                                   f"the batch file", code="body_too_large"), 413)
                return await response(scope, receive, counted_send)
            await self.app(scope, receive, counted_send)
        finally:
            self.http.requests.labels(path, str(status[0])).inc()

    def _authorised(self, scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].strip()
                return any(hmac.compare_digest(token, key) for key in self.keys)
        return False


def _declared_length(scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0
