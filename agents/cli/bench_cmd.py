"""`latm bench bbh ...`: runs bench/coc.py (the BBH direct / cot / coc benchmark) of the source checkout."""
from __future__ import annotations

import argparse
import runpy
from pathlib import Path

# Benchmarks live beside the packages in the source tree, not inside them.
BBH_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "coc.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` subcommand with its `bbh` benchmark."""
    parser = subparsers.add_parser("bench", help="run a benchmark and print its figures")
    benches = parser.add_subparsers(dest="bench", required=True)
    # Every word after `bbh` (dashes included) goes to the script, which parses its own options.
    bbh = benches.add_parser("bbh", add_help=False, prefix_chars="+",
                             help="BBH accuracy of direct, cot and coc (Chain of Code); "
                                  "`latm bench bbh --help` lists its options")
    bbh.add_argument("options", nargs="*", help="options of bench/coc.py")
    bbh.set_defaults(func=run_bbh)


def run_bbh(args: argparse.Namespace) -> int:
    """Run the BBH benchmark with the given options and print its report."""
    if not BBH_SCRIPT.exists():
        raise SystemExit(f"latm bench needs the source checkout: {BBH_SCRIPT} is missing; "
                         "run it from a clone installed with `pip install -e .`")
    script = runpy.run_path(str(BBH_SCRIPT), run_name="latm_bench")
    return script["main"](args.options)
