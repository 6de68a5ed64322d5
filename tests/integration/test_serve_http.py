"""`latm serve` through the real `openai` client: cached kinds by tools, new kinds by the solver, then by tools."""
from __future__ import annotations

import json
import random
import re
import time

import openai
import pytest

from tests.support.stub_llm_server import StubLLMServer
from store.run_ledger import RunLedger

from .pipeline_helpers import sorted_words_reply
from .serve_helpers import REVERSE_TOOL, ServeProcess, seed_sort_tool

VOCAB = ["apple", "zebra", "mango", "kiwi", "banana", "cherry", "delta", "echo", "fig", "grape", "lemon"]


def sort_question(rng: random.Random) -> tuple[str, str]:
    words = rng.sample(VOCAB, 5)
    return "Sort the following words alphabetically: List: " + " ".join(words), " ".join(sorted(words))


def reverse_reply(body: dict) -> str:
    """The stub solver for the new kind: reverses the word after the colon."""
    return body["messages"][-1]["content"].rsplit(":", 1)[1].strip().split("\n")[0][::-1]


@pytest.fixture(scope="module")
def stub():
    server = StubLLMServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(stub, tmp_path_factory):
    """One server for the module, its cache holding a word-sorting tool from an earlier run."""
    store = tmp_path_factory.mktemp("serve") / "tools.sqlite"
    seed_sort_tool(store)
    stub.script(reverse_reply, role="solver", match="Reverse the letters")
    stub.script(sorted_words_reply, role="solver")
    stub.script(REVERSE_TOOL, role="maker")
    server = ServeProcess(stub, store)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(served):
    return openai.OpenAI(base_url=served.base_url, api_key="unused", max_retries=0)


def test_cached_kind_is_answered_by_its_tool_with_no_llm_call(served, client, stub):
    rng = random.Random(1)
    before = len(stub.calls())
    for labelled in (True, False):  # by its task label, and found by the dispatcher's retrieval
        question, expected = sort_question(rng)
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": question}],
            metadata={"task": "word_sorting"} if labelled else None)
        completion = raw.parse()
        assert completion.choices[0].message.content == expected
        assert completion.model == "gpt-4o" and completion.usage.total_tokens == 0
        latm = completion.model_extra["latm"]
        assert (latm["route"], latm["tool_id"], latm["llm_calls"]) == ("tool", "word_sorting", 0)
        assert raw.headers["x-latm-route"] == "tool" and raw.headers["x-latm-tool-id"] == "word_sorting"
        assert raw.headers["x-latm-tool-version"] == latm["tool_version"]
    assert len(stub.calls()) == before  # no LLM call of any role


def test_unknown_kind_is_solved_then_made_into_a_tool(served, client, stub):
    words = ["lantern", "meadow", "harbor", "violet", "candle", "pepper", "saddle", "timber", "walnut",
             "orchid", "falcon", "marble", "quartz", "binder", "copper", "dagger", "ember", "goblet"]
    routes = []
    deadline = time.monotonic() + 120
    for word in words * 10:
        completion = client.chat.completions.create(
            model="latm", messages=[{"role": "user", "content": f"Reverse the letters of this word: {word}"}])
        assert completion.choices[0].message.content == word[::-1]
        latm = completion.model_extra["latm"]
        routes.append(latm["route"])
        if latm["route"] == "tool":
            assert latm["llm_calls"] == 0 and completion.usage.total_tokens == 0
            break
        assert latm["route"] == "solver" and latm["llm_calls"] == 1
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)  # the maker works in the background meanwhile
    assert routes[:6] == ["solver"] * 6 and routes[-1] == "tool", routes
    assert len(stub.calls("maker")) >= 1
    _, _, metrics = served.request("GET", "/metrics")
    assert re.search(r'latm_tool_making_total\{outcome="made"\} 1\.0', metrics)


def test_streaming_returns_chunks_usage_and_done(served, client):
    question, expected = sort_question(random.Random(2))
    stream = client.chat.completions.create(
        model="latm", messages=[{"role": "user", "content": question}], stream=True,
        stream_options={"include_usage": True}, metadata={"task": "word_sorting"})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 0
    assert chunks[-2].model_extra["latm"]["route"] == "tool"
    status, headers, body = served.request(
        "POST", "/v1/chat/completions", b'{"model": "m", "stream": true, "messages": [{"role": "user", '
        b'"content": "' + question.encode() + b'"}]}', {"Content-Type": "application/json"})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    assert body.rstrip().endswith("data: [DONE]")


@pytest.mark.parametrize("body, param", [
    (b"{not json", None),
    (b'"just a string"', None),
    (b'{"model": "m"}', "messages"),
    (b'{"model": "m", "messages": []}', "messages"),
    (b'{"model": "m", "messages": [{"role": "wizard", "content": "hi"}]}', "messages[0]"),
    (b'{"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}',
     "messages[1]"),
    (b'{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}', "messages[0].content"),
    (b'{"model": "m", "n": 3, "messages": [{"role": "user", "content": "a"}]}', "n"),
    (b'{"model": "m", "metadata": {"task": 5}, "messages": [{"role": "user", "content": "a"}]}', "metadata"),
])
def test_malformed_body_gets_openai_400_and_server_keeps_serving(served, client, body, param):
    status, _, text = served.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    assert status == 400, text
    error = json.loads(text)["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="latm", messages=[])
    question, expected = sort_question(random.Random(3))
    completion = client.chat.completions.create(model="latm", messages=[{"role": "user", "content": question}],
                                                metadata={"task": "word_sorting"})
    assert completion.choices[0].message.content == expected


def test_models_health_metrics_and_unknown_routes(served, client):
    assert [m.id for m in client.models.list().data] == ["latm"]
    status, _, text = served.request("GET", "/health")
    assert status == 200 and '"status":"ok"' in text
    status, headers, metrics = served.request("GET", "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    tool_answers = float(re.search(r'latm_answers_total\{route="tool"\} (\S+)', metrics).group(1))
    assert tool_answers >= 2
    assert re.search(r'latm_http_requests_total\{path="/v1/chat/completions",status="400"\} [1-9]', metrics)
    assert re.search(r'latm_request_latency_seconds_bucket\{le="0\.01",route="tool"\}', metrics)
    assert re.search(r'latm_llm_calls_total\{role="solver"\} [1-9]', metrics)
    assert re.search(r'latm_tools\{status="active"\} [1-9]', metrics)
    assert 0 < float(re.search(r"^latm_cache_hit_ratio (\S+)$", metrics, re.M).group(1)) < 1
    status, _, text = served.request("GET", "/v1/nothing-here")
    assert status == 404 and "invalid_request_error" in text
    status, _, text = served.request("GET", "/v1/chat/completions")
    assert status == 405 and "invalid_request_error" in text


def test_stopping_writes_the_session_to_the_run_ledger(stub, tmp_path):
    store = tmp_path / "tools.sqlite"
    seed_sort_tool(store)
    server = ServeProcess(stub, store)
    client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    rng = random.Random(4)
    for _ in range(5):
        client.chat.completions.create(model="latm", messages=[{"role": "user", "content": sort_question(rng)[0]}],
                                       metadata={"task": "word_sorting"})
    output = server.stop()
    assert server.proc.returncode == 0, output
    run_id = re.search(r"\(run (\w+);", output).group(1)
    ledger = RunLedger(tmp_path / "runs.sqlite")
    rows = ledger.rows(run_id)
    assert [r.route for r in rows] == ["tool"] * 5
    assert sorted(r.extra["seq"] for r in rows) == list(range(5))
    assert ledger.info(run_id)["figures"]["requests"] == 5
    assert "== latm run summary ==" in output


def test_batch_api_runs_a_file_and_answers_every_custom_id_once(served, client, stub):
    rng = random.Random(6)
    expected, lines = {}, []
    for i in range(40):
        question, answer = sort_question(rng)
        expected[f"q{i}"] = answer
        lines.append(json.dumps({"custom_id": f"q{i}", "method": "POST", "url": "/v1/chat/completions",
                                 "body": {"model": "gpt-4o-mini", "metadata": {"task": "word_sorting"},
                                          "messages": [{"role": "user", "content": question}]}}))
    lines += [json.dumps({"custom_id": "q3", "method": "POST", "url": "/v1/chat/completions",
                          "body": {"model": "m", "messages": [{"role": "user", "content": "again"}]}}),
              json.dumps({"custom_id": "emb", "method": "POST", "url": "/v1/embeddings", "body": {}}),
              "{torn"]
    before = len(stub.calls())
    uploaded = client.files.create(file=("requests.jsonl", "\n".join(lines).encode()), purpose="batch")
    assert uploaded.bytes > 0 and uploaded.purpose == "batch"
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                  completion_window="24h")
    deadline = time.monotonic() + 60
    while batch.status != "completed" and time.monotonic() < deadline:
        time.sleep(0.1)
        batch = client.batches.retrieve(batch.id)
    assert batch.status == "completed", batch
    assert (batch.request_counts.total, batch.request_counts.completed, batch.request_counts.failed) == (43, 40, 3)
    outputs = [json.loads(x) for x in client.files.content(batch.output_file_id).text.splitlines()]
    errors = [json.loads(x) for x in client.files.content(batch.error_file_id).text.splitlines()]
    assert sorted(o["custom_id"] for o in outputs) == sorted(expected)
    for out in outputs:
        body = out["response"]["body"]
        assert body["choices"][0]["message"]["content"] == expected[out["custom_id"]]
        assert body["model"] == "gpt-4o-mini" and body["latm"]["route"] == "tool"
    assert sorted(str(e["custom_id"]) for e in errors) == ["None", "emb", "q3"]  # duplicate, wrong url, torn line
    assert len(stub.calls()) == before  # every answer from the cached tool
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")


def test_oversized_body_is_refused_before_it_is_read(served):
    status, _, text = served.request("POST", "/v1/files", b"x",
                                     {"Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(2**40)})
    assert status == 413 and "split" in json.loads(text)["error"]["message"]
    assert served.request("GET", "/health")[0] == 200
