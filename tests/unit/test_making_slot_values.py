"""Typed slot values: the narrowest kind that fits every text, and the value each text casts to."""
from __future__ import annotations

import pytest

from agents.making.slot_values import annotation, cast, clock, kind_of


@pytest.mark.parametrize("texts, kind", [
    (["5", "-12"], "int"),
    (["1.5", "2"], "float"),
    (["09:00", "7:30"], "time"),
    (["09:00 - 09:30", "13:00 - 14:30"], "range[time]"),
    (["09:00 - 09:30, 10:00 - 11:00", "13:00 - 14:30"], "list[range[time]]"),
    (["1, 2, 3", "4"], "list[int]"),
    (["4", "5"], "int"),  # no text holds a comma: not a list
    (["red, green", "blue"], "str"),  # words with commas stay free text
    (["24:00", "09:00"], "str"),  # not a time of day
])
def test_kind_of_picks_the_narrowest_kind_that_fits_every_text(texts, kind):
    assert kind_of(texts) == kind


def test_cast_reads_nested_kinds_into_plain_python_values():
    assert cast(" 09:00 - 09:30, 17:45 - 18:00 ", "list[range[time]]") == [[540, 570], [1065, 1080]]
    assert cast("08:00", "list[time]") == [480]
    assert cast("-3", "int") == -3 and cast("2.5", "float") == 2.5 and cast(" ab ", "str") == "ab"
    assert annotation("list[range[time]]") == "list[list[int]]" and annotation("float") == "float"


def test_a_text_that_breaks_its_kind_raises():
    with pytest.raises(ValueError):
        cast("09:00", "range[time]")
    with pytest.raises(ValueError, match="not a time of day"):
        cast("9h00", "time")


def test_clock_writes_minutes_after_midnight_as_the_questions_write_times():
    assert [clock(m) for m in (0, 570, 780, 1439)] == ["00:00", "09:30", "13:00", "23:59"]
    assert clock(cast("07:05", "time")) == "07:05"
