"""Bus throughput: typed Echo messages through a pool of echo replicas, one per actor call vs micro-batched.

Each message is encoded (pydantic -> msgpack), routed to the least-loaded replica, decoded and
validated in the actor, handled, and its reply encoded, sent back, decoded and validated and
handed to its caller. Building the request objects is done before the clock starts.

    .venv/bin/python bench/bus.py [--messages 40000] [--batch 256] [--replicas 8]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

# This file is named like the package it measures; drop its folder from the path so `bus` is the package.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != HERE]
sys.path.insert(0, os.path.dirname(HERE))

from bus.wire.messages import Echo  # noqa: E402
from bus.runtime import Pool, start_runtime, stop_runtime  # noqa: E402
from tests.support.echo_agent import EchoAgent  # noqa: E402


async def measure(pool: Pool, n: int, rounds: int) -> float:
    """Best messages/second over a few rounds of `n` concurrent messages (after a warm-up round)."""
    await pool.ready()
    await pool.submit_many([Echo(payload="warm-up") for _ in range(min(n, 2000))])
    best = 0.0
    for _ in range(rounds):
        msgs = [Echo(payload=f"message {i}") for i in range(n)]
        start = time.perf_counter()
        replies = await pool.submit_many(msgs)
        elapsed = time.perf_counter() - start
        if any(r.request_id != m.request_id or not isinstance(r, Echo) for r, m in zip(replies, msgs)):
            raise SystemExit("bench: a reply did not answer its request; the bus is broken")
        best = max(best, n / elapsed)
    return best


async def run(args: argparse.Namespace) -> tuple[float, float]:
    """Measure the one-message-per-call and the batched figures on the same replicas count."""
    single_pool = Pool(EchoAgent, replicas=args.replicas, batch_size=1, max_in_flight=4, flush_s=0.0)
    single = await measure(single_pool, args.single_messages, args.rounds)
    await single_pool.close()
    print(f"one message per actor call: {single:,.0f} msgs/s ({args.single_messages} msgs, {args.replicas} replicas)")

    batched_pool = Pool(EchoAgent, replicas=args.replicas, batch_size=args.batch, max_in_flight=2)
    batched = await measure(batched_pool, args.messages, args.rounds)
    await batched_pool.close()
    print(f"micro-batched (batch {args.batch}): {batched:,.0f} msgs/s ({args.messages} msgs, {args.replicas} replicas)")
    print(f"speed-up: {batched / single:.1f}x (target: >= 20000 msgs/s batched and >= 10x)")
    return single, batched


def main() -> None:
    """Parse options, start a local Ray, run both measurements, print the summary line last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40000, help="messages per batched round")
    parser.add_argument("--single-messages", type=int, default=4000, help="messages per one-per-call round")
    parser.add_argument("--batch", type=int, default=256, help="micro-batch size")
    parser.add_argument("--replicas", type=int, default=8, help="echo replicas in the pool")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per mode (best is reported)")
    args = parser.parse_args()
    start_runtime(num_cpus=2)
    try:
        single, batched = asyncio.run(run(args))
    finally:
        stop_runtime()
    print(f"single_msgs_per_s={single:.0f} batched_msgs_per_s={batched:.0f} replicas={args.replicas} batch={args.batch}")


if __name__ == "__main__":
    main()
