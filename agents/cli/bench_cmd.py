"""`latm bench bbh ...`: the BBH direct / cot / coc benchmark (same as bench/coc.py)."""
from __future__ import annotations

import argparse
import asyncio


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand with its `bbh` benchmark."""
    from agents.lmulator.bbh_bench import add_arguments

    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures")
    benches = parser.add_subparsers(dest="bench", required=True)
    bbh = benches.add_parser("bbh", help="BBH accuracy of direct, cot and coc (Chain of Code)")
    add_arguments(bbh)
    bbh.set_defaults(func=run_bbh)


def run_bbh(args: argparse.Namespace) -> int:
    """Run the BBH benchmark and print its report."""
    from agents.lmulator.bbh_bench import main_async

    print(asyncio.run(main_async(args)))
    return 0
