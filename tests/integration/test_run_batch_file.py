"""An OpenAI Batch input file through `latm run` unchanged: Batch output lines, every custom_id once."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from openai.types.chat import ChatCompletion

from .pipeline_helpers import CORE_PROMPT, CORE_SORT_TOOL, WORD_SORT_TOOL, sorted_words_reply, word_sort_requests


def test_batch_file_runs_unchanged_and_every_custom_id_is_answered_once(llm_stub, tmp_path):
    llm_stub.script(CORE_SORT_TOOL, role="maker", match=CORE_PROMPT)
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    llm_stub.script(sorted_words_reply, role="solver")
    rows = [json.loads(line) for line in word_sort_requests(14, with_target=False, task=None)]
    lines = [json.dumps({"custom_id": f"task-{i}", "method": "POST", "url": "/v1/chat/completions",
                         "body": {"model": "gpt-4o-mini", "max_tokens": 50,
                                  "messages": [{"role": "system", "content": "Answer with the words only."},
                                               {"role": "user", "content": row["input"]}]}})
             for i, row in enumerate(rows)]
    lines.insert(5, json.dumps({"custom_id": "bad-url", "method": "POST", "url": "/v1/embeddings",
                                "body": {"model": "m", "input": "x"}}))
    lines.insert(9, '{"custom_id": "cut-short", "method": "POST", "url": "/v1/chat/comp')
    requests = tmp_path / "batch.jsonl"
    requests.write_text("\n".join(lines) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update(OPENAI_BASE_URL=llm_stub.base_url, OPENAI_API_KEY="stub")
    out = tmp_path / "output.jsonl"
    proc = subprocess.run([sys.executable, "-m", "agents.cli.main", "run", str(requests), "-o", str(out),
                           "--store", str(tmp_path / "tools.sqlite"), "--no-progress"],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    outputs = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(set(o) == {"id", "custom_id", "response", "error"} for o in outputs)
    counts = Counter(o["custom_id"] for o in outputs)
    assert counts == Counter([f"task-{i}" for i in range(14)] + ["bad-url", "cut-short"])
    by_id = {o["custom_id"]: o for o in outputs}
    assert by_id["bad-url"]["response"]["status_code"] == 400
    assert "/v1/chat/completions" in by_id["bad-url"]["response"]["body"]["error"]["message"]
    assert by_id["cut-short"]["response"]["status_code"] == 400
    routes = Counter()
    for i, row in enumerate(rows):
        response = by_id[f"task-{i}"]["response"]
        assert response["status_code"] == 200
        completion = ChatCompletion.model_validate(response["body"])
        assert completion.choices[0].message.content == " ".join(sorted(row["input"].split("List: ")[1].split()))
        assert completion.model == "gpt-4o-mini"
        routes[completion.model_extra["latm"]["route"]] += 1
    # The first requests were labelled by the solver; the tool made from them answered the rest.
    assert routes["solver"] >= 6 and routes["tool"] >= 1 and sum(routes.values()) == 14
