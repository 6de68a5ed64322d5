"""The Sandbox pool: calls, batches, call-backs, concurrency, recycling and refusal of weak isolation."""
from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from agents.sandbox import (CallResult, Sandbox, SandboxConfig, SandboxInsecureError, SandboxNotStartedError,
                            active_layers)

pytestmark = pytest.mark.asyncio(loop_scope="session")

SORT = "def solve(words):\n    return sorted(words)\n"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sandbox():
    """One default sandbox shared by the tests of this module."""
    async with Sandbox(SandboxConfig(workers=2, spares=1)) as box:
        yield box


async def test_a_sandbox_is_started_once_by_its_owner_never_by_a_call():
    box = Sandbox()
    with pytest.raises(SandboxNotStartedError, match="start"):
        await box.call(SORT, "solve", [["b", "a"]])
    await box.start()
    await box.start()  # starting again is a no-op, so an agent and its host may both ask
    try:
        assert (await box.call(SORT, "solve", [["b", "a"]])).value == ["a", "b"]
    finally:
        await box.close()


async def test_call_returns_json_safe_values(sandbox):
    result = await sandbox.call("def solve(a):\n    return (a, {'k': (1, 2)})\n", "solve", [[3]])
    assert result == CallResult(True, [[3], {"k": [1, 2]}], None, "")


async def test_call_many_keeps_order_and_isolates_failures(sandbox):
    code = "def solve(x):\n    return 10 // x\n"
    results = await sandbox.call_many(code, "solve", [[1], [0], [5], ["a"]])
    assert [r.value for r in results] == [10, None, 2, None]
    assert [r.error for r in results] == [None, "tool_error", None, "tool_error"]
    assert "ZeroDivisionError" in results[1].detail and "line 2" in results[1].detail


async def test_large_batch_is_split_and_complete(sandbox):
    args = [[[str(i), str(i + 1), "a"]] for i in range(2000)]
    results = await sandbox.call_many(SORT, "solve", args)
    assert all(r.ok for r in results)
    assert results[1234].value == sorted(["1234", "1235", "a"])


async def test_ordinary_stdlib_tools_work_under_the_checks(sandbox):
    code = ("from dataclasses import dataclass\nfrom datetime import datetime\nimport statistics, json\n"
            "@dataclass(order=True)\nclass Day:\n    name: str\n"
            "def solve(s):\n    d = datetime.strptime(s, '%Y-%m-%d')\n"
            "    return [Day(d.strftime('%A')).name, statistics.median([3, 1, 2]), json.loads('[1]'),\n"
            "            'héllo'.encode('latin-1').decode('cp1252')]\n")
    result = await sandbox.call(code, "solve", ["2024-02-29"])
    assert result.value == ["Thursday", 2, [1], "héllo"], result


async def test_cancelled_caller_does_not_break_the_pool(sandbox):
    task = asyncio.ensure_future(sandbox.call("def solve():\n    while True:\n        pass\n", "solve", [],
                                              timeout_s=30))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await sandbox.call(SORT, "solve", [["b", "a"]])).value == ["a", "b"]


async def test_undefined_helper_is_a_tool_error(sandbox):
    result = await sandbox.call("def solve(s):\n    return is_sarcastic(s)\n", "solve", ["hi"])
    assert result.error == "tool_error" and "NameError" in result.detail and "is_sarcastic" in result.detail


async def test_missing_entry_and_bad_arguments(sandbox):
    missing = await sandbox.call(SORT, "nope", [[]])
    assert missing.error == "tool_error" and "nope" in missing.detail
    bad = await sandbox.call_many(SORT, "solve", [[["b", "a"]], "not a list", [object()]])
    assert [r.error for r in bad] == [None, "rejected", "rejected"]
    assert bad[0].value == ["a", "b"]
    assert (await sandbox.call(SORT, "solve()", [[]])).error == "rejected"


async def test_forbidden_code_is_rejected_before_any_worker(sandbox):
    results = await sandbox.call_many("import os\ndef solve():\n    return 1\n", "solve", [[], []])
    assert [r.error for r in results] == ["rejected", "rejected"]
    assert "'os' is not allowed" in results[0].detail


async def test_program_with_module_level_statements(sandbox):
    program = ("import math\nstate = {'lines': []}\nstate['lines'].append(math.sqrt(16))\n"
               "def __latm_main__(n):\n    state['lines'].append(n)\n    return list(state['lines'])\n")
    assert (await sandbox.call(program, "__latm_main__", [7])).value == [4.0, 7]


async def test_load_error_reported_for_every_call(sandbox):
    results = await sandbox.call_many("x = 1 / 0\ndef solve():\n    return 1\n", "solve", [[], []])
    assert [r.error for r in results] == ["tool_error", "tool_error"]
    assert "ZeroDivisionError" in results[0].detail


async def test_host_call_round_trip_pauses_the_deadline(sandbox):
    seen = []

    async def on_callback(payload: dict) -> dict:
        seen.append(payload)
        await asyncio.sleep(0.3)  # longer than the call's deadline: the deadline is paused meanwhile
        return {"answer": payload["line"].upper()}

    code = "def solve(lines):\n    return [host_call({'line': s})['answer'] for s in lines]\n"
    result = await sandbox.call(code, "solve", [["a", "b"]], timeout_s=0.25, on_callback=on_callback)
    assert result.ok and result.value == ["A", "B"]
    assert seen == [{"line": "a"}, {"line": "b"}]


async def test_host_call_without_handler_or_with_failing_handler(sandbox):
    code = "def solve():\n    return host_call({'q': 1})\n"
    without = await sandbox.call(code, "solve", [])
    assert without.error == "tool_error" and "on_callback" in without.detail

    async def broken(payload: dict) -> dict:
        raise LookupError("no such line")

    failing = await sandbox.call(code, "solve", [], on_callback=broken)
    assert failing.error == "tool_error" and "no such line" in failing.detail
    caught = await sandbox.call("def solve():\n    try:\n        host_call({})\n    except HostCallError as e:\n"
                                "        return 'caught'\n", "solve", [], on_callback=broken)
    assert caught.value == "caught"


async def test_concurrent_callers_share_the_pool(sandbox):
    code = "def solve(i):\n    return i * i\n"
    results = await asyncio.gather(*(sandbox.call(code, "solve", [i]) for i in range(40)))
    assert [r.value for r in results] == [i * i for i in range(40)]


async def test_killed_worker_is_replaced_and_others_unaffected(sandbox):
    slow = "def solve():\n    while True:\n        pass\n"
    fast = "def solve(i):\n    return i + 1\n"
    outcomes = await asyncio.gather(sandbox.call(slow, "solve", [], timeout_s=0.3),
                                    *(sandbox.call(fast, "solve", [i]) for i in range(10)))
    assert outcomes[0].error == "timeout"
    assert [r.value for r in outcomes[1:]] == list(range(1, 11))


async def test_tools_do_not_share_globals(sandbox):
    first = await sandbox.call("counter = [0]\ndef solve():\n    counter[0] += 1\n    return counter[0]\n", "solve", [])
    other = await sandbox.call("def solve():\n    return counter\n", "solve", [])
    assert first.ok and other.error == "tool_error" and "NameError" in other.detail


async def test_recycling_after_max_calls():
    config = SandboxConfig(workers=1, spares=0, max_calls_per_worker=3)
    async with Sandbox(config) as box:
        code = "import random\nmark = random.random()\ndef solve():\n    return mark\n"
        marks = [(await box.call(code, "solve", [])).value for _ in range(6)]
    assert len(set(marks)) == 2  # a fresh worker (and module state) after three calls


async def test_weak_isolation_is_refused_unless_opted_in():
    with pytest.raises(SandboxInsecureError, match="LATM_SANDBOX_INSECURE"):
        async with Sandbox(SandboxConfig(seccomp=False, workers=1, spares=0, allow_insecure=False)):
            pass
    async with Sandbox(SandboxConfig(seccomp=False, workers=1, spares=0, allow_insecure=True)) as box:
        assert box.layers["seccomp"] is False
        assert (await box.call("def solve():\n    return 1\n", "solve", [])).value == 1


async def test_active_layers_reports_every_layer():
    layers = active_layers()
    assert set(layers) >= {"network_namespace", "rlimits", "privilege_drop", "seccomp", "filesystem_jail", "ast_check"}
    assert all(isinstance(v, bool) for v in layers.values())


PID = "import os\ndef solve():\n    return os.getpid()\n"


async def test_a_worker_that_died_while_idle_is_replaced_before_the_next_call():
    """A killed idle worker costs no call: the next batch goes to a live worker."""
    import os
    import signal
    from pathlib import Path
    async with Sandbox(SandboxConfig(workers=1, spares=1, ast_check=False)) as box:
        first = await box.call(PID, "solve", [])
        assert first.ok, first
        os.kill(first.value, signal.SIGKILL)
        status = Path(f"/proc/{first.value}/status")
        while status.exists() and "zombie" not in status.read_text():
            await asyncio.sleep(0.01)
        again = await box.call(PID, "solve", [])
    assert again.ok, again
    assert again.value != first.value
