"""The attack suites' sandboxes and probes: every attack must leave the host untouched and the pool serving."""
from __future__ import annotations

import os
import uuid

import pytest_asyncio

from agents.sandbox import Sandbox, SandboxConfig

OK_TOOL = "def solve(a, b):\n    return a + b\n"
MARKER = f"/tmp/latm-sandbox-pwned-{uuid.uuid4().hex}"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def raw():
    """Process layers only: the AST check and restricted builtins are off, so nothing stops code early."""
    async with Sandbox(SandboxConfig(ast_check=False, workers=2, spares=1, memory_mb=256)) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def checked():
    """The default configuration, with the AST check and restricted builtins."""
    async with Sandbox(SandboxConfig(workers=1, spares=1, memory_mb=256)) as sandbox:
        yield sandbox


async def still_serves(sandbox: Sandbox) -> None:
    """The pool answers an ordinary call after the attack."""
    result = await sandbox.call(OK_TOOL, "solve", [2, 3], timeout_s=5)
    assert result.ok and result.value == 5, result


async def attack(sandbox: Sandbox, body: str, timeout_s: float = 1.0):
    """Run `body` as the body of solve() and return its result after checking the pool survived."""
    code = "def solve():\n" + "".join("    " + line + "\n" for line in body.strip("\n").splitlines())
    result = await sandbox.call(code, "solve", [], timeout_s=timeout_s)
    await still_serves(sandbox)
    assert not os.path.exists(MARKER), "an attack left a file on the host"
    return result
