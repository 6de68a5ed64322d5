"""LLMClient against the stub server through the real openai client: routing, retries, errors."""
from __future__ import annotations

import asyncio

import pytest

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.errors import (EndpointUnreachable, LLMConfigError, LLMRequestRejected,
                               LLMTimeout, MalformedResponse, RateLimited)
from tests.support.stub_llm_server import Fault, Reply, StubLLMServer

ASK = [{"role": "user", "content": "what is two plus two"}]


async def test_each_role_goes_to_its_own_endpoint_with_its_model_and_header(llm_stub):
    with StubLLMServer(model="cheap-model") as other:
        config = llm_stub.config().with_role("user", base_url=other.base_url, model="cheap-model",
                                              temperature=0.9)
        llm_stub.script("from strong", role="maker")
        other.script("from cheap", role="user")
        client = LLMClient(config)
        assert (await client.chat("maker", ASK)).text == "from strong"
        assert (await client.chat("user", ASK, max_tokens=7)).text == "from cheap"
        assert [r.role for r in llm_stub.calls()] == ["maker"]
        (sent,) = other.calls()
        assert (sent.role, sent.params["model"]) == ("user", "cheap-model")
        assert sent.params["temperature"] == 0.9 and sent.params["max_tokens"] == 7
        await client.aclose()


async def test_script_by_prompt_match_and_in_order(llm_stub):
    llm_stub.script("four", match="two plus two")
    llm_stub.script_sequence(["first", "second"], role="solver")
    client = LLMClient(llm_stub.config())
    assert (await client.chat("user", ASK)).text == "four"
    other = [{"role": "user", "content": "something else"}]
    assert [(await client.chat("solver", other)).text for _ in range(2)] == ["first", "second"]
    with pytest.raises(LLMRequestRejected, match="no scripted reply"):
        await client.chat("solver", other)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_are_retried_then_succeed(llm_stub, status):
    llm_stub.script(Fault(status=status), role="user", times=2)
    llm_stub.script("finally")
    client = LLMClient(llm_stub.config(max_retries=3))
    result = await client.chat("user", ASK)
    assert result.text == "finally"
    assert result.record.attempts == 3 and len(llm_stub.calls()) == 3
    assert len(client.ledger) == 1  # failed attempts carry no usage


@pytest.mark.parametrize("status, error", [(429, RateLimited), (500, EndpointUnreachable)])
async def test_persistent_errors_become_typed_after_max_retries(llm_stub, status, error):
    llm_stub.script(Fault(status=status, headers={"Retry-After": "0"}))
    client = LLMClient(llm_stub.config(max_retries=2))
    with pytest.raises(error, match="user"):
        await client.chat("user", ASK)
    assert len(llm_stub.calls()) == 3


async def test_client_errors_are_not_retried_and_say_what_to_fix(llm_stub):
    llm_stub.script(Fault(status=401), role="maker")
    llm_stub.script(Fault(status=400), role="user")
    client = LLMClient(llm_stub.config(max_retries=3))
    with pytest.raises(LLMConfigError, match="OPENAI_API_KEY"):
        await client.chat("maker", ASK)
    with pytest.raises(LLMRequestRejected, match="400"):
        await client.chat("user", ASK)
    assert len(llm_stub.calls()) == 2


async def test_timeout_raises_llm_timeout(llm_stub):
    llm_stub.script(Fault(delay_s=2.0, reply="too late"))
    client = LLMClient(llm_stub.config(timeout_s=0.2, max_retries=1))
    with pytest.raises(LLMTimeout, match="TIMEOUT_S"):
        await client.chat("dispatcher", ASK)
    assert len(llm_stub.calls()) == 2


async def test_malformed_response_body_is_a_typed_error(llm_stub):
    llm_stub.script(Fault(body="{this is not json"), times=1)
    llm_stub.script(Fault(body='{"id": "x", "choices": []}'), times=1)
    client = LLMClient(llm_stub.config(max_retries=0))
    for _ in range(2):
        with pytest.raises(MalformedResponse):
            await client.chat("user", ASK)


async def test_dead_endpoint_is_unreachable_with_a_fix():
    client = LLMClient(LLMConfig.for_base_url("http://127.0.0.1:9/v1", model="m",
                                              max_retries=1, backoff_s=0.001))
    with pytest.raises(EndpointUnreachable, match="LATM_MAKER_BASE_URL"):
        await client.chat("maker", ASK)


async def test_unconfigured_role_without_embedded_names_the_variable():
    client = LLMClient(LLMConfig.load(env={}), auto_embedded=False)
    with pytest.raises(LLMConfigError, match="LATM_MAKER_BASE_URL"):
        await client.chat("maker", ASK)


async def test_concurrency_limit_per_role_holds(llm_stub):
    llm_stub.script(Fault(delay_s=0.05, reply="slow"))
    config = llm_stub.config().with_role("user", concurrency=2).with_role("solver", concurrency=5)
    client = LLMClient(config)
    await asyncio.gather(*[client.chat("user", ASK) for _ in range(8)],
                         *[client.chat("solver", ASK) for _ in range(10)])
    assert llm_stub.max_in_flight["user"] == 2
    assert 2 < llm_stub.max_in_flight["solver"] <= 5


async def test_accounting_matches_the_stub_usage(llm_stub):
    llm_stub.script("one two three", role="user")
    llm_stub.script(Reply(content="x", usage={"prompt_tokens": 1000, "completion_tokens": 500}),
                    role="maker")
    config = llm_stub.config().with_role("maker", model="gpt-4o")
    config = config.model_copy(update={"prices": config.prices.with_overrides(
        {"stub-model": {"input": 1.0, "output": 2.0}})})
    client = LLMClient(config)
    for _ in range(3):
        await client.chat("user", ASK)
    await client.chat("maker", ASK)
    by_role = client.ledger.by_role()
    assert (by_role["user"].prompt_tokens, by_role["user"].completion_tokens) == (3 * 5, 3 * 3)
    assert (by_role["maker"].prompt_tokens, by_role["maker"].completion_tokens) == (1000, 500)
    maker_cost = (1000 * 2.5 + 500 * 10.0) / 1e6  # the default table's gpt-4o price
    assert by_role["maker"].cost_usd == pytest.approx(maker_cost)
    assert by_role["user"].cost_usd == pytest.approx((15 * 1.0 + 9 * 2.0) / 1e6)
    assert client.ledger.counterfactual_cost("gpt-4o") == pytest.approx(
        ((15 + 1000) * 2.5 + (9 + 500) * 10.0) / 1e6)


async def test_tool_calls_come_back_and_model_is_discovered(llm_stub):
    llm_stub.script(Reply(tool_name="add", tool_arguments={"a": 1, "b": 2}))
    client = LLMClient(llm_stub.config(model=""))
    tools = [{"type": "function", "function": {"name": "add", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}}}]
    result = await client.chat("user", ASK, tools=tools)
    assert result.tool_calls[0]["name"] == "add" and result.finish_reason == "tool_calls"
    assert result.record.model == "stub-model"
    assert llm_stub.calls()[0].params["tools"] == tools


def test_one_client_serves_several_event_loops(llm_stub):
    llm_stub.script("ok")
    client = LLMClient(llm_stub.config())
    for _ in range(2):  # CLIs call asyncio.run repeatedly; semaphores/clients are per loop
        assert asyncio.run(client.chat("user", ASK)).text == "ok"
    assert len(client.ledger) == 2
