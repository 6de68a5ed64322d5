"""Run coroutines eagerly: finish synchronously when they never suspend, else hand the rest to a task."""
from __future__ import annotations

import asyncio
from typing import Any, Coroutine


def start_eagerly(coro: Coroutine[Any, Any, Any]) -> tuple[Any, asyncio.Task | None]:
    """Step a coroutine to its first suspension: (result, None) if it completed, else (None, task).

    Most handlers of a batch (echo, a cached tool call) never suspend; creating a task for each
    costs more than the work itself, so tasks are made only for those that really wait.
    """
    try:
        yielded = coro.send(None)
    except StopIteration as stop:
        return stop.value, None
    return None, asyncio.ensure_future(_resume(coro, yielded))


async def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    """Drive a suspended coroutine the way an asyncio Task would."""
    while True:
        try:
            await _until_ready(yielded)
        except asyncio.CancelledError as exc:
            try:
                yielded = coro.throw(exc)  # the handler sees its own cancellation, as under a Task
            except StopIteration as stop:
                return stop.value
            continue
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value


async def _until_ready(yielded: Any) -> None:
    """Wait until what the coroutine yielded (an asyncio future, or None for a bare yield) is ready."""
    if yielded is None:
        await asyncio.sleep(0)
        return
    if not asyncio.isfuture(yielded):
        raise RuntimeError(f"handler awaited {type(yielded).__name__}, which is not an asyncio awaitable")
    yielded._asyncio_future_blocking = False
    waiter = asyncio.get_running_loop().create_future()

    def wake(_: Any) -> None:
        if not waiter.done():
            waiter.set_result(None)

    yielded.add_done_callback(wake)
    try:
        await waiter
    finally:
        yielded.remove_done_callback(wake)
