"""A scriptable OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks."""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agents.llm.config import LLMConfig

ROLE_HEADER = "X-Latm-Role"


@dataclass
class Reply:
    """A full scripted answer: text content and/or one tool call, optional usage override."""

    content: str | None = None
    tool_name: str | None = None
    tool_arguments: dict | str | None = None
    usage: dict | None = None
    finish_reason: str | None = None


@dataclass
class Fault:
    """An injected failure: wait `delay_s`, then send `status` (error), a raw `body` (malformed),
    or else the normal `reply`."""

    status: int | None = None
    delay_s: float = 0.0
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reply: Any = "ok"


@dataclass
class StubRequest:
    """One logged request."""

    path: str
    role: str | None
    body: dict

    @property
    def messages(self) -> list[dict]:
        """The chat messages of the request."""
        return self.body.get("messages", [])

    @property
    def params(self) -> dict:
        """Every body field except the messages (model, temperature, response_format, ...)."""
        return {k: v for k, v in self.body.items() if k != "messages"}


@dataclass
class Rule:
    """A scripted reply and when it applies."""

    reply: Any
    role: str | None
    match: Any
    times: int | None

    def applies(self, role: str | None, body: dict) -> bool:
        """Whether this rule answers a request from `role` with this body."""
        if self.times is not None and self.times <= 0:
            return False
        if self.role is not None and self.role != role:
            return False
        if self.match is None:
            return True
        if callable(self.match):
            return bool(self.match(body))
        text = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        if isinstance(self.match, re.Pattern):
            return bool(self.match.search(text))
        return str(self.match) in text


def count_tokens(text: str) -> int:
    """The stub's token count: whitespace-separated words."""
    return len(text.split())


class StubLLMServer:
    """Real HTTP server with scripted replies by role / prompt match / order, faults and a log."""

    def __init__(self, model: str = "stub-model", supports_response_format: bool = True,
                 supports_tools: bool = True) -> None:
        self.model = model
        self.supports_response_format = supports_response_format
        self.supports_tools = supports_tools
        self.requests: list[StubRequest] = []
        self.in_flight: dict[str | None, int] = {}
        self.max_in_flight: dict[str | None, int] = {}
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting -------------------------------------------------------------------------
    def script(self, reply: Any, role: str | None = None, match: Any = None,
               times: int | None = None) -> "StubLLMServer":
        """Answer matching requests with `reply` (str, dict -> JSON, Reply, Fault, or a
        callable(request_body) -> any of those); rules apply in the order scripted, and a rule
        with `times` is used up after that many answers."""
        with self._lock:
            self._rules.append(Rule(reply, role, match, times))
        return self

    def script_sequence(self, replies: list[Any], role: str | None = None) -> "StubLLMServer":
        """Answer the next len(replies) matching requests in order, one reply each."""
        for reply in replies:
            self.script(reply, role=role, times=1)
        return self

    def reset(self) -> None:
        """Forget every rule and logged request."""
        with self._lock:
            self._rules.clear()
            self.requests.clear()
            self.in_flight.clear()
            self.max_in_flight.clear()

    def calls(self, role: str | None = None) -> list[StubRequest]:
        """Logged chat requests, optionally only those of one role."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")
                and (role is None or r.role == role)]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "StubLLMServer":
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        handler = type("StubHandler", (StubHandler,), {"stub": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        # A short poll interval makes stop() (and so each test's teardown) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        name="llm-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "StubLLMServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. http://127.0.0.1:PORT/v1."""
        assert self._httpd is not None, "start() the stub first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def config(self, **fields: Any) -> LLMConfig:
        """An LLMConfig with every role at this stub, tiny backoff and a short timeout."""
        merged = {"model": self.model, "backoff_s": 0.001, "backoff_max_s": 0.01,
                  "timeout_s": 5.0, **fields}
        return LLMConfig.for_base_url(self.base_url, **merged)

    # -- answering -------------------------------------------------------------------------
    def pick(self, role: str | None, body: dict) -> Any:
        """The reply of the first rule that applies (using up one of its `times`)."""
        with self._lock:
            for rule in self._rules:
                if rule.applies(role, body):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule.reply
        last = (body.get("messages") or [{}])[-1].get("content")
        return Fault(status=501, body=json.dumps({"error": {
            "message": f"latm stub: no scripted reply for role={role!r}, last message="
                       f"{str(last)[:200]!r}; call llm_stub.script(...) in the test",
            "type": "unscripted"}}))

    def completion(self, body: dict, reply: Any) -> dict:
        """Build an OpenAI chat.completion body around a scripted reply."""
        if isinstance(reply, (str, dict)):
            reply = Reply(content=reply) if isinstance(reply, str) else Reply(tool_arguments=reply)
        content, tool_calls = reply.content, None
        if reply.tool_arguments is not None:
            args = reply.tool_arguments
            args_text = args if isinstance(args, str) else json.dumps(args)
            tool_name = reply.tool_name or forced_tool_name(body)
            if tool_name and self.supports_tools:
                tool_calls = [{"id": f"call_{len(self.requests)}", "type": "function",
                               "function": {"name": tool_name, "arguments": args_text}}]
            else:
                content = args_text
        completion_text = content or (tool_calls[0]["function"]["arguments"] if tool_calls else "")
        prompt_text = " ".join(str(m.get("content") or "") for m in body.get("messages", []))
        usage = reply.usage or {"prompt_tokens": count_tokens(prompt_text),
                                "completion_tokens": count_tokens(completion_text)}
        usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        message = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return {"id": f"chatcmpl-stub-{len(self.requests)}", "object": "chat.completion",
                "created": int(time.time()), "model": body.get("model") or self.model,
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": reply.finish_reason
                             or ("tool_calls" if tool_calls else "stop")}],
                "usage": usage}


def forced_tool_name(body: dict) -> str | None:
    """The function a request forces via tool_choice, or its only tool."""
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return choice.get("function", {}).get("name")
    tools = body.get("tools") or []
    return tools[0]["function"]["name"] if len(tools) == 1 else None


class StubHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler; `stub` is bound by StubLLMServer.start()."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; no 40 ms stall
    stub: StubLLMServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: tests read the request log instead."""

    def send_json(self, status: int, payload: Any, headers: dict | None = None) -> None:
        """Send a body (dict -> JSON, str -> as is) with a Content-Length."""
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test); nothing to tell it

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        """Serve /v1/models."""
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [
                {"id": self.stub.model, "object": "model", "created": 0, "owned_by": "latm"}]})
        else:
            self.send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        """Serve /v1/chat/completions from the script."""
        stub = self.stub
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return self.send_json(400, {"error": {"message": "request body is not JSON"}})
        role = self.headers.get(ROLE_HEADER)
        stub.requests.append(StubRequest(self.path, role, body))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self.send_json(404, {"error": {"message": f"no route {self.path}"}})
        fmt = (body.get("response_format") or {}).get("type")
        if fmt == "json_schema" and not stub.supports_response_format:
            return self.send_json(400, {"error": {
                "message": "response_format json_schema is not supported by this server"}})
        with stub._lock:
            stub.in_flight[role] = stub.in_flight.get(role, 0) + 1
            stub.max_in_flight[role] = max(stub.max_in_flight.get(role, 0), stub.in_flight[role])
        try:
            self.answer(body, stub.pick(role, body))
        finally:
            with stub._lock:
                stub.in_flight[role] -= 1

    def answer(self, body: dict, reply: Any) -> None:
        """Resolve callables and faults, then send the completion."""
        while callable(reply):
            reply = reply(body)
        if isinstance(reply, Fault):
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.status is not None:
                default = {"error": {"message": f"injected fault {reply.status}",
                                     "type": "injected"}}
                return self.send_json(reply.status, reply.body or default, reply.headers)
            if reply.body is not None:
                return self.send_json(200, reply.body, reply.headers)
            return self.answer(body, reply.reply)
        self.send_json(200, self.stub.completion(body, reply))
