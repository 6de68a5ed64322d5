"""An embedded llama.cpp server (SmolLM2-135M, the fastest): chat, structured output, reuse, restart."""
from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from agents.llm.client import LLMClient
from agents.llm.config import ROLES, LLMConfig
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded
from agents.llm.model_catalog import SMOLLM2

pytestmark = pytest.mark.model

# Every role on the small model: these tests are about the server's life, not the model.
ALL_SMALL = {"LATM_DEFAULT_EMBEDDED_MODEL": SMOLLM2}


class City(BaseModel):
    name: str = Field(max_length=24, description="city name")
    population: int = Field(ge=0, description="number of people")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    model = EmbeddedModel(SMOLLM2,
                          EmbeddedSettings(state_dir=str(tmp_path_factory.mktemp("embedded"))))
    model.ensure_started()
    yield model
    model.stop()


@pytest.fixture
def client(embedded):
    config = configure_with_embedded(LLMConfig.load(env=ALL_SMALL), {SMOLLM2: embedded})
    return LLMClient(config, embedded={SMOLLM2: embedded})


def test_unconfigured_roles_all_point_at_the_embedded_server(embedded):
    config = configure_with_embedded(
        LLMConfig.load(env={**ALL_SMALL, "LATM_MAKER_BASE_URL": "http://x/v1"}),
        {SMOLLM2: embedded})
    assert config.role("maker").base_url == "http://x/v1" and not config.role("maker").embedded
    assert {config.role(r).base_url for r in ROLES if r != "maker"} == {embedded.base_url}


async def test_chat_completion_records_usage(client):
    result = await client.chat("user", [{"role": "user", "content": "Name a colour."}],
                               max_tokens=12)
    assert isinstance(result.text, str) and result.text.strip()
    rec = result.record
    # Priced by what running it here costs (catalog throughput), so never free.
    assert rec.model == SMOLLM2 and rec.priced and rec.cost_usd > 0
    assert rec.cost_usd == client.config.prices.cost(SMOLLM2, rec.prompt_tokens,
                                                     rec.completion_tokens)[0]
    assert rec.prompt_tokens > 3 and 0 < rec.completion_tokens <= 12
    assert client.ledger.by_role()["user"].completion_tokens == rec.completion_tokens


async def test_structured_output_validates_against_its_schema(client):
    result = await client.structured(
        "solver", [{"role": "user", "content": "Give a city and its population."}], City,
        max_tokens=64)
    assert isinstance(result.value, City)
    City.model_validate(result.value.model_dump())
    assert result.mode in ("json_schema", "json_object")  # the grammar constrained the output
    assert result.record.completion_tokens > 0


def test_starting_twice_reuses_the_server(embedded):
    url, starts = embedded.base_url, embedded.starts
    assert embedded.ensure_started() == url and embedded.starts == starts
    # Another instance (e.g. another process) finds the live server through the state file.
    other = EmbeddedModel(SMOLLM2, embedded.settings)
    assert other.ensure_started() == url and other.starts == 0 and not other.owns_server()


async def test_a_crashed_server_is_restarted(embedded, client):
    starts = embedded.starts
    embedded.process.kill()
    embedded.process.wait()
    result = await client.chat("user", [{"role": "user", "content": "Hi"}], max_tokens=4)
    assert result.record.completion_tokens > 0
    assert embedded.starts == starts + 1 and embedded.owns_server()


def test_a_server_whose_owner_is_killed_ends_by_itself(tmp_path):
    import json
    import subprocess
    import sys
    import time

    # The owner starts the server, prints its pid, then waits to be killed with no clean-up.
    owner_code = (
        "import sys, time\n"
        "from agents.llm.embedded import EmbeddedModel, EmbeddedSettings\n"
        f"model = EmbeddedModel({SMOLLM2!r}, EmbeddedSettings(state_dir={str(tmp_path)!r}))\n"
        "model.ensure_started()\n"
        "print(model.process.pid, flush=True)\n"
        "time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, "-c", owner_code], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(owner.stdout.readline())
        state = json.loads((tmp_path / f"embedded-{SMOLLM2}.json").read_text())
        assert state["pid"] == server_pid and _alive(server_pid)
        owner.kill()  # SIGKILL: atexit never runs
        owner.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(server_pid)
    finally:
        owner.kill()


def _alive(pid: int) -> bool:
    """Whether a process with this pid runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
