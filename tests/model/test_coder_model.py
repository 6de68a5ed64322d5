"""The default maker model: the Qwen2.5-Coder-1.5B server starts, answers, and takes long prompts."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded
from agents.llm.model_catalog import CODER_15B, SMOLLM2

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Both default embedded models, with state in a temporary directory."""
    settings = EmbeddedSettings(state_dir=str(tmp_path_factory.mktemp("coder")))
    started = {name: EmbeddedModel(name, settings) for name in (CODER_15B, SMOLLM2)}
    yield started
    for server in started.values():
        server.stop()


async def test_default_roles_reach_their_own_servers_and_the_coder_writes_code(servers):
    config = configure_with_embedded(LLMConfig.load(env={}), servers)
    assert config.role("maker").base_url == servers[CODER_15B].base_url
    assert config.role("user").base_url == servers[SMOLLM2].base_url
    client = LLMClient(config, embedded=servers)
    result = await client.chat("maker", [{"role": "user", "content":
                               "Write a Python function add(a, b) that returns a + b. "
                               "Reply with the code only."}], max_tokens=48)
    await client.aclose()
    assert "def add" in result.text
    rec = result.record
    assert rec.model == CODER_15B and rec.priced and rec.cost_usd > 0
    assert rec.cost_usd == config.prices.cost(CODER_15B, rec.prompt_tokens,
                                              rec.completion_tokens)[0]


@pytest.mark.timeout(1200)  # ~4,500 prompt tokens on 2 shared cores
async def test_the_coder_takes_a_prompt_longer_than_4096_tokens(servers):
    # Maker prompts with examples and feedback are long: the server runs with n_ctx 8192.
    config = configure_with_embedded(LLMConfig.load(env={}), servers)
    client = LLMClient(config, embedded=servers)
    numbers = " ".join(str(1000 + i) for i in range(900))
    result = await client.chat("maker", [{"role": "user", "content":
                               f"Here are numbers: {numbers}\nSay OK."}], max_tokens=2)
    await client.aclose()
    assert 4096 < result.record.prompt_tokens < 8192
