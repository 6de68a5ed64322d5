"""Per-role LLM endpoint configuration from a YAML/TOML file and LATM_<ROLE>_* variables."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.llm.errors import LLMConfigError
from agents.llm.model_catalog import CATALOG, DEFAULT_EMBEDDED_MODEL
from agents.llm.prices import PriceTable

# Every role has a default embedded model, so the roles are that table's keys.
ROLES = tuple(DEFAULT_EMBEDDED_MODEL)

# Environment suffix -> RoleConfig field, e.g. LATM_MAKER_BASE_URL -> base_url.
ENV_FIELDS = {
    "BASE_URL": "base_url", "MODEL": "model", "API_KEY_ENV": "api_key_env",
    "TEMPERATURE": "temperature", "MAX_TOKENS": "max_tokens", "CONCURRENCY": "concurrency",
    "TIMEOUT_S": "timeout_s", "MAX_RETRIES": "max_retries", "BACKOFF_S": "backoff_s",
    "STRUCTURED_MODE": "structured_mode", "EMBEDDED_MODEL": "embedded_model",
}

StructuredMode = Literal["auto", "json_schema", "tools", "prompt"]


class RoleConfig(BaseModel):
    """Where and how one role (maker, user, ...) calls its model."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL ending in /v1; None = unconfigured "
        "(the embedded model serves the role)")
    model: str = Field(default="", description="model name sent to the endpoint; empty = the "
                       "first model the endpoint lists at /v1/models")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="name of the environment "
                             "variable holding the API key (never the key itself)")
    temperature: float = Field(default=0.0, ge=0, le=2, description="default sampling temperature")
    max_tokens: int = Field(default=512, gt=0, description="default completion token limit")
    concurrency: int = Field(default=4, gt=0, description="most calls of this role in flight "
                             "at once per event loop")
    timeout_s: float = Field(default=120.0, gt=0, description="deadline of one HTTP attempt")
    max_retries: int = Field(default=3, ge=0, description="retries on 429, 5xx, timeouts and "
                             "connection errors")
    backoff_s: float = Field(default=0.5, ge=0, description="first retry delay; doubles per retry")
    backoff_max_s: float = Field(default=8.0, ge=0, description="cap on one retry delay")
    structured_mode: StructuredMode = Field(
        default="auto", description="how structured() asks for JSON: json_schema response_format, "
        "tool calling, prompt only, or auto (json_schema, falling back to prompt when refused)")
    embedded_model: str | None = Field(
        default=None, description="the catalog model that serves this role when it has no "
        "base_url; None = the role's default (coder for maker/solver/lmulator/explorer, "
        "SmolLM2-135M for user/dispatcher)")
    embedded: bool = Field(default=False, description="served by the embedded llama.cpp model "
                           "(set by configure_with_embedded, not by users)")

    @field_validator("embedded_model")
    @classmethod
    def _known_model(cls, name: str | None) -> str | None:
        """Only catalog models can be embedded."""
        if name and name not in CATALOG:
            raise ValueError(f"unknown embedded model {name!r}; known: {', '.join(CATALOG)}")
        return name or None


class LLMConfig(BaseModel):
    """Every role's endpoint plus the price table; picklable so Ray actors can receive it."""

    model_config = ConfigDict(extra="forbid")
    roles: dict[str, RoleConfig] = Field(
        default_factory=lambda: {r: RoleConfig() for r in ROLES},
        description="role name -> its endpoint settings")
    prices: PriceTable = Field(default_factory=PriceTable,
                               description="USD per million tokens per model name")

    def role(self, name: str) -> RoleConfig:
        """The settings of one role; unknown names raise LLMConfigError."""
        try:
            return self.roles[name]
        except KeyError:
            raise LLMConfigError(f"unknown role {name!r}: use one of {', '.join(self.roles)}",
                                 role=name) from None

    def unconfigured_roles(self) -> list[str]:
        """Roles with no endpoint, i.e. the ones the embedded model must serve."""
        return [r for r, c in self.roles.items() if not c.base_url]

    def embedded_model_for(self, role: str) -> str:
        """The catalog model that serves `role` when it has no endpoint."""
        return self.role(role).embedded_model or DEFAULT_EMBEDDED_MODEL.get(
            role, DEFAULT_EMBEDDED_MODEL["maker"])

    def with_role(self, name: str, **changes: Any) -> "LLMConfig":
        """A copy with some fields of one role changed."""
        self.role(name)
        roles = dict(self.roles)
        roles[name] = RoleConfig.model_validate({**roles[name].model_dump(), **changes})
        return self.model_copy(update={"roles": roles})

    def with_all_roles(self, **changes: Any) -> "LLMConfig":
        """A copy with the same fields changed on every role."""
        roles = {r: RoleConfig.model_validate({**c.model_dump(), **changes})
                 for r, c in self.roles.items()}
        return self.model_copy(update={"roles": roles})

    @classmethod
    def for_base_url(cls, base_url: str, model: str = "", **fields: Any) -> "LLMConfig":
        """Every role pointed at one endpoint (tests, a single local server)."""
        role = RoleConfig(base_url=base_url, model=model, **fields)
        return cls(roles={r: role.model_copy() for r in ROLES})

    @classmethod
    def load(cls, path: str | None = None, env: Mapping[str, str] = os.environ) -> "LLMConfig":
        """Layer built-in defaults < file `default` < file role < LATM_DEFAULT_* < LATM_<ROLE>_*;
        OPENAI_BASE_URL fills any role still without a base URL. The file is `path`, else
        $LATM_CONFIG, else none."""
        path = path or env.get("LATM_CONFIG") or None
        data = read_config_file(path) if path else {}
        unknown = set(data) - {"default", "roles", "prices"}
        if unknown:
            raise LLMConfigError(f"{path}: unknown top-level keys {sorted(unknown)}; "
                                 "allowed: default, roles, prices")
        file_roles = data.get("roles") or {}
        bad_roles = set(file_roles) - set(ROLES)
        if bad_roles:
            raise LLMConfigError(f"{path}: unknown roles {sorted(bad_roles)}; "
                                 f"allowed: {', '.join(ROLES)}")
        env_default = env_fields(env, "DEFAULT")
        roles = {}
        for name in ROLES:
            merged = {**(data.get("default") or {}), **(file_roles.get(name) or {}),
                      **env_default, **env_fields(env, name.upper())}
            if not merged.get("base_url") and env.get("OPENAI_BASE_URL"):
                merged["base_url"] = env["OPENAI_BASE_URL"]
            try:
                roles[name] = RoleConfig.model_validate(merged)
            except ValidationError as exc:
                raise LLMConfigError(f"invalid settings for role {name!r} (from {path or 'env'}):"
                                     f" {compact_errors(exc)}", role=name) from None
        try:
            prices = PriceTable().with_overrides(data.get("prices") or {})
        except ValidationError as exc:
            raise LLMConfigError(f"{path}: invalid prices (want model: {{input: USD/Mtok, "
                                 f"output: USD/Mtok}}): {compact_errors(exc)}") from None
        return cls(roles=roles, prices=prices)


def env_fields(env: Mapping[str, str], scope: str) -> dict[str, str]:
    """The LATM_<SCOPE>_* variables that are set, as RoleConfig field -> raw string."""
    found = {}
    for suffix, field in ENV_FIELDS.items():
        value = env.get(f"LATM_{scope}_{suffix}")
        if value not in (None, ""):
            found[field] = value
    return found


def read_config_file(path: str) -> dict[str, Any]:
    """Parse a .yaml/.yml/.toml/.json config file into a dict."""
    file = Path(path)
    if not file.is_file():
        raise LLMConfigError(f"config file {path} not found: fix the path or unset LATM_CONFIG")
    text = file.read_text()
    try:
        if file.suffix == ".toml":
            import tomllib
            data = tomllib.loads(text)
        else:
            import yaml  # JSON is valid YAML, so .json files go this way too
            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - any parser error becomes a config error
        raise LLMConfigError(f"config file {path} does not parse: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LLMConfigError(f"config file {path} must hold a mapping with default/roles/prices")
    return data


def compact_errors(exc: ValidationError) -> str:
    """One line per pydantic error: field: message."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
