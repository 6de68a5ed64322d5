"""A worker node dies during `latm run`: every input id is answered exactly once and the ledger agrees.

The cluster is built in a scenario process of its own (this module run with `--scenario`), as in
test_bus_multinode.py: the suite's session Ray must not be joined. `latm run` is a further process
attached to that cluster with `--placement`, so the solver and one tool user live on the node
that is removed while the solver is answering.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from .pipeline_helpers import word_sort_requests
from .run_process import (check_exactly_once, complete_lines, finish, reverse_reply, reverse_requests,
                          script_maker, start_run, wait_until)

ROOT = Path(__file__).resolve().parents[2]
SEED = 31


def stream_lines() -> list[str]:
    """Sorting requests (their tool is made from the first six) among many the slow solver answers."""
    lines = word_sort_requests(12) + reverse_requests(48)
    random.Random(SEED).shuffle(lines)
    return lines


def scenario(work: Path) -> dict:
    """Head (maker, verifier), node A (solver, one tool user), node B (one tool user); A is removed mid-run."""
    import bus.runtime.env  # noqa: F401  (before ray: every node of the cluster stays on loopback)
    from ray.cluster_utils import Cluster

    from tests.support.stub_llm_server import Fault, StubLLMServer

    stub = StubLLMServer().start()
    script_maker(stub)
    stub.script(Fault(delay_s=0.5, reply=reverse_reply), role="solver")  # keeps the solver busy
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "include_dashboard": False, "resources": {"maker": 1, "verifier": 1}})
    doomed = cluster.add_node(num_cpus=1, resources={"tool_user": 1, "lmulator": 1})
    cluster.add_node(num_cpus=1, resources={"tool_user": 1})
    cluster.wait_for_nodes()
    lines = stream_lines()
    requests, out, store = work / "requests.jsonl", work / "results.jsonl", work / "s" / "tools.sqlite"
    requests.write_text("\n".join(lines) + "\n")
    result: dict = {"total": len(lines)}
    try:
        proc = start_run(stub, cluster.address, requests, out, store, "--placement")
        remove_at = random.Random(SEED).randint(8, 24)
        try:
            wait_until(lambda: complete_lines(out) >= remove_at or proc.poll() is not None, what="results")
            before = cluster.global_state.actor_table(None)
            on_doomed = [a["ActorID"] for a in before.values()
                         if a["State"] == "ALIVE" and a["Address"]["NodeID"] == doomed.node_id]
            result["lines_at_removal"] = complete_lines(out)
            cluster.remove_node(doomed, allow_graceful=False)
            # Somewhere for the lost replicas to restart (the survivors answer meanwhile).
            cluster.add_node(num_cpus=1, resources={"tool_user": 1, "lmulator": 1})
            code, _, stderr = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        after = cluster.global_state.actor_table(None)
        result.update(code=code, stderr=stderr[-3000:], actors_on_removed_node=len(on_doomed),
                      restarts_of_those=sum(after.get(a, {}).get("NumRestarts", 0) for a in on_doomed))
    finally:
        cluster.shutdown()
        stub.stop()
    return result


@pytest.mark.multinode
def test_a_worker_node_dies_during_latm_run(tmp_path):
    # A removed node is noticed in about 5 s instead of 15.
    env = dict(os.environ, RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="3",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", PYTHONPATH=str(ROOT))
    env.pop("RAY_ADDRESS", None)  # the session's Ray must not be joined: the scenario builds its own cluster
    proc = subprocess.run([sys.executable, "-m", "tests.integration.test_run_node_loss", "--scenario",
                           str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, result["stderr"]
    assert result["lines_at_removal"] < result["total"], "the run ended before the node was removed"
    # The solver and a tool user were on the node; Ray restarted them on the fresh node.
    assert result["actors_on_removed_node"] >= 2
    assert result["restarts_of_those"] >= 1
    lines = stream_lines()
    records = check_exactly_once(tmp_path / "results.jsonl", tmp_path / "s" / "tools.sqlite", lines)
    assert sum(r["route"] == "tool" for r in records) == 12
    inputs = {row["id"]: row["input"] for row in map(json.loads, lines)}
    assert all(r["answer"] == reverse_reply({"messages": [{"content": inputs[r["id"]]}]})
               for r in records if r["route"] == "solver")


if __name__ == "__main__" and "--scenario" in sys.argv:
    print(json.dumps(scenario(Path(sys.argv[sys.argv.index("--scenario") + 1]))))
