"""Multi-node placement on one machine: agents land where their resources are; losing a node loses nothing.

The scenario runs in its own process (this file run as a script), because a Ray driver can join only
one cluster and the rest of the suite shares the session's local Ray.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from bus.wire.messages import Echo, Message

ROOT = Path(__file__).resolve().parents[2]


class SlowEcho:
    """Echo that takes a while, so a node can be removed while batches are in flight."""

    handlers: ClassVar[dict[type[Message], str]] = {Echo: "echo"}

    async def echo(self, msg: Echo) -> Echo:
        await asyncio.sleep(0.1)
        return Echo(payload=msg.payload)


async def scenario() -> dict:
    """Start a 5-node cluster, place a maker and a tool-user pool, remove a user node mid-stream."""
    import bus.runtime.env  # noqa: F401  (before ray: keeps every node of the cluster on loopback)
    from ray.cluster_utils import Cluster

    from tests.support.echo_agent import EchoAgent
    from bus.runtime import Pool, spawn, start_runtime, stop_runtime

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    nodes = {
        "maker": cluster.add_node(num_cpus=1, resources={"maker": 1}),
        "user_a": cluster.add_node(num_cpus=1, resources={"tool_user": 2}),
        "user_b": cluster.add_node(num_cpus=1, resources={"tool_user": 2}),
    }
    cluster.wait_for_nodes()
    start_runtime(address=cluster.address)
    ids = {name: node.node_id for name, node in nodes.items()}
    result: dict = {"node_ids": ids}
    try:
        maker = spawn(EchoAgent, resources={"maker": 1})
        result["maker_node"] = (await maker.info())["node_id"]
        pool = Pool(SlowEcho, replicas=4, resources={"tool_user": 1}, batch_size=8, max_in_flight=2)
        await pool.ready()
        result["users_before"] = sorted(i["node_id"] for i in await asyncio.gather(*(a.info.remote() for a in pool.actors)))

        msgs = [Echo(payload=str(i)) for i in range(600)]
        done = 0

        def count(_: object) -> None:
            nonlocal done
            done += 1

        futures = [asyncio.ensure_future(pool.submit(m)) for m in msgs]
        for f in futures:
            f.add_done_callback(count)
        while done < 100:
            await asyncio.sleep(0.02)
        cluster.remove_node(nodes["user_a"], allow_graceful=False)
        result["answered_before_removal"] = done
        # Somewhere for user_a's actors to restart; until then the survivors take the retried batches.
        cluster.add_node(num_cpus=1, resources={"tool_user": 2})
        replies = await asyncio.gather(*futures)
        result["n_replies"] = len(replies)
        result["ids_match"] = [r.request_id for r in replies] == [m.request_id for m in msgs]
        result["unique"] = len({r.request_id for r in replies})
        result["errors"] = [r.model_dump() for r in replies if not isinstance(r, Echo)][:5]
        result["payloads_match"] = [getattr(r, "payload", None) for r in replies] == [m.payload for m in msgs]
        result["retries"] = pool.stats()["retries"]
        await pool.ready()
        result["users_after"] = [i["node_id"] for i in await asyncio.gather(*(a.info.remote() for a in pool.actors))]
        await pool.close()
        await maker.close()
    finally:
        stop_runtime()
        cluster.shutdown()
    return result


@pytest.mark.multinode
def test_placement_and_node_loss_on_a_local_multi_node_cluster():
    # A removed node is noticed in about 5 s instead of 15.
    # PYTHONPATH: the script and its Ray workers import tests.support, which is not an installed package.
    env = dict(os.environ, RAY_health_check_period_ms="500", RAY_health_check_failure_threshold="3",
               RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", PYTHONPATH=str(ROOT))
    env.pop("RAY_ADDRESS", None)  # the session's Ray must not be joined: the scenario builds its own cluster
    proc = subprocess.run([sys.executable, __file__, "--scenario"], env=env, capture_output=True, text=True,
                          timeout=280)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    ids = result["node_ids"]
    assert result["maker_node"] == ids["maker"]
    # Two tool-user slots per node, four replicas: exactly two on each user node, none elsewhere.
    assert result["users_before"] == sorted([ids["user_a"]] * 2 + [ids["user_b"]] * 2)
    assert result["answered_before_removal"] < 600
    assert result["n_replies"] == 600 and result["unique"] == 600
    assert result["ids_match"] and result["payloads_match"], result["errors"]
    assert result["errors"] == []
    assert result["retries"] >= 1  # batches really were in flight on the removed node
    assert ids["user_a"] not in result["users_after"]
    assert ids["maker"] not in result["users_after"]


if __name__ == "__main__" and "--scenario" in sys.argv:
    print(json.dumps(asyncio.run(scenario())))
