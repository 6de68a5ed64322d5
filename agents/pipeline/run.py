"""Run a stream of request lines through the coordinator, writing each result as it completes."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable
from typing import Callable, TextIO

from agents.pipeline.batch_format import answered_id, output_text
from agents.pipeline.coordinator import Coordinator, CoordinatorConfig
from agents.pipeline.request_lines import (
    BadLine, RequestLine, bad_line_record, parse_line, result_record, to_request)
from agents.pipeline.services import Services
from agents.pipeline.summary import RunSummary
from agents.tasks.scoring import is_correct

Progress = Callable[[dict], None]


async def run_stream(lines: Iterable[str], services: Services, out: TextIO,
                     config: CoordinatorConfig | None = None, *, max_outstanding: int = 2048,
                     skip_ids: set[str] | None = None, on_result: Progress | None = None,
                     stall_s: float = 5.0, on_event=None) -> tuple[RunSummary, Coordinator]:
    """Answer every line; a bad line or a failed request becomes an error record, never a crash."""
    coordinator = Coordinator(services, config, on_event)
    summary = RunSummary()
    run_id = uuid.uuid4().hex[:12]
    pending: set[asyncio.Task] = set()
    skip_ids = skip_ids or set()

    def emit(record: dict) -> None:
        out.write(output_text(record) + "\n")  # a Batch input line gets a Batch output line
        out.flush()  # a crash later loses nothing already answered
        if on_result:
            on_result(record)

    async def answer_one(req: RequestLine) -> None:
        answer = await coordinator.answer(to_request(req, run_id))
        correct = None
        if req.target is not None and answer.answer is not None:
            correct = is_correct(answer.answer, req.target, req.task or "")
        elif req.target is not None:
            correct = False
        summary.add(req.input, answer, correct)
        emit(result_record(req, answer, correct))

    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            req = parse_line(line, line_no)
        except BadLine as err:
            summary.add_bad_line()
            emit(bad_line_record(err))
            continue
        if req.id in skip_ids:
            continue
        pending.add(asyncio.ensure_future(answer_one(req)))
        while len(pending) >= max_outstanding:
            done, pending = await asyncio.wait(pending, timeout=stall_s,
                                               return_when=asyncio.FIRST_COMPLETED)
            if not done:  # everything waits on groups that need more examples: make with what we have
                await coordinator.flush_collecting()
    await coordinator.close_input()
    if pending:
        await asyncio.gather(*pending)
    await coordinator.drain()
    summary.made = list(coordinator.made)
    return summary, coordinator


def read_done_ids(path: str) -> set[str]:
    """Ids already answered in an earlier, interrupted run writing to the same results file."""
    done = set()
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by the crash: that request runs again
                answered = answered_id(record) if isinstance(record, dict) else None
                if answered is not None:
                    done.add(answered)
    except FileNotFoundError:
        pass
    return done
