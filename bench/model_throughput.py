"""Measure each embedded model's prompt and generation speed here: the basis of its local price.

Per model and thread count: a private llama.cpp server (as the roles get it), then `--runs`
rounds of (a) a ~600-token prompt with a 1-token answer -> prompt tokens/s, and (b) a short
prompt with up to 128 generated tokens -> generation tokens/s (its small prompt's share taken
out). Every prompt starts differently so no KV prefix is reused. Two speeds are reported: wall
clock, and CPU-based (tokens per CPU-second of the server x its threads), which is what the
model runs at on an otherwise idle machine and does not depend on other jobs sharing the cores;
the CPU-based speed is the price basis. Run it alone:
`flock /work/notes/model.lock nice -n 10 .venv/bin/python bench/model_throughput.py`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.llm.client import LLMClient  # noqa: E402
from agents.llm.config import LLMConfig  # noqa: E402
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded  # noqa: E402
from agents.llm.model_catalog import CATALOG, MACHINE_USD_PER_HOUR, local_price  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
FILLER = ("The verifier runs each candidate tool on the held-out cases in a sandboxed worker, "
          "compares the answers with the targets, and reports which cases failed and why. ")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def timed(client: LLMClient, pid: int, content: str, **kwargs) -> tuple:
    """(record, cpu seconds the server spent) of one chat."""
    before = cpu_seconds(pid)
    result = await client.chat("maker", [{"role": "user", "content": content}], **kwargs)
    return result.record, cpu_seconds(pid) - before


def long_prompt(run: int, sentences: int) -> str:
    """About 600 tokens of prose, opened by a run-specific line so no prefix is cached."""
    return f"Note {run * 7919}: read this and answer with one word.\n" + FILLER * sentences


async def measure(name: str, threads: int, runs: int, max_tokens: int, sentences: int) -> dict:
    """Median prompt and generation tokens/s of one model on `threads` threads."""
    settings = EmbeddedSettings(state_dir=tempfile.mkdtemp(prefix="latm-tps-"), n_threads=threads)
    server = EmbeddedModel(name, settings)
    config = configure_with_embedded(LLMConfig.load(env={"LATM_DEFAULT_EMBEDDED_MODEL": name}),
                                     {name: server})
    client = LLMClient(config, embedded={name: server})
    rates: dict[str, list[float]] = {k: [] for k in ("prompt", "gen", "prompt_cpu", "gen_cpu",
                                                      "prompt_tokens")}
    try:
        await client.chat("maker", [{"role": "user", "content": "Hi"}], max_tokens=2)  # warm-up
        pid = server.process.pid
        for run in range(runs):
            first, first_cpu = await timed(client, pid, long_prompt(run, sentences), max_tokens=1)
            rates["prompt"].append(first.prompt_tokens / first.latency_s)
            rates["prompt_cpu"].append(first.prompt_tokens * threads / first_cpu)
            rates["prompt_tokens"].append(first.prompt_tokens)
            rec, cpu = await timed(client, pid, f"Story {run}: write a long story about a robot "
                                   "who cooks.", max_tokens=max_tokens, temperature=0.7, seed=run)
            gen_s = rec.latency_s - rec.prompt_tokens / rates["prompt"][-1]
            gen_cpu = cpu - rec.prompt_tokens * threads / rates["prompt_cpu"][-1]
            rates["gen"].append(rec.completion_tokens / gen_s)
            rates["gen_cpu"].append(rec.completion_tokens * threads / gen_cpu)
            print(f"  {name} t={threads} run {run + 1}: prompt {first.prompt_tokens} tok in "
                  f"{first.latency_s:.2f}s wall, {first_cpu:.2f} CPU-s; generated "
                  f"{rec.completion_tokens} tok in {gen_s:.2f}s wall, {gen_cpu:.2f} CPU-s",
                  flush=True)
    finally:
        await client.aclose()
        server.stop()
    return {k: statistics.median(v) for k, v in rates.items()}


def main() -> None:
    """Measure, print a table with the resulting prices, end with one summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(CATALOG), help="catalog names")
    parser.add_argument("--threads", type=int, nargs="*", default=[2], help="thread counts to try")
    parser.add_argument("--runs", type=int, default=3, help="measurement rounds per model")
    parser.add_argument("--max-tokens", type=int, default=128, help="generated tokens per round")
    parser.add_argument("--sentences", type=int, default=17, help="filler sentences (~32 tokens each)")
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load before: {load}")
    fields = []
    for name in args.models:
        for threads in args.threads:
            got = asyncio.run(measure(name, threads, args.runs, args.max_tokens, args.sentences))
            prompt_usd = local_price(MACHINE_USD_PER_HOUR, got["prompt_cpu"])
            gen_usd = local_price(MACHINE_USD_PER_HOUR, got["gen_cpu"])
            print(f"{name} threads={threads} (~{got['prompt_tokens']:.0f}-token prompt): "
                  f"wall clock prompt {got['prompt']:.0f} tok/s, generation {got['gen']:.1f} tok/s;"
                  f" CPU-based prompt {got['prompt_cpu']:.0f} tok/s, generation "
                  f"{got['gen_cpu']:.1f} tok/s -> USD {prompt_usd:.4f} / {gen_usd:.4f} per million"
                  f" prompt / completion tokens at USD {MACHINE_USD_PER_HOUR}/hour", flush=True)
            tag = f"{name}@{threads}t"
            fields += [f"{tag}_prompt_tps={got['prompt_cpu']:.0f}",
                       f"{tag}_gen_tps={got['gen_cpu']:.1f}",
                       f"{tag}_wall_prompt_tps={got['prompt']:.0f}",
                       f"{tag}_wall_gen_tps={got['gen']:.1f}"]
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(" ".join(fields))


if __name__ == "__main__":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    main()
