"""`latm stream`: write a shuffled JSONL stream of requests mixing benchmark tasks, for `latm run`."""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from agents.tasks.bbh import PAPER_TASKS, TaskDataError
from agents.tasks.stream import mixed_stream, write_jsonl


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `stream` to the `latm` parser."""
    parser = subparsers.add_parser("stream", help="write a mixed request stream (JSONL) for `latm run`")
    parser.add_argument("-n", type=int, default=100, help="number of requests (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same stream")
    parser.add_argument("--tasks", nargs="+", default=list(PAPER_TASKS),
                        help="task names, space or comma separated (default: the six tasks of the LATM paper)")
    parser.add_argument("--no-generated", dest="generated", action="store_false",
                        help="draw every task from its test split, even tasks that have a generator")
    parser.add_argument("--no-targets", dest="targets", action="store_false", help="leave out the target answers")
    parser.add_argument("-o", "--output", default="-", help="output file (default '-': stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the stream and write it; data problems become one line on stderr and exit code 1."""
    tasks = [name for item in args.tasks for name in item.split(",") if name]
    try:
        requests = mixed_stream(args.n, seed=args.seed, tasks=tasks, generated=args.generated,
                                with_targets=args.targets)
    except (TaskDataError, ValueError) as exc:
        print(f"latm stream: error: {exc}", file=sys.stderr)
        return 1
    if args.output == "-":
        for request in requests:
            sys.stdout.write(json.dumps(request, ensure_ascii=False) + "\n")
    else:
        write_jsonl(requests, args.output)
    counts = Counter(request["task"] for request in requests)
    where = "stdout" if args.output == "-" else args.output
    print(f"wrote {len(requests)} requests to {where}: " + ", ".join(f"{t}={c}" for t, c in counts.items()),
          file=sys.stderr)
    return 0
