"""Backoff delays and the mapping of HTTP statuses to typed errors."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from agents.llm.config import RoleConfig
from agents.llm.errors import (EndpointUnreachable, LLMConfigError, LLMRequestRejected,
                               RateLimited)
from agents.llm.retry_policy import backoff_delay, status_error


def http_error(status: int, headers: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(status_code=status, message=f"boom {status}",
                           response=SimpleNamespace(headers=headers or {}))


def test_backoff_grows_and_is_capped():
    cfg = RoleConfig(backoff_s=1.0, backoff_max_s=3.0)
    assert 0.5 <= backoff_delay(cfg, 1, None) <= 1.0
    assert 1.0 <= backoff_delay(cfg, 2, None) <= 2.0
    assert backoff_delay(cfg, 10, None) <= 3.0


def test_retry_after_is_honoured_up_to_the_cap():
    cfg = RoleConfig(backoff_s=0.01, backoff_max_s=2.0)
    limited = status_error("user", cfg, "http://x/v1", "m", http_error(429, {"retry-after": "1.5"}))
    assert isinstance(limited, RateLimited) and limited.retry_after == 1.5
    assert backoff_delay(cfg, 1, limited) == 1.5
    limited.retry_after = 60.0
    assert backoff_delay(cfg, 1, limited) == 2.0


@pytest.mark.parametrize("status, kind, hint", [
    (401, LLMConfigError, "OPENAI_API_KEY"), (404, LLMConfigError, "LATM_USER_MODEL"),
    (503, EndpointUnreachable, "503"), (400, LLMRequestRejected, "400"),
    (422, LLMRequestRejected, "boom 422"),
])
def test_statuses_map_to_errors_that_say_what_to_fix(status, kind, hint):
    error = status_error("user", RoleConfig(), "http://x/v1", "m", http_error(status))
    assert isinstance(error, kind) and hint in str(error) and error.role == "user"


def test_a_500_that_is_a_request_validation_error_is_not_retried():
    exc = http_error(500)
    exc.message = ("Error code: 500 - 1 validation error: {'type': 'literal_error', 'loc': "
                   "('body', 'response_format', 'type')}")
    error = status_error("user", RoleConfig(), "http://x/v1", "m", exc)
    assert isinstance(error, LLMRequestRejected)
    assert isinstance(status_error("user", RoleConfig(), "http://x/v1", "m", http_error(500)),
                      EndpointUnreachable)
