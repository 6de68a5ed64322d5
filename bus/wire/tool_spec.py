"""The ToolSpec: an immutable, content-addressed tool version as the maker made it, and ToolCode, what a call needs of it."""
from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, WrapValidator,
                      model_validator)

ToolShape = Literal["end_to_end", "structured", "soft"]
ToolStatus = Literal["active", "quarantined"]


class Frozen(BaseModel):
    """Base for value objects: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Example(Frozen):
    """One labelled example: a request text and its correct answer."""

    input: str = Field(description="the request text as a user would send it")
    target: str = Field(description="the correct answer")


class Demo(Frozen):
    """A usage demonstration shown to tool users: the request, the call made, the output."""

    input: str = Field(description="the request text")
    call: str = Field(default="", description="the call written as Python, e.g. solve('...')")
    output: str = Field(description="what the tool returned")


class Provenance(Frozen):
    """Who made a tool version, with what prompt, and what it cost."""

    maker_model: str = Field(default="", description="model name of the maker role")
    prompt_version: str = Field(default="", description="version tag of the maker prompt")
    prompt_tokens: int = Field(default=0, description="prompt tokens spent making the tool")
    completion_tokens: int = Field(default=0, description="completion tokens spent making the tool")
    cost_usd: float = Field(default=0.0, description="estimated spend making the tool")
    samples: int = Field(default=0, description="candidates drawn before one was accepted")
    rounds: int = Field(default=0, description="propose/verify rounds run")
    parent_version: str | None = Field(default=None, description="version this one replaces")
    created_at: float = Field(default=0.0, description="unix time the version was stored")


class ToolSpec(Frozen):
    """A verified tool: code plus everything needed to find, call and trust it."""

    tool_id: str = Field(description="stable name of the tool across versions, e.g. the task slug")
    task: str = Field(default="", description="the task (class of requests) the tool solves")
    entry: str = Field(default="solve", description="name of the function to call")
    shape: ToolShape = Field(default="end_to_end", description="how the tool is called")
    code: str = Field(description="Python source defining the entry function")
    signature: str = Field(default="", description="the entry's signature as text")
    docstring: str = Field(default="", description="what the tool does, one paragraph")
    demos: tuple[Demo, ...] = Field(default=(), description="usage demos for tool users")
    tests: tuple[Example, ...] = Field(default=(), description="cases the tool passed")
    provenance: Provenance = Field(default_factory=Provenance, description="how it was made")
    status: ToolStatus = Field(default="active", description="quarantined tools are not served")

    @property
    def version(self) -> str:
        """Content hash of what determines behaviour; equal code means equal version."""
        return content_hash(self.code, self.entry, self.shape)

    @property
    def tool_code(self) -> "ToolCode":
        """What a tool user needs to call this version, to send with the call."""
        return ToolCode(tool_id=self.tool_id, version=self.version, entry=self.entry, shape=self.shape,
                        code=self.code, signature=self.signature)


class ToolCode(Frozen):
    """The callable part of one tool version; it travels with every call (see InternedToolCode)."""

    tool_id: str = Field(description="stable name of the tool across versions")
    version: str = Field(description="content hash of entry, shape and code (see content_hash)")
    entry: str = Field(default="solve", description="name of the function to call")
    shape: ToolShape = Field(default="end_to_end", description="how the tool is called")
    code: str = Field(description="Python source defining the entry function")
    signature: str = Field(default="", description="the entry's signature as text")

    @model_validator(mode="after")
    def _code_is_the_version(self) -> "ToolCode":
        if content_hash(self.code, self.entry, self.shape) != self.version:
            raise ValueError(f"the code of {self.tool_id}@{self.version} does not hash to that version; "
                             "send the version's code unchanged")
        return self


# Versions are immutable, so a process keeps the first intact copy of each and hands it to every later
# message carrying the same fields: decoding a known tool costs a look-up, not a model and a hash.
_KNOWN_TOOLS: dict[tuple[Any, Any], ToolCode] = {}
_KNOWN_TOOLS_MAX = 1024


def _known_or_checked(data: Any, handler: ValidatorFunctionWrapHandler) -> ToolCode:
    """The kept copy when `data` is exactly a version already seen here, else a newly checked one."""
    if isinstance(data, ToolCode):
        return data  # checked when it was made
    if isinstance(data, dict):
        known = _KNOWN_TOOLS.get((data.get("tool_id"), data.get("version")))
        if known is not None and len(data) == len(ToolCode.model_fields) and known.code == data.get("code") \
                and known.entry == data.get("entry") and known.shape == data.get("shape") \
                and known.signature == data.get("signature"):
            return known
    tool = handler(data)
    if len(_KNOWN_TOOLS) >= _KNOWN_TOOLS_MAX:
        _KNOWN_TOOLS.clear()
    _KNOWN_TOOLS[(tool.tool_id, tool.version)] = tool
    return tool


InternedToolCode = Annotated[ToolCode, WrapValidator(_known_or_checked)]


def content_hash(code: str, entry: str, shape: str) -> str:
    """Short stable hash of a tool's behaviour-determining parts."""
    digest = hashlib.sha256(f"{shape}\0{entry}\0{code}".encode()).hexdigest()
    return digest[:16]
