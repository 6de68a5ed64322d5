"""`latm demo`: the main job on the embedded model, offline: a mixed stream over the paper's six tasks."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import Counter
from pathlib import Path

from agents.cli.run_cmd import add_pipeline_options, execute, pipeline_config, print_summary
from agents.making.maker import MakerConfig
from agents.tasks.bbh import PAPER_TASKS
from agents.tasks.stream import mixed_stream

# The paper's tasks whose questions share a frame: the ones a small maker can make tools for,
# so a demo on two shared cores shows making and reuse in minutes. `--tasks` picks others.
DEMO_TASKS = ("word_sorting", "chinese_remainder_theorem", "schedule_meeting", "dyck_languages")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `demo` subcommand."""
    p = sub.add_parser("demo", help="run a small mixed stream end to end (embedded model by default)",
                       description="Writes a seeded mixed request stream over tasks of the "
                                   "tool-maker paper, runs it, and shows tools being made, verified "
                                   "and reused. Runs offline on the embedded model when no endpoint "
                                   "is configured.")
    p.add_argument("-n", type=int, default=40, help="requests in the stream (default 40, 10 per task)")
    p.add_argument("--seed", type=int, default=1, help="stream seed")
    p.add_argument("--tasks", nargs="+", default=list(DEMO_TASKS), choices=list(PAPER_TASKS),
                   metavar="TASK", help=f"tasks of the stream (default: {' '.join(DEMO_TASKS)})")
    p.add_argument("--dir", default=".latm/demo", help="where the stream, results and tool store go")
    p.add_argument("--samples", type=int, default=3, help="maker samples per round (default 3)")
    p.add_argument("--rounds", type=int, default=1, help="maker rounds per tool shape (default 1)")
    # Two examples often share a word by chance ("a field of ..."), which the frame then keeps.
    p.add_argument("--examples", type=int, default=3,
                   help="examples shown to the maker, and as many held out (default 3)")
    p.add_argument("--end-to-end", action="store_true",
                   help="also try whole end-to-end tools when core and staged ones fail (slower)")
    add_pipeline_options(p)
    p.set_defaults(func=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    """Generate the stream, run it, and print what happened."""
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    requests = work / "requests.jsonl"
    rows = mixed_stream(args.n, seed=args.seed, tasks=args.tasks)
    requests.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args.output = str(work / "results.jsonl")
    args.store = args.store or str(work / "tools.sqlite")
    kinds = Counter(r["task"] for r in rows)
    print(f"latm demo: {len(rows)} requests over {len(kinds)} tasks -> {requests}")
    for task, n in sorted(kinds.items()):
        print(f"  {n:>3} x {task}")
    if not any(os.environ.get(k) for k in ("OPENAI_BASE_URL", "LATM_MAKER_BASE_URL", "LATM_CONFIG")) \
            and not args.config:
        print("no endpoint configured: the maker and solver use the embedded Qwen2.5-Coder-1.5B, "
              "the tool users and dispatcher the embedded SmolLM2-135M (offline)")
    # The embedded models are the only heavy processes of a demo: give them both cores.
    os.environ.setdefault("LATM_EMBEDDED_THREADS", "2")
    shapes = ("core", "staged") + (("end_to_end",) if args.end_to_end else ())
    maker = MakerConfig(samples_per_round=args.samples, rounds=args.rounds, max_tokens=500,
                        shapes=shapes)
    config = pipeline_config(args, maker=maker)
    coordinator = config.coordinator.model_copy(
        update={"train_examples": args.examples, "validation_examples": args.examples})
    config = config.model_copy(update={"coordinator": coordinator})
    lines = requests.read_text().splitlines()
    figures = asyncio.run(execute(lines, args, config))
    print_summary(figures)
    print(f"\nresults: {args.output}   tools: latm tools list --store {args.store}")
    return 0
