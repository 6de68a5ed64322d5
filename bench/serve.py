"""Throughput of `latm serve`: concurrent `openai` clients on loopback, every tool cached, stub LLM; and `latm run`.

Phase 1 makes one tool per task through the real pipeline (as bench/stream.py: the stub solver labels requests with a
constant and the stub maker writes a function returning it, so the tools verify) and then times the same measured
requests through `latm run`'s machinery (run_stream on local Ray). Phase 2 starts `latm serve` on that store as its
own process and sends the measured requests with the real `openai` package: first as one OpenAI Batch API file
(upload, create, poll, download), right after phase 1 so the two see similar load; then one chat completion per HTTP
request from several client processes, each running many concurrent requests over keep-alive connections. Every answer
must come from a cached tool and be the answer `latm run` gave the same request. CPU seconds of the clients, the
server process and its Ray agents are measured, to show where the cores go.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import multiprocessing as mp
import os
import queue
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for key, value in {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
                   "RAY_USAGE_STATS_ENABLED": "0"}.items():
    os.environ.setdefault(key, value)

from tests.support.stub_llm_server import StubLLMServer  # noqa: E402
from agents.tasks.bbh import PAPER_TASKS  # noqa: E402
from agents.tasks.stream import mixed_stream  # noqa: E402

CONSTANT_TOOL = "```python\ndef solve(question: str) -> str:\n    return '42'\n```"


def requests_of(n: int, seed: int, labelled: bool) -> list[dict]:
    """N mixed requests as {id, input, task?} (no targets: labels come from the stub solver)."""
    return [{"id": f"r{i}", "input": r["input"], **({"task": r["task"]} if labelled else {})}
            for i, r in enumerate(mixed_stream(n, seed=seed))]


async def run_phase(stub: StubLLMServer, store: Path, measured: list[dict], labelled: bool, users: int) -> dict:
    """Make the tools, then time the measured requests through run_stream; keep each request's answer."""
    from agents.pipeline.bootstrap import open_services
    from agents.pipeline.config import PipelineConfig
    from agents.pipeline.run import run_stream
    config = PipelineConfig(store_path=str(store), users=users, batch_size=128)
    async with open_services(stub.config(), config) as (services, _):
        warm = [json.dumps(r) for r in requests_of(len(PAPER_TASKS) * 12, seed=1, labelled=labelled)]
        summary, _ = await run_stream(warm, services, io.StringIO(), config.coordinator)
        print(f"warm-up: tools made {sum(m.ok for m in summary.made)}/{len(summary.made)}", flush=True)
        lines, out = [json.dumps(r) for r in measured], io.StringIO()
        start = time.perf_counter()
        summary, _ = await run_stream(lines, services, out, config.coordinator)
        elapsed = time.perf_counter() - start
    answers = {r["id"]: r["answer"] for r in map(json.loads, out.getvalue().splitlines())}
    return {"requests_per_s": summary.requests / elapsed, "hits": summary.tool_answers, "elapsed_s": elapsed, "answers": answers}


def start_server(stub: StubLLMServer, store: Path, users: int) -> tuple[subprocess.Popen, str]:
    """`latm serve` on a free loopback port; returns the process and its base URL."""
    env = {**os.environ, "OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": "stub",
           "LATM_DEFAULT_MODEL": stub.model, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "agents.cli.main", "serve", "--store", str(store),
                             "--users", str(users), "--max-pending", "100000"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if "listening on " in line:
            return proc, line.split("listening on ", 1)[1].split()[0]
    raise RuntimeError(f"latm serve exited ({proc.wait()}) before listening")


def client_process(base_url: str, batch: list[dict], expected: dict, concurrency: int, transport: str, raw: bool,
                   ready, go, results, progress) -> None:
    """One client process: `concurrency` request loops sharing one AsyncOpenAI client."""
    asyncio.run(_client(base_url, batch, expected, concurrency, transport, raw, ready, go, results, progress))


def openai_client(base_url: str, transport: str):
    """The real AsyncOpenAI client, on httpx (its default) or on aiohttp (its documented faster transport)."""
    import openai
    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    return openai.AsyncOpenAI(base_url=base_url, api_key="bench", max_retries=0, http_client=http_client)


async def _client(base_url: str, batch: list[dict], expected: dict, concurrency: int, transport: str, raw: bool,
                  ready, go, results, progress) -> None:
    import openai
    client = openai_client(base_url, transport)
    create = client.chat.completions.with_raw_response.create if raw else client.chat.completions.create

    async def ask(row: dict) -> tuple[str | None, str | None]:
        """(answer, route) of one chat completion; with `raw`, the body is read as JSON, not parsed into models."""
        extra = {"metadata": {"task": row["task"]}} if "task" in row else {}
        reply = await create(model="latm", messages=[{"role": "user", "content": row["input"]}], **extra)
        if raw:
            body = json.loads(reply.http_response.content)
            return body["choices"][0]["message"]["content"], body["latm"]["route"]
        return reply.choices[0].message.content, (reply.model_extra or {}).get("latm", {}).get("route")

    # Open the keep-alive connections before the clock starts.
    await asyncio.gather(*(ask(batch[i % len(batch)]) for i in range(concurrency)))
    ready.put(True)
    while not go.is_set():
        await asyncio.sleep(0.001)
    cpu0, t0 = _cpu_s(), time.monotonic()
    latencies, hits, wrong, errors = [], 0, 0, 0
    position = iter(range(len(batch)))

    async def worker() -> None:
        nonlocal hits, wrong, errors
        for i in position:
            start = time.monotonic()
            try:
                answer, route = await ask(batch[i])
            except openai.APIError:
                errors += 1
                continue
            latencies.append(time.monotonic() - start)
            hits += route == "tool"
            wrong += answer != expected[batch[i]["id"]]
            if len(latencies) % 500 == 0:
                with progress.get_lock():
                    progress.value += 500
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    results.put({"latencies": latencies, "hits": hits, "wrong": wrong, "errors": errors, "start": t0,
                 "end": time.monotonic(), "cpu_s": _cpu_s() - cpu0})
    await client.close()


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the server's Ray processes and sandbox workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]),
                                    []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], list(children.get(pid, []))
    while todo:
        found.append(todo.pop())
        todo += children.get(found[-1], [])
    return found


def tree_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds of each descendant of `pid` (ones that ended since are not counted)."""
    out = {}
    for child in descendants(pid):
        try:
            out[child] = process_cpu_s(child)
        except (OSError, IndexError, ValueError):
            continue
    return out


def serve_phase(base_url: str, server_pid: int, measured: list[dict], expected: dict, clients: int,
                concurrency: int, transport: str, raw: bool) -> dict:
    """Send the measured requests from `clients` processes; requests/s over the slowest client."""
    ctx = mp.get_context("spawn")
    ready, results, go, progress = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Value("i", 0)
    shares = [measured[i::clients] for i in range(clients)]
    procs = [ctx.Process(target=client_process,
                         args=(base_url, share, expected, concurrency, transport, raw, ready, go, results, progress))
             for share in shares]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    server_cpu0, tree0 = process_cpu_s(server_pid), tree_cpu_s(server_pid)
    go.set()
    outs, started = [], time.monotonic()
    while len(outs) < len(procs):
        try:
            outs.append(results.get(timeout=10))
        except queue.Empty:  # a long run shows it is alive
            print(f"  ... {progress.value:,}/{len(measured):,} answered after {time.monotonic() - started:.0f} s",
                  flush=True)
    server_cpu = process_cpu_s(server_pid) - server_cpu0
    tree_cpu = sum(cpu - tree0.get(pid, 0.0) for pid, cpu in tree_cpu_s(server_pid).items())
    for p in procs:
        p.join()
    latencies = sorted(x for o in outs for x in o["latencies"])
    elapsed = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    done = len(latencies)
    pick = lambda q: latencies[min(done - 1, int(q * done))] * 1000  # noqa: E731
    return {"requests_per_s": done / elapsed, "p50_ms": pick(0.50), "p99_ms": pick(0.99),
            "hits": sum(o["hits"] for o in outs), "wrong": sum(o["wrong"] for o in outs),
            "errors": sum(o["errors"] for o in outs), "elapsed_s": elapsed,
            "client_cpu_ms": 1000 * sum(o["cpu_s"] for o in outs) / max(done, 1),
            "server_cpu_ms": 1000 * server_cpu / max(done, 1), "agents_cpu_ms": 1000 * tree_cpu / max(done, 1)}


async def batch_api_phase(base_url: str, measured: list[dict], expected: dict) -> dict:
    """The same requests as one OpenAI Batch file: upload, create, poll, download, all with the openai client."""
    lines = [json.dumps({"custom_id": r["id"], "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "latm", "messages": [{"role": "user", "content": r["input"]}],
                                  **({"metadata": {"task": r["task"]}} if "task" in r else {})}})
             for r in measured]
    client = openai_client(base_url, "httpx")
    start = time.perf_counter()
    uploaded = await client.files.create(file=("bench.jsonl", "\n".join(lines).encode()), purpose="batch")
    batch = await client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                        completion_window="24h")
    while batch.status not in ("completed", "failed"):
        await asyncio.sleep(0.05)
        batch = await client.batches.retrieve(batch.id)
    output = (await client.files.content(batch.output_file_id)).text.splitlines()
    elapsed = time.perf_counter() - start
    bodies = {line["custom_id"]: line["response"]["body"] for line in map(json.loads, output)}
    hits = sum(body["latm"]["route"] == "tool" for body in bodies.values())
    wrong = sum(body["choices"][0]["message"]["content"] != expected[i] for i, body in bodies.items())
    await client.close()
    return {"requests_per_s": len(output) / elapsed, "elapsed_s": elapsed, "answered": len(output), "hits": hits,
            "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="measured requests (default 20000)")
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight per client process")
    parser.add_argument("--users", type=int, default=2, help="tool-user replicas")
    parser.add_argument("--transport", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="the openai client's HTTP transport (default aiohttp, its faster option)")
    parser.add_argument("--parsed", dest="raw", action="store_false",
                        help="parse each reply into the client's ChatCompletion model (default: with_raw_response "
                             "and the JSON body, as a caller that reads headers or wants less CPU does)")
    parser.add_argument("--unlabelled", dest="labelled", action="store_false",
                        help="no task label in metadata: the dispatcher's retrieval finds each tool")
    args = parser.parse_args()
    stub = StubLLMServer()
    stub.start()
    stub.script(CONSTANT_TOOL, role="maker")
    for role in ("solver", "lmulator"):
        stub.script("42", role=role)
    stub.script({"choice": 1}, role="dispatcher")
    work = Path(tempfile.mkdtemp(prefix="latm-bench-serve-"))
    measured = requests_of(args.n, seed=2, labelled=args.labelled)
    load = [os.getloadavg()[0]]
    try:
        run = asyncio.run(run_phase(stub, work / "tools.sqlite", measured, args.labelled, args.users))
        expected = run["answers"]  # every later answer must be the one `latm run` gave
        print(f"latm run: {len(measured)} requests in {run['elapsed_s']:.2f} s, {run['requests_per_s']:.0f}/s, "
              f"tool answers {run['hits']}", flush=True)
        server, base_url = start_server(stub, work / "tools.sqlite", args.users)
        try:
            print(f"latm serve at {base_url}: one Batch API file, then (after a warm-up) {args.clients} client "
                  f"processes x {args.concurrency} concurrent requests", flush=True)
            # The Batch API first: measured right after `latm run`, under the most similar load.
            calls_before = len(stub.calls())
            asyncio.run(batch_api_phase(base_url, measured[: min(1000, len(measured))], expected))  # warm sandboxes
            batch = asyncio.run(batch_api_phase(base_url, measured, expected))
            print(f"Batch API: {batch['answered']} requests in one file, {batch['elapsed_s']:.2f} s upload to "
                  f"download, {batch['requests_per_s']:.0f}/s, tool answers {batch['hits']}, wrong {batch['wrong']}",
                  flush=True)
            phase = (server.pid, expected, args.clients, args.concurrency, args.transport, args.raw)
            serve_phase(base_url, phase[0], measured[: min(2000, len(measured))], *phase[1:])
            serve = serve_phase(base_url, phase[0], measured, *phase[1:])
            load.append(os.getloadavg()[0])
            print(f"latm serve: {len(measured)} requests in {serve['elapsed_s']:.2f} s, {serve['requests_per_s']:.0f}/s, "
                  f"tool answers {serve['hits']}, wrong {serve['wrong']}, errors {serve['errors']}", flush=True)
            llm_calls = len(stub.calls()) - calls_before
        finally:
            server.terminate()
            server.wait(timeout=60)
    finally:
        stub.stop()
        shutil.rmtree(work, ignore_errors=True)
    cpu_ms = serve["client_cpu_ms"] + serve["server_cpu_ms"] + serve["agents_cpu_ms"]
    print(f"LLM calls while serving: {llm_calls}; load average {load[0]:.1f} at the start, {load[1]:.1f} after serving")
    print(f"CPU per request ({args.transport}, {'raw' if args.raw else 'parsed'} replies): openai clients "
          f"{serve['client_cpu_ms']:.3f} ms, server process {serve['server_cpu_ms']:.3f} ms, its Ray agents and "
          f"sandboxes {serve['agents_cpu_ms']:.3f} ms (2 cores: {2000 / cpu_ms:.0f} requests/s if nothing else ran)")
    print(f"serve_requests_per_s={serve['requests_per_s']:.0f} p50_ms={serve['p50_ms']:.2f} "
          f"p99_ms={serve['p99_ms']:.2f} run_requests_per_s={run['requests_per_s']:.0f} "
          f"batch_api_requests_per_s={batch['requests_per_s']:.0f} wrong={serve['wrong'] + batch['wrong']}")


if __name__ == "__main__":
    main()
