"""OpenAI Batch lines: parsed into requests, answered in Batch output lines, errors per line."""
from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletion

from agents.pipeline import batch_format
from agents.pipeline.request_lines import BadLine, bad_line_record, parse_line, result_record
from bus.wire.messages import ErrorInfo, ToolAnswer
from bus.wire.spend import Spend


def batch_line(custom_id="req-1", content="Sort the following words alphabetically: List: b a", **changes) -> str:
    line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}],
                     "metadata": {"task": "word_sorting"}}}
    line.update(changes)
    return json.dumps(line)


def test_batch_line_becomes_a_request_with_its_custom_id_task_and_model():
    req = parse_line(batch_line(), 1)
    assert (req.id, req.task, req.batch_model) == ("req-1", "word_sorting", "gpt-4o-mini")
    assert req.input == "Sort the following words alphabetically: List: b a"
    plain = parse_line(json.dumps({"id": "x", "input": "hi"}), 2)
    assert plain.batch_model is None


def test_answer_is_written_as_a_batch_output_line_the_openai_types_accept():
    req = parse_line(batch_line(), 1)
    answer = ToolAnswer(request_id="abc", answer="a b", route="solver",
                        spend=Spend.of("solver", calls=1, prompt_tokens=9, completion_tokens=2))
    line = json.loads(batch_format.output_text(result_record(req, answer, None)))
    assert set(line) == {"id", "custom_id", "response", "error"}
    assert line["custom_id"] == "req-1" and line["error"] is None and line["response"]["status_code"] == 200
    completion = ChatCompletion.model_validate(line["response"]["body"])
    assert completion.choices[0].message.content == "a b" and completion.model == "gpt-4o-mini"
    assert completion.usage.total_tokens == 11 and completion.model_extra["latm"]["route"] == "solver"
    assert batch_format.answered_id(line) == "req-1"


def test_failed_answer_is_a_502_line_and_not_counted_as_answered():
    req = parse_line(batch_line(), 1)
    answer = ToolAnswer(request_id="abc", route="error", error=ErrorInfo(code="timeout", message="solver timed out"))
    line = json.loads(batch_format.output_text(result_record(req, answer, None)))
    assert line["response"]["status_code"] == 502
    assert line["response"]["body"]["error"]["code"] == "timeout"
    assert batch_format.answered_id(line) is None


@pytest.mark.parametrize("line, custom_id, reason", [
    (batch_line(url="/v1/embeddings"), "req-1", "/v1/chat/completions"),
    (batch_line(method="GET"), "req-1", "POST"),
    (batch_line(body={"model": "m", "messages": []}), "req-1", "messages"),
    (batch_line(body={"model": "m", "stream": True, "messages": [{"role": "user", "content": "x"}]}), "req-1",
     "stream"),
    (batch_line(custom_id=""), None, "custom_id"),
    ('{"custom_id": "req-9", "body": {broken', "req-9", "not JSON"),
])
def test_bad_batch_lines_get_a_batch_error_line(line, custom_id, reason):
    with pytest.raises(BadLine) as err:
        parse_line(line, 7)
    assert err.value.batch and reason in err.value.reason
    out = json.loads(batch_format.output_text(bad_line_record(err.value)))
    assert out["custom_id"] == custom_id
    if custom_id is None:
        assert out["response"] is None and out["error"]["code"] == "bad_request_line"
    else:
        assert out["response"]["status_code"] == 400 and reason in out["response"]["body"]["error"]["message"]


def test_broken_plain_line_stays_a_latm_record():
    with pytest.raises(BadLine) as err:
        parse_line("{broken", 3)
    assert not err.value.batch
    record = json.loads(batch_format.output_text(bad_line_record(err.value)))
    assert record["route"] == "error" and record["id"] == "line-3"
