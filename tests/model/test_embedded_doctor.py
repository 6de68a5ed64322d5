"""`latm doctor` with no configuration starts each role's default embedded model; all answer."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from agents.llm.model_catalog import CODER_15B, DEFAULT_EMBEDDED_MODEL, SMOLLM2

pytestmark = pytest.mark.model


def test_doctor_without_configuration_uses_each_roles_default_model(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "LATM_"))}
    env["LATM_STATE_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "agents.cli.main", "doctor", "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    embedded = report["embedded"]
    assert set(embedded) == {CODER_15B, SMOLLM2}
    assert embedded[CODER_15B]["base_url"] != embedded[SMOLLM2]["base_url"]
    assert embedded[CODER_15B]["n_ctx"] == 8192
    for role, entry in report["roles"].items():
        name = DEFAULT_EMBEDDED_MODEL[role]
        assert entry["ok"] and entry["embedded"] and entry["embedded_model"] == name
        assert entry["endpoint"] == embedded[name]["base_url"]
        assert entry["gguf"] == embedded[name]["gguf"] and entry["gguf"].endswith(".gguf")
        assert entry["priced"]
    # The doctor stopped the servers it started when it exited.
    assert not list(tmp_path.glob("embedded-*.json"))
