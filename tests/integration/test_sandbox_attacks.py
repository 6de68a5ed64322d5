"""Attack suite: every attack is contained (host survives, typed error, pool keeps serving)."""
from __future__ import annotations

import os
import socket
import threading

import pytest

from agents.sandbox import Sandbox, SandboxConfig

from .sandbox_attack_helpers import MARKER, attack, checked, raw, still_serves  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio(loop_scope="session")


# --- resource exhaustion -------------------------------------------------------------------------

async def test_infinite_loop(raw):
    result = await attack(raw, "while True:\n    pass")
    assert result.error == "timeout"


async def test_loop_swallowing_base_exception(raw):
    result = await attack(raw, "while True:\n    try:\n        while True:\n            pass\n"
                               "    except BaseException:\n        pass")
    assert result.error == "timeout"


async def test_recursion_bomb(checked):
    code = "def solve():\n    return solve()\n"
    result = await checked.call(code, "solve", [], timeout_s=2)
    await still_serves(checked)
    assert result.error == "tool_error" and "RecursionError" in result.detail


async def test_recursion_bomb_past_the_interpreter_limit(raw):
    result = await attack(raw, "import sys\nsys.setrecursionlimit(10**9)\n"
                               "def f(x):\n    return sorted([x], key=f)\nreturn f(0)", timeout_s=5)
    assert result.error == "memory" and "crashed" in result.detail  # C stack overflow: SIGSEGV


async def test_allocate_ten_gigabytes(raw):
    result = await attack(raw, "return len(bytearray(10 * 1024**3))")
    assert result.error == "memory"


async def test_allocate_gradually(raw):
    result = await attack(raw, "keep = []\nwhile True:\n    keep.append('x' * (1 << 24))", timeout_s=5)
    assert result.error == "memory"


async def test_cpu_rlimit_kills_a_busy_worker():
    async with Sandbox(SandboxConfig(ast_check=False, workers=1, spares=0, cpu_s=1)) as sandbox:
        result = await attack(sandbox, "while True:\n    pass", timeout_s=30)
    assert result.error == "timeout" and "CPU" in result.detail


async def test_fork_bomb(raw):
    result = await attack(raw, "import os\nwhile True:\n    os.fork()")
    assert result.error == "forbidden"


async def test_threads_cannot_start(raw):
    result = await attack(raw, "import _thread\n_thread.start_new_thread(print, ('x',))")
    assert not result.ok and "thread" in result.detail


# --- processes, exec, files, network -------------------------------------------------------------

async def test_os_system(raw):
    result = await attack(raw, f"import os\nreturn os.system('touch {MARKER}')")
    assert result.ok and result.value != 0  # the shell never started


async def test_exec_a_program(raw):
    result = await attack(raw, f"import os\nos.execv('/bin/sh', ['sh', '-c', 'touch {MARKER}'])")
    assert result.error == "forbidden"


async def test_posix_spawn(raw):
    result = await attack(raw, f"import os\nos.posix_spawn('/bin/sh', ['sh', '-c', 'touch {MARKER}'], {{}})")
    assert result.error == "forbidden"


async def test_subprocess_import(raw):
    result = await attack(raw, f"import subprocess\nsubprocess.run(['touch', '{MARKER}'])")
    assert result.error == "forbidden"


async def test_ctypes_libc_system(raw):
    result = await attack(raw, f"import ctypes\nreturn ctypes.CDLL(None).system(b'touch {MARKER}')")
    assert result.ok and result.value != 0


async def test_ctypes_execve(raw):
    result = await attack(raw, "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                               "rc = libc.execve(b'/bin/touch', None, None)\nreturn [rc, ctypes.get_errno()]")
    assert result.ok and result.value == [-1, 1]  # EPERM


async def test_read_etc_passwd(raw):
    result = await attack(raw, "return open('/etc/passwd').read()")
    assert result.error == "forbidden" and "root:" not in result.detail


async def test_write_outside_scratch(raw):
    result = await attack(raw, f"open('{MARKER}', 'w').write('pwned')")
    assert result.error == "forbidden"


async def test_connect_to_local_listener(raw):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    try:
        result = await attack(raw, "import ctypes, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                                   "fd = libc.socket(2, 1, 0)\nerr = ctypes.get_errno()\n"
                                   f"addr = struct.pack('=H', 2) + struct.pack('!H4s8x', {port}, bytes([127, 0, 0, 1]))\n"
                                   "rc = libc.connect(fd, addr, len(addr))\nreturn [fd, err, rc]")
        with pytest.raises(socket.timeout):
            server.accept()
    finally:
        server.close()
    assert result.ok and result.value[0] == -1 and result.value[1] == 1  # socket(): EPERM


# --- the host, the pipe and the limits -----------------------------------------------------------

async def test_kill_the_parent(raw):
    result = await attack(raw, "import os\nos.kill(os.getppid(), 9)")
    assert result.error == "forbidden"


async def test_kill_every_process(raw):
    result = await attack(raw, "import os\nos.kill(-1, 9)")
    assert result.error == "forbidden"


async def test_huge_output(raw):
    result = await attack(raw, "return 'x' * (64 << 20)")
    assert result.error == "invalid_output" and "limit" in result.detail


async def test_output_not_json_serialisable(raw):
    results = await raw.call_many("def solve(k):\n    return [{1, 2}, object(), b'x', {1: 2}, [[]] * 2][k]\n",
                                  "solve", [[0], [1], [2], [3], [4]])
    assert [r.error for r in results] == ["invalid_output"] * 4 + [None]
    assert results[4].value == [[], []]


async def test_close_the_protocol_pipe(raw):
    result = await attack(raw, "import os\nfor fd in range(3, 1024):\n    try:\n        os.close(fd)\n"
                               "    except OSError:\n        pass")
    assert result.error == "forbidden"


async def test_write_garbage_to_every_fd(raw):
    result = await attack(raw, "import os\nfor fd in range(3, 1024):\n    try:\n        os.write(fd, b'\\xff' * 64)\n"
                               "    except OSError:\n        pass\nwhile True:\n    pass")
    assert result.error == "forbidden"


async def test_printing_cannot_reach_the_protocol(raw):
    result = await attack(raw, "import os, sys\nfor _ in range(200):\n    print('\\xff' * 4096)\n"
                               "    os.write(1, b'\\x00\\x00\\x00\\x05hello')\n    os.write(2, b'\\xff' * 512)\n"
                               "return 'printed'")
    assert result.ok and result.value == "printed"


async def test_raise_rlimits_back(raw):
    result = await attack(raw, "import resource\ntry:\n"
                               "    resource.setrlimit(resource.RLIMIT_AS, (-1, -1))\nexcept (ValueError, OSError):\n"
                               "    pass\nreturn resource.getrlimit(resource.RLIMIT_AS)")
    assert result.ok and result.value == [256 << 20, 256 << 20]


async def test_become_root_again(raw):
    result = await attack(raw, "import os\nos.setuid(0)")
    assert result.error == "forbidden"


async def test_chroot_escape(raw):
    result = await attack(raw, "import os\nos.chroot('..')")
    assert result.error == "forbidden"


async def test_exit_the_interpreter(raw):
    result = await attack(raw, "import os\nos._exit(0)")
    assert result.error == "forbidden"


async def test_exception_whose_message_hangs(checked):
    code = ("class Evil(Exception):\n    def __str__(self):\n        while True:\n            pass\n"
            "def solve():\n    raise Evil()\n")
    result = await checked.call(code, "solve", [], timeout_s=1)
    await still_serves(checked)
    assert result.error == "timeout"


async def test_module_level_infinite_loop(checked):
    results = await checked.call_many("while True:\n    pass\ndef solve():\n    return 1\n", "solve", [[], []],
                                      timeout_s=1)
    await still_serves(checked)
    assert [r.error for r in results] == ["timeout", "timeout"]


async def test_bad_call_in_batch_does_not_affect_others(raw):
    code = ("def solve(k):\n    if k == 3:\n        while True:\n            pass\n"
            "    if k == 5:\n        return bytearray(10 ** 10)\n    if k == 7:\n        import os\n        os._exit(1)\n"
            "    return k * 2\n")
    results = await raw.call_many(code, "solve", [[k] for k in range(10)], timeout_s=1)
    await still_serves(raw)
    errors = {k: r.error for k, r in enumerate(results) if not r.ok}
    assert errors == {3: "timeout", 5: "memory", 7: "forbidden"}
    assert [r.value for k, r in enumerate(results) if r.ok] == [k * 2 for k in range(10) if k not in errors]


async def test_host_threads_untouched():
    # The attacks above ran in worker processes: this process and its main thread are fine.
    assert threading.main_thread().is_alive()
