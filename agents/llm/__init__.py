"""The LLM layer: per-role endpoints, retries, structured output, accounting, embedded model."""
from __future__ import annotations

from agents.llm.accounting import CallRecord, Ledger, RoleTotals
from agents.llm.config import ROLES, LLMConfig, RoleConfig
from agents.llm.errors import (EmbeddedModelError, EndpointUnreachable, LLMConfigError, LLMError,
                               LLMRequestRejected, LLMTimeout, MalformedResponse,
                               ModelIntegrityError, ModelPartsMissing, RateLimited,
                               StructuredOutputError)
from agents.llm.prices import ModelPrice, PriceTable

__all__ = ["ROLES", "CallRecord", "Completion", "EmbeddedModel", "EmbeddedModelError",
           "EndpointUnreachable", "LLMClient", "LLMConfig", "LLMConfigError", "LLMError",
           "LLMRequestRejected", "LLMTimeout", "Ledger", "MalformedResponse",
           "ModelIntegrityError", "ModelPartsMissing", "ModelPrice",
           "PriceTable", "RateLimited", "RoleConfig", "RoleTotals", "Structured",
           "StructuredOutputError", "configure_with_embedded"]

# The client pulls in openai; load it (and the embedded model) only when asked for.
_LAZY = {"LLMClient": "agents.llm.client", "Completion": "agents.llm.client",
         "Structured": "agents.llm.structured", "EmbeddedModel": "agents.llm.embedded",
         "configure_with_embedded": "agents.llm.embedded"}


def __getattr__(name: str):
    """Import the heavy parts lazily."""
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
