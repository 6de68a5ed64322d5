"""LLMClient.structured against the stub: native modes, fallback, repair, typed failure."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from agents.llm.client import LLMClient
from agents.llm.errors import StructuredOutputError
from tests.support.stub_llm_server import StubLLMServer

ASK = [{"role": "system", "content": "You extract numbers."},
       {"role": "user", "content": "add 2 and 3"}]


class Args(BaseModel):
    a: int
    b: int


async def test_json_schema_mode_sends_the_schema_and_validates(llm_stub):
    llm_stub.script('{"a": 2, "b": 3}')
    result = await LLMClient(llm_stub.config()).structured("user", ASK, Args)
    assert result.value == Args(a=2, b=3) and result.mode == "json_schema"
    (sent,) = llm_stub.calls()
    assert sent.params["response_format"]["json_schema"]["schema"]["required"] == ["a", "b"]
    assert sent.messages[0]["role"] == "system" and "JSON schema" in sent.messages[0]["content"]
    assert sum(m["role"] == "system" for m in sent.messages) == 1


async def test_auto_mode_falls_back_when_the_server_refuses_json_schema():
    with StubLLMServer(supports_response_format=False) as stub:
        stub.script('{"a": 2, "b": 3}')
        client = LLMClient(stub.config())
        result = await client.structured("user", ASK, Args)
        assert result.value.a == 2 and result.mode == "json_object"
        kinds = [r.params.get("response_format", {}).get("type") for r in stub.calls()]
        assert kinds == ["json_schema", "json_object"]
        await client.structured("user", ASK, Args)  # remembers the working mode
        assert stub.calls()[-1].params["response_format"]["type"] == "json_object"
        assert result.record.calls == 1  # the refused request had no usage


async def test_tools_mode_reads_the_forced_tool_call(llm_stub):
    llm_stub.script({"a": 5, "b": 6})
    result = await LLMClient(llm_stub.config(structured_mode="tools")).structured(
        "user", ASK, Args)
    assert result.value == Args(a=5, b=6) and result.mode == "tools"
    assert llm_stub.calls()[0].params["tool_choice"]["function"]["name"] == "Args"


async def test_invalid_output_is_repaired_with_the_error_fed_back(llm_stub):
    llm_stub.script_sequence(["I think it is five", '{"a": "two"}', 'ok: {"a": 2, "b": 3}'])
    result = await LLMClient(llm_stub.config()).structured("solver", ASK, Args, max_repairs=2)
    assert result.value == Args(a=2, b=3) and result.attempts == 3
    last = llm_stub.calls()[-1].messages
    assert last[-2] == {"role": "assistant", "content": '{"a": "two"}'}
    assert "not valid" in last[-1]["content"] and "b" in last[-1]["content"]
    assert result.record.calls == 3
    assert result.record.completion_tokens == 5 + 2 + 5


async def test_garbage_becomes_structured_output_error(llm_stub):
    llm_stub.script("no numbers here, sorry")
    client = LLMClient(llm_stub.config())
    with pytest.raises(StructuredOutputError) as info:
        await client.structured("user", ASK, Args, max_repairs=1)
    assert info.value.attempts == 2 and info.value.raw_text == "no numbers here, sorry"
    assert len(client.ledger) == 2  # the failed exchange still cost tokens


async def test_dict_schema_and_signature_schema(llm_stub):
    llm_stub.script('{"question": "q"}')
    client = LLMClient(llm_stub.config(structured_mode="prompt"))
    value = (await client.structured("user", ASK, "solve(question: str) -> str")).value
    assert value.question == "q"
    assert "response_format" not in llm_stub.calls()[0].params
    schema = {"type": "object", "properties": {"question": {"type": "string"}},
              "required": ["question"]}
    assert (await client.structured("user", ASK, schema)).value == {"question": "q"}
