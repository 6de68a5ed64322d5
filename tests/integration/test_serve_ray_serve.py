"""`latm serve --address`: the same front door through Ray Serve on a running cluster."""
from __future__ import annotations

import json
import random
import re
import time

import openai
import pytest

from store.run_ledger import RunLedger

from .serve_helpers import ServeProcess, seed_sort_tool


def test_ray_serve_ingress_answers_from_the_shared_pipeline(ray_session, llm_stub, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    llm_stub.script("7", role="solver")
    store = tmp_path / "tools.sqlite"
    seed_sort_tool(store)
    server = ServeProcess(llm_stub, store, "--address", address, "--replicas", "2")
    try:
        assert "Ray Serve, 2 replicas" in "".join(server.lines)
        client = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
        rng = random.Random(9)
        for _ in range(6):
            words = rng.sample(["pear", "fig", "kiwi", "lime", "date", "plum", "sloe"], 4)
            completion = client.chat.completions.create(
                model="latm", messages=[{"role": "user", "content": "Sort the following words alphabetically: "
                                                                    "List: " + " ".join(words)}],
                metadata={"task": "word_sorting"})
            assert completion.choices[0].message.content == " ".join(sorted(words))
            assert completion.model_extra["latm"]["route"] == "tool"
        before = len(llm_stub.calls("solver"))
        stream = client.chat.completions.create(
            model="latm", messages=[{"role": "user", "content": "How many legs has a spider, minus one?"}],
            stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "7"
        assert len(llm_stub.calls("solver")) == before + 1
        # The Batch API's state is in the pipeline actor: any replica answers any poll.
        line = json.dumps({"custom_id": "only", "method": "POST", "url": "/v1/chat/completions",
                           "body": {"model": "m", "messages": [{"role": "user", "content": "Spider legs?"}]}})
        batch = client.batches.create(input_file_id=client.files.create(file=("in.jsonl", line.encode()),
                                                                        purpose="batch").id,
                                      endpoint="/v1/chat/completions", completion_window="24h")
        for _ in range(300):
            if batch.status == "completed":
                break
            time.sleep(0.1)
            batch = client.batches.retrieve(batch.id)
        out = json.loads(client.files.content(batch.output_file_id).text)
        assert out["custom_id"] == "only" and out["response"]["body"]["choices"][0]["message"]["content"] == "7"
        with pytest.raises(openai.NotFoundError):
            client.files.content("file-missing")
        status, _, text = server.request("POST", "/v1/chat/completions", b"{oops")
        assert status == 400 and "invalid_request_error" in text
        status, _, metrics = server.request("GET", "/metrics")
        assert status == 200 and re.search(r'latm_answers_total\{route="tool"\} 6\.0', metrics)
    finally:
        output = server.stop()
    assert server.proc.returncode == 0, output[-3000:]
    run_id = re.search(r"\(run (\w+);", output).group(1)
    rows = RunLedger(tmp_path / "runs.sqlite").rows(run_id)
    assert sorted(r.route for r in rows) == ["solver"] * 2 + ["tool"] * 6
