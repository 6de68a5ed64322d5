"""`latm doctor`: check every role's endpoint answers (starting the embedded model if needed)."""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from agents.llm.config import LLMConfig
from agents.llm.errors import LLMError


def register(subparsers: Any) -> None:
    """Add the `doctor` subcommand."""
    parser = subparsers.add_parser("doctor", help="check LLM endpoints, the embedded model and "
                                   "the sandbox; non-zero exit when something is wrong")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--config", default=None, help="LLM config file (default $LATM_CONFIG)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for each endpoint's one-token answer")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Diagnose, print, and return the exit code."""
    report = diagnose(args.config, args.timeout)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render(report))
    return 0 if report["ok"] else 1


def diagnose(config_path: str | None = None, timeout_s: float = 60.0) -> dict:
    """Check config, embedded model, each role's endpoint and the sandbox; return a report."""
    problems: list[str] = []
    report: dict[str, Any] = {"ok": False, "roles": {}, "embedded": {}, "sandbox": None,
                              "problems": problems}
    try:
        config = LLMConfig.load(config_path)
    except LLMError as exc:
        problems.append(str(exc))
        return report
    report["embedded"] = embedded_status(config, problems)
    for name, status in report["embedded"].items():
        for role in status["roles"]:
            if status.get("base_url"):  # a model that did not start leaves its roles failing
                config = config.with_role(role, base_url=status["base_url"], model=name,
                                          embedded=True, embedded_model=name,
                                          api_key_env="LATM_EMBEDDED_NO_KEY")
    # Fail fast on doctor: one attempt with the doctor's timeout, no retries.
    config = config.with_all_roles(max_retries=0)
    config = config.model_copy(update={"roles": {
        r: c.model_copy(update={"timeout_s": min(c.timeout_s, timeout_s)})
        for r, c in config.roles.items()}})
    report["roles"] = asyncio.run(check_roles(config, problems))
    for entry in report["roles"].values():
        served = report["embedded"].get(entry["embedded_model"] or "", {})
        entry["gguf"] = served.get("gguf")
    report["sandbox"] = sandbox_status()
    report["ok"] = not problems
    return report


def embedded_status(config: LLMConfig, problems: list[str]) -> dict:
    """Per embedded model the unconfigured roles need: its file and its (re)used server."""
    from agents.llm.embedded import EmbeddedModel
    from agents.llm.model_assembly import gguf_path
    by_model: dict[str, list[str]] = {}
    for role in config.unconfigured_roles():
        by_model.setdefault(config.embedded_model_for(role), []).append(role)
    report: dict[str, dict] = {}
    for name, roles in by_model.items():
        status: dict[str, Any] = {"roles": roles}
        report[name] = status
        try:
            server = EmbeddedModel.shared(name)
            status["gguf"] = str(gguf_path(server.spec))
            started = time.perf_counter()
            status["base_url"] = server.ensure_started()
            status["start_s"] = round(time.perf_counter() - started, 2)
            status["n_ctx"] = server.n_ctx
            status["threads"] = server.settings.n_threads
        except LLMError as exc:
            problems.append(f"embedded model {name} (serves {', '.join(roles)}): {exc}")
            status["error"] = str(exc)
    return report


async def check_roles(config: LLMConfig, problems: list[str]) -> dict:
    """Ping each distinct endpoint once with a one-token chat; report per role."""
    from agents.llm.client import LLMClient
    client = LLMClient(config, auto_embedded=False)
    first_role: dict[tuple, str] = {}
    for role, cfg in config.roles.items():
        first_role.setdefault((cfg.base_url, cfg.model, cfg.api_key_env), role)
    results = await asyncio.gather(*[ping(client, role) for role in first_role.values()])
    by_key = dict(zip(first_role, results))
    await client.aclose()
    roles: dict[str, dict] = {}
    for role, cfg in config.roles.items():
        local = cfg.embedded or not cfg.base_url
        roles[role] = {"endpoint": cfg.base_url, "model": cfg.model or "(first listed)",
                       "embedded": cfg.embedded,
                       "embedded_model": config.embedded_model_for(role) if local else None,
                       "api_key_env": cfg.api_key_env,
                       "concurrency": cfg.concurrency,
                       **by_key[(cfg.base_url, cfg.model, cfg.api_key_env)]}
        if not roles[role]["ok"]:
            problems.append(f"role {role!r}: {roles[role]['error']}")
    return roles


async def ping(client: Any, role: str) -> dict:
    """A one-token chat; never raises."""
    try:
        completion = await client.ping(role)
    except LLMError as exc:
        return {"ok": False, "error": str(exc)}
    rec = completion.record
    return {"ok": True, "model": rec.model, "latency_s": round(rec.latency_s, 3),
            "priced": rec.priced}


def sandbox_status() -> dict:
    """The sandbox's active isolation layers, when the sandbox package is available."""
    try:
        from agents.sandbox import active_layers
    except ImportError as exc:
        return {"available": False, "error": f"agents.sandbox not importable: {exc}"}
    try:
        return {"available": True, "layers": active_layers()}
    except Exception as exc:  # noqa: BLE001 - a broken probe is reported, not fatal
        return {"available": False, "error": f"active_layers() failed: {exc}"}


def render(report: dict) -> str:
    """The human-readable form of a report."""
    lines = ["latm doctor", ""]
    for name, emb in report.get("embedded", {}).items():
        where = emb.get("base_url") or "NOT RUNNING"
        lines.append(f"embedded model {name} at {where} (serves {', '.join(emb['roles'])})")
        if emb.get("gguf"):
            lines.append(f"  file: {emb['gguf']}  n_ctx {emb.get('n_ctx')}, "
                         f"{emb.get('threads')} thread(s)")
    lines.append(f"{'role':<11}{'endpoint':<40}{'model':<30}status")
    for role, entry in report["roles"].items():
        endpoint = (entry["endpoint"] or "-") + (" (embedded)" if entry["embedded"] else "")
        model = entry["embedded_model"] or entry["model"]
        status = f"ok {entry['latency_s']:.2f}s" if entry["ok"] else "FAILED"
        lines.append(f"{role:<11}{endpoint:<40}{model:<30}{status}")
    sandbox = report.get("sandbox")
    if sandbox is not None:
        if sandbox.get("available"):
            layers = ", ".join(f"{k}={'on' if v else 'off'}" for k, v in sandbox["layers"].items())
            lines.append(f"sandbox: {layers}")
        else:
            lines.append(f"sandbox: unavailable ({sandbox['error']})")
    lines.append("")
    if report["ok"]:
        lines.append("all roles answer")
    else:
        lines.append(f"{len(report['problems'])} problem(s):")
        lines += [f"  - {p}" for p in report["problems"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(json="--json" in sys.argv, config=None, timeout=60.0)))
