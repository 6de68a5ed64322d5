"""The OpenAI Files and Batches APIs over the front door: a whole batch file per HTTP request."""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from agents.pipeline.batch_format import CHAT_URL, bad_line, result_line
from agents.pipeline.chat_completion import ChatAsk
from agents.pipeline.request_lines import BadLine, parse_line
from agents.serving.front_door import Overloaded
from bus.wire.messages import ToolAnswer

OVERLOAD_PAUSE_S = 0.02  # a batch waits for room instead of failing its lines with 429


class BatchApiError(Exception):
    """A Files/Batches request latm refuses; `status` is the HTTP status to send."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


@dataclass
class StoredFile:
    """An uploaded batch input, or a batch's output or error file (kept in memory)."""

    id: str
    filename: str
    purpose: str
    data: bytes
    created_at: int = field(default_factory=lambda: int(time.time()))

    def info(self) -> dict:
        return {"id": self.id, "object": "file", "bytes": len(self.data), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed"}


class BatchJobs:
    """Files and batches of one server; each batch's lines run through `answer` with bounded concurrency."""

    def __init__(self, answer: Callable[[ChatAsk], Awaitable[ToolAnswer]], concurrency: int = 512,
                 max_bytes: int = 512 * 2**20) -> None:
        self.answer = answer
        self.concurrency = concurrency
        self.max_bytes = max_bytes
        self.files: dict[str, StoredFile] = {}
        self.batches: dict[str, dict] = {}
        self._tasks: set[asyncio.Task] = set()

    async def add_file(self, filename: str, purpose: str, data: bytes) -> dict:
        """Keep an uploaded file; refuses when all files together would pass the memory bound."""
        if purpose != "batch":
            raise BatchApiError(400, f"purpose must be 'batch' (latm keeps batch inputs only), got {purpose!r}",
                                "purpose")
        if sum(len(f.data) for f in self.files.values()) + len(data) > self.max_bytes:
            raise BatchApiError(413, f"the server holds at most {self.max_bytes // 2**20} MiB of files: "
                                     f"download and forget older batch outputs, or split the file")
        stored = self._store(filename, purpose, data)
        return stored.info()

    async def file(self, file_id: str) -> dict:
        return self._file(file_id).info()

    async def content(self, file_id: str) -> bytes:
        return self._file(file_id).data

    async def create_batch(self, input_file_id: str, endpoint: str, completion_window: str = "24h",
                           metadata: dict | None = None) -> dict:
        """Start running a file's lines in the background; returns the batch object (poll it)."""
        if endpoint != CHAT_URL:
            raise BatchApiError(400, f"endpoint must be {CHAT_URL}, got {endpoint!r}", "endpoint")
        source = self._file(input_file_id, "input_file_id")
        now = int(time.time())
        batch = {"id": f"batch_{uuid.uuid4().hex[:24]}", "object": "batch", "endpoint": endpoint, "errors": None,
                 "input_file_id": input_file_id, "completion_window": completion_window, "status": "in_progress",
                 "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": now,
                 "completed_at": None, "request_counts": {"total": 0, "completed": 0, "failed": 0},
                 "metadata": metadata}
        self.batches[batch["id"]] = batch
        task = asyncio.ensure_future(self._run(batch, source.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return dict(batch)

    async def batch(self, batch_id: str) -> dict:
        if batch_id not in self.batches:
            raise BatchApiError(404, f"no batch {batch_id!r} on this server (batches live as long as the server)")
        return dict(self.batches[batch_id])

    async def _run(self, batch: dict, data: bytes) -> None:
        lines = [(n, line) for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1) if line.strip()]
        counts = batch["request_counts"]
        counts["total"] = len(lines)
        outputs, errors, seen = [], [], set()
        queue = iter(lines)

        async def worker() -> None:
            for line_no, line in queue:
                out = await self._line(line_no, line, seen)
                ok = out["response"] is not None and out["response"]["status_code"] == 200
                (outputs if ok else errors).append(json.dumps(out, ensure_ascii=False))
                counts["completed" if ok else "failed"] += 1
        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, max(len(lines), 1)))))
        batch["output_file_id"] = self._store("batch_output.jsonl", "batch_output", _jsonl(outputs)).id
        if errors:
            batch["error_file_id"] = self._store("batch_errors.jsonl", "batch_output", _jsonl(errors)).id
        batch.update(status="completed", completed_at=int(time.time()))

    async def _line(self, line_no: int, line: str, seen: set[str]) -> dict:
        """One Batch output line for one input line; a bad line gets its error, the batch goes on."""
        try:
            req = parse_line(line, line_no)
        except BadLine as err:
            custom_id = None if err.request_id == f"line-{line_no}" else err.request_id
            return bad_line(custom_id, line_no, err.reason)
        if req.batch_model is None:
            return bad_line(None, line_no, f"line {line_no} is not a Batch line: expected custom_id, method, url, body")
        if req.id in seen:
            return bad_line(req.id, line_no, f"line {line_no}: custom_id {req.id!r} appears twice in the file")
        seen.add(req.id)
        while True:
            try:
                answer = await self.answer(ChatAsk(text=req.input, task=req.task, model=req.batch_model))
                return result_line(req.id, req.batch_model, answer)
            except Overloaded:
                await asyncio.sleep(OVERLOAD_PAUSE_S)

    def _store(self, filename: str, purpose: str, data: bytes) -> StoredFile:
        stored = StoredFile(id=f"file-{uuid.uuid4().hex[:24]}", filename=filename, purpose=purpose, data=data)
        self.files[stored.id] = stored
        return stored

    def _file(self, file_id: str, param: str | None = None) -> StoredFile:
        if file_id not in self.files:
            raise BatchApiError(404, f"no file {file_id!r} on this server (upload it with POST /v1/files)", param)
        return self.files[file_id]


def _jsonl(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()
