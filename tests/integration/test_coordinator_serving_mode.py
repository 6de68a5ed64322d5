"""Serving mode of the coordinator: while a kind's tool is being made, its requests go to the solver."""
from __future__ import annotations

import threading

from agents.pipeline.coordinator import Coordinator, CoordinatorConfig
from agents.pipeline.local_services import LocalServices
from agents.pipeline.request_lines import parse_line, to_request

from .pipeline_helpers import WORD_SORT_TOOL, sorted_words_reply, word_sort_requests
from .test_pipeline_local import make_config


async def test_requests_do_not_wait_for_making_when_serving(llm_stub, tmp_path):
    gate = threading.Event()

    def gated_maker(body: dict) -> str:
        gate.wait(timeout=30)
        return WORD_SORT_TOOL
    llm_stub.script(gated_maker, role="maker")
    llm_stub.script(sorted_words_reply, role="solver")
    config = make_config(tmp_path)
    services = LocalServices(llm_stub.config(), config)
    coordinator = Coordinator(services, CoordinatorConfig(wait_for_tool=False))
    requests = [to_request(parse_line(line, i), "run") for i, line in
                enumerate(word_sort_requests(8, with_target=False, task=None))]
    try:
        first = [await coordinator.answer(req) for req in requests[:6]]  # the solver labels six examples
        assert [a.route for a in first] == ["solver"] * 6
        group = coordinator.groups.get(requests[6].text, None)
        assert group.state == "making"
        during = await coordinator.answer(requests[6])  # the maker is held at the gate: no waiting for it
        assert during.route == "solver" and group.state == "making"
        assert during.answer == " ".join(sorted(requests[6].text.split("List: ")[1].split()))
        gate.set()
        await coordinator.drain()
        after = await coordinator.answer(requests[7])
        assert after.route == "tool" and after.spend.calls == 0
    finally:
        gate.set()
        await services.close()
