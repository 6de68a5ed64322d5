"""compute's parameters from a frame's slots: repeated clauses become lists, copies are dropped.

"If we divide them equally among 5 penguins, we have 2 left; ... among 107 monkeys, we have 28
left; ..." is one clause three times. Handed twelve anonymous scalars a small model loses the
pattern; handed `[5, 107, 179]` and `[2, 28, 9]` it sees it. A slot that always repeats an
earlier one ("How many apricots are in the ship?") adds nothing and is not passed.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.making.slot_values import annotation
from agents.making.slots import SlotTemplate


@dataclass(frozen=True)
class Parameters:
    """Each parameter is one slot (a scalar) or the same slot of every repeat of a clause (a list)."""

    columns: tuple[tuple[int, ...], ...]  # slot indexes per parameter, in signature order
    grouped: frozenset[int]  # parameters that are lists of a repeated clause's slot

    @property
    def labels(self) -> tuple[str, ...]:
        # Numbers, not names like `v1`: a small model takes a name for a meaning (or a string).
        return tuple(f"#{i + 1}" for i in range(len(self.columns)))

    def arguments(self, values: dict) -> list:
        """compute's positional arguments from the typed slot values of one question."""
        slots = list(values.values())
        return [[slots[i] for i in column] if p in self.grouped else slots[column[0]]
                for p, column in enumerate(self.columns)]

    def described(self, template: SlotTemplate, arguments: list) -> str:
        """compute's arguments in order, one line each: label, type, where it is and an example;
        the model names the parameters itself (the tool passes them by position)."""
        lines, frame = [], self.shown(template, None)
        for p, label in enumerate(self.labels):
            if p in self.grouped:
                where = (f"the {{{label}[k]}} of each repeat, in order, the first in "
                         f'"{_around(frame, f"{{{label}[0]}}")}"')
            else:
                where = f'in "{_around(frame, f"{{{label}}}")}"'
            kind = template.types[self.columns[p][0]]
            words = _words(f"list[{kind}]" if p in self.grouped else kind)
            typed = self._annotation(p, template) + (f", {words}" if words else "")
            lines.append(f"{label} ({typed}): {where}, e.g. {arguments[p]!r}")
        return "\n".join(lines)

    def shown(self, template: SlotTemplate, values: dict | None) -> str:
        """The frame with every slot named by the parameter (and item) it becomes, and its value
        (without values: only the names; a slot that copies another shows as ...)."""
        label = {}
        for p, (name, column) in enumerate(zip(self.labels, self.columns)):
            for k, slot in enumerate(column):
                label[slot] = f"{name}[{k}]" if p in self.grouped else name
        slots = list(values.values()) if values is not None else None
        parts = [template.pieces[0]]
        for slot, piece in enumerate(template.pieces[1:]):
            name = label.get(slot)
            if slots is None:
                parts.append((f"{{{name}}}" if name else "...") + piece)
                continue
            parts.append((f"{{{name}={slots[slot]!r}}}" if name else repr(slots[slot])) + piece)
        return "".join(parts)

    def source(self) -> str:
        """Python source of `arguments(values)`, the tool's bridge from parse to compute."""
        return (f"COLUMNS = {self.columns!r}\nGROUPED = {sorted(self.grouped)!r}\n\n\n"
                "def arguments(values: dict) -> list:\n"
                "    slots = list(values.values())\n"
                "    return [[slots[i] for i in column] if p in GROUPED else slots[column[0]]\n"
                "            for p, column in enumerate(COLUMNS)]\n")

    def _annotation(self, p: int, template: SlotTemplate) -> str:
        inner = annotation(template.types[self.columns[p][0]])
        return f"list[{inner}]" if p in self.grouped else inner


def _around(frame: str, marker: str, before: int = 45, after: int = 30) -> str:
    """The words of the frame around a slot's marker, on one line: where a value sits says what
    it means ("no more than {#2}" is a limit), which a bare number does not."""
    at = frame.find(marker)
    head, tail = frame[max(0, at - before):at], frame[at + len(marker):at + len(marker) + after]
    if at > before and " " in head:
        head = head.split(" ", 1)[1]  # start on a whole word
    if len(tail) == after and " " in tail:
        tail = tail.rsplit(" ", 1)[0]
    return " ".join((head + marker + tail).split())


def _words(kind: str) -> str:
    """What a structured kind's values are, in words, or '' for plain numbers and text: a small
    model reads a `list[list[int]]` of time ranges as a flat list of numbers."""
    if kind == "time":
        return "times of day in minutes after midnight"
    if kind.startswith("range["):
        inner = _words(kind[6:-1])
        return "[start, end] pairs" + (f" of {inner}" if inner else "")
    if kind.startswith("list["):
        inner = _words(kind[5:-1])
        return f"a list of {inner}" if inner else ""
    return ""


def parameters_for(template: SlotTemplate, values: list[dict]) -> Parameters:
    """Group the longest repeated clause into lists; drop slots that copy an earlier one."""
    n = len(template.types)
    copies = _copies(values, n)
    start, period, repeats = _repeated_clause(template)
    columns, grouped, placed = [], set(), set()
    for slot in range(n):
        if slot in placed or slot in copies:
            continue
        if period and start <= slot < start + period:
            columns.append(tuple(slot + m * period for m in range(repeats)))
            grouped.add(len(columns) - 1)
            placed.update(columns[-1])
        else:
            columns.append((slot,))
    return Parameters(columns=tuple(columns), grouped=frozenset(grouped))


def _copies(values: list[dict], n: int) -> set[int]:
    """Slots whose value equals an earlier slot's in every question."""
    rows = [list(v.values()) for v in values]
    return {b for b in range(n) if any(all(r[a] == r[b] for r in rows) for a in range(b))}


def _repeated_clause(template: SlotTemplate) -> tuple[int, int, int]:
    """(first slot, slots per clause, repeats) of the longest run of one clause, or (0, 0, 0).
    A clause repeats when its slots' types and the wording between them recur, joined each time
    by the same separator; the last repeat may be followed by other wording."""
    types, pieces, n = template.types, template.pieces, len(template.types)
    best = (0, 0, 0)
    for period in range(1, n // 2 + 1):
        for start in range(n - 2 * period + 1):
            repeats = 1
            while start + (repeats + 1) * period <= n and _same_clause(types, pieces, start, period, repeats):
                repeats += 1
            # Two alike clauses may be a coincidence of wording; three are a list.
            if repeats >= 3 and repeats * period > best[1] * best[2]:
                best = (start, period, repeats)
    return best


def _same_clause(types: tuple[str, ...], pieces: tuple[str, ...], start: int, period: int,
                 m: int) -> bool:
    """Whether the m-th repeat (from 0) has the first one's slot types, inner wording and joiner."""
    first, this = start, start + m * period
    # Slot s sits between pieces s and s+1: inner wording is pieces[s+1] for all but the last slot.
    return (all(types[this + t] == types[first + t] for t in range(period))
            and all(pieces[this + t + 1] == pieces[first + t + 1] for t in range(period - 1))
            and pieces[this] == pieces[first + period]
            and any(ch.isalpha() for ch in pieces[first + period]))  # clauses are joined by words
