"""Codec: round trips, golden wire bytes for every kind, and typed errors for malformed input."""
from __future__ import annotations

import json
import pathlib
import sys

import msgpack
import pytest

from bus.wire.codec import CodecError, decode, decode_many, encode, encode_many
from bus.wire.messages import (
    MESSAGE_CLASSES, MESSAGE_TYPES, CaseResult, DispatchRequest, Dispatched, Echo, ErrorInfo, ErrorReply,
    Explored, ExploreTool, MakeTool, Message, SimulateLine, SolveAnswer, SolveRequest, StateChange, ToolAnswer, ToolMade,
    ToolRequest, UseTool, Verdict, VerifyTool,
)
from bus.wire.api_spec import ApiSpec
from bus.wire.spend import RoleSpend, Spend
from bus.wire.tool_spec import Demo, Example, Provenance, ToolCode, ToolSpec

GOLDEN = pathlib.Path(__file__).parent / "golden" / "bus_wire.json"
IDS = {"request_id": "req-1", "trace_id": "trace-1"}
CODE = "def solve(question: str) -> str:\n    return question[::-1]\n"
TOOL = ToolSpec(
    tool_id="reverse", task="reverse a word", code=CODE, signature="solve(question: str) -> str",
    docstring="Reverse the word.", demos=(Demo(input="abc", call="solve('abc')", output="cba"),),
    tests=(Example(input="ab", target="ba"),),
    provenance=Provenance(maker_model="m", prompt_version="p1", prompt_tokens=10, completion_tokens=5,
                          cost_usd=0.25, samples=2, rounds=1, created_at=1.5),
)


def samples() -> dict[str, Message]:
    """One fully populated message of every kind, with fixed ids (the golden fixtures)."""
    err = ErrorInfo(code="timeout", message="took too long")
    usage = Spend.of("user", "small", calls=1, prompt_tokens=20, completion_tokens=3, cost_usd=0.5)
    return {m.kind: m for m in [
        Echo(payload="hello", **IDS),
        ToolRequest(text="reverse abc", task="reverse", target="cba", **IDS),
        ToolAnswer(answer="cba", route="tool", tool_id="reverse", tool_version=TOOL.version, confidence=0.9,
                   spend=usage, latency_s=0.25,
                   error=None, **IDS),
        MakeTool(task="reverse", train=[Example(input="ab", target="ba")],
                 validation=[Example(input="xy", target="yx")], known_tools=[TOOL], **IDS),
        ToolMade(task="reverse", ok=True, tool=TOOL, samples=2, rounds=1, reason="passed 2/2", reused=False,
                 spend=Spend.of("maker", "m", calls=2, prompt_tokens=10, completion_tokens=5, cost_usd=0.25) + usage,
                 **IDS),
        VerifyTool(task="reverse", code=CODE, entry="solve", shape="end_to_end", cases=[Example(input="ab", target="ba")],
                   timeout_s=1.5, **IDS),
        Verdict(passed=1, total=2, cases=[CaseResult(input="ab", expected="ba", got="ba", ok=True),
                                         CaseResult(input="x", expected="y", ok=False, error="timeout")],
                error=err, spend=usage, **IDS),
        SolveRequest(question="reverse abc", method="coc", **IDS),
        SolveAnswer(answer="cba", method="coc", program="answer = 'cba'", spend=usage, error=None, **IDS),
        SimulateLine(program="x = is_sarcastic(s)", line_no=1, line="x = is_sarcastic(s)",
                     error="NameError: is_sarcastic", state={"s": "great, rain", "n": [1, 2], "d": {"k": None}}, **IDS),
        StateChange(updates={"x": True}, error=err, **IDS),
        DispatchRequest(text="reverse abc", task="reverse", **IDS),
        Dispatched(tool_id="reverse", tool_version=TOOL.version, confidence=0.8, method="judge", spend=usage, **IDS),
        UseTool(text="reverse abc", task="reverse", tool=TOOL.tool_code, confidence=0.8, **IDS),
        ErrorReply(code="handler_error", message="boom", **IDS),
        ExploreTool(tool_id="reverse", api=ApiSpec(name="add_date", description="Add days to a date.",
                                                   parameters={"type": "object", "properties": {"days": {"type": "integer"}}},
                                                   endpoint="http://127.0.0.1:8000/add_date"),
                    episodes=2, trials=3, corrections=1, **IDS),
        Explored(tool="add_date", episodes=2, trials=6, successes=4, demos_kept=3, step_errors=1, spend=usage,
                 error=err, **IDS),
    ]}


def test_samples_cover_every_kind():
    assert set(samples()) == set(MESSAGE_TYPES) == {c.model_fields["kind"].default for c in MESSAGE_CLASSES}


@pytest.mark.parametrize("kind", sorted(MESSAGE_TYPES))
def test_samples_set_every_field(kind):
    """Golden bytes only guard fields the sample sets: a new field must be added to samples()."""
    msg = samples()[kind]
    assert set(type(msg).model_fields) - msg.model_fields_set - {"kind"} == set()


@pytest.mark.parametrize("kind", sorted(MESSAGE_TYPES))
def test_round_trip(kind):
    msg = samples()[kind]
    back = decode(encode(msg))
    assert type(back) is type(msg)
    assert back == msg


@pytest.mark.parametrize("kind", sorted(MESSAGE_TYPES))
def test_golden_bytes(kind):
    """An accidental wire change (renamed field, new default, reordering) fails here."""
    golden = json.loads(GOLDEN.read_text())
    assert kind in golden, f"no golden bytes for {kind}: add them with `python {__file__} --regen`"
    assert encode(samples()[kind]).hex() == golden[kind]
    assert decode(bytes.fromhex(golden[kind])) == samples()[kind]


def test_batch_round_trip_keeps_order():
    msgs = list(samples().values())
    assert decode_many(encode_many(msgs)) == msgs


def test_default_request_ids_are_unique():
    ids = {Echo().request_id for _ in range(1000)}
    assert len(ids) == 1000


def wire(kind: str) -> dict:
    """The wire dict of a sample, for corrupting."""
    return msgpack.unpackb(encode(samples()[kind]))


def pack(obj) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def test_unknown_kind_names_the_kind():
    data = wire("echo/1") | {"kind": "teleport/9"}
    with pytest.raises(CodecError) as exc:
        decode(pack(data))
    assert exc.value.kind == "teleport/9" and exc.value.field == "kind"
    assert "echo/1" in str(exc.value)  # the message lists the known kinds


def test_missing_kind():
    data = wire("echo/1")
    del data["kind"]
    with pytest.raises(CodecError) as exc:
        decode(pack(data))
    assert exc.value.kind is None and exc.value.field == "kind"


@pytest.mark.parametrize("field", ["text", "request_id", "trace_id"])
def test_missing_field_is_named(field):
    data = wire("tool_request/1")
    del data[field]
    with pytest.raises(CodecError) as exc:
        decode(pack(data))
    assert (exc.value.kind, exc.value.field) == ("tool_request/1", field)


def test_extra_field_is_named():
    data = wire("tool_request/1") | {"colour": "red"}
    with pytest.raises(CodecError) as exc:
        decode(pack(data))
    assert (exc.value.kind, exc.value.field) == ("tool_request/1", "colour")


@pytest.mark.parametrize(
    ("kind", "field", "value", "where"),
    [
        ("tool_request/1", "text", 42, "text"),
        ("tool_answer/2", "route", "magic", "route"),
        ("verdict/2", "passed", "many", "passed"),
        ("make_tool/1", "train", [{"input": "a"}], "train.0.target"),
        ("tool_made/2", "tool", {"tool_id": "x"}, "tool.code"),
    ],
)
def test_wrong_type_is_named(kind, field, value, where):
    data = wire(kind) | {field: value}
    with pytest.raises(CodecError) as exc:
        decode(pack(data))
    assert (exc.value.kind, exc.value.field) == (kind, where)


@pytest.mark.parametrize("data", [b"", b"\xc1", b"\x92\x01", b"not msgpack at all \xff\xfe", pack([1, 2]), pack("s")])
def test_garbage_bytes_raise_codec_error(data):
    with pytest.raises(CodecError):
        decode(data)


def test_non_bytes_input():
    with pytest.raises(CodecError):
        decode("a string")  # type: ignore[arg-type]


def test_batch_must_be_an_array():
    with pytest.raises(CodecError):
        decode_many(encode(samples()["echo/1"]))


def test_unencodable_state_is_a_codec_error():
    bad = SimulateLine(program="p", line_no=1, line="l", error="e", state={"x": 2**70})
    with pytest.raises(CodecError) as exc:
        encode(bad)
    assert exc.value.kind == "simulate_line/1"


def test_encode_rejects_non_messages():
    with pytest.raises(CodecError):
        encode({"kind": "echo/1"})  # type: ignore[arg-type]


def test_messages_are_frozen_and_strict():
    msg = samples()["echo/1"]
    with pytest.raises(Exception):
        msg.payload = "changed"  # type: ignore[misc]
    with pytest.raises(Exception):
        Echo(payload="x", surprise=1)  # type: ignore[call-arg]


def test_every_field_has_a_description():
    for cls in (*MESSAGE_CLASSES, ErrorInfo, CaseResult, RoleSpend, Spend):
        for name, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{name} needs a description"


def regenerate() -> None:
    """Rewrite the golden file from the samples; run only for an intended wire change."""
    GOLDEN.parent.mkdir(exist_ok=True)
    data = {kind: encode(msg).hex() for kind, msg in sorted(samples().items())}
    GOLDEN.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__" and "--regen" in sys.argv:
    regenerate()


def test_a_tool_whose_code_does_not_hash_to_its_version_cannot_be_made_or_decoded():
    with pytest.raises(ValueError, match="does not hash"):
        ToolCode(**{**TOOL.tool_code.model_dump(), "code": CODE + "# edited\n"})
    forged = wire("use_tool/2")
    forged["tool"]["code"] = CODE + "# edited\n"
    with pytest.raises(CodecError) as exc:
        decode(pack(forged))
    assert exc.value.field == "tool" and "does not hash" in exc.value.reason


def test_a_tool_version_is_decoded_once_per_process():
    data = encode(samples()["use_tool/2"])
    first, again = decode(data), decode(data)
    assert first.tool is again.tool and first.tool == TOOL.tool_code
    other = wire("use_tool/2")
    other["tool"]["signature"] = "solve(q)"  # same version, other fields: checked anew, never the kept copy
    assert decode(pack(other)).tool.signature == "solve(q)"
