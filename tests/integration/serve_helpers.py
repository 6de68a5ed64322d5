"""Start `latm serve` as a user would: a subprocess on a free port, the stub as every role's endpoint."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from bus.wire.tool_spec import Example, ToolSpec
from store.tool_store import ToolStore

SORT_CODE = '''def solve(question: str) -> str:
    """Sort the words after 'List:' alphabetically."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
REVERSE_TOOL = '''```python
def solve(question: str) -> str:
    return question.split(":", 1)[1].strip()[::-1]
```'''


def seed_sort_tool(store_path: Path) -> ToolSpec:
    """A verified word-sorting tool already in the cache, as an earlier run would have left it."""
    spec = ToolSpec(tool_id="word_sorting", task="word_sorting", code=SORT_CODE,
                    docstring="Sort the following words alphabetically.",
                    tests=(Example(input="Sort the following words alphabetically: List: pear fig",
                                   target="fig pear"),))
    ToolStore(store_path).put(spec)
    return spec


class ServeProcess:
    """A running `latm serve`; `stop()` sends SIGINT and returns its output."""

    def __init__(self, stub, store_path: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
        env.update(OPENAI_BASE_URL=stub.base_url, OPENAI_API_KEY="stub")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agents.cli.main", "serve", "--store", str(store_path), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        for line in self.proc.stdout:
            self.lines.append(line)
            if "listening on " in line:
                self.base_url = line.split("listening on ", 1)[1].split()[0]
                break
        else:
            raise AssertionError(f"latm serve exited {self.proc.wait()}:\n{''.join(self.lines)[-3000:]}")
        self.port = int(self.base_url.rsplit(":", 1)[1].split("/")[0])
        # Keep draining its output so the process never blocks on a full pipe.
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, str]:
        """A raw HTTP request to 127.0.0.1 (status, lower-case headers, body text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
        finally:
            conn.close()

    def post_json(self, path: str, payload, headers: dict | None = None) -> tuple[int, dict, dict]:
        status, head, text = self.request("POST", path, json.dumps(payload).encode(),
                                          {"Content-Type": "application/json", **(headers or {})})
        return status, head, json.loads(text)

    def stop(self) -> str:
        """Interrupt as Ctrl-C does; the server finishes, writes the ledger and prints its summary."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=120)
        self._reader.join(timeout=10)
        return "".join(self.lines)
