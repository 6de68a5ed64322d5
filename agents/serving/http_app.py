"""The ASGI app of latm serve: chat completions, the Batch API, models, health, metrics; keys, OpenAI-style errors."""
from __future__ import annotations

import hmac

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.pipeline.chat_completion import error_body
from agents.serving.batch_routes import BatchRoutes
from agents.serving.chat_endpoint import ChatEndpoint
from agents.serving.front_door import Door
from agents.serving.metrics import CONTENT_TYPE, HttpMetrics
from agents.serving.settings import ServeSettings

OPEN_PATHS = {"/health"}  # liveness probes carry no key
MAX_BODY_BYTES = 512 * 2**20  # a declared body larger than the Batch API's file bound is refused up front


def build_app(door: Door, settings: ServeSettings, jobs) -> "Guard":
    """The Starlette app behind the guard (auth and per-request metrics); `jobs` serves the Batch API."""
    http = HttpMetrics()
    routes = ServiceRoutes(door, settings, http)
    chat = ChatEndpoint(door)
    app = Starlette(routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),  # reached here only for the 405 of other methods
        Route("/v1/models", routes.models, methods=["GET"]),
        Route("/health", routes.health, methods=["GET"]),
        Route("/metrics", routes.metrics, methods=["GET"]),
        *BatchRoutes(jobs).routes(),
    ], exception_handlers={HTTPException: http_error, Exception: internal_error})
    return Guard(app, http, settings.api_keys, chat)


class ServiceRoutes:
    """Route handlers over one front door."""

    def __init__(self, door: Door, settings: ServeSettings, http: HttpMetrics) -> None:
        self.door = door
        self.settings = settings
        self.http = http

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
    """ASGI wrapper: bearer auth when keys are set, HTTP counts by path and status, and chat
    completions straight to their endpoint (Starlette's routing and middleware cost more than
    the cached answer)."""

    def __init__(self, app, http: HttpMetrics, api_keys: tuple[str, ...], chat) -> None:
        self.app = app
        self.http = http
        self.keys = [k.encode() for k in api_keys]
        self.known_paths = {r.path for r in app.routes if "{" not in r.path}
        self.chat = chat
        self._counters: dict[tuple[str, int], object] = {}

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
            if path == "/v1/chat/completions" and scope["method"] == "POST":
                status[0] = await self.chat(scope, receive, send)
            else:
                await self.app(scope, receive, counted_send)
        finally:
            self._count(path, status[0])

    def _count(self, path: str, status: int) -> None:
        """One more request on the path with this status (the counter child cached: labels() takes a lock)."""
        counter = self._counters.get((path, status))
        if counter is None:
            counter = self._counters[(path, status)] = self.http.requests.labels(path, str(status))
        counter.inc()

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
