"""OpenAI Batch API files: input lines {custom_id, method, url, body}, output lines {custom_id, response, error}."""
from __future__ import annotations

import json
import re
import time
from typing import Any

from agents.pipeline.chat_completion import (
    ChatAsk, ChatBodyError, answer_error_body, completion_body, error_body, parse_chat_body)
from bus.wire.messages import ToolAnswer

CHAT_URL = "/v1/chat/completions"
_CUSTOM_ID = re.compile(r'"custom_id"\s*:\s*"((?:[^"\\]|\\.)*)"')


class BatchLineError(ValueError):
    """A Batch input line latm cannot run; its output line carries a 400 with this reason."""

    def __init__(self, custom_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.custom_id = custom_id
        self.reason = reason


def is_batch_line(raw: Any) -> bool:
    """A parsed line is in the Batch format when it names a custom_id."""
    return isinstance(raw, dict) and "custom_id" in raw


def looks_like_batch_text(line: str) -> tuple[bool, str | None]:
    """For a line that is not JSON: whether it was meant as a Batch line, and its custom_id if legible."""
    if '"custom_id"' not in line:
        return False, None
    found = _CUSTOM_ID.search(line)
    return True, found.group(1) if found else None


def parse_batch_line(raw: dict) -> tuple[str, ChatAsk]:
    """The custom_id and chat request of a Batch input line; raises BatchLineError saying what to fix."""
    custom_id = raw.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise BatchLineError(None, "`custom_id` must be a non-empty string")
    method = raw.get("method", "POST")
    if method != "POST":
        raise BatchLineError(custom_id, f"`method` must be POST, got {method!r}")
    url = raw.get("url", CHAT_URL)
    if url != CHAT_URL:
        raise BatchLineError(custom_id, f"`url` must be {CHAT_URL} (latm answers chat completions), got {url!r}")
    try:
        ask = parse_chat_body(raw.get("body"))
    except ChatBodyError as exc:
        raise BatchLineError(custom_id, f"body: {exc.message}") from None
    if ask.stream:
        raise BatchLineError(custom_id, "body: `stream` must be false in a batch file")
    return custom_id, ask


def result_line(custom_id: str, model: str, answer: ToolAnswer) -> dict:
    """The Batch output line of an answered request (status 200) or a failed one (502, upstream error)."""
    request_id = f"req_{answer.request_id}"
    if answer.answer is None:
        response = {"status_code": 502, "request_id": request_id, "body": answer_error_body(answer)}
    else:
        body = completion_body(answer, model, f"chatcmpl-{answer.request_id}", int(time.time()))
        response = {"status_code": 200, "request_id": request_id, "body": body}
    return {"id": f"batch_req_{answer.request_id}", "custom_id": custom_id, "response": response, "error": None}


def bad_line(custom_id: str | None, line_no: int, reason: str) -> dict:
    """The Batch output line of an input line that could not be run (status 400, the run goes on)."""
    if custom_id is None:  # no id to answer under: a line-level error, as the Batch API reports it
        return {"id": f"batch_req_line{line_no}", "custom_id": None, "response": None,
                "error": {"code": "bad_request_line", "message": reason}}
    body = error_body(reason, param=None, code="bad_request_line")
    return {"id": f"batch_req_line{line_no}", "custom_id": custom_id,
            "response": {"status_code": 400, "request_id": f"req_line{line_no}", "body": body}, "error": None}


def output_text(record: dict) -> str:
    """The line written for a result record: its Batch line when the input was a Batch line."""
    return json.dumps(record.get("batch_line", record), ensure_ascii=False)


def answered_id(record: dict) -> str | None:
    """The id of a request an output line answered (for --resume), in either format."""
    if "custom_id" in record:
        response = record.get("response") or {}
        return record["custom_id"] if response.get("status_code") == 200 else None
    return str(record.get("id")) if record.get("route") in ("tool", "solver") else None
