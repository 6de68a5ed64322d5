"""Worker-side guards and result types, tested in-process (no worker needed)."""
from __future__ import annotations

import pytest

from agents.sandbox import CallResult, SandboxConfig
from agents.sandbox.results import ERROR_KINDS
from agents.sandbox.worker_guards import (ForbiddenImport, ForbiddenOperation, json_safety_problem, make_import,
                                          restricted_builtins)


def test_import_guard_refuses_modules_outside_the_allow_list():
    guarded = make_import({})
    for name in ("os", "sys", "importlib", "subprocess", "ctypes", "builtins"):
        with pytest.raises(ForbiddenImport):
            guarded(name)
    with pytest.raises(ForbiddenImport):
        guarded("json", level=1)


def test_import_guard_returns_proxies_without_other_modules():
    guarded = make_import({})
    dataclasses = guarded("dataclasses")
    assert hasattr(dataclasses, "dataclass")
    assert not hasattr(dataclasses, "sys") and not hasattr(dataclasses, "inspect")
    random = guarded("random")
    assert not hasattr(random, "_os") and callable(random.randint)
    abc = guarded("collections.abc", fromlist=("Mapping",))
    assert abc.Mapping is __import__("collections.abc").abc.Mapping


def test_restricted_builtins_lack_reflection_and_guard_getattr():
    safe = restricted_builtins(lambda payload: payload, {})
    for name in ("open", "eval", "exec", "compile", "globals", "__loader__", "vars", "input"):
        assert name not in safe
    assert safe["ValueError"] is ValueError and "host_call" in safe
    with pytest.raises(ForbiddenOperation):
        safe["getattr"]((), "__class__")
    with pytest.raises(ForbiddenOperation):
        safe["getattr"](iter([]), "gi_frame")
    assert safe["getattr"]("abc", "upper")() == "ABC"


@pytest.mark.parametrize("value", [None, 1, 2.5, "s", True, [1, "a"], (1, 2), {"a": [1, {"b": None}]}])
def test_json_safe_values(value):
    assert json_safety_problem(value) is None


@pytest.mark.parametrize("value,why", [
    (b"x", "bytes"), ({1, 2}, "set"), (object(), "object"), ({1: 2}, "key"), ([[b"x"]], "bytes"),
])
def test_json_unsafe_values(value, why):
    assert why in json_safety_problem(value)


def test_deeply_nested_value_is_refused():
    value: list = []
    for _ in range(200):
        value = [value, 1]
    assert "nested" in json_safety_problem(value)


def test_call_result_shapes():
    assert CallResult.success([1]).to_dict() == {"ok": True, "value": [1], "error": None, "detail": ""}
    failure = CallResult.failure("timeout", "slow")
    assert not failure.ok and failure.error in ERROR_KINDS


def test_insecure_opt_in_from_env(monkeypatch):
    monkeypatch.setenv("LATM_SANDBOX_INSECURE", "1")
    assert SandboxConfig().allow_insecure
    monkeypatch.setenv("LATM_SANDBOX_INSECURE", "0")
    assert not SandboxConfig().allow_insecure
