"""`latm serve`: the OpenAI-compatible front door (local, or through Ray Serve with --address)."""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from agents.cli.run_cmd import LedgerWriter, add_pipeline_options, pipeline_config, print_event, print_summary


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand."""
    p = sub.add_parser("serve", help="serve the OpenAI chat API: cached kinds by tools, new kinds by the solver",
                       description="POST /v1/chat/completions, GET /v1/models, /health, /metrics. Point an "
                                   "OpenAI client's base URL at the printed address.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --api-key)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free one, printed at start)")
    p.add_argument("--api-key", action="append", default=[],
                   help="accepted bearer token (repeatable; also $LATM_SERVE_API_KEYS, comma-separated)")
    p.add_argument("--max-pending", type=int, default=4096,
                   help="requests in the pipeline at once; more get 429 with Retry-After (default 4096)")
    p.add_argument("--replicas", type=int, default=2, help="HTTP replicas under Ray Serve (--address only)")
    add_pipeline_options(p)
    p.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """Start the agents and serve until interrupted; print the session's summary at the end."""
    from agents.llm.config import LLMConfig
    from agents.serving.settings import ServeSettings
    keys = tuple(args.api_key) + tuple(k for k in os.environ.get("LATM_SERVE_API_KEYS", "").split(",") if k)
    settings = ServeSettings(host=args.host, port=args.port, api_keys=keys, max_pending=args.max_pending)
    try:
        settings.check()
    except ValueError as exc:
        print(f"latm serve: {exc}")
        return 2
    config = pipeline_config(args)
    # A server session has no results file: its run is named by the address it serves.
    ledger = LedgerWriter(str(Path(config.store_path).resolve().parent / "runs.sqlite"),
                          f"serve://{settings.host}:{settings.port}")
    ledger.start()
    llm_config = LLMConfig.load(args.config)
    address = args.address or os.environ.get("RAY_ADDRESS")
    announce = lambda line: print(line, flush=True)  # noqa: E731
    try:
        if address:
            from agents.serving.ray_ingress import serve_on_cluster
            figures = serve_on_cluster(settings, llm_config, config, address, args.replicas, ledger, announce)
        else:
            from agents.serving.local_server import serve
            figures = asyncio.run(serve(settings, llm_config, config, recorder=ledger, announce=announce,
                                        on_event=lambda kind, data: print_event(kind, data)))
    except OSError as exc:
        print(f"latm serve: {exc}")
        return 2
    print_summary({**figures, "ledger": str(ledger.ledger.path)})
    return 0
