"""Tool store figures: put, get, search over 1000 tools, batched stats, and the stream generator."""
from __future__ import annotations

import random
import re
import tempfile
import time
from pathlib import Path

from agents.tasks.bbh import PAPER_TASKS, available_tasks, load_task, paper_split
from agents.tasks.stream import mixed_stream
from bus.wire.tool_spec import Example, ToolSpec
from store.tool_store import ToolStore

N_TOOLS = 1000


def build(store: ToolStore) -> list[ToolSpec]:
    """1000 synthetic tools worded with benchmark vocabulary, plus the six paper tasks' tools."""
    rng = random.Random(0)
    vocab = sorted({w for t in available_tasks() for e in load_task(t)[:30] for w in re.findall(r"[a-z]+", e.input.lower())})
    specs = []
    for i in range(N_TOOLS):
        template = rng.sample(vocab, 8)
        tests = tuple(Example(input=" ".join(template + rng.sample(vocab, 6)), target="x") for _ in range(3))
        specs.append(ToolSpec(tool_id=f"synthetic_{i}", task=f"synthetic_{i}", code=f"def solve(q):\n    return {i}\n",
                              docstring=" ".join(rng.sample(vocab, 10)), tests=tests))
    for task in PAPER_TASKS:
        specs.append(ToolSpec(tool_id=task, task=task, code=f"def solve(q):\n    return {task!r}\n",
                              docstring=f"Solves {task.replace('_', ' ')} requests.", tests=tuple(paper_split(task).train[:3])))
    return specs


def main() -> None:
    """Print the figures; the last line is name=value pairs."""
    folder = Path(tempfile.mkdtemp())
    store = ToolStore(folder / "tools.sqlite")
    specs = build(store)
    start = time.perf_counter()
    for spec in specs:
        store.put(spec)
    put_ms = (time.perf_counter() - start) / len(specs) * 1e3
    start = time.perf_counter()
    store.search("warm up")
    index_s = time.perf_counter() - start
    queries = [e.input for task in PAPER_TASKS for e in paper_split(task).test[:50]]
    start = time.perf_counter()
    top1 = sum(store.search(q, k=3)[0][0].task == task for task in PAPER_TASKS for q in
               [e.input for e in paper_split(task).test[:50]])
    search_ms = (time.perf_counter() - start) / len(queries) * 1e3
    start = time.perf_counter()
    for spec in specs[:500]:
        store.get(spec.tool_id, spec.version)
    get_us = (time.perf_counter() - start) / 500 * 1e6
    events = [(spec.tool_id, spec.version, i % 7 != 0, 1) for i, spec in enumerate(specs * 10)]
    start = time.perf_counter()
    store.record_uses(events)
    stats_us = (time.perf_counter() - start) / len(events) * 1e6
    start = time.perf_counter()
    mixed_stream(10000, seed=0)
    stream_s = time.perf_counter() - start
    print(f"{len(specs)} tools; put {put_ms:.2f} ms each; index build {index_s:.2f} s")
    print(f"search {search_ms:.2f} ms/query, top-1 right on {top1}/{len(queries)} paper-task test requests")
    print(f"get by version {get_us:.0f} us; batched record_uses {stats_us:.1f} us/event; 10000-request stream {stream_s:.2f} s")
    print(f"tools={len(specs)} put_ms={put_ms:.2f} index_build_s={index_s:.2f} search_ms={search_ms:.2f} "
          f"top1={top1 / len(queries):.3f} get_us={get_us:.0f} record_use_us={stats_us:.1f} stream_10k_s={stream_s:.2f}")


if __name__ == "__main__":
    main()
