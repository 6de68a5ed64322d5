"""`latm doctor` with no configuration starts the embedded model and every role answers."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.model


def test_doctor_without_configuration_uses_the_embedded_model(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "LATM_"))}
    env["LATM_STATE_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "-m", "agents.cli.main", "doctor", "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    embedded = report["embedded"]
    assert embedded["gguf"].endswith(".gguf") and embedded["base_url"].startswith("http://127.0.0.1:")
    assert all(r["ok"] and r["embedded"] and r["endpoint"] == embedded["base_url"]
               for r in report["roles"].values())
    # The doctor stopped the server it started when it exited.
    assert not (tmp_path / "embedded.json").exists()
