"""`latm run` as a user runs it: a subprocess, a real Ray runtime, the stub as every role's endpoint."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from agents.making.maker import MakerConfig
from store.run_ledger import RunLedger

from .pipeline_helpers import CORE_PROMPT, CORE_SORT_TOOL, WORD_SORT_TOOL, word_sort_requests


def test_latm_run_writes_results_summary_and_ledger(llm_stub, tmp_path):
    # Default shapes: the core shape comes first; only its words-adapter prompt gets a right reply.
    llm_stub.script(CORE_SORT_TOOL, role="maker", match=CORE_PROMPT)
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    requests = tmp_path / "requests.jsonl"
    requests.write_text("\n".join(word_sort_requests(10) + ["{broken"]) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update(OPENAI_BASE_URL=llm_stub.base_url, OPENAI_API_KEY="stub")
    out, summary_file = tmp_path / "results.jsonl", tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, "-m", "agents.cli.main", "run", str(requests), "-o", str(out),
         "--store", str(tmp_path / "store" / "tools.sqlite"), "--no-progress",
         "--summary-json", str(summary_file)],
        env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "== latm run summary ==" in proc.stdout and "[maker] verified and stored word_sorting" in proc.stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 11 and sum(r["route"] == "tool" for r in records) == 10
    figures = json.loads(summary_file.read_text())
    assert figures["bad_lines"] == 1 and figures["tools_made"] == 1 and figures["accuracy"] == 1.0
    # One round of the default sample count: the core candidate verified in the first round.
    assert figures["spend_by_role"]["maker"]["calls"] == MakerConfig().samples_per_round
    assert figures["made"][0]["samples"] == MakerConfig().samples_per_round
    assert figures["made"][0]["answered"] == figures["made"][0]["answered_correct"] == 10
    assert "then answered 10 requests (10 correct)" in proc.stdout
    ledger = RunLedger(figures["ledger"])
    assert len(ledger.rows(figures["run_id"])) == 11
