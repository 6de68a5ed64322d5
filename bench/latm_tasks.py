"""The tool-maker paper's protocol on its six tasks, through the real pipeline and configured endpoints.

Per task: items 0-2 go to the maker as training examples, items 5-7 are the validation (unit-test)
cases, items 10-249 are the test set. First, one task at a time, the six example requests (with their
targets) run and start the new-task path; then, through the same agents and store, the test
requests (targets used only for scoring), answered by the task's tool when one was verified, else
by the solver. A task with a tool answers its whole test set (`--tool-limit`; a tool costs no LLM
call); a task without one answers `--limit` items (the solver is the slow part here). Two
baselines answer test items with chain of thought and no tools: the maker's model and the cheap
(user) model.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.cli.run_cmd import print_event  # noqa: E402
from agents.llm.config import LLMConfig  # noqa: E402
from agents.making.maker import MakerConfig  # noqa: E402
from agents.pipeline.bootstrap import open_services  # noqa: E402
from agents.pipeline.config import PipelineConfig  # noqa: E402
from agents.pipeline.coordinator import CoordinatorConfig  # noqa: E402
from agents.pipeline.run import run_stream  # noqa: E402
from agents.tasks.bbh import PAPER_TASKS, paper_split  # noqa: E402

TEST_SET = 240  # the paper's test items per task: making is paid once and serves all of them


def example_lines(tasks: list[str]) -> list[str]:
    """Each task's three training and three validation requests, with targets: they start making."""
    splits = {task: paper_split(task) for task in tasks}
    return [json.dumps({"id": f"{task}/ex{i}", "input": ex.input, "task": task, "target": ex.target})
            for task, split in splits.items()
            for i, ex in enumerate(list(split.train[:3]) + list(split.validation[:3]))]


def test_lines(limits: dict[str, int | None]) -> list[str]:
    """Test requests of each task, up to its limit, interleaved as one mixed stream."""
    per_task = [[json.dumps({"id": f"{task}/t{i}", "input": ex.input, "task": task, "target": ex.target})
                 for i, ex in enumerate(paper_split(task).test[:limit])] for task, limit in limits.items()]
    return [line for row in itertools.zip_longest(*per_task) for line in row if line]


async def still_making(task: str, every_s: float = 60.0) -> None:
    """A line a minute while one task's making runs."""
    started = time.perf_counter()
    while True:
        await asyncio.sleep(every_s)
        print(f"  making {task}: {(time.perf_counter() - started) / 60:.0f} min so far", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> tuple[dict, list[dict], dict[str, float]]:
    store = Path(tempfile.mkdtemp()) / "tools.sqlite"
    maker = MakerConfig(samples_per_round=args.samples, rounds=args.rounds,
                        **({"shapes": tuple(args.shapes)} if args.shapes else {}))
    # The paper's protocol: one making attempt from the training examples. Test requests carry
    # targets for scoring only, so they must never become examples of a second attempt.
    config = PipelineConfig(store_path=str(store), users=2, maker=maker,
                            coordinator=CoordinatorConfig(remake_after=0))
    out = io.StringIO()
    started, done = time.perf_counter(), [0]
    making: dict[str, float] = {}  # task -> wall seconds its making took

    def on_event(kind: str, data: dict) -> None:
        if kind == "making":
            making[data["task"]] = -time.perf_counter()
        elif kind == "made" and data["task"] in making:
            making[data["task"]] += time.perf_counter()
        print_event(kind, data)

    def progress(record: dict) -> None:
        # A full run takes over an hour on the embedded model: say how far it is now and then.
        done[0] += 1
        if done[0] % 10 == 0:
            print(f"  {done[0]} answered, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    llm_config = LLMConfig.load(args.config)
    async with open_services(llm_config, config) as (services, _):
        # One task at a time: each making's time is its own, and its outcome is printed as it ends.
        figures: dict = {"made": []}
        for task in args.tasks:
            # A making takes many minutes on the embedded model: say it is still at work.
            heartbeat = asyncio.ensure_future(still_making(task))
            try:
                made, _ = await run_stream(example_lines([task]), services, io.StringIO(),
                                           config.coordinator, on_event=on_event)
            finally:
                heartbeat.cancel()
            figures["made"] += made.figures(llm_config.prices, "")["made"]
        verified = {m["task"] for m in figures["made"] if m.get("ok")}
        limits = {t: args.tool_limit if t in verified else args.limit for t in args.tasks}
        print(f"tools verified for {sorted(verified) or 'no task'}; test items per task: {limits}",
              file=sys.stderr, flush=True)
        await run_stream(test_lines(limits), services, out, config.coordinator,
                         on_result=progress, on_event=on_event)
    return figures, [json.loads(line) for line in out.getvalue().splitlines()], making


async def baselines(args: argparse.Namespace) -> dict[str, dict[str, dict]]:
    """Chain of thought, no tools, on the same test items: role -> task -> accuracy and cost."""
    from agents.llm.client import LLMClient
    from agents.solving.solver import Solver
    from agents.tasks.scoring import is_correct
    out: dict[str, dict[str, dict]] = {}
    llm = LLMClient(LLMConfig.load(args.config))
    try:
        for role in ("maker", "user"):
            solver = Solver(llm, sandbox=None, role=role, max_tokens={"cot": args.cot_tokens})
            for task in args.tasks:
                items = paper_split(task).test[:args.baseline_limit]
                right, cost, calls = 0, 0.0, 0
                for i, ex in enumerate(items):
                    result = await solver.solve(ex.input, "cot", task_hint=task)
                    right += bool(result.answer) and is_correct(result.answer, ex.target, task)
                    cost += sum(r.cost_usd for r in result.records)
                    calls += result.llm_calls
                    print(f"  [{role} cot] {task} {i + 1}/{len(items)}", file=sys.stderr, flush=True)
                n = len(items) or 1
                out.setdefault(role, {})[task] = {"accuracy": right / n, "cost": cost / n, "calls": calls / n,
                                                  "n": len(items)}
    finally:
        await llm.aclose()
    return out


def table(figures: dict, records: list[dict], tasks: list[str], seconds: dict[str, float]) -> dict[str, dict]:
    """Per task: tool made, making cost, test accuracy and LLM calls per test request."""
    made = {m["task"]: m for m in figures["made"]}
    per = defaultdict(lambda: {"n": 0, "correct": 0, "calls": 0, "tool": 0, "cost": 0.0})
    for r in records:
        if "/t" not in str(r.get("id")):
            continue
        row = per[r["task"]]
        row["n"] += 1
        row["correct"] += bool(r.get("correct"))
        row["calls"] += r.get("llm_calls") or 0
        row["tool"] += r.get("route") == "tool"
        row["cost"] += r.get("cost_usd") or 0.0
    rows = {}
    for task in tasks:
        m, p = made.get(task, {}), per[task]
        n = p["n"] or 1
        rows[task] = {"verified": bool(m.get("ok")), "samples": m.get("samples", 0),
                      "tokens": m.get("tokens", 0), "make_cost": m.get("cost_usd", 0.0),
                      "make_s": seconds.get(task, 0.0), "shape": m.get("shape") or "-",
                      # Making is paid once per task and serves its whole test set; answers
                      # cost what the requests run here cost on average.
                      "cost_per_request": p["cost"] / n + m.get("cost_usd", 0.0) / TEST_SET,
                      "accuracy": p["correct"] / p["n"] if p["n"] else 0.0,
                      "calls_per_request": p["calls"] / p["n"] if p["n"] else 0.0,
                      "tool_share": p["tool"] / p["n"] if p["n"] else 0.0, "n": p["n"]}
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(PAPER_TASKS), help="tasks to run")
    parser.add_argument("--limit", type=int, default=20,
                        help="test items of a task the solver answers (no tool verified)")
    parser.add_argument("--tool-limit", type=int, default=None,
                        help="test items of a task with a verified tool (default all 240)")
    parser.add_argument("--baseline-limit", type=int, default=None,
                        help="test items per task for the chain-of-thought baselines (default --limit)")
    parser.add_argument("--no-baselines", action="store_true", help="skip the chain-of-thought baselines")
    parser.add_argument("--cot-tokens", type=int, default=640,
                        help="token cap of a baseline's chain of thought (the solver's own is 400)")
    parser.add_argument("--samples", type=int, default=4, help="maker samples per round")
    parser.add_argument("--rounds", type=int, default=3, help="maker rounds per tool shape")
    parser.add_argument("--shapes", nargs="+", choices=["staged", "core", "end_to_end", "structured"],
                        help="tool shapes the maker tries, in order (default: the maker's own)")
    parser.add_argument("--config", help="LLM endpoint config file (default: env, else embedded model)")
    args = parser.parse_args()
    args.baseline_limit = args.baseline_limit or args.limit
    start = time.perf_counter()
    figures, records, seconds = asyncio.run(run(args))
    rows = table(figures, records, args.tasks, seconds)
    base = {} if args.no_baselines else asyncio.run(baselines(args))
    maker, cheap = base.get("maker", {}), base.get("user", {})
    print(f"{'task':<40} {'tool':>5} {'shape':>10} {'samples':>7} {'tokens':>7} {'make_s':>6} {'acc%':>6} "
          f"{'makerCoT%':>9} {'cheapCoT%':>9} {'tool%':>6} {'calls/req':>9} {'$/req':>9} {'makerCoT$/req':>13} {'n':>4}")
    for task, r in rows.items():
        m, c = maker.get(task, {}), cheap.get(task, {})
        print(f"{task:<40} {'yes' if r['verified'] else 'no':>5} {r['shape']:>10} {r['samples']:>7} {r['tokens']:>7} "
              f"{r['make_s']:>6.0f} {100 * r['accuracy']:>6.1f} {100 * m.get('accuracy', 0):>9.1f} "
              f"{100 * c.get('accuracy', 0):>9.1f} {100 * r['tool_share']:>6.1f} {r['calls_per_request']:>9.2f} "
              f"{r['cost_per_request']:>9.2e} {m.get('cost', 0):>13.2e} {r['n']:>4}")
    # Every task weighs the same (the paper's 240 test requests each), whatever was run here.
    calls = sum(r["calls_per_request"] for r in rows.values()) / max(1, len(rows))
    latm_cost = sum(r["cost_per_request"] for r in rows.values()) / max(1, len(rows))
    maker_cost = sum(m["cost"] for m in maker.values()) / len(maker) if maker else 0.0
    print(f"baseline items per task: {args.baseline_limit}; cost per request: the task's making "
          f"spread over its {TEST_SET} test requests plus the mean cost of the answers run here; "
          f"elapsed_s={time.perf_counter() - start:.1f}")
    line = " ".join(f"{t}={100 * r['accuracy']:.1f}" for t, r in rows.items())
    line += f" tools_verified={sum(r['verified'] for r in rows.values())} llm_calls_per_request={calls:.3f}"
    if maker:
        line += (f" maker_cot={100 * sum(m['accuracy'] for m in maker.values()) / len(maker):.1f}"
                 f" cheap_cot={100 * sum(c['accuracy'] for c in cheap.values()) / max(1, len(cheap)):.1f}"
                 f" cost_ratio={latm_cost / maker_cost if maker_cost else float('nan'):.3f}")
    print(line)


if __name__ == "__main__":
    main()
