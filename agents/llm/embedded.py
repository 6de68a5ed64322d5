"""The embedded offline models: one llama.cpp OpenAI-compatible server per catalog model."""
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
from typing import ClassVar, Mapping

from pydantic import BaseModel, Field

from agents.llm.config import LLMConfig
from agents.llm.errors import EmbeddedModelError
from agents.llm.model_assembly import gguf_path
from agents.llm.model_catalog import EmbeddedModelSpec, spec


class EmbeddedSettings(BaseModel):
    """How an embedded llama.cpp server runs."""

    n_ctx: int | None = Field(default=None, description="context window in tokens; None = the "
                              "catalog's for the model")
    # Two threads use both cores of a 2-core machine for prompt evaluation; under heavy load
    # from other jobs one thread was slightly faster (README, *Models and cost*).
    n_threads: int = Field(default_factory=lambda: int(os.environ.get("LATM_EMBEDDED_THREADS", 2)),
                           description="CPU threads for generation ($LATM_EMBEDDED_THREADS)")
    startup_timeout_s: float = Field(default=180.0, description="wait this long for /v1/models")
    state_dir: str = Field(
        default_factory=lambda: os.environ.get("LATM_STATE_DIR")
        or str(Path.home() / ".cache" / "latm"),
        description="where the server logs and state files (reused by other processes) live")


def answers(base_url: str, timeout_s: float = 2.0, model: str | None = None) -> bool:
    """Whether an OpenAI-compatible server at base_url lists its models (including `model`:
    a recorded port may since have been taken by another model's server)."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout_s) as resp:
            listed = json.loads(resp.read())["data"] if resp.status == 200 else None
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not isinstance(listed, list):
        return False
    return model is None or any(isinstance(m, dict) and m.get("id") == model for m in listed)


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
    """Start-once, restart-on-crash owner of one catalog model's llama.cpp server."""

    _shared: ClassVar[dict[str, "EmbeddedModel"]] = {}

    def __init__(self, name: str, settings: EmbeddedSettings | None = None) -> None:
        self.spec: EmbeddedModelSpec = model_spec(name)
        self.name = name
        self.settings = settings or EmbeddedSettings()
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.starts = 0
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @classmethod
    def shared(cls, name: str) -> "EmbeddedModel":
        """The process-wide instance serving `name` for unconfigured roles."""
        if name not in cls._shared:
            cls._shared[name] = cls(name)
        return cls._shared[name]

    @property
    def n_ctx(self) -> int:
        """The context window the server runs with."""
        return self.settings.n_ctx or self.spec.n_ctx

    @property
    def state_file(self) -> Path:
        """JSON with the live server's URL, so another process can reuse it."""
        return Path(self.settings.state_dir) / f"embedded-{self.name}.json"

    @property
    def log_file(self) -> Path:
        """The server's output."""
        return Path(self.settings.state_dir) / f"embedded-{self.name}.log"

    def ensure_started(self) -> str:
        """The base URL of a live server: ours, another process's, or a freshly started one."""
        with self._lock:
            if self.base_url and answers(self.base_url, model=self.name):
                return self.base_url
            state_dir = Path(self.settings.state_dir)
            state_dir.mkdir(parents=True, exist_ok=True)
            # The file lock stops two processes (e.g. Ray actors) starting two servers at once.
            with open(state_dir / f"embedded-{self.name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    other = self._read_state()
                    if other and answers(other, model=self.name):
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
        gguf = gguf_path(self.spec)
        previous = int(self.base_url.rsplit(":", 1)[1].split("/")[0]) if self.base_url else None
        port = free_port(previous)
        threads = str(self.settings.n_threads)
        # Through server_main, which ends the server when this process dies without stopping it.
        cmd = [sys.executable, "-m", "agents.llm.server_main", str(os.getpid()),
               "--model", str(gguf),
               "--model_alias", self.name, "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(self.n_ctx), "--n_threads", threads, "--n_threads_batch", threads,
               # Keeping every position's logits (the server's default) costs n_ctx x vocabulary
               # floats: about 5 GB for the coder at n_ctx 8192. Nothing here asks for logprobs.
               "--logits_all", "false"]
        with open(self.log_file, "wb") as log:
            # Own session: a Ctrl-C meant for the CLI does not kill the server mid-request.
            # Passive OpenMP waits: spinning threads starve everything else on a small machine.
            env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while not answers(url, timeout_s=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_file.read_text(errors="replace")[-800:]
                self._stop_process()
                raise EmbeddedModelError(f"the embedded llama.cpp server for {self.name} did "
                                         f"not come up on {url}; log {self.log_file}:\n{tail}")
            time.sleep(0.1)
        self.base_url = url
        self.starts += 1
        self.state_file.write_text(json.dumps({"base_url": url, "pid": self.process.pid,
                                               "gguf": str(gguf), "model": self.name}))
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


def model_spec(name: str) -> EmbeddedModelSpec:
    """The catalog entry, or an EmbeddedModelError listing the known names."""
    try:
        return spec(name)
    except KeyError as exc:
        raise EmbeddedModelError(exc.args[0]) from None


Servers = Mapping[str, EmbeddedModel]


def server_for(name: str, servers: Servers | None = None) -> EmbeddedModel:
    """The given server of model `name`, else the process-wide one."""
    if servers and name in servers:
        return servers[name]
    return EmbeddedModel.shared(name)


# A local model on a shared CPU can take minutes over a long prompt, and a timed-out request
# is not cancelled: a retry only queues a second copy behind the first. The server answers one
# request at a time and the deadline counts the time queued there, so a role sends one at a
# time (more would only wait in the server's queue, on the clock).
EMBEDDED_MIN_TIMEOUT_S = 1200.0
EMBEDDED_CONCURRENCY = 1


def configure_with_embedded(config: LLMConfig, servers: Servers | None = None) -> LLMConfig:
    """Point every unconfigured role at its embedded model's server (started only if needed)."""
    out = config
    urls: dict[str, str] = {}
    for role in config.unconfigured_roles():
        name = config.embedded_model_for(role)
        if name not in urls:
            urls[name] = server_for(name, servers).ensure_started()
        out = out.with_role(role, base_url=urls[name], model=name, embedded=True,
                            embedded_model=name, api_key_env="LATM_EMBEDDED_NO_KEY",
                            timeout_s=max(config.role(role).timeout_s, EMBEDDED_MIN_TIMEOUT_S),
                            concurrency=EMBEDDED_CONCURRENCY)
    return out
