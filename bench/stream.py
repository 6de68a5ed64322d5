"""Throughput of the cached path: a mixed stream with every tool already made, LLM = zero-latency stub.

Phase 1 (warm-up) makes one tool per task through the real pipeline: the stub's solver labels the
first requests with a constant and the stub's maker returns a function returning that constant, so
the tools verify. Phase 2 (measured) sends N mixed requests; each should be a cache hit needing no LLM
call. The scripted tool is a stand-in for throughput only: this benchmark reports no accuracy.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.stub_llm_server import StubLLMServer  # noqa: E402
from agents.pipeline.bootstrap import open_services  # noqa: E402
from agents.pipeline.config import PipelineConfig  # noqa: E402
from agents.pipeline.run import run_stream  # noqa: E402
from agents.tasks.bbh import PAPER_TASKS  # noqa: E402
from agents.tasks.stream import mixed_stream  # noqa: E402

CONSTANT_TOOL = "```python\ndef solve(question: str) -> str:\n    return '42'\n```"


def request_lines(n: int, seed: int, labelled: bool) -> list[str]:
    """N mixed requests without targets (labels come from the stub solver)."""
    rows = mixed_stream(n, seed=seed)
    return [json.dumps({"id": f"r{i}", "input": r["input"], **({"task": r["task"]} if labelled else {})})
            for i, r in enumerate(rows)]


async def main_async(args: argparse.Namespace) -> dict:
    stub = StubLLMServer().start()
    stub.script(CONSTANT_TOOL, role="maker")
    stub.script("42", role="solver")
    stub.script("42", role="lmulator")
    stub.script({"choice": 1}, role="dispatcher")
    store = Path(tempfile.mkdtemp()) / "tools.sqlite"
    config = PipelineConfig(store_path=str(store), users=args.users, batch_size=args.batch)
    try:
        async with open_services(stub.config(), config) as (services, _):
            warm = request_lines(len(PAPER_TASKS) * 12, seed=1, labelled=args.labelled)
            summary, _ = await run_stream(warm, services, io.StringIO(), config.coordinator)
            print(f"warm-up: tools made {sum(m.ok for m in summary.made)}/{len(summary.made)}")
            lines = request_lines(args.n, seed=2, labelled=args.labelled)
            calls_before = len(stub.calls())
            start = time.perf_counter()
            summary, _ = await run_stream(lines, services, io.StringIO(), config.coordinator)
            elapsed = time.perf_counter() - start
            calls = len(stub.calls()) - calls_before
    finally:
        stub.stop()
    return {"requests": summary.requests, "elapsed_s": elapsed, "hits": summary.tool_answers,
            "requests_per_s": summary.requests / elapsed, "llm_calls_per_request": calls / summary.requests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10000, help="measured requests (default 10000)")
    parser.add_argument("--users", type=int, default=2, help="tool-user replicas")
    parser.add_argument("--batch", type=int, default=128, help="messages per actor call")
    parser.add_argument("--unlabelled", dest="labelled", action="store_false",
                        help="omit task labels so the dispatcher's retrieval picks the tool")
    args = parser.parse_args()
    r = asyncio.run(main_async(args))
    print(f"requests={r['requests']} elapsed_s={r['elapsed_s']:.2f} cache_hits={r['hits']}")
    print(f"requests_per_s={r['requests_per_s']:.0f} llm_calls_per_request={r['llm_calls_per_request']:.4f}")


if __name__ == "__main__":
    main()
