"""Typed errors of the LLM layer; every message says how to fix the problem."""
from __future__ import annotations


class LLMError(Exception):
    """Base class of every error raised by the LLM layer."""

    def __init__(self, message: str, *, role: str | None = None) -> None:
        super().__init__(message)
        self.role = role


class LLMConfigError(LLMError):
    """The configuration is missing or invalid (no endpoint, bad file, missing API key)."""


class EndpointUnreachable(LLMError):
    """The endpoint did not accept a connection or kept failing with 5xx after all retries."""


class LLMTimeout(LLMError):
    """A call did not finish within the role's timeout after all retries."""


class RateLimited(LLMError):
    """The endpoint kept answering 429 after all retries."""


class LLMRequestRejected(LLMError):
    """The endpoint refused the request itself (4xx other than 429): retrying cannot help."""


class MalformedResponse(LLMError):
    """The endpoint answered with something that is not an OpenAI chat completion."""


class StructuredOutputError(LLMError):
    """The model's output could not be turned into a value matching the schema."""

    def __init__(self, message: str, *, role: str | None = None, raw_text: str = "",
                 attempts: int = 0, records: list | None = None) -> None:
        super().__init__(message, role=role)
        self.raw_text = raw_text
        self.attempts = attempts
        self.records = list(records or [])


class EmbeddedModelError(LLMError):
    """The embedded llama.cpp server could not be found, started or reached."""


class ModelPartsMissing(EmbeddedModelError):
    """Some packages carrying an embedded model's weights are not installed."""

    def __init__(self, message: str, *, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = list(missing)


class ModelIntegrityError(EmbeddedModelError):
    """An embedded model's file does not have the catalog's size or sha256."""
