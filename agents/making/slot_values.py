"""Typed slot values: numbers, times of day, ranges and lists of them, read from a slot's text.

A small model writes the computation far more reliably when it is handed parsed structures
(`[[540, 570], [630, 780]]`) than text to pick apart ("09:00 - 09:30, 10:30 - 13:00"). This
module is stdlib-only and self-contained: its source is embedded verbatim in every staged tool,
so the tool parses questions exactly as the maker saw them parsed.
"""
import re

_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_LIST_SEPARATOR = ", "
_RANGE_SEPARATOR = " - "


def cast(text, kind):
    """A slot's text as a value of its kind: int, float, str, time (minutes after midnight),
    range[K] (a two-item list) or list[K]."""
    text = text.strip()
    if kind.startswith("list["):
        return [cast(part, kind[5:-1]) for part in text.split(_LIST_SEPARATOR)]
    if kind.startswith("range["):
        low, high = text.split(_RANGE_SEPARATOR)
        return [cast(low, kind[6:-1]), cast(high, kind[6:-1])]
    if kind == "time":
        match = _TIME.fullmatch(text)
        if match is None:
            raise ValueError(f"not a time of day: {text!r}")
        return int(match.group(1)) * 60 + int(match.group(2))
    return int(text) if kind == "int" else float(text) if kind == "float" else text


def clock(minutes):
    """Minutes after midnight as a time of day, 570 -> '09:30': how answers write times."""
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def kind_of(texts):
    """The narrowest kind every text has; 'str' when no structure fits them all."""
    texts = [t.strip() for t in texts]
    if all(_INT.fullmatch(t) for t in texts):
        return "int"
    if all(_INT.fullmatch(t) or _FLOAT.fullmatch(t) for t in texts):
        return "float"
    if all(_TIME.fullmatch(t) for t in texts):
        return "time"
    for separator, wrap, least in ((_RANGE_SEPARATOR, "range", 2), (_LIST_SEPARATOR, "list", 1)):
        parts = [t.split(separator) for t in texts]
        if not all(len(p) >= least for p in parts) or (wrap == "range" and any(len(p) != 2 for p in parts)):
            continue
        if wrap == "list" and all(len(p) == 1 for p in parts):
            continue  # no text is a list: a single item is not evidence of one
        inner = kind_of([item for p in parts for item in p])
        if inner != "str":  # only structured items: free text with commas stays text
            return f"{wrap}[{inner}]"
    return "str"


def annotation(kind):
    """The Python type of a kind's values, for compute's signature."""
    if kind.startswith(("list[", "range[")):
        return f"list[{annotation(kind[kind.index('[') + 1:-1])}]"
    return "int" if kind == "time" else kind


def mentions_time(kind):
    """Whether values of this kind hold times of day (the prompt then says how they are given)."""
    return "time" in kind
