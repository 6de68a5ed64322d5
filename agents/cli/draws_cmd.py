"""`latm draws`: read a making journal back, one line per draw, or one draw in full."""
from __future__ import annotations

import argparse
import json
import sys

from agents.cli.tools_cmd import one_line, print_table
from agents.making.journal import JOURNAL_ENV, read_journal
from agents.making.staged_prompts import SLOW
from agents.making.feedback import raised


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `draws` subcommand."""
    draws = subparsers.add_parser(
        "draws", help=f"what the maker drew and how each draw fared (a run with {JOURNAL_ENV} set)")
    draws.add_argument("journal", help=f"the journal file ({JOURNAL_ENV}=draws.jsonl latm run ...)")
    draws.add_argument("--task", help="only this task")
    draws.add_argument("--show", type=int, metavar="N", help="draw N in full: conversation, reply")
    draws.add_argument("--json", action="store_true", help="machine-readable output")
    draws.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List the draws, or print one of them whole."""
    try:
        entries = read_journal(args.journal, args.task)
    except OSError as exc:
        print(f"latm draws: error: cannot read {args.journal}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    if args.show is not None:
        if not 1 <= args.show <= len(entries):
            print(f"latm draws: error: no draw {args.show}: the journal has {len(entries)}",
                  file=sys.stderr)
            return 1
        entry = entries[args.show - 1]
        print(json.dumps(entry, indent=1) if args.json else full(entry))
        return 0
    if args.json:
        print(json.dumps(entries, indent=1))
        return 0
    print_table(("#", "TASK", "SHAPE", "ASK", "PASSED", "FIRST FAILURE"),
                [(str(n), e.get("task", "?"), e.get("shape", "?"), e.get("ask", "?"),
                  outcome(e), first_failure(e)) for n, e in enumerate(entries, 1)])
    print(f"{len(entries)} draw(s) in {args.journal}")
    return 0


def outcome(entry: dict) -> str:
    """`passed/total`, or why the draw was never run: no code in the reply, or code already
    verified (a repeat)."""
    if entry.get("code") is None:
        return "no code"
    if "passed" not in entry:
        return "repeat"
    return f"{entry['passed']}/{entry.get('total', '?')}"


def first_failure(entry: dict) -> str:
    """The first failing case in one short line: input, expected, what came instead."""
    failures = entry.get("failures") or []
    if not failures:
        return ""
    case = failures[0]
    if case.get("error") == SLOW:
        got = "right, but slower than the making limit"
    else:
        got = raised(case["error"]) if case.get("error") else f"got {case.get('got')!r}"
    return one_line(f"{got}; want {case.get('expected')!r} for {case.get('input')}", 110)


def full(entry: dict) -> str:
    """Every message of the draw's conversation, its reply and its failures."""
    parts = [f"{entry.get('task')} · {entry.get('shape')} · {entry.get('ask')} · {outcome(entry)}"]
    for message in entry.get("conversation") or []:
        parts.append(f"--- {message.get('role')}\n{message.get('content')}")
    parts.append(f"--- reply\n{entry.get('reply')}")
    for case in entry.get("failures") or []:
        parts.append(f"--- failed: {json.dumps(case)}")
    return "\n".join(parts)

