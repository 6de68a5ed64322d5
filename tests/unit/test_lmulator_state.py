"""LM state replies are parsed as data only: literals accepted, code/oversized/malformed rejected."""
from __future__ import annotations

import pytest

from agents.lmulator.errors import (
    StateReplyIsCode, StateReplyMalformed, StateReplyNotLiteral, StateReplyTooLarge,
)
from agents.lmulator.replies import reply_from_text
from agents.lmulator.state import (
    ReplyLimits, decode_from_worker, encode_for_worker, parse_state_reply, parse_value_reply,
)
from agents.lmulator.transform import Site

VALUE_SITE = Site(id=0, line=1, text="x = f()", mode="value", kind="assign", scope="<module>",
                  expr="f()")
STATE_SITE = Site(id=1, line=2, text="xs.append(f())", mode="state", kind="expr",
                  scope="<module>", assignable=("xs",))


@pytest.mark.parametrize("reply, expected", [
    ("True", True),
    ("  42\n", 42),
    ("'a b'", "a b"),
    ("```python\n['x', 'y']\n```", ["x", "y"]),
    ("value: (1, 2)", (1, 2)),
    ("It is sarcastic, so the value is True.", True),
    ("{'k': {1, 2}}", {"k": {1, 2}}),
    ("-3.5", -3.5),
])
def test_value_replies_that_are_literals_parse(reply, expected):
    assert parse_value_reply(reply) == expected


@pytest.mark.parametrize("reply", [
    "__import__('os').system('rm -rf /')",
    "open('/etc/passwd').read()",
    "[x for x in range(10)]",
    "lambda: 1",
    "secret_variable",
    "(1).__class__",
])
def test_value_replies_that_are_code_are_rejected(reply):
    with pytest.raises(StateReplyIsCode, match="code"):
        parse_value_reply(reply)


def test_malformed_and_oversized_replies_are_rejected_with_their_own_types():
    with pytest.raises(StateReplyMalformed):
        parse_value_reply("I am not sure what this does")
    with pytest.raises(StateReplyTooLarge):
        parse_value_reply("'" + "a" * 5000 + "'")
    with pytest.raises(StateReplyTooLarge):
        parse_value_reply(repr(list(range(600))))
    with pytest.raises(StateReplyTooLarge):
        parse_value_reply("[" * 10 + "]" * 10, ReplyLimits(max_depth=4))
    with pytest.raises(StateReplyNotLiteral):
        parse_value_reply("b'bytes'")
    with pytest.raises(StateReplyNotLiteral):
        parse_value_reply("1e999")


def test_state_replies_accept_dicts_and_assignment_lines():
    assert parse_state_reply("{'xs': [1], 'n': 2}") == {"xs": [1], "n": 2}
    assert parse_state_reply("xs = [1]\nn = 2") == {"xs": [1], "n": 2}
    assert parse_state_reply("Sure! {'xs': ['a']} is the new state") == {"xs": ["a"]}


@pytest.mark.parametrize("reply, error", [
    ("xs = compute()", StateReplyIsCode),
    ("import os", StateReplyIsCode),
    ("[1, 2]", StateReplyNotLiteral),
    ("{'not an identifier': 1}", StateReplyNotLiteral),
    ("{'coc_run': 1}", StateReplyNotLiteral),
    ("{'__builtins__': {}}", StateReplyNotLiteral),
    ("{'xs': ", StateReplyMalformed),
])
def test_bad_state_replies_are_rejected(reply, error):
    with pytest.raises(error):
        parse_state_reply(reply)


def test_site_reply_keeps_only_names_the_site_may_set():
    reply = reply_from_text(STATE_SITE, "{'xs': [3], 'other': 1}")
    assert reply.updates == {"xs": [3]} and reply.ignored == ["other"]
    assert reply.wire == {"updates": {"xs": [3]}}


def test_for_site_wraps_a_scalar_into_a_list():
    site = Site(id=2, line=3, text="for w in f():", mode="value", kind="for", scope="<module>",
                expr="f()")
    assert reply_from_text(site, "7").value == [7]
    assert reply_from_text(VALUE_SITE, "7").wire == {"value": 7}


def test_wire_encoding_round_trips_containers():
    value = {"t": (1, [2, (3,)]), "s": {4}, 5: None}
    assert decode_from_worker(encode_for_worker(value)) == value


def test_yes_no_prose_reads_as_a_boolean():
    assert parse_value_reply("Yes, a carrot is a vegetable.") is True
    assert parse_value_reply("no") is False
