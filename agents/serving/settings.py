"""How `latm serve` listens: address, API keys, admission bound."""
from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field


class ServeSettings(BaseModel):
    """Front-door settings; the pipeline's own knobs stay in PipelineConfig."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(default="127.0.0.1", description="address to bind; anything but loopback needs API keys")
    port: int = Field(default=0, ge=0, le=65535, description="port to bind; 0 picks a free one")
    api_keys: tuple[str, ...] = Field(default=(), description="accepted bearer tokens; empty = no auth "
                                      "(allowed on loopback only)")
    max_pending: int = Field(default=4096, ge=1, description="requests in the pipeline at once; "
                             "more get 429 with Retry-After instead of queueing without bound")
    retry_after_s: int = Field(default=1, ge=1, description="Retry-After seconds sent with a 429")
    model_name: str = Field(default="latm", description="model id listed at /v1/models")

    def check(self) -> None:
        """Refuse an open bind without keys: a reachable server would spend the caller's LLM budget."""
        if not self.api_keys and not is_loopback(self.host):
            raise ValueError(f"binding {self.host} (not loopback) needs API keys: pass --api-key KEY "
                             f"or set LATM_SERVE_API_KEYS=key1,key2, or bind 127.0.0.1")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; a wildcard or any other address is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
