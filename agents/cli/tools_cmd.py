"""`latm tools list|show|export|import|rm|quarantine|activate`: inspect and move the tool cache."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from store.store_errors import ToolStoreError
from store.store_location import DEFAULT_STORE_PATH, default_store_path
from store.tool_store import ToolStore


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `tools` and its subcommands to the `latm` parser."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", default=None, help=f"tool store file (default: $LATM_STORE or {DEFAULT_STORE_PATH})")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    tools = subparsers.add_parser("tools", help="list, show, export, import or remove cached tools")
    actions = tools.add_subparsers(dest="tools_command", required=True)
    listing = actions.add_parser("list", parents=[common], help="one line per tool id")
    listing.add_argument("--status", choices=("active", "quarantined"), help="only tools with this status")
    show = actions.add_parser("show", parents=[common], help="everything about one tool")
    show.add_argument("tool_id")
    show.add_argument("--version", help="a specific version (default: the one served)")
    export = actions.add_parser("export", parents=[common], help="write tools as JSON lines")
    export.add_argument("file", help="output file, '-' for stdout")
    export.add_argument("--tool", dest="tool_id", help="only this tool id")
    imported = actions.add_parser("import", parents=[common], help="read tools written by `export`")
    imported.add_argument("file", help="input file, '-' for stdin")
    for name, text in (("rm", "delete every version of a tool"), ("quarantine", "stop serving a tool"),
                       ("activate", "serve a quarantined tool again")):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("tool_id")
    demos = actions.add_parser("demos", parents=[common], help="demos explored for a tool (all tools: counts)")
    demos.add_argument("tool_id", nargs="?", help="tool id or API name (default: every tool with demos)")
    failures = actions.add_parser("failures", parents=[common],
                                  help="kinds the maker failed on (they skip making until retried)")
    failures.add_argument("task", nargs="?", help="only this task label or fingerprint")
    failures.add_argument("--clear", action="store_true", help="forget them: the next run makes again")
    tools.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the subcommand; store errors become one line on stderr and exit code 1."""
    path = Path(args.store or default_store_path())
    if args.tools_command not in ("import",) and not path.exists():
        if args.tools_command == "list":
            print("[]" if args.json else f"no tools: no store at {path} yet (`latm run` creates it)")
            return 0
        print(f"latm tools: error: no store at {path}: pass --store PATH or set LATM_STORE", file=sys.stderr)
        return 1
    try:
        store = ToolStore(path)
        return COMMANDS[args.tools_command](store, args)
    except ToolStoreError as exc:
        print(f"latm tools: error: {exc}", file=sys.stderr)
        return 1


def list_tools(store: ToolStore, args: argparse.Namespace) -> int:
    """Print the summaries as a table or JSON."""
    summaries = store.list(status=args.status)
    if args.json:
        print(json.dumps([summary.model_dump() for summary in summaries], indent=1))
        return 0
    header = ("TOOL_ID", "TASK", "VERSION", "SHAPE", "STATUS", "VERSIONS", "USES", "FAILURES", "CREATED")
    rows = [(s.tool_id, s.task, s.version, s.shape, s.status, str(s.versions), str(s.uses), str(s.failures),
             _when(s.created_at)) for s in summaries]
    print_table(header, rows)
    print(f"{len(rows)} tool(s) in {store.path}")
    return 0


def show_tool(store: ToolStore, args: argparse.Namespace) -> int:
    """Print one tool version: identity, health, provenance, tests, demos and code."""
    spec = store.get(args.tool_id, args.version) or store.require(args.tool_id, args.version)
    stats = store.stats(spec.tool_id, spec.version)
    if args.json:
        payload = {"version": spec.version, "versions": store.versions(spec.tool_id), **spec.model_dump(mode="json"),
                   "uses": stats.uses, "failures": stats.failures}
        print(json.dumps(payload, indent=1))
        return 0
    p = spec.provenance
    print(f"{spec.tool_id}  version {spec.version}  ({spec.status}, {spec.shape})")
    print(f"task: {spec.task}\nentry: {spec.entry}{spec.signature if spec.signature.startswith('(') else ''}")
    if spec.signature and not spec.signature.startswith("("):
        print(f"signature: {spec.signature}")
    print(f"docstring: {spec.docstring}")
    print(f"versions: {', '.join(store.versions(spec.tool_id))}")
    print(f"uses: {stats.uses}  failures: {stats.failures}")
    print(f"made by: {p.maker_model or '?'} prompt {p.prompt_version or '?'}; {p.samples} samples, {p.rounds} rounds, "
          f"{p.prompt_tokens}+{p.completion_tokens} tokens, ${p.cost_usd:.4f}; created {_when(p.created_at)}"
          + (f"; replaces {p.parent_version}" if p.parent_version else ""))
    print(f"tests passed: {len(spec.tests)}")
    for demo in spec.demos:
        print(f"demo: {one_line(demo.input)}\n  call: {one_line(demo.call)}\n  -> {one_line(demo.output)}")
    print("code:\n" + spec.code.rstrip())
    return 0


def export_tools(store: ToolStore, args: argparse.Namespace) -> int:
    """Write JSON lines to a file or stdout."""
    count = store.export(sys.stdout if args.file == "-" else args.file, tool_id=args.tool_id)
    if args.file != "-":
        _report(args, {"exported": count, "file": args.file}, f"exported {count} tool version(s) to {args.file}")
    return 0


def import_tools(store: ToolStore, args: argparse.Namespace) -> int:
    """Read JSON lines; refused records are listed and make the exit code 1."""
    report = store.import_(sys.stdin if args.file == "-" else args.file)
    for error in report.errors:
        print(f"latm tools: refused {error}", file=sys.stderr)
    _report(args, report.model_dump(),
            f"imported {report.imported}, already present {report.existing}, refused {len(report.errors)}")
    return 1 if report.errors else 0


def remove_tool(store: ToolStore, args: argparse.Namespace) -> int:
    """Delete a tool id with all its versions."""
    count = store.remove(args.tool_id)
    _report(args, {"removed": count, "tool_id": args.tool_id}, f"removed {args.tool_id} ({count} version(s))")
    return 0


def set_status(status: str):
    """A subcommand that sets every version of a tool to `status`."""
    def command(store: ToolStore, args: argparse.Namespace) -> int:
        """Change the status and say so."""
        count = store.set_status(args.tool_id, status)
        _report(args, {"tool_id": args.tool_id, "status": status, "versions": count},
                f"{args.tool_id}: {count} version(s) now {status}")
        return 0
    return command


def making_failures(store: ToolStore, args: argparse.Namespace) -> int:
    """List (or clear) the kinds whose tool making failed."""
    if args.clear:
        count = store.failures.clear(args.task)
        _report(args, {"cleared": count}, f"cleared {count} making failure record(s)")
        return 0
    found = store.failures.list(args.task)
    if args.json:
        print(json.dumps([f.model_dump() for f in found], indent=1))
        return 0
    print_table(("TASK", "ATTEMPTS", "LAST", "REASON"),
                [(f.task, str(f.attempts), _when(f.last_at), one_line(f.reason, 80)) for f in found])
    print(f"{len(found)} kind(s) without a tool in {store.path}")
    return 0


def list_demos(store: ToolStore, args: argparse.Namespace) -> int:
    """Print a tool's explored demos (query, call, result), or the demo count of every tool."""
    from store.tool_demos import ToolDemos
    demos = ToolDemos(store.path)
    if not args.tool_id:
        counts = demos.tools()
        print(json.dumps(counts, indent=1) if args.json else
              "\n".join([f"{tool}  {n} demo(s)" for tool, n in counts.items()] + [f"{len(counts)} tool(s) with demos"]))
        return 0
    found = demos.list(args.tool_id)
    if args.json:
        print(json.dumps([d.model_dump(mode="json") for d in found], indent=1))
        return 0
    for demo in found:
        print(f"query: {one_line(demo.query)}\n  call: {demo.call.name} {json.dumps(demo.call.arguments)}\n"
              f"  -> {one_line(demo.observation)}")
    print(f"{len(found)} demo(s) of {args.tool_id} in {store.path}")
    return 0


COMMANDS = {"list": list_tools, "show": show_tool, "export": export_tools, "import": import_tools,
            "rm": remove_tool, "quarantine": set_status("quarantined"), "activate": set_status("active"),
            "failures": making_failures, "demos": list_demos}


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Left-aligned columns sized to their widest cell."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _report(args: argparse.Namespace, payload: dict, text: str) -> None:
    """Print a result as JSON or as a sentence."""
    print(json.dumps(payload) if args.json else text)


def _when(timestamp: float) -> str:
    """Unix time as local 'YYYY-MM-DD HH:MM'."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "-"


def one_line(text: str, width: int = 100) -> str:
    """One line, cut to width."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 3] + "..."
