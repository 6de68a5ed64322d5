"""`latm run requests.jsonl -o results.jsonl`: the main job over a stream of requests."""
from __future__ import annotations

import argparse
import asyncio
import errno
import json
import sys
import time
import uuid
from pathlib import Path

from agents.pipeline.config import PipelineConfig
from store.store_location import default_store_path


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    p = sub.add_parser("run", help="answer a JSONL stream of requests with cached or new tools",
                       description="Each input line is {\"id\", \"input\", \"task\"?, \"target\"?}; "
                                   "each output line is the answer, its route, LLM calls, tokens, "
                                   "cost per role, latency and error.")
    p.add_argument("requests", help="input JSONL file, or - for standard input")
    p.add_argument("-o", "--output", required=True, help="results JSONL file (appended with --resume)")
    add_pipeline_options(p)
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: keep the answers in the output file, answer the rest")
    p.add_argument("--summary-json", help="also write the summary as JSON to this file")
    p.set_defaults(func=run_command)


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `demo`."""
    p.add_argument("--config", help="LLM endpoint config file (YAML/TOML); default $LATM_CONFIG")
    p.add_argument("--store", default=None, help="tool cache SQLite file (default $LATM_STORE or .latm/tools.sqlite)")
    p.add_argument("--users", type=int, default=2, help="tool-user replicas (default 2)")
    p.add_argument("--solver-method", choices=["direct", "cot", "coc"], default="direct",
                   help="how the solver answers requests no tool serves (default direct)")
    p.add_argument("--remake-after", type=int, default=100,
                   help="solver answers of a kind whose tool making failed before making is tried "
                        "again with fresh examples, doubling after each failure; 0 never (default 100)")
    p.add_argument("--address", default=None, help="Ray cluster address (default: local, or $RAY_ADDRESS)")
    p.add_argument("--placement", action="store_true",
                   help="place maker/tool users by the cluster's custom resources (cluster.yaml)")
    p.add_argument("--tool-timeout", type=float, default=2.0, metavar="S",
                   help="wall-clock limit of one tool call in the sandbox, in seconds (default 2)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def pipeline_config(args: argparse.Namespace, **overrides) -> PipelineConfig:
    """Build the pipeline configuration from command-line options."""
    config = PipelineConfig(store_path=args.store or default_store_path(),
                            users=args.users, placement=args.placement, tool_timeout_s=args.tool_timeout,
                            **overrides)
    coordinator = config.coordinator.model_copy(update={"solver_method": args.solver_method,
                                                        "remake_after": args.remake_after})
    return config.model_copy(update={"coordinator": coordinator})


def run_command(args: argparse.Namespace) -> int:
    """Read the requests, run them, write results, print the summary."""
    from store.store_errors import ToolStoreError
    source = sys.stdin if args.requests == "-" else open(args.requests, encoding="utf-8")
    lines = source.readlines()
    if source is not sys.stdin:
        source.close()
    try:
        figures = asyncio.run(execute(lines, args, pipeline_config(args), resume=args.resume))
    except ToolStoreError as exc:
        print(f"latm run: stopped: {exc}\nEvery result already in {args.output} is kept: fix the problem, "
              f"then rerun with --resume.", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO):
            raise
        print(f"latm run: stopped: cannot write results ({exc.strerror}: {exc.filename or args.output}): free "
              f"space or pick a writable -o, then rerun with --resume; every complete line already written "
              f"is kept.", file=sys.stderr)
        return 2
    print_summary(figures)
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=2)
    return 0


async def execute(lines: list[str], args: argparse.Namespace, config: PipelineConfig,
                  resume: bool = False, on_result=None) -> dict:
    """Start the agents, stream the lines through them, and return the summary figures."""
    # Imported here so that other subcommands start without loading Ray and openai.
    from agents.llm.config import LLMConfig
    from agents.pipeline.bootstrap import open_services
    from agents.pipeline.run import run_stream
    llm_config = LLMConfig.load(args.config)
    ledger = LedgerWriter(str(Path(config.store_path).parent / "runs.sqlite"), str(Path(args.output).resolve()))
    skip = ledger.resume() if resume else ledger.start()
    bar = None if args.no_progress else progress_bar(len(lines) - len(skip))
    with open(args.output, "a" if resume else "w", encoding="utf-8") as out:
        async with open_services(llm_config, config, args.address) as (services, llm_config):
            def on_each(record: dict) -> None:
                ledger.add(record)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"{record.get('route')}")
                if on_result:
                    on_result(record)
            def on_event(kind: str, data: dict) -> None:
                ledger.event(kind, data)
                print_event(kind, data, bar)
            summary, _ = await run_stream(lines, services, out, config.coordinator, skip_ids=skip,
                                          on_result=on_each, on_event=on_event,
                                          run_id=ledger.run_id)
    ledger.flush()
    if bar is not None:
        bar.close()
    maker_model = llm_config.role("maker").model
    figures = summary.figures(llm_config.prices, maker_model)
    ledger.finish(figures)
    return {**figures, "run_id": ledger.run_id, "ledger": str(ledger.ledger.path)}


class LedgerWriter:
    """Records every result of the run in the SQLite run ledger, a few hundred rows per write."""

    def __init__(self, path: str, output: str, every: int = 200) -> None:
        from store.run_ledger import RunLedger
        self.ledger = RunLedger(path)
        self.output = output
        self.run_id = uuid.uuid4().hex[:12]
        self.every = every
        self._rows: list = []
        self.count = 0  # results so far: the stream position of each row and event
        self.events: list[dict] = []

    def start(self) -> set[str]:
        """A new run writing a fresh results file: nothing to skip."""
        self.ledger.start_run(self.run_id, self.output)
        return set()

    def resume(self) -> set[str]:
        """Continue the last run that wrote this results file: repair the file, make the ledger
        hold exactly its records (rows the crash kept from the ledger are added, rows of dropped
        lines removed), and return the ids already answered."""
        from agents.pipeline.results_file import final_id, prepare_resume
        kept = prepare_resume(self.output)
        self.run_id = self.ledger.last_run_for(self.output) or self.run_id
        self.ledger.start_run(self.run_id, self.output)
        # Batch output lines hold the response, not the run record: they have no ledger row to restore.
        self.ledger.reconcile(self.run_id, [self.row(record) for record in kept if "route" in record])
        return {final_id(record) for record in kept}

    def row(self, record: dict):
        """The ledger row of one results-file record."""
        from store.run_ledger import RunRow
        error = record.get("error") or {}
        return RunRow(
            run_id=self.run_id, request_id=str(record["id"]), route=record["route"],
            tool_id=record.get("tool_id"), version=record.get("tool_version"), answer=record.get("answer"),
            correct=record.get("correct"), llm_calls=record.get("llm_calls") or 0,
            tokens=(record.get("prompt_tokens") or 0) + (record.get("completion_tokens") or 0),
            cost=record.get("cost_usd") or 0.0, latency=record.get("latency_s") or 0.0,
            error=f"{error['code']}: {error['message']}" if error else None,
            extra={"seq": self.count, "t": round(time.time(), 4), "task": record.get("task"),
                   "usage": record.get("usage") or {}})

    def add(self, record: dict) -> None:
        self._rows.append(self.row(record))
        self.count += 1
        if len(self._rows) >= self.every:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self.ledger.record_many(self._rows)
            self._rows = []

    def event(self, kind: str, data: dict) -> None:
        """Note a tool-making event at its place in the stream (for `latm report`)."""
        event = {"kind": kind, "seq": self.count, "t": round(time.time(), 4),
                 **{k: v for k, v in data.items() if k != "tool"}}
        if data.get("tool") is not None:  # a ToolSpec: keep its id and version only
            event.update(tool_id=data["tool"].tool_id, version=data["tool"].version)
        self.events.append(event)

    def finish(self, figures: dict) -> None:
        """Write the remaining rows and the run's summary figures and events."""
        self.flush()
        self.ledger.record_info(self.run_id, {"figures": figures, "events": self.events})
        self.ledger.finish_run(self.run_id)


def print_event(kind: str, data: dict, bar=None) -> None:
    """Tool-making news, printed above the progress bar."""
    if kind == "making":
        again = f" (attempt {data['attempt']})" if data.get("attempt", 1) > 1 else ""
        line = (f"[maker] making a tool for {data['task']} from {data['train']} examples, "
                f"{data['validation']} held out{again}")
    elif kind == "made" and data.get("reused"):
        tool = data["tool"]
        line = (f"[maker] {data['task']}: the stored tool {tool.tool_id}@{tool.version} passes its "
                f"examples; reused, nothing made")
    elif kind == "made" and data["ok"]:
        tool = data["tool"]
        line = (f"[maker] verified and stored {tool.tool_id}@{tool.version} ({tool.shape}, "
                f"{data['samples']} samples, {data['tokens']} tokens); its requests now go to tool users")
    elif kind == "made":
        line = f"[maker] no tool for {data['task']}: {data['reason']}; the solver answers these requests"
    elif kind == "recalled_failure":
        line = (f"[coordinator] {data['task']}: making failed in earlier runs ({data['attempts']}x); "
                f"the solver answers, making is retried on the --remake-after schedule "
                f"(`latm tools failures --clear` to retry at once)")
    else:
        line = f"[coordinator] {kind}: {data}"
    if bar is not None and not bar.disable:
        bar.write(line)
    else:
        print(line, flush=True)


def progress_bar(total: int):
    """A progress bar on standard error (quiet when it is not a terminal)."""
    from tqdm import tqdm
    return tqdm(total=total, unit="req", file=sys.stderr, disable=not sys.stderr.isatty())


def print_summary(figures: dict) -> None:
    """The end-of-run summary, readable."""
    acc = figures["accuracy"]
    print("\n== latm run summary ==")
    print(f"requests            {figures['requests']}  (bad lines {figures['bad_lines']}, errors {figures['errors']})")
    print(f"accuracy            {'n/a' if acc is None else f'{acc:.1%}'} over {figures['scored']} with targets")
    print(f"cache hit rate      {figures['cache_hit_rate']:.1%}  (solver answered {figures['solver_answers']})")
    print(f"tools made          {figures['tools_made']}  (failed {figures['tools_failed']}, "
          f"stored tools reused for new kinds {figures['tools_reused']})")
    for m in figures["made"]:
        status = (f"reused {m['tool_id']}@{m['version']}" if m["reused"] else
                  f"made {m['tool_id']}@{m['version']}" if m["ok"] else f"not made: {m['reason']}")
        reuse = (f", then answered {m['answered']} requests ({m['answered_correct']} correct)"
                 if m["ok"] else "")
        print(f"  - {m['task']}: {status}  [{m['samples']} samples, {m['tokens']} tokens]{reuse}")
    made_here = {m["tool_id"] for m in figures["made"]}
    for tool_id, uses in sorted(figures["tool_uses"].items()):
        if tool_id not in made_here:
            print(f"  - {tool_id}: cached from an earlier run, answered {uses} requests")
    print(f"run ledger          run {figures['run_id']} in {figures['ledger']}")
    print(f"LLM calls/request   {figures['llm_calls_per_request']}  "
          f"({figures['llm_calls_per_request_with_making']} including tool making)")
    print(f"spend               ${figures['spend_usd']:.6f}  vs ${figures['all_maker_spend_usd']:.6f} "
          f"if {figures['maker_model'] or 'the maker model'} answered every request")
    for role, u in figures["spend_by_role"].items():
        print(f"  - {role:<10} {u['calls']:>5} calls {u['prompt_tokens']:>8} in {u['completion_tokens']:>7} out"
              f"  ${u['cost_usd']:.6f}")
