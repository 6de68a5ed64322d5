"""Each process layer on its own: with the others off, it still stops what it is meant to stop."""
from __future__ import annotations

import socket

import pytest

from agents.sandbox import Sandbox, SandboxConfig

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONLY = dict(ast_check=False, network_namespace=False, filesystem_jail=False, drop_privileges=False,
            rlimits=False, seccomp=False, allow_insecure=True, workers=1, spares=0)


async def run(code: str, **layer: bool):
    """Run solve() from `code` in a sandbox with only the given layer on."""
    async with Sandbox(SandboxConfig(**{**ONLY, **layer})) as box:
        return await box.call(code, "solve", [], timeout_s=5)


CONNECT = ("import ctypes, struct\ndef solve():\n    libc = ctypes.CDLL(None, use_errno=True)\n"
           "    fd = libc.socket(2, 1, 0)\n"
           "    addr = struct.pack('=H', 2) + struct.pack('!H4s8x', PORT, bytes([127, 0, 0, 1]))\n"
           "    rc = libc.connect(fd, addr, len(addr))\n    return [fd >= 0, rc, ctypes.get_errno()]\n")


@pytest.fixture
def listener():
    """A TCP listener on the host's loopback."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    yield server
    server.close()


async def test_network_namespace_alone_blocks_loopback(listener):
    code = CONNECT.replace("PORT", str(listener.getsockname()[1]))
    control = await run(code)
    assert control.ok and control.value[:2] == [True, 0]  # without the layer the listener is reachable
    result = await run(code, network_namespace=True)
    assert result.ok and result.value == [True, -1, 101]  # ENETUNREACH: no interface is up


async def test_seccomp_alone_blocks_sockets_and_files():
    result = await run(CONNECT.replace("PORT", "9"), seccomp=True)
    assert result.ok and result.value[0] is False and result.value[2] == 1  # socket(): EPERM
    passwd = await run("def solve():\n    return open('/etc/passwd').read()\n", seccomp=True)
    assert passwd.error == "forbidden"


async def test_filesystem_jail_alone_hides_host_files():
    result = await run("import os\ndef solve():\n    return [os.listdir('/'), os.path.exists('/etc/passwd')]\n",
                       filesystem_jail=True)
    assert result.ok and result.value == [[], False]


async def test_privilege_drop_alone_makes_the_worker_nobody():
    result = await run("import os\ndef solve():\n    return [os.getuid(), os.getgid(), os.getgroups()]\n",
                       drop_privileges=True)
    assert result.ok and result.value == [65534, 65534, []]


async def test_rlimits_alone_cap_memory_and_processes():
    memory = await run("def solve():\n    return len(bytearray(2 << 30))\n", rlimits=True)
    assert memory.error == "memory"
    fork = await run("import os\ndef solve():\n    return os.fork()\n", rlimits=True, drop_privileges=True)
    assert fork.error == "tool_error" and "BlockingIOError" in fork.detail  # EAGAIN: RLIMIT_NPROC=0
