"""What the `openai` client alone can send here: its chat completions against a server that only replays latm's reply.

The server process answers every POST with the bytes `latm serve` sends for a cached tool answer
(same headers and body) and does nothing else, so the calls/s and CPU figures are the client's
own: the ceiling of any server measured with this client on this machine (bench/serve.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serve import process_cpu_s  # noqa: E402

QUESTION = "Sort the following words alphabetically: List: pear fig kiwi"


def canned_reply() -> bytes:
    """The HTTP response latm serve gives a cached tool answer, byte for byte in shape."""
    from agents.pipeline.chat_completion import completion_body
    from agents.serving.chat_endpoint import json_reply, latm_headers
    from bus.wire.messages import ToolAnswer
    answer = ToolAnswer(request_id="r0", trace_id="t", answer="fig kiwi pear", route="tool",
                        tool_id="word_sorting", tool_version="0123456789abcdef", confidence=1.0, latency_s=0.001)
    status, headers, [body] = json_reply(200, completion_body(answer, "latm", "chatcmpl-r0", 0), latm_headers(answer))
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return b"HTTP/1.1 200 OK\r\n" + head + b"\r\n" + body


def serve_canned(port, ready) -> None:
    """Keep-alive HTTP/1.1 server: read a request (headers and body), send the canned reply."""
    reply = canned_reply()

    async def handle(reader, writer) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                writer.write(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        await server.serve_forever()
    asyncio.run(main())


def client(port: int, calls: int, concurrency: int, raw: bool, results) -> None:
    """One client process: `concurrency` loops over one AsyncOpenAI client on aiohttp."""
    import openai

    async def main() -> None:
        api = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="bench", max_retries=0,
                                 http_client=openai.DefaultAioHttpClient())
        messages = [{"role": "user", "content": QUESTION}]

        async def ask() -> str:
            if raw:
                reply = await api.chat.completions.with_raw_response.create(
                    model="latm", messages=messages, metadata={"task": "word_sorting"})
                return json.loads(reply.http_response.content)["choices"][0]["message"]["content"]
            completion = await api.chat.completions.create(model="latm", messages=messages,
                                                           metadata={"task": "word_sorting"})
            return completion.choices[0].message.content

        await asyncio.gather(*(ask() for _ in range(concurrency)))  # connections open before timing
        todo, wrong = iter(range(calls)), 0

        async def loop() -> None:
            nonlocal wrong
            for _ in todo:
                answer = await ask()
                wrong += answer != "fig kiwi pear"
        usage, start = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        end, after = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
        results.put((start, end, after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime, wrong))
        await api.close()
    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2, one per core here)")
    parser.add_argument("--calls", type=int, default=5000, help="calls per client process")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight per client process")
    parser.add_argument("--parsed", dest="raw", action="store_false",
                        help="parse replies into ChatCompletion objects (default: with_raw_response, JSON body)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    port, ready, results = ctx.Value("i", 0), ctx.Event(), ctx.Queue()
    server = ctx.Process(target=serve_canned, args=(port, ready), daemon=True)
    server.start()
    ready.wait(30)
    load = os.getloadavg()[0]
    server_cpu0 = process_cpu_s(server.pid)
    procs = [ctx.Process(target=client, args=(port.value, args.calls, args.concurrency, args.raw, results))
             for _ in range(args.clients)]
    for p in procs:
        p.start()
    outs = [results.get(timeout=600) for _ in procs]
    server_cpu = process_cpu_s(server.pid) - server_cpu0
    for p in procs:
        p.join()
    server.terminate()
    n = args.calls * args.clients
    rate = n / (max(o[1] for o in outs) - min(o[0] for o in outs))
    client_ms = 1000 * sum(o[2] for o in outs) / n
    print(f"{args.clients} openai client processes x {args.concurrency} in flight, "
          f"{'raw' if args.raw else 'parsed'} replies, load average {load:.1f} at the start")
    print(f"calls: {n}, {rate:.0f}/s, wrong {sum(o[3] for o in outs)}")
    print(f"CPU per call: clients {client_ms:.3f} ms, canned server {1000 * server_cpu / n:.3f} ms")
    print(f"client_calls_per_s={rate:.0f} client_cpu_ms={client_ms:.3f} server_cpu_ms={1000 * server_cpu / n:.3f} "
          f"clients={args.clients} raw={int(args.raw)}")


if __name__ == "__main__":
    main()
