"""The main job on real Ray actors: pools of tool users, a maker actor, a replica killed mid-run."""
from __future__ import annotations

import asyncio
import io
import json

import ray

from agents.making.maker import MakerConfig
from agents.pipeline.config import PipelineConfig
from agents.pipeline.bootstrap import ray_services
from agents.pipeline.run import run_stream

from .pipeline_helpers import WORD_SORT_TOOL, sorted_words_reply, word_sort_requests


async def test_replica_killed_mid_run_loses_no_request(ray_session, llm_stub, tmp_path):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    # A request whose tool call is lost for good falls back to the solver, which answers right.
    llm_stub.script(sorted_words_reply, role="solver")
    config = PipelineConfig(store_path=str(tmp_path / "tools.sqlite"), users=2, verifiers=1, batch_size=8,
                            maker=MakerConfig(samples_per_round=1, rounds=1, shapes=("end_to_end",)))
    services = ray_services(llm_stub.config(), config)
    await services.start()
    out = io.StringIO()
    try:
        warm, _ = await run_stream(word_sort_requests(6), services, out, config.coordinator)
        assert [m.ok for m in warm.made] == [True]

        async def kill_soon() -> None:
            await asyncio.sleep(0.05)
            ray.kill(services.users.actors[0], no_restart=False)  # Ray restarts it; its batch is retried

        killer = asyncio.ensure_future(kill_soon())
        summary, _ = await run_stream(word_sort_requests(400, start=1000), services, out, config.coordinator)
        await killer
    finally:
        await services.close()
    records = [json.loads(line) for line in out.getvalue().splitlines()][6:]
    ids = [r["id"] for r in records]
    assert len(ids) == 400 and len(set(ids)) == 400  # each answered exactly once
    wrong = [r for r in records if r["route"] == "error" or not r["correct"]]
    assert wrong == []
    assert sum(r["route"] == "tool" for r in records) >= 390
    assert summary.requests == 400
