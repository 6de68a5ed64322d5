"""Seeded fault injection over a mixed `latm run` stream on a local multi-node Ray cluster.

Injected while the stream runs: SIGKILL of the driver (then `latm run --resume`), SIGKILL of
agent replicas, removal of a worker node, windows in which the stub endpoints return 5xx, hang
past the client's timeout or send garbage, and a tool that poisons interpreter-wide state
(decimal context, a stdlib class) used alongside tools that depend on that state. At the end
every input id must be in the results exactly once, answered, and no tool answer wrong.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="3")
import bus.runtime.env  # noqa: E402,F401  (before ray: every node of the cluster stays on loopback)

from tests.support.stub_llm_server import StubLLMServer  # noqa: E402
from bench.fault_stream import VICTIM_KINDS, Outages, stream_lines, write_requests  # noqa: E402

REPLICA_TITLES = ("ray::AgentHost",)  # the bus hosts every agent (users, solvers, dispatchers, maker, verifiers)
GAP_S = 2.0  # faults fire at least this far apart (and after a driver starts), so each meets a live stream
TIMEOUT_S = 2.0


def start_driver(stub: StubLLMServer, address: str, work: Path, resume: bool) -> subprocess.Popen:
    """One `latm run` process attached to the cluster."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="stub", LATM_DEFAULT_TIMEOUT_S=str(TIMEOUT_S),
               LATM_DEFAULT_MAX_RETRIES="2", LATM_DEFAULT_BACKOFF_S="0.05")
    cmd = [sys.executable, "-m", "agents.cli.main", "run", str(work / "requests.jsonl"), "-o",
           str(work / "results.jsonl"), "--store", str(work / "store" / "tools.sqlite"), "--no-progress",
           "--address", address] + (["--resume"] if resume else [])
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(work / "driver.log", "a"),
                            cwd=str(Path(__file__).resolve().parents[1]))


def result_lines(work: Path) -> int:
    """Complete result lines written so far."""
    try:
        return (work / "results.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def replica_pids(cluster) -> list[int]:
    """Agent replica processes of this benchmark's own cluster (descendants of its raylets)."""
    from ray._private import ray_constants
    roots = {info.process.pid for node in [cluster.head_node, *cluster.worker_nodes]
             for info in node.all_processes.get(ray_constants.PROCESS_TYPE_RAYLET, [])}
    parent, title = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            parent[int(entry)] = int(stat[1])
            title[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue

    def ours(pid: int) -> bool:
        for _ in range(8):
            pid = parent.get(pid, 0)
            if pid in roots:
                return True
        return False

    return sorted(p for p, t in title.items() if t.startswith(REPLICA_TITLES) and ours(p))


def schedule(rng: random.Random, n: int, args: argparse.Namespace) -> list[tuple[int, str]]:
    """(result lines written, fault) in order: when each fault fires."""
    faults = (["driver_kill"] * args.driver_kills + ["replica_kill"] * args.replica_kills +
              ["node_removed"] * args.node_removals + ["outage_5xx", "outage_timeout", "outage_garbage"])
    return sorted((rng.randint(n // 10, n * 8 // 10), fault) for fault in faults)


def inject(fault: str, cluster, outages: Outages, rng: random.Random, log) -> bool:
    """Apply one fault (not the driver kill); True when something was injected."""
    if fault == "replica_kill":
        pids = replica_pids(cluster)
        if not pids:
            return False
        pid = rng.choice(pids)
        log(f"SIGKILL agent replica pid {pid} (one of {len(pids)})")
        os.kill(pid, signal.SIGKILL)
    elif fault == "node_removed":
        node = cluster.worker_nodes and sorted(cluster.worker_nodes, key=lambda n: n.node_id)[0]
        if not node:
            return False
        log(f"removing worker node {node.node_id[:12]} (and adding a fresh one)")
        cluster.remove_node(node, allow_graceful=False)
        cluster.add_node(num_cpus=2)
    else:
        mode = fault.split("_", 1)[1]
        log(f"endpoint outage: {mode} for 3 s")
        outages.start(mode, 3.0)
    return True


def run_with_faults(args: argparse.Namespace) -> dict:
    """Drive the stream to completion through every scheduled fault; return the tallies."""
    from ray.cluster_utils import Cluster
    rng = random.Random(args.seed)
    rows = stream_lines(args.limit, args.seed)
    work = Path(tempfile.mkdtemp(prefix="latm-faults-"))
    write_requests(work / "requests.jsonl", rows)
    stub = StubLLMServer().start()
    # Drivers and replicas killed mid-request drop their connections: an injected fault, not news.
    stub._httpd.handle_error = lambda request, client_address: None
    outages = Outages(TIMEOUT_S)
    outages.script(stub)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", flush=True)

    events, injected, runs = schedule(rng, len(rows), args), Counter(), 0
    log(f"{len(rows)} requests, {len(events)} faults scheduled, work dir {work}")
    try:
        while True:
            runs += 1
            driver = start_driver(stub, cluster.address, work, resume=runs > 1)
            log(f"driver {runs} started (pid {driver.pid}{', --resume' if runs > 1 else ''})")
            last_event, lines_at_start = time.monotonic(), result_lines(work)
            while driver.poll() is None:
                lines = result_lines(work)
                if events and lines >= events[0][0] and time.monotonic() - last_event >= GAP_S:
                    if events[0][1] == "driver_kill" and lines <= lines_at_start:
                        time.sleep(0.05)  # kill a driver that is answering, not one still starting
                        continue
                    _, fault = events.pop(0)
                    last_event = time.monotonic()
                    if fault == "driver_kill":
                        log(f"SIGKILL driver pid {driver.pid} at {result_lines(work)} result lines")
                        driver.kill()
                        driver.wait()
                        injected[fault] += 1
                        break
                    if inject(fault, cluster, outages, rng, log):
                        injected[fault] += 1
                    else:  # e.g. no replica up yet after a driver restart: try again shortly
                        events.insert(0, (0, fault))
                time.sleep(0.05)
            if driver.returncode not in (0, -signal.SIGKILL):
                log(f"driver exited with {driver.returncode}; see {work / 'driver.log'}")
            records = [json.loads(x) for x in (work / "results.jsonl").read_text().splitlines()]
            unanswered = len(rows) - sum(r["route"] in ("tool", "solver") for r in records)
            if driver.returncode == 0 and not unanswered:
                if events:
                    log(f"the stream ended before {len(events)} scheduled faults: {[f for _, f in events]}")
                break
            if runs >= args.max_runs:
                log(f"giving up after {runs} runs with {unanswered} unanswered")
                break
            if driver.returncode == 0:
                log(f"{unanswered} requests ended in errors (outages): rerunning with --resume")
        return tally(rows, records, injected, runs, work, log)
    finally:
        stub.stop()
        cluster.shutdown()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def tally(rows: list[dict], records: list[dict], injected: Counter, runs: int, work: Path, log) -> dict:
    """Lost, duplicated and poisoned answers; what the ledger holds."""
    from store.run_ledger import RunLedger
    counts = Counter(r["id"] for r in records)
    ids = {r["id"] for r in rows}
    by_id = {r["id"]: r for r in records}
    kind = {r["id"]: r["task"] for r in rows}
    poisoned = [i for i, r in by_id.items() if r["route"] == "tool" and kind.get(i) in VICTIM_KINDS
                and not r["correct"]]
    ledger = RunLedger(work / "store" / "runs.sqlite")
    [run_id] = ledger.runs()
    ledger_rows = {row.request_id: row.route for row in ledger.rows(run_id)}
    tool_kinds = Counter(kind[i] for i, r in by_id.items() if r["route"] == "tool")
    log(f"tool answers by kind: {dict(tool_kinds)}")
    log(f"runs: {runs}; injected: {dict(injected)}; ledger agrees with output: "
        f"{ledger_rows == {i: r['route'] for i, r in by_id.items()}}")
    return {"requests": len(rows), "answered": sum(by_id[i]["route"] in ("tool", "solver") for i in ids & set(by_id)),
            "lost": len(ids - set(by_id)), "duplicated": sum(c - 1 for c in counts.values()),
            "wrong_from_poisoning": len(poisoned), "faults": sum(injected.values()),
            "correct": sum(bool(r.get("correct")) for r in by_id.values()), "runs": runs,
            "ledger_agrees": ledger_rows == {i: r["route"] for i, r in by_id.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=400, help="requests in the stream")
    parser.add_argument("--seed", type=int, default=7, help="seed of the stream and of the fault schedule")
    parser.add_argument("--driver-kills", type=int, default=2, help="SIGKILLs of the driver (each resumed)")
    parser.add_argument("--replica-kills", type=int, default=2, help="SIGKILLs of agent replicas")
    parser.add_argument("--node-removals", type=int, default=1, help="worker nodes removed")
    parser.add_argument("--max-runs", type=int, default=8, help="driver runs before giving up")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (results, ledger, logs)")
    figures = run_with_faults(parser.parse_args())
    print(f"correct {figures['correct']}/{figures['requests']}, driver runs {figures['runs']}, "
          f"ledger agrees with results: {figures['ledger_agrees']}")
    print(" ".join(f"{k}={figures[k]}" for k in ("requests", "answered", "lost", "duplicated",
                                                 "wrong_from_poisoning", "faults")))


if __name__ == "__main__":
    main()
