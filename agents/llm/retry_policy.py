"""Which HTTP failures are retried, how long to wait, and the typed error each becomes."""
from __future__ import annotations

import random
from typing import Any

from agents.llm.config import RoleConfig
from agents.llm.errors import (EndpointUnreachable, LLMConfigError, LLMRequestRejected,
                               RateLimited)

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}


def rejects_request(exc: Any) -> bool:
    """Whether the server refused the request's shape: 4xx (not 429/408/409), or a 5xx that
    is really a request validation error (llama.cpp's server answers 500 for those)."""
    if exc.status_code not in RETRY_STATUSES:
        return True
    message = str(getattr(exc, "message", exc))
    return exc.status_code == 500 and "validation error" in message and "'body'" in message


def status_error(role: str, cfg: RoleConfig, url: str, model: str,
                 exc: Any) -> Exception:
    """Map an HTTP error status to the typed error that says what to do."""
    env = f"LATM_{role.upper()}"
    detail = str(getattr(exc, "message", exc))[:300]
    if exc.status_code == 429:
        limited = RateLimited(f"role {role!r}: {url} kept answering 429 (rate limited): lower "
                              f"{env}_CONCURRENCY or raise {env}_MAX_RETRIES; {detail}", role=role)
        try:
            limited.retry_after = float(exc.response.headers.get("retry-after", ""))
        except (ValueError, AttributeError):
            limited.retry_after = None
        return limited
    if exc.status_code in (401, 403):
        return LLMConfigError(f"role {role!r}: {url} refused the API key ({exc.status_code}): "
                              f"put a valid key in ${cfg.api_key_env} or set {env}_API_KEY_ENV "
                              "to the variable that holds it", role=role)
    if exc.status_code == 404:
        return LLMConfigError(f"role {role!r}: {url} has no model {model!r} or no chat endpoint "
                              f"(404): fix {env}_MODEL / {env}_BASE_URL; {detail}", role=role)
    if exc.status_code >= 500 and not rejects_request(exc):
        return EndpointUnreachable(f"role {role!r}: {url} kept failing ({exc.status_code}): "
                                   f"{detail}", role=role)
    return LLMRequestRejected(f"role {role!r}: {url} rejected the request "
                              f"({exc.status_code}): {detail}", role=role)


def backoff_delay(cfg: RoleConfig, attempt: int, last: Exception | None) -> float:
    """Exponential backoff with jitter, capped; at least the server's Retry-After on 429."""
    delay = min(cfg.backoff_max_s, cfg.backoff_s * 2 ** (attempt - 1))
    delay *= 0.5 + random.random() / 2
    retry_after = getattr(last, "retry_after", None)
    return min(cfg.backoff_max_s, max(delay, retry_after or 0.0))
