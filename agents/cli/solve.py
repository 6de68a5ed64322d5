"""`latm solve "question" --method direct|cot|coc [--trace]`: answer one question without a tool."""
from __future__ import annotations

import argparse
import asyncio


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `solve` subcommand."""
    parser = subparsers.add_parser("solve", help="answer a question by direct, cot or coc")
    parser.add_argument("question", help="the question text")
    parser.add_argument("--method", choices=("direct", "cot", "coc"), default="coc",
                        help="direct answer, chain of thought, or chain of code (default)")
    parser.add_argument("--trace", action="store_true",
                        help="coc: print the program and every executed line")
    parser.add_argument("--task-hint", default=None, help="optional name of the task")
    parser.add_argument("--config", default=None, help="LLM config file (default: env/embedded)")
    parser.set_defaults(func=run)


async def solve(args: argparse.Namespace) -> int:
    """Build the client, sandbox and solver, answer, print."""
    from agents.llm.client import LLMClient
    from agents.llm.config import LLMConfig
    from agents.sandbox import Sandbox
    from agents.solving.solver import Solver

    client = LLMClient(LLMConfig.load(args.config))
    try:
        async with Sandbox() as sandbox:
            result = await Solver(client, sandbox).solve(args.question, args.method,
                                                         task_hint=args.task_hint)
    finally:
        await client.aclose()
    if args.trace:
        if result.program:
            print("program:")
            print("\n".join(f"  {i:>3}  {line}" for i, line in
                            enumerate(result.program.splitlines(), 1)))
        elif result.raw:
            print("model reply:\n" + result.raw)
        if result.trace is not None:
            print("trace:")
            print(result.trace.render())
    calls, tokens = result.spend.calls, result.spend.tokens
    print(f"answer: {result.answer}")
    print(f"method: {result.method}  llm_calls: {calls}  tokens: {tokens}")
    if result.error:
        print(f"error: {result.error}: {result.detail}")
    return 0 if result.answer is not None else 1


def run(args: argparse.Namespace) -> int:
    """Entry point of the subcommand."""
    return asyncio.run(solve(args))
