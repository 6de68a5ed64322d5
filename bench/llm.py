"""Benchmark the LLM layer: stub throughput, per-call overhead, embedded-model tokens/s."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/ holds scripts named like packages (bench/bus.py): import the project, not the scripts.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from agents.llm.client import LLMClient  # noqa: E402
from agents.llm.config import LLMConfig  # noqa: E402
from agents.llm.errors import LLMError  # noqa: E402
from tests.support.stub_llm_server import StubLLMServer  # noqa: E402

ASK = [{"role": "user", "content": "ping the layer with a short prompt"}]


async def stub_throughput(stub: StubLLMServer, calls: int, concurrency: int) -> float:
    """Calls per second through LLMClient.chat against the zero-latency stub."""
    client = LLMClient(stub.config(concurrency=concurrency))
    await asyncio.gather(*[client.chat("user", ASK) for _ in range(concurrency)])  # warm pool
    started = time.perf_counter()
    await asyncio.gather(*[client.chat("user", ASK) for _ in range(calls)])
    elapsed = time.perf_counter() - started
    await client.aclose()
    return calls / elapsed


async def layer_overhead_us(stub: StubLLMServer, calls: int) -> tuple[float, float, float]:
    """Median per-call time sequentially: through the layer vs the bare openai client it wraps."""
    client = LLMClient(stub.config())
    url, model = await client.endpoint("user")
    bare = client._client(url, "no-key-needed")  # the same AsyncOpenAI the layer uses

    async def via_layer() -> None:
        """One call through LLMClient.chat."""
        await client.chat("user", ASK)

    async def via_bare() -> None:
        """The same request straight on the AsyncOpenAI client."""
        await bare.chat.completions.create(model=model, messages=ASK, max_tokens=512,
                                           temperature=0.0)

    for call in (via_bare, via_layer):
        for _ in range(20):
            await call()
    # Alternate short rounds so load from other processes hits both sides alike.
    bare_rounds, layer_rounds = [], []
    per_round = 10
    for _ in range(max(1, calls // (2 * per_round))):
        for call, rounds in ((via_bare, bare_rounds), (via_layer, layer_rounds)):
            started = time.perf_counter()
            for _ in range(per_round):
                await call()
            rounds.append((time.perf_counter() - started) / per_round)
    medians = [statistics.median(bare_rounds), statistics.median(layer_rounds)]
    await client.aclose()
    bare_s, layer_s = medians
    return (layer_s - bare_s) * 1e6, bare_s * 1e6, layer_s * 1e6


async def embedded_tokens_per_s(max_tokens: int, runs: int) -> float:
    """Completion tokens per second of the user role's embedded model (one request at a time)."""
    from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded

    # A private state dir: measure a server of our own, not one another process is loading.
    name = LLMConfig.load(env={}).embedded_model_for("user")
    embedded = EmbeddedModel(name, EmbeddedSettings(state_dir=tempfile.mkdtemp(prefix="latm-bench-")))
    started = time.perf_counter()
    config = configure_with_embedded(LLMConfig.load(env={"LATM_DEFAULT_EMBEDDED_MODEL": name}),
                                     {name: embedded})
    print(f"embedded server ({embedded.settings.n_threads} thread(s)) ready in "
          f"{time.perf_counter() - started:.2f}s at {embedded.base_url}")
    client = LLMClient(config, embedded={name: embedded})
    prompt = [{"role": "user", "content": "Write a long story about a robot who learns to cook."}]
    await client.chat("user", prompt, max_tokens=8)  # warm-up
    rates = []
    for _ in range(runs):
        result = await client.chat("user", prompt, max_tokens=max_tokens, temperature=0.7)
        rec = result.record
        rates.append(rec.completion_tokens / rec.latency_s)
        print(f"  embedded: {rec.completion_tokens} tokens in {rec.latency_s:.2f}s "
              f"({rates[-1]:.1f} tok/s, prompt {rec.prompt_tokens})")
    await client.aclose()
    embedded.stop()
    return statistics.median(rates)


def main() -> None:
    """Run the three measurements and print the summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000, help="stub calls for throughput")
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight stub calls")
    parser.add_argument("--overhead-calls", type=int, default=1000,
                        help="sequential calls, half bare, half through the layer")
    parser.add_argument("--max-tokens", type=int, default=128, help="embedded completion size")
    parser.add_argument("--runs", type=int, default=3, help="embedded generations")
    args = parser.parse_args()
    with StubLLMServer() as stub:
        stub.script("pong from the stub")
        rate = asyncio.run(stub_throughput(stub, args.calls, args.concurrency))
        print(f"stub: {rate:.0f} calls/s ({args.calls} calls, concurrency {args.concurrency})")
        overhead, bare, layer = asyncio.run(layer_overhead_us(stub, args.overhead_calls))
        print(f"sequential call: bare openai {bare:.0f} us, through the layer {layer:.0f} us "
              f"-> overhead {overhead:.0f} us")
    try:
        tokens = asyncio.run(embedded_tokens_per_s(args.max_tokens, args.runs))
    except LLMError as exc:
        print(f"embedded model unavailable: {exc}")
        tokens = 0.0
    print(f"stub_calls_per_s={rate:.0f} overhead_us={overhead:.0f} "
          f"embedded_tokens_per_s={tokens:.1f}")


if __name__ == "__main__":
    main()
