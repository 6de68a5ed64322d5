"""LLMConfig: file and environment layering, fallbacks, typed errors, pickling."""
from __future__ import annotations

import pickle

import pytest

from agents.llm.config import ROLES, LLMConfig
from agents.llm.errors import LLMConfigError


def test_no_configuration_leaves_every_role_for_the_embedded_model():
    config = LLMConfig.load(env={})
    assert config.unconfigured_roles() == list(ROLES)


def test_openai_base_url_is_the_fallback_for_every_role():
    config = LLMConfig.load(env={"OPENAI_BASE_URL": "http://a/v1",
                                 "LATM_MAKER_BASE_URL": "http://strong/v1"})
    assert config.role("maker").base_url == "http://strong/v1"
    assert {config.role(r).base_url for r in ROLES if r != "maker"} == {"http://a/v1"}
    assert config.unconfigured_roles() == []


def test_env_parses_types_per_role_and_default():
    env = {"LATM_USER_TEMPERATURE": "0.7", "LATM_USER_MAX_TOKENS": "64",
           "LATM_USER_CONCURRENCY": "9", "LATM_DEFAULT_MODEL": "m-all",
           "LATM_MAKER_MODEL": "m-strong", "LATM_MAKER_API_KEY_ENV": "STRONG_KEY"}
    config = LLMConfig.load(env=env)
    user, maker = config.role("user"), config.role("maker")
    assert (user.temperature, user.max_tokens, user.concurrency) == (0.7, 64, 9)
    assert user.model == "m-all" and maker.model == "m-strong"
    assert maker.api_key_env == "STRONG_KEY"


def test_yaml_file_layers_under_env(tmp_path):
    path = tmp_path / "latm.yaml"
    path.write_text("default:\n  concurrency: 3\nroles:\n  maker:\n    base_url: http://f/v1\n"
                    "    model: file-model\nprices:\n  file-model: {input: 1.0, output: 2.0}\n")
    config = LLMConfig.load(str(path), env={"LATM_MAKER_MODEL": "env-model"})
    maker = config.role("maker")
    assert (maker.base_url, maker.model, maker.concurrency) == ("http://f/v1", "env-model", 3)
    assert config.role("solver").concurrency == 3
    assert config.prices.cost("file-model", 1_000_000, 1_000_000) == (3.0, True)


def test_toml_file_via_latm_config(tmp_path):
    path = tmp_path / "latm.toml"
    path.write_text('[roles.user]\nbase_url = "http://u/v1"\nmax_retries = 7\n')
    config = LLMConfig.load(env={"LATM_CONFIG": str(path)})
    assert config.role("user").base_url == "http://u/v1"
    assert config.role("user").max_retries == 7


@pytest.mark.parametrize("env, fragment", [
    ({"LATM_USER_CONCURRENCY": "zero"}, "concurrency"),
    ({"LATM_MAKER_TEMPERATURE": "9"}, "temperature"),
    ({"LATM_CONFIG": "/nonexistent/latm.yaml"}, "not found"),
])
def test_bad_settings_raise_config_errors_that_name_the_field(env, fragment):
    with pytest.raises(LLMConfigError, match=fragment):
        LLMConfig.load(env=env)


def test_unknown_role_and_keys_in_file_are_rejected(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("roles:\n  wizard: {model: x}\n")
    with pytest.raises(LLMConfigError, match="wizard"):
        LLMConfig.load(str(path), env={})
    path.write_text("roles:\n  maker: {modle: x}\n")
    with pytest.raises(LLMConfigError, match="modle"):
        LLMConfig.load(str(path), env={})
    with pytest.raises(LLMConfigError, match="unknown role"):
        LLMConfig.load(env={}).role("wizard")


def test_for_base_url_and_pickling_round_trip():
    config = LLMConfig.for_base_url("http://x/v1", model="m", concurrency=2)
    again = pickle.loads(pickle.dumps(config))
    assert again == config
    assert all(again.role(r).base_url == "http://x/v1" and again.role(r).concurrency == 2
               for r in ROLES)
    changed = again.with_role("maker", model="big")
    assert changed.role("maker").model == "big" and again.role("maker").model == "m"
