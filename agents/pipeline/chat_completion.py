"""OpenAI chat-completion shapes: a chat body in as a pipeline request, an answer out as a completion."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bus.wire.messages import ToolAnswer

DEFAULT_MODEL = "latm"
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


class ChatBodyError(ValueError):
    """A chat request latm cannot take; becomes an OpenAI-style 400 `invalid_request_error`."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True)
class ChatAsk:
    """What latm takes from a chat request: the question, its optional task label, how to reply."""

    text: str
    task: str | None = None
    model: str = DEFAULT_MODEL
    stream: bool = False
    include_usage: bool = False


def parse_chat_body(body: Any) -> ChatAsk:
    """Validate a /v1/chat/completions body; the request is the conversation's one user message.

    Sampling options (temperature, max_tokens, ...) are accepted and left to the upstream model's
    configuration; system and developer messages are accepted and not part of the request.
    """
    if not isinstance(body, dict):
        raise ChatBodyError("the request body must be a JSON object with `model` and `messages`")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ChatBodyError("`messages` must be a non-empty array of {role, content} objects", "messages")
    users = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            raise ChatBodyError(f"messages[{i}] must be an object whose role is one of "
                                f"{sorted(_ROLES)}", f"messages[{i}]")
        if msg["role"] in ("assistant", "tool", "function"):
            raise ChatBodyError("latm answers single-turn requests: send one user message (earlier "
                                "assistant or tool turns cannot be part of a cached kind)", f"messages[{i}]")
        if msg["role"] == "user":
            users.append((i, msg))
    if len(users) != 1:
        raise ChatBodyError(f"expected exactly one user message, got {len(users)}", "messages")
    text = message_text(*users[0])
    model = body.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model:
        raise ChatBodyError("`model` must be a non-empty string (any name; latm answers for all)", "model")
    stream = body.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise ChatBodyError("`stream` must be true or false", "stream")
    n = body.get("n", 1)
    if n not in (1, None):
        raise ChatBodyError("latm returns one choice: `n` must be 1", "n")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise ChatBodyError("`stream_options` must be an object", "stream_options")
    return ChatAsk(text=text, task=_task_label(body.get("metadata")), model=model, stream=bool(stream),
                   include_usage=bool(options.get("include_usage")))


def message_text(index: int, msg: dict) -> str:
    """The text of a message: a string, or the text parts of a content array."""
    content = msg.get("content")
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if len(parts) != len(content) or not all(isinstance(p, str) for p in parts):
            raise ChatBodyError(f"messages[{index}].content: only text parts are supported",
                                f"messages[{index}].content")
        content = "\n".join(parts)
    if not isinstance(content, str) or not content.strip():
        raise ChatBodyError(f"messages[{index}].content must be non-empty text", f"messages[{index}].content")
    return content


def _task_label(metadata: Any) -> str | None:
    """The optional task label in `metadata.task` (requests of one task share a tool)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ChatBodyError("`metadata` must be an object of string values", "metadata")
    return metadata.get("task") or None


def latm_info(answer: ToolAnswer) -> dict:
    """latm's own account of an answer: route, tool and version, LLM calls and cost."""
    return {"route": answer.route, "tool_id": answer.tool_id, "tool_version": answer.tool_version,
            "confidence": answer.confidence, "llm_calls": answer.spend.calls,
            "cost_usd": round(answer.spend.cost_usd, 8), "latency_ms": round(answer.latency_s * 1000, 3),
            "usage": answer.spend.by_role(),
            "error": answer.error.model_dump() if answer.error else None}


def usage_body(answer: ToolAnswer) -> dict:
    """OpenAI `usage`: the tokens latm spent upstream on this request (0 for a tool answer)."""
    return {"prompt_tokens": answer.spend.prompt_tokens, "completion_tokens": answer.spend.completion_tokens,
            "total_tokens": answer.spend.tokens}


def completion_body(answer: ToolAnswer, model: str, completion_id: str, created: int) -> dict:
    """A `chat.completion` object carrying the answer, plus the extra `latm` object."""
    return {"id": completion_id, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "logprobs": None, "finish_reason": "stop"}],
            "usage": usage_body(answer), "latm": latm_info(answer)}


def error_body(message: str, type_: str = "invalid_request_error", param: str | None = None,
               code: str | None = None) -> dict:
    """An OpenAI-style error object."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def answer_error_body(answer: ToolAnswer) -> dict:
    """The error object of an answer the pipeline could not give (the upstream model failed)."""
    err = answer.error
    message = err.message if err else "no answer"
    body = error_body(f"latm could not answer: {message}", "upstream_error", None, err.code if err else None)
    return {**body, "latm": latm_info(answer)}


def completion_chunks(answer: ToolAnswer, ask: ChatAsk, completion_id: str, created: int) -> list[dict]:
    """The `chat.completion.chunk` objects of a streamed answer: role, content, stop (+ latm), usage."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": ask.model}

    def chunk(delta: dict, finish: str | None = None, **extra) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                **extra}
    chunks = [chunk({"role": "assistant", "content": ""}), chunk({"content": answer.answer}),
              chunk({}, "stop", latm=latm_info(answer))]
    if ask.include_usage:
        chunks.append({**base, "choices": [], "usage": usage_body(answer)})
    return chunks
