"""Run a stream of request lines through the coordinator, writing each result as it completes."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Callable, TextIO

from agents.pipeline.coordinator import Coordinator, CoordinatorConfig
from agents.pipeline.request_lines import (
    BadLine, RequestLine, bad_line_record, parse_line, result_record, to_request)
from agents.pipeline.results_file import ResultsWriter
from agents.pipeline.services import Services
from agents.pipeline.summary import RunSummary
from agents.tasks.scoring import is_correct
from store.store_errors import StoreUnavailableError

Progress = Callable[[dict], None]


async def run_stream(lines: Iterable[str], services: Services, out: TextIO,
                     config: CoordinatorConfig | None = None, *, max_outstanding: int = 2048,
                     skip_ids: set[str] | None = None, on_result: Progress | None = None,
                     stall_s: float = 5.0, on_event=None, run_id: str | None = None) -> tuple[RunSummary, Coordinator]:
    """Answer every line once; a bad line or a failed request becomes an error record, never a crash."""
    coordinator = Coordinator(services, config, on_event)
    summary = RunSummary()
    run_id = run_id or uuid.uuid4().hex[:12]
    pending: set[asyncio.Task] = set()
    skip_ids = skip_ids or set()
    first_line: dict[str, int] = {}
    writer = ResultsWriter(out)
    failures: list[Exception] = []  # results or store that cannot be written: stop, resume later

    def emit(record: dict) -> None:
        try:
            writer.write(record)  # before the ledger: the results file is what a resume trusts
            if on_result:
                on_result(record)
        except (OSError, StoreUnavailableError) as exc:
            failures.append(exc)

    def check_stopped(done: Iterable[asyncio.Task] = ()) -> None:
        """Raise what stops the run: a write that failed, an unusable store, a bug in a finished task."""
        failure = failures[0] if failures else coordinator.stopped
        if failure is not None:
            for task in pending:
                task.cancel()
            raise failure
        for task in done:
            task.result()

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
            if req.id in first_line:  # one result per id: the results file is keyed by it
                raise BadLine(line_no, f"line-{line_no}", f"line {line_no}: id {req.id!r} already appears on line "
                              f"{first_line[req.id]}; give every request its own id")
            first_line[req.id] = line_no
        except BadLine as err:
            if err.request_id not in skip_ids:
                summary.add_bad_line()
                emit(bad_line_record(err))
            continue
        if req.id in skip_ids:
            continue
        check_stopped()
        pending.add(asyncio.ensure_future(answer_one(req)))
        while len(pending) >= max_outstanding:
            done, pending = await asyncio.wait(pending, timeout=stall_s,
                                               return_when=asyncio.FIRST_COMPLETED)
            check_stopped(done)
            if not done:  # everything waits on groups that need more examples: make with what we have
                await coordinator.flush_collecting()
    await coordinator.close_input()
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        check_stopped(done)
    await coordinator.drain()
    check_stopped()
    writer.sync()
    summary.made = list(coordinator.made)
    return summary, coordinator
