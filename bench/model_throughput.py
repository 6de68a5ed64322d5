"""Measure each embedded model's prompt and generation speed here: the basis of its local price.

Per model and thread count: a private llama.cpp server (as the roles get it), then `--runs`
rounds of (a) a ~600-token prompt with a 1-token answer -> prompt tokens/s, and (b) a short
prompt with up to 128 generated tokens -> generation tokens/s (its small prompt's time, at the
measured prompt speed, taken out). Every prompt starts differently so no KV prefix is reused.
Run it alone: `flock /work/notes/model.lock nice -n 10 .venv/bin/python bench/model_throughput.py`.
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

FILLER = ("The verifier runs each candidate tool on the held-out cases in a sandboxed worker, "
          "compares the answers with the targets, and reports which cases failed and why. ")


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
    prompt_rates, gen_rates, prompt_sizes = [], [], []
    try:
        await client.chat("maker", [{"role": "user", "content": "Hi"}], max_tokens=2)  # warm-up
        for run in range(runs):
            first = await client.chat("maker", [{"role": "user", "content":
                                      long_prompt(run, sentences)}], max_tokens=1)
            prompt_rates.append(first.record.prompt_tokens / first.record.latency_s)
            prompt_sizes.append(first.record.prompt_tokens)
            story = await client.chat("maker", [{"role": "user", "content":
                                      f"Story {run}: write a long story about a robot who cooks."}],
                                      max_tokens=max_tokens, temperature=0.7, seed=run)
            rec = story.record
            gen_s = rec.latency_s - rec.prompt_tokens / prompt_rates[-1]
            gen_rates.append(rec.completion_tokens / gen_s)
            print(f"  {name} t={threads} run {run + 1}: prompt {first.record.prompt_tokens} tok "
                  f"in {first.record.latency_s:.2f}s ({prompt_rates[-1]:.0f} tok/s); generated "
                  f"{rec.completion_tokens} tok in {gen_s:.2f}s ({gen_rates[-1]:.1f} tok/s)",
                  flush=True)
    finally:
        await client.aclose()
        server.stop()
    return {"prompt_tps": statistics.median(prompt_rates),
            "gen_tps": statistics.median(gen_rates), "prompt_tokens": statistics.median(prompt_sizes)}


def main() -> None:
    """Measure, print a table with the resulting prices, end with one summary line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=list(CATALOG), help="catalog names")
    parser.add_argument("--threads", type=int, nargs="*", default=[2], help="thread counts to try")
    parser.add_argument("--runs", type=int, default=3, help="measurement rounds per model")
    parser.add_argument("--max-tokens", type=int, default=128, help="generated tokens per round")
    parser.add_argument("--sentences", type=int, default=23, help="filler sentences (~26 tokens each)")
    args = parser.parse_args()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"load before: {load}")
    fields = []
    for name in args.models:
        for threads in args.threads:
            got = asyncio.run(measure(name, threads, args.runs, args.max_tokens, args.sentences))
            prompt_usd = local_price(MACHINE_USD_PER_HOUR, got["prompt_tps"])
            gen_usd = local_price(MACHINE_USD_PER_HOUR, got["gen_tps"])
            print(f"{name} threads={threads}: prompt {got['prompt_tps']:.0f} tok/s "
                  f"(~{got['prompt_tokens']:.0f}-token prompt), generation {got['gen_tps']:.1f} "
                  f"tok/s -> USD {prompt_usd:.4f} / {gen_usd:.4f} per million prompt / "
                  f"completion tokens at USD {MACHINE_USD_PER_HOUR}/hour", flush=True)
            tag = f"{name}@{threads}t"
            fields += [f"{tag}_prompt_tps={got['prompt_tps']:.0f}", f"{tag}_gen_tps={got['gen_tps']:.1f}"]
    print(f"load after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(" ".join(fields))


if __name__ == "__main__":
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    main()
