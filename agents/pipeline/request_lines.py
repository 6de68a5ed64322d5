"""Parse and write the JSON-lines files of `latm run`: one request in, one result out."""
from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bus.messages import ToolAnswer, ToolRequest


class RequestLine(BaseModel):
    """One input line: {"id", "input", "task"?, "target"?}."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(description="request id, unique within the file")
    input: str = Field(min_length=1, description="the request text")
    task: str | None = Field(default=None, description="task name, if known")
    target: str | None = Field(default=None, description="correct answer, for scoring only")


class BadLine(Exception):
    """A line that is not a valid request; it becomes an error record, the run goes on."""

    def __init__(self, line_no: int, request_id: str, reason: str) -> None:
        super().__init__(reason)
        self.line_no = line_no
        self.request_id = request_id
        self.reason = reason


def parse_line(line: str, line_no: int) -> RequestLine:
    """Parse one JSONL line, raising BadLine with the line number and what is wrong."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(line_no, f"line-{line_no}", f"line {line_no} is not JSON: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise BadLine(line_no, f"line-{line_no}", f"line {line_no} is not a JSON object")
    if isinstance(raw.get("id"), int):
        raw["id"] = str(raw["id"])
    try:
        return RequestLine.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
        rid = raw.get("id") if isinstance(raw.get("id"), str) else f"line-{line_no}"
        raise BadLine(line_no, rid, f"line {line_no}: {fields} (expected id, input, task?, target?)") from None


def to_request(req: RequestLine, run_id: str) -> ToolRequest:
    """The bus message for a request line; the trace id ties it to the run."""
    return ToolRequest(request_id=req.id, trace_id=run_id, text=req.input, task=req.task,
                       target=req.target)


def result_record(req: RequestLine, answer: ToolAnswer, correct: bool | None) -> dict:
    """One output line: the answer, how it was produced, and what it cost."""
    return {
        "id": req.id, "answer": answer.answer, "route": answer.route, "tool_id": answer.tool_id,
        "tool_version": answer.tool_version, "confidence": answer.confidence,
        "llm_calls": answer.llm_calls, "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens, "cost_usd": round(answer.cost_usd, 8),
        "usage": {u.role: u.model_dump(exclude={"role"}) for u in answer.usage},
        "latency_s": round(answer.latency_s, 4), "task": req.task, "target": req.target,
        "correct": correct, "error": answer.error.model_dump() if answer.error else None,
    }


def bad_line_record(err: BadLine) -> dict:
    """The error record written for a malformed line."""
    return {"id": err.request_id, "answer": None, "route": "error", "llm_calls": 0,
            "error": {"code": "bad_request_line", "message": err.reason}}
