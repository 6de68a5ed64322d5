"""Parse and write the JSON-lines files of `latm run`: one request in, one result out."""
from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.pipeline import batch_format
from bus.wire.messages import ToolAnswer, ToolRequest


class RequestLine(BaseModel):
    """One input line: {"id", "input", "task"?, "target"?}."""

    model_config = ConfigDict(extra="ignore")
    id: str = Field(description="request id, unique within the file")
    input: str = Field(min_length=1, description="the request text")
    task: str | None = Field(default=None, description="task name, if known")
    target: str | None = Field(default=None, description="correct answer, for scoring only")
    batch_model: str | None = Field(default=None, description="set for an OpenAI Batch line: the model "
                                    "it named; its result is written as a Batch output line")


class BadLine(Exception):
    """A line that is not a valid request; it becomes an error record, the run goes on."""

    def __init__(self, line_no: int, request_id: str, reason: str, batch: bool = False) -> None:
        super().__init__(reason)
        self.line_no = line_no
        self.request_id = request_id
        self.reason = reason
        self.batch = batch  # an OpenAI Batch line: its error is written in that format


def parse_line(line: str, line_no: int) -> RequestLine:
    """Parse one JSONL line, raising BadLine with the line number and what is wrong."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        batch, custom_id = batch_format.looks_like_batch_text(line)
        raise BadLine(line_no, custom_id or f"line-{line_no}", f"line {line_no} is not JSON: {exc.msg}",
                      batch) from None
    if not isinstance(raw, dict):
        raise BadLine(line_no, f"line-{line_no}", f"line {line_no} is not a JSON object")
    if batch_format.is_batch_line(raw):
        return parse_batch_line(raw, line_no)
    if isinstance(raw.get("id"), int):
        raw["id"] = str(raw["id"])
    try:
        return RequestLine.model_validate(raw)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
        rid = raw.get("id") if isinstance(raw.get("id"), str) else f"line-{line_no}"
        raise BadLine(line_no, rid, f"line {line_no}: {fields} (expected id, input, task?, target?)") from None


def parse_batch_line(raw: dict, line_no: int) -> RequestLine:
    """An OpenAI Batch input line as a request line (the body's user message, metadata.task)."""
    try:
        custom_id, ask = batch_format.parse_batch_line(raw)
    except batch_format.BatchLineError as err:
        raise BadLine(line_no, err.custom_id or f"line-{line_no}", f"line {line_no}: {err.reason}",
                      batch=True) from None
    return RequestLine(id=custom_id, input=ask.text, task=ask.task, batch_model=ask.model)


def to_request(req: RequestLine, run_id: str) -> ToolRequest:
    """The bus message for a request line; the trace id ties it to the run."""
    return ToolRequest(request_id=req.id, trace_id=run_id, text=req.input, task=req.task,
                       target=req.target)


def result_record(req: RequestLine, answer: ToolAnswer, correct: bool | None) -> dict:
    """One output line: the answer, how it was produced, and what it cost."""
    record = {
        "id": req.id, "answer": answer.answer, "route": answer.route, "tool_id": answer.tool_id,
        "tool_version": answer.tool_version, "confidence": answer.confidence,
        "llm_calls": answer.spend.calls, "prompt_tokens": answer.spend.prompt_tokens,
        "completion_tokens": answer.spend.completion_tokens, "cost_usd": round(answer.spend.cost_usd, 8),
        "usage": answer.spend.by_role(),
        "latency_s": round(answer.latency_s, 4), "task": req.task, "target": req.target,
        "correct": correct, "error": answer.error.model_dump() if answer.error else None,
    }
    if req.batch_model is not None:
        record["batch_line"] = batch_format.result_line(req.id, req.batch_model, answer)
    return record


def bad_line_record(err: BadLine) -> dict:
    """The error record written for a malformed line."""
    record = {"id": err.request_id, "answer": None, "route": "error", "llm_calls": 0,
              "error": {"code": "bad_request_line", "message": err.reason}}
    if err.batch:
        custom_id = None if err.request_id == f"line-{err.line_no}" else err.request_id
        record["batch_line"] = batch_format.bad_line(custom_id, err.line_no, err.reason)
    return record
