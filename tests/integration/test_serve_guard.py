"""`latm serve` guards: API keys off loopback (401 without one), and 429 with Retry-After when full."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import openai
import pytest

from .serve_helpers import ServeProcess, seed_sort_tool

KEY = "sk-latm-test-key"


def test_open_bind_without_keys_is_refused(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    proc = subprocess.run([sys.executable, "-m", "agents.cli.main", "serve", "--host", "0.0.0.0",
                           "--store", str(tmp_path / "tools.sqlite")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "needs API keys" in proc.stdout and "--api-key" in proc.stdout


@pytest.fixture()
def gated(llm_stub, tmp_path):
    """A server bound to every interface with one key and room for one request; the solver waits on a gate."""
    gate = threading.Event()

    def gated_solver(body: dict) -> str:
        gate.wait(timeout=60)
        return "held"
    llm_stub.script(gated_solver, role="solver")
    seed_sort_tool(tmp_path / "tools.sqlite")
    server = ServeProcess(llm_stub, tmp_path / "tools.sqlite", "--host", "0.0.0.0", "--api-key", KEY,
                          "--max-pending", "1")
    try:
        yield server, gate
    finally:
        gate.set()
        server.stop()


def test_keys_on_open_bind_and_429_when_full(gated):
    server, gate = gated
    url = f"http://127.0.0.1:{server.port}/v1"
    ask = dict(model="latm", messages=[{"role": "user", "content": "Name a colour that rhymes with bed."}])

    with pytest.raises(openai.AuthenticationError) as err:
        openai.OpenAI(base_url=url, api_key="wrong-key", max_retries=0).chat.completions.create(**ask)
    assert err.value.status_code == 401 and "API key" in err.value.message
    status, headers, _ = server.post_json("/v1/chat/completions", ask)  # no Authorization header at all
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert server.request("GET", "/metrics")[0] == 401
    assert server.request("GET", "/health")[0] == 200  # liveness probes need no key

    client = openai.OpenAI(base_url=url, api_key=KEY, max_retries=0)
    held: dict = {}
    first = threading.Thread(target=lambda: held.update(c=client.chat.completions.create(**ask)))
    first.start()
    for _ in range(600):  # until the first request is inside the pipeline, waiting on the solver
        if '"pending":1' in server.request("GET", "/health")[2]:
            break
        threading.Event().wait(0.05)
    with pytest.raises(openai.RateLimitError) as err:
        client.chat.completions.create(**ask)
    assert err.value.status_code == 429 and err.value.response.headers["retry-after"] == "1"
    assert err.value.body["code"] == "overloaded"
    gate.set()
    first.join(timeout=60)
    assert held["c"].choices[0].message.content == "held"
    again = client.chat.completions.create(**ask)  # room again: served as before
    assert again.model_extra["latm"]["route"] == "solver"
