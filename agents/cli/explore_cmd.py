"""`latm explore TOOL | --apis FILE`: practise on tools (simulated trial and error) and keep demos."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys

from store.store_location import default_store_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `explore` subcommand."""
    p = subparsers.add_parser("explore", help="explore a structured tool or external APIs; good trials become demos")
    p.add_argument("tool", nargs="?", help="a stored structured tool id")
    p.add_argument("--apis", help="JSON list of API descriptions to explore (simulated unless they name an endpoint)")
    p.add_argument("--only", action="append", default=[], help="with --apis: only this API name (repeatable)")
    p.add_argument("--limit", type=int, default=0, help="with --apis: only the first N APIs")
    p.add_argument("--simulate", action="store_true", help="simulate APIs even when they name an endpoint")
    p.add_argument("--episodes", type=int, default=1, help="episodes per tool (default 1)")
    p.add_argument("--trials", type=int, default=3, help="imagined queries per episode (default 3)")
    p.add_argument("--corrections", type=int, default=1, help="corrective calls after a failed call (default 1)")
    p.add_argument("--store", default=None, help="store file (default: $LATM_STORE or .latm/tools.sqlite)")
    p.add_argument("--config", default=None, help="LLM config file (default: env, else the embedded model)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the arguments, explore, print the summary; exit code 1 when nothing could be explored."""
    from agents.exploring.api_catalog import ApiCatalogError, load_api_list
    if bool(args.tool) == bool(args.apis):
        print("latm explore: error: give a tool id or --apis FILE (one of them)", file=sys.stderr)
        return 2
    apis = []
    if args.apis:
        try:
            apis = load_api_list(args.apis)
        except ApiCatalogError as exc:
            print(f"latm explore: error: {exc}", file=sys.stderr)
            return 1
        apis = [a for a in apis if not args.only or a.name in args.only]
        apis = apis[: args.limit] if args.limit > 0 else apis
        if not apis:
            print("latm explore: error: no API left to explore (check --only / --limit)", file=sys.stderr)
            return 1
    summary = asyncio.run(explore(args, apis))
    print(json.dumps(summary, indent=1) if args.json else render(summary))
    return 1 if summary["errors"] and not summary["trials"] else 0


async def explore(args: argparse.Namespace, apis: list) -> dict:
    """Run the Explorer in this process over every target, with a progress bar."""
    from tqdm import tqdm

    from agents.llm.config import LLMConfig
    from agents.llm.embedded import configure_with_embedded
    from agents.pipeline import bootstrap
    from bus.wire.messages import ExploreTool
    from bus.wire.spend import Spend

    llm_config = configure_with_embedded(LLMConfig.load(args.config))
    explorer = bootstrap.explorer(args.store or default_store_path(), llm_config,
                                  simulate_http=args.simulate).build()
    budget = dict(episodes=args.episodes, trials=args.trials, corrections=args.corrections)
    targets = [ExploreTool(api=api, **budget) for api in apis] or [ExploreTool(tool_id=args.tool, **budget)]
    bar = tqdm(total=len(targets), unit="tool", file=sys.stderr, disable=not sys.stderr.isatty())
    results = []
    try:
        await explorer.start()
        for msg in targets:
            results.append(await explorer.explore(msg))
            bar.update(1)
            bar.set_postfix_str(f"demos {sum(r.demos_kept for r in results)}")
    finally:
        bar.close()
        await explorer.close()
    spend = Spend.total(r.spend for r in results)
    return {"tools": len(results), "episodes": sum(r.episodes for r in results),
            "trials": sum(r.trials for r in results), "successes": sum(r.successes for r in results),
            "demos_kept": sum(r.demos_kept for r in results), "step_errors": sum(r.step_errors for r in results),
            "errors": [f"{r.tool}: {r.error.message}" for r in results if r.error],
            "usage": [u.model_dump() for u in spend.roles], "store": str(explorer.demos.path)}


def render(summary: dict) -> str:
    """The summary as a few lines of text."""
    lines = [f"explored {summary['tools']} tool(s): {summary['episodes']} episode(s), {summary['trials']} trial(s), "
             f"{summary['successes']} success(es), {summary['demos_kept']} demo(s) kept, "
             f"{summary['step_errors']} unusable model step(s)"]
    lines += [f"  error: {e}" for e in summary["errors"]]
    for u in summary["usage"]:
        lines.append(f"  - {u['role']:<10} {u['calls']:>4} calls {u['prompt_tokens']:>8} in "
                     f"{u['completion_tokens']:>7} out  ${u['cost_usd']:.6f}")
    lines.append(f"demos in {summary['store']} (`latm tools demos TOOL`)")
    return "\n".join(lines)
