"""`latm doctor` as a real subprocess against the stub server."""
from __future__ import annotations

import json
import os
import subprocess
import sys


def doctor(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_overrides}
    return subprocess.run([sys.executable, "-m", "agents.cli.main", "doctor", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_doctor_json_reports_every_role_and_pings_each_endpoint_once(llm_stub):
    llm_stub.script("OK")
    result = doctor({"OPENAI_BASE_URL": llm_stub.base_url, "LATM_MAKER_MODEL": "gpt-4o"},
                    "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["problems"] == [] and report["embedded"] == {}
    assert set(report["roles"]) == {"maker", "solver", "dispatcher", "user", "lmulator",
                                    "explorer", "simulator"}
    assert report["roles"]["maker"]["model"] == "gpt-4o"
    assert all(r["ok"] and r["endpoint"] == llm_stub.base_url for r in report["roles"].values())
    pings = llm_stub.calls()
    assert sorted(p.params["model"] for p in pings) == ["gpt-4o", "stub-model"]
    assert all(p.params["max_tokens"] == 1 for p in pings)


def test_doctor_fails_with_a_clear_message_for_a_dead_role(llm_stub):
    llm_stub.script("OK")
    env = {"OPENAI_BASE_URL": llm_stub.base_url, "LATM_USER_BASE_URL": "http://127.0.0.1:9/v1",
           "LATM_USER_MODEL": "m"}
    result = doctor(env)
    assert result.returncode == 1
    assert "1 problem(s)" in result.stdout and "LATM_USER_BASE_URL" in result.stdout
    as_json = json.loads(doctor(env, "--json").stdout)
    assert not as_json["ok"] and not as_json["roles"]["user"]["ok"]
    assert as_json["roles"]["maker"]["ok"]
