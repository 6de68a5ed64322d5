"""`latm report RUN`: one self-contained HTML page of a run, from the run ledger."""
from __future__ import annotations

import argparse
from pathlib import Path

from store.store_location import default_store_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    p = sub.add_parser("report", help="write an HTML page of a run (plots inline, no network needed)",
                       description="Cache hit rate and cumulative spend over the stream against the "
                                   "all-maker-model baseline, latency percentiles per route, tools made "
                                   "and their use, failures by kind.")
    p.add_argument("run", nargs="?", help="run id (as printed by latm run / latm serve); default: the latest")
    p.add_argument("--ledger", default=None,
                   help="run ledger (default runs.sqlite beside $LATM_STORE or .latm/tools.sqlite)")
    p.add_argument("-o", "--output", default=None, help="HTML file (default report-RUN.html)")
    p.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Read the run from the ledger and write the page."""
    from agents.serving.report_page import render_report
    from store.run_ledger import RunLedger
    path = Path(args.ledger or Path(default_store_path()).parent / "runs.sqlite")
    if not path.exists():
        print(f"latm report: no run ledger at {path}; pass --ledger FILE (runs.sqlite beside the tool store)")
        return 2
    ledger = RunLedger(path)
    runs = ledger.runs()
    run_id = args.run or ledger.latest_run()
    if run_id not in runs:
        known = ", ".join(runs[-10:]) or "none"
        print(f"latm report: no run {run_id!r} in {path}; runs there: {known}")
        return 2
    out = Path(args.output or f"report-{run_id}.html")
    out.write_text(render_report(run_id, ledger.rows(run_id), ledger.info(run_id)), encoding="utf-8")
    print(f"latm report: {out} ({len(ledger.rows(run_id))} requests)")
    return 0
