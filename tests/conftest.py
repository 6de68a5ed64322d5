"""Shared fixtures: Ray and the environment every test runs in."""
from __future__ import annotations

import os

# Keep every Ray node on loopback and quiet; must be set before ray is imported anywhere.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# A dead endpoint: any unscripted call to a real provider fails loudly instead of leaking.
os.environ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
os.environ.setdefault("OPENAI_API_KEY", "test-key-unused")


# --- LLM stub (issue 3) --------------------------------------------------------------------
import pytest  # noqa: E402


@pytest.fixture
def llm_stub():
    """A running scriptable OpenAI-compatible stub; `llm_stub.config()` points every role at it."""
    from tests.support.stub_llm_server import StubLLMServer

    stub = StubLLMServer().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture(scope="module")
async def module_sandbox():
    """One warm sandbox pool shared by the tests of a module (run them on the session loop)."""
    from agents.sandbox import Sandbox

    async with Sandbox() as sandbox:
        yield sandbox


# --- Ray (issue 2) -------------------------------------------------------------------------
# Custom resources every placement test may ask for; actors use num_cpus=0, so CPUs never run out.
RAY_TEST_RESOURCES = {"maker": 1, "tool_user": 8, "verifier": 4, "lmulator": 2}


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole session (idempotent); yields the `ray` module."""
    import ray

    from bus.runtime import start_runtime, stop_runtime

    started_here = not ray.is_initialized()
    if started_here:
        start_runtime(num_cpus=16, resources=RAY_TEST_RESOURCES, include_dashboard=False)
    yield ray
    if started_here:
        stop_runtime()
