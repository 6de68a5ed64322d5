"""Unconfigured roles reach their own embedded model's server (live servers found by state file)."""
from __future__ import annotations

import json

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.embedded import (EmbeddedModel, EmbeddedSettings, answers,
                                 configure_with_embedded)
from agents.llm.model_catalog import CODER_05B, CODER_15B, SMOLLM2
from tests.support.stub_llm_server import StubLLMServer


def live_servers(tmp_path, stubs: dict) -> dict:
    """EmbeddedModels whose state files point at already running servers of their model (as
    another process that started them would leave them), so they are reused, not started."""
    settings = EmbeddedSettings(state_dir=str(tmp_path))
    servers = {}
    for name, stub in stubs.items():
        server = servers[name] = EmbeddedModel(name, settings)
        server.state_file.write_text(json.dumps({"base_url": stub.base_url, "pid": 0}))
    return servers


async def test_each_role_calls_its_default_models_server_and_is_priced_by_it(tmp_path):
    with StubLLMServer(model=CODER_15B) as coder, StubLLMServer(model=SMOLLM2) as small:
        coder.script("def solve(q): return q")
        small.script("yes")
        servers = live_servers(tmp_path, {CODER_15B: coder, SMOLLM2: small})
        config = configure_with_embedded(
            LLMConfig.load(env={"LATM_SOLVER_BASE_URL": small.base_url,
                                "LATM_SOLVER_MODEL": "remote-model"}), servers)
        assert config.role("solver").base_url == small.base_url and not config.role("solver").embedded
        client = LLMClient(config, embedded=servers)
        made = await client.chat("maker", [{"role": "user", "content": "write"}])
        used = await client.chat("user", [{"role": "user", "content": "use"}])
        await client.aclose()
        assert [c.params["model"] for c in coder.calls()] == [CODER_15B]
        assert [c.params["model"] for c in small.calls()] == [SMOLLM2]
        assert servers[CODER_15B].starts == 0 and servers[SMOLLM2].starts == 0
    assert made.record.model == CODER_15B and used.record.model == SMOLLM2
    assert made.record.cost_usd > 0 and used.record.cost_usd > 0
    assert made.record.cost_usd == config.prices.cost(CODER_15B, made.record.prompt_tokens,
                                                      made.record.completion_tokens)[0]


async def test_a_role_switched_to_another_embedded_model_uses_that_server(tmp_path):
    with StubLLMServer(model=CODER_15B) as coder, StubLLMServer(model=CODER_05B) as half, \
            StubLLMServer(model=SMOLLM2) as small:
        for stub in (coder, half, small):
            stub.script("ok")
        servers = live_servers(tmp_path, {CODER_15B: coder, CODER_05B: half, SMOLLM2: small})
        config = configure_with_embedded(
            LLMConfig.load(env={"LATM_MAKER_EMBEDDED_MODEL": CODER_05B}), servers)
        client = LLMClient(config, embedded=servers)
        await client.chat("maker", [{"role": "user", "content": "write"}])
        await client.chat("solver", [{"role": "user", "content": "solve"}])
        await client.aclose()
        assert [c.params["model"] for c in half.calls()] == [CODER_05B]
        assert [c.params["model"] for c in coder.calls()] == [CODER_15B]
        assert config.role("maker").timeout_s >= 1200  # local models on shared cores are slow
        # One request in flight per role: the server answers one at a time, on the clock.
        assert config.role("maker").concurrency == config.role("user").concurrency == 1


def test_a_recorded_server_of_another_model_is_not_reused(tmp_path):
    with StubLLMServer(model=SMOLLM2) as small:
        server = EmbeddedModel(CODER_15B, EmbeddedSettings(state_dir=str(tmp_path)))
        server.state_file.write_text(json.dumps({"base_url": small.base_url, "pid": 0}))
        assert server._read_state() == small.base_url
        assert answers(small.base_url) and not answers(small.base_url, model=CODER_15B)
