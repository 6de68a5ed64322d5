"""An embedded llama.cpp server that ends when the process that started it is gone.

`python -m agents.llm.server_main OWNER_PID <llama_cpp.server arguments>`. The owner stops the
server at exit, but a process killed by a signal (SIGKILL, or SIGTERM in a script without a
handler) runs no exit code, and the server would keep a core busy for nobody.
"""
from __future__ import annotations

import os
import runpy
import sys
import threading
import time

POLL_S = 1.0


def watch_owner(owner: int) -> None:
    """Exit this process once it is no longer the owner's child (the owner died: we were
    re-parented), which cannot be fooled by a new process reusing the owner's pid."""
    while os.getppid() == owner:
        time.sleep(POLL_S)
    os._exit(0)  # no clean-up to run: the server holds nothing that outlives it


def main() -> None:
    """Watch the owner in a daemon thread, then run llama.cpp's server in this process."""
    owner, arguments = int(sys.argv[1]), sys.argv[2:]
    threading.Thread(target=watch_owner, args=(owner,), daemon=True, name="owner-watch").start()
    sys.argv = ["llama_cpp.server", *arguments]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
