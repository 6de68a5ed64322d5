"""Msgpack wire codec for bus messages; decoding validates and fails with one typed CodecError."""
from __future__ import annotations

from typing import Any, Sequence

import msgpack
from pydantic import TypeAdapter, ValidationError

from bus.wire.messages import MESSAGE_TYPES, AnyMessage, Message

_ADAPTER: TypeAdapter[Message] = TypeAdapter(AnyMessage)
# The envelope fields have defaults for convenience in code, but on the wire they must be present.
_ENVELOPE = ("request_id", "trace_id")


class CodecError(ValueError):
    """A message could not be encoded or decoded; names the kind and the field at fault."""

    def __init__(self, kind: str | None, field: str | None, reason: str) -> None:
        self.kind = kind
        self.field = field
        self.reason = reason
        where = f"kind={kind!r}" + (f" field={field!r}" if field else "")
        super().__init__(f"bad bus message ({where}): {reason}")


def to_wire(msg: Message) -> dict[str, Any]:
    """The plain dict a message travels as (before msgpack)."""
    if not isinstance(msg, Message):
        raise CodecError(None, None, f"expected a bus Message, got {type(msg).__name__}; wrap the data in a message class")
    return msg.model_dump()


def encode(msg: Message) -> bytes:
    """Encode one message to msgpack bytes."""
    return pack_wire(to_wire(msg), getattr(msg, "kind", None))


def encode_many(msgs: Sequence[Message]) -> bytes:
    """Encode a batch of messages as one msgpack array."""
    return pack_wire([to_wire(m) for m in msgs], None)


def decode(data: bytes) -> Message:
    """Decode and validate one message; raises CodecError on anything malformed."""
    return from_wire(_unpack(data))


def decode_many(data: bytes) -> list[Message]:
    """Decode a batch; raises CodecError at the first malformed message."""
    return [from_wire(item) for item in unpack_batch(data)]


def unpack_batch(data: bytes) -> list[Any]:
    """Unpack a batch to raw items without validating them (so each can fail on its own)."""
    obj = _unpack(data)
    if not isinstance(obj, list):
        raise CodecError(None, None, f"a batch must be a msgpack array, got {type(obj).__name__}")
    return obj


def from_wire(obj: Any) -> Message:
    """Validate one unpacked item into its message class."""
    if not isinstance(obj, dict):
        raise CodecError(None, None, f"a message must be a msgpack map, got {type(obj).__name__}")
    kind = obj.get("kind")
    if kind not in MESSAGE_TYPES:
        known = ", ".join(sorted(MESSAGE_TYPES))
        raise CodecError(_printable(kind), "kind", f"unknown message kind; known kinds: {known}")
    for name in _ENVELOPE:
        if name not in obj:
            raise CodecError(kind, name, "field required")
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        # The first location element is the union tag (the kind); the rest is the field path.
        path = ".".join(str(p) for p in err["loc"][1:]) or None
        raise CodecError(kind, path, err["msg"]) from None


def raw_ids(obj: Any) -> tuple[str, str]:
    """Best-effort (request_id, trace_id) of an unpacked item, so even a bad message gets a reply."""
    if isinstance(obj, dict):
        rid, tid = obj.get("request_id"), obj.get("trace_id")
        return (rid if isinstance(rid, str) else "", tid if isinstance(tid, str) else "")
    return ("", "")


def pack_wire(obj: Any, kind: str | None = None) -> bytes:
    """Wire dicts (or a list of them) to msgpack, with a typed error for values msgpack cannot carry."""
    try:
        return msgpack.packb(obj, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise CodecError(kind, None, f"not encodable as msgpack ({exc}); keep field values JSON-safe") from None


def _unpack(data: bytes) -> Any:
    """msgpack bytes to Python, with a typed error for anything that is not one msgpack value."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CodecError(None, None, f"expected bytes, got {type(data).__name__}")
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=True)
    except Exception as exc:  # msgpack raises several unrelated types for garbage input
        raise CodecError(None, None, f"not valid msgpack ({type(exc).__name__}: {exc})") from None


def _printable(kind: Any) -> str | None:
    """The kind value as text for an error message."""
    if kind is None or isinstance(kind, str):
        return kind
    return repr(kind)[:80]
