"""Shuffled request streams that mix tasks: test-split items, plus generated items for generated tasks."""
from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from agents.tasks.bbh import PAPER_TASKS, paper_split
from agents.tasks.generators import GENERATORS, generate


def mixed_stream(n: int, seed: int = 0, tasks: Sequence[str] = PAPER_TASKS, generated: bool = True,
                 with_targets: bool = True) -> list[dict]:
    """n request dicts {"id","input","task"[,"target"]}, tasks balanced and shuffled, same output per seed.

    Non-generated tasks draw from their test split (items 10-249) without repeats until it is used up;
    with `generated`, tasks that have a generator get fresh instances instead, so any n works.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    tasks = list(dict.fromkeys(tasks))
    if not tasks:
        raise ValueError("no tasks given: pass at least one task name")
    rng = random.Random(f"latm:stream:{seed}")
    order = [tasks[i % len(tasks)] for i in range(n)]
    rng.shuffle(order)
    counts = {task: order.count(task) for task in tasks}
    pools = {task: _draw(task, counts[task], seed, generated, rng) for task in tasks if counts[task]}
    cursors = dict.fromkeys(tasks, 0)
    requests = []
    for index, task in enumerate(order):
        example = pools[task][cursors[task]]
        cursors[task] += 1
        request = {"id": f"s{seed}-{index:06d}", "input": example.input, "task": task}
        if with_targets:
            request["target"] = example.target
        requests.append(request)
    return requests


def _draw(task: str, count: int, seed: int, generated: bool, rng: random.Random) -> list:
    """count examples of one task: generated, or the test split reshuffled each time it runs out."""
    if generated and task in GENERATORS:
        return generate(task, count, seed)
    test = paper_split(task).test
    drawn: list = []
    while len(drawn) < count:
        batch = list(test)
        rng.shuffle(batch)
        drawn.extend(batch)
    return drawn[:count]


def write_jsonl(requests: Iterable[dict], path: str | Path) -> int:
    """Write requests one JSON object per line; returns lines written."""
    lines = [json.dumps(request, ensure_ascii=False) + "\n" for request in requests]
    Path(path).write_text("".join(lines), encoding="utf-8")
    return len(lines)
