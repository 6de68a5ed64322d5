"""The `latm` command line: one subcommand per module, each adding its own parser."""
from __future__ import annotations

import argparse
import importlib
import sys

# Each module defines `register(subparsers)` and sets `func` on its parser.
COMMAND_MODULES = [
    "agents.cli.run_cmd",
    "agents.cli.demo_cmd",
    "agents.cli.doctor",
    "agents.cli.models_cmd",
    "agents.cli.solve",
    "agents.cli.bench_cmd",
    "agents.cli.tools_cmd",
    "agents.cli.draws_cmd",
    "agents.cli.stream_cmd",
    "agents.cli.serve_cmd",
    "agents.cli.report_cmd",
    "agents.cli.explore_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    """Collect every subcommand into one parser."""
    parser = argparse.ArgumentParser(prog="latm", description="LLMs make their own tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
