"""`latm models` as a real subprocess: roles per model, prices, and clear failures."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from agents.llm.model_catalog import CATALOG, CODER_05B, CODER_15B, SMOLLM2


def models(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LATM_"))}
    clean["LATM_MODEL_DIR"] = str(tmp_path / "models")  # an empty model cache
    return subprocess.run([sys.executable, "-m", "agents.cli.main", "models", *args],
                          env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_list_shows_each_models_roles_price_and_the_rule(tmp_path):
    result = models(tmp_path, "list", "--json", LATM_USER_EMBEDDED_MODEL=CODER_05B)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert set(listed["models"]) == set(CATALOG)
    assert listed["models"][CODER_15B]["roles"] == ["maker", "solver", "lmulator", "explorer", "simulator"]
    assert listed["models"][CODER_05B]["roles"] == ["user"]
    assert listed["models"][SMOLLM2]["roles"] == ["dispatcher"]
    coder = listed["models"][CODER_15B]
    assert coder["path"] is None and not coder["verified"]  # nothing assembled in this cache
    assert coder["usd_per_million"]["completion"] > coder["usd_per_million"]["prompt"] > 0
    text = models(tmp_path, "list").stdout
    assert "price rule:" in text and f"USD {listed['machine_usd_per_hour']:.2f}/hour" in text


def test_verify_fails_clearly_for_an_unassembled_or_unknown_model(tmp_path):
    result = models(tmp_path, "verify", CODER_05B)
    assert result.returncode == 1
    assert "FAILED" in result.stdout and f"latm models install {CODER_05B}" in result.stdout
    unknown = models(tmp_path, "verify", "no-such-model")
    assert unknown.returncode == 2 and CODER_15B in unknown.stderr
