"""Which embedded model serves each role, through every configuration layer; the local price rule."""
from __future__ import annotations

import pytest

from agents.llm.config import ROLES, LLMConfig
from agents.llm.errors import LLMConfigError
from agents.llm.model_catalog import (CATALOG, CODER_05B, CODER_15B, DEFAULT_EMBEDDED_MODEL,
                                      MACHINE_USD_PER_HOUR, SMOLLM2, local_price)
from agents.llm.prices import PriceTable


def test_expensive_roles_default_to_the_coder_and_cheap_roles_to_smollm2():
    config = LLMConfig.load(env={})
    served = {role: config.embedded_model_for(role) for role in ROLES}
    assert served == {"maker": CODER_15B, "solver": CODER_15B, "lmulator": CODER_15B,
                      "explorer": CODER_15B, "simulator": CODER_15B, "user": SMOLLM2, "dispatcher": SMOLLM2}
    assert set(ROLES) == set(DEFAULT_EMBEDDED_MODEL)


def test_a_role_picks_another_embedded_model_by_env_over_file_over_default(tmp_path):
    path = tmp_path / "latm.yaml"
    path.write_text(f"default:\n  embedded_model: {SMOLLM2}\n"
                    f"roles:\n  maker:\n    embedded_model: {CODER_05B}\n"
                    f"  solver:\n    embedded_model: {CODER_05B}\n")
    config = LLMConfig.load(str(path), env={"LATM_SOLVER_EMBEDDED_MODEL": CODER_15B})
    assert config.embedded_model_for("maker") == CODER_05B      # file role over file default
    assert config.embedded_model_for("solver") == CODER_15B     # env role over file role
    assert config.embedded_model_for("user") == SMOLLM2         # file default over built-in
    env = {"LATM_DEFAULT_EMBEDDED_MODEL": CODER_05B, "LATM_USER_EMBEDDED_MODEL": SMOLLM2}
    config = LLMConfig.load(env=env)
    assert config.embedded_model_for("explorer") == CODER_05B
    assert config.embedded_model_for("user") == SMOLLM2


def test_an_unknown_embedded_model_is_a_config_error_listing_the_catalog():
    with pytest.raises(LLMConfigError) as err:
        LLMConfig.load(env={"LATM_MAKER_EMBEDDED_MODEL": "gpt-5-local"})
    assert "gpt-5-local" in str(err.value) and CODER_15B in str(err.value)


def test_local_price_is_the_machine_hour_over_measured_throughput():
    assert local_price(0.36, 100.0) == pytest.approx(1.0)  # 360,000 tokens an hour for $0.36
    assert local_price(0.10, 20.0) == pytest.approx(local_price(0.10, 10.0) / 2)
    prices = PriceTable()
    for name, spec in CATALOG.items():
        price = prices.lookup(name)
        speed = spec.throughput
        assert price.input == pytest.approx(
            MACHINE_USD_PER_HOUR / 3600 / speed.prompt_tokens_per_s * 1e6)
        assert price.output == pytest.approx(
            MACHINE_USD_PER_HOUR / 3600 / speed.completion_tokens_per_s * 1e6)
    # The bigger model is the slower one, so it costs more per token.
    assert prices.lookup(CODER_15B).output > prices.lookup(CODER_05B).output \
        > prices.lookup(SMOLLM2).output
    cost, priced = prices.cost(CODER_15B, 1_000_000, 1_000_000)
    assert priced and cost == pytest.approx(sum(CATALOG[CODER_15B].price_per_million()))
