"""Find the shared wording of a task's questions and the slots where their values change.

Questions of one kind are often one sentence frame filled with different values ("There is a
ship of no more than 95765 apricots. If we divide them equally among 5 penguins, we have 2 left;
..."). Aligning the training questions word by word recovers that frame; what differs between
them becomes typed slots. The frame gives a parser that needs no model at all, and the model is
left with the computation over the slot values, which small models write far more reliably than
whole programs (see staged.py).
"""
from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass

from agents.making import slot_values
from agents.making.slot_values import cast, kind_of

_TOKEN = re.compile(r"\d+(?:\.\d+)?|\w+|\s+|[^\w\s]")
_WORD = re.compile(r"[A-Za-z]{2,}")
_LONG_WORD = re.compile(r"[A-Za-z]{4,}")
_BRACKET = re.compile(r"[\[\](){}<>]")  # brackets: the values of bracket tasks


@dataclass(frozen=True)
class SlotTemplate:
    """A question frame: literal pieces around slots, and each slot's kind (see slot_values)."""

    pieces: tuple[str, ...]  # len(types) + 1 literal pieces; slot i sits between pieces i and i+1
    types: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"v{i + 1}" for i in range(len(self.types)))

    @property
    def pattern(self) -> str:
        """A regular expression matching a whole question, one group per slot."""
        return "".join(re.escape(piece) + ("(.+?)" if i < len(self.types) else "")
                       for i, piece in enumerate(self.pieces))

    def texts(self, question: str) -> list[str] | None:
        """The untyped slot texts of a question (as the generated parser reads them), or None."""
        match = re.fullmatch(self.pattern, question.strip(), re.DOTALL)
        return list(match.groups()) if match else None

    def values(self, question: str) -> dict | None:
        """The slot values of a question, typed, or None when it does not fit the frame."""
        texts = self.texts(question)
        if texts is None:
            return None
        try:
            return {name: cast(text, kind) for name, text, kind in zip(self.names, texts, self.types)}
        except ValueError:
            return None

    def shown(self, values: dict | None = None) -> str:
        """The frame with each slot written as {v1}, {v2}, ... for a prompt; with one question's
        values, as {v1='ship'}, so the reader sees what each slot holds."""
        def slot(name: str) -> str:
            return f"{{{name}={values[name]!r}}}" if values else f"{{{name}}}"
        return "".join(piece + (slot(name) if i < len(self.names) else "")
                       for i, (piece, name) in enumerate(zip(self.pieces, self.names + ("",))))

    def parser_source(self) -> str:
        """Python source of `parse(question) -> dict`, built from the frame, no model involved."""
        casts = ", ".join(f"{name!r}: cast(groups[{i}], {kind!r})"
                          for i, (name, kind) in enumerate(zip(self.names, self.types)))
        # The casts are the very functions the maker used, so tool and maker read values alike.
        return (f"{inspect.getsource(slot_values)}\n\n"
                f"FRAME = re.compile({self.pattern!r}, re.DOTALL)\n\n\n"
                f"def parse(question: str) -> dict:\n"
                f"    match = FRAME.fullmatch(question.strip())\n"
                f"    if match is None:\n"
                f"        raise ValueError('the question does not have the expected form')\n"
                f"    groups = match.groups()\n"
                f"    return {{{casts}}}\n")


def find_slots(questions: list[str], min_words: int = 2) -> SlotTemplate | None:
    """The frame shared by all questions, or None when they share none with at least one slot."""
    questions = [q.strip() for q in questions]
    if len(questions) < 2:
        return None
    first = _TOKEN.findall(questions[0])
    others = [_TOKEN.findall(q) for q in questions[1:]]
    maps = _alignments(first, others)
    worded, edges = [], []
    for start, size in _runs(maps, first):
        start, size = _values_side_brackets(first, start, size)
        if size == 0:
            continue
        text = "".join(first[start:start + size])
        # A frame piece carries wording; shared digits and commas inside a list are values.
        if len(_WORD.findall(text)) >= min_words or (size > 1 and _LONG_WORD.search(text)):
            worded.append((start, size, text))
        elif start == 0 or start + size == len(first):
            edges.append((start, size, text))  # shared punctuation that opens or closes all
    if not worded:
        return None  # no shared wording: nothing frames the values
    for pieces in (sorted(worded + edges), worded):
        template = _template_from(pieces, first, questions)
        if template and template.types:
            return template
    return None


def _values_side_brackets(tokens: list[str], start: int, size: int) -> tuple[int, int]:
    """A shared run without the brackets at its ends that touch a slot: a bracket all questions
    happen to open their values with ("Input: [") is a value, not wording."""
    def loose(token: str) -> bool:
        return bool(_BRACKET.fullmatch(token)) or token.isspace()

    end = start + size
    if end < len(tokens):
        cut = end
        while cut > start and loose(tokens[cut - 1]):
            cut -= 1
        if any(_BRACKET.fullmatch(t) for t in tokens[cut:end]):
            while cut < end and tokens[cut].isspace():
                cut += 1  # the space before the value stays wording
            end = cut
    if start > 0:
        cut = start
        while cut < end and loose(tokens[cut]):
            cut += 1
        if any(_BRACKET.fullmatch(t) for t in tokens[start:cut]):
            while cut > start and tokens[cut - 1].isspace():
                cut -= 1
            start = cut
    return start, end - start


def _alignments(first: list[str], others: list[list[str]]) -> list[dict[int, int]]:
    """For each other question, which of its token positions each token of the first matches.
    Digits never match: numbers are values, even when two questions happen to share one."""
    maps = []
    for other in others:
        # Each number is made unique, so coincidences between values cannot steer the alignment.
        matcher = difflib.SequenceMatcher(None, _numbers_apart(first, "a"), _numbers_apart(other, "b"),
                                          autojunk=False)
        maps.append({b.a + k: b.b + k for b in matcher.get_matching_blocks() for k in range(b.size)})
    return maps


def _numbers_apart(tokens: list[str], side: str) -> list[str]:
    """The tokens with every number replaced by a marker no other token equals."""
    return [f"\0{side}{i}" if token[0].isdigit() else token for i, token in enumerate(tokens)]


def _runs(maps: list[dict[int, int]], tokens: list[str]) -> list[tuple[int, int]]:
    """Maximal runs of tokens of the first question matched, contiguously, in every other one."""
    runs = []
    for i in range(len(tokens)):
        if not all(i in m for m in maps):
            continue
        extends = runs and runs[-1][0] + runs[-1][1] == i and \
            all(m.get(i - 1, -2) + 1 == m[i] for m in maps)
        if extends:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs


def _template_from(pieces: list[tuple[int, int, str]], tokens: list[str],
                   questions: list[str]) -> SlotTemplate | None:
    """Literal pieces and typed slots from the kept blocks, checked against every question."""
    literals, position = [], 0
    if not pieces or pieces[0][0] != 0:
        literals.append("")
    for start, size, text in pieces:
        if literals and start == position and position > 0:
            literals[-1] += text  # adjacent blocks are one piece
        else:
            literals.append(text)
        position = start + size
    if position != len(tokens):
        literals.append("")
    literals = [piece for i, piece in enumerate(literals) if piece or i in (0, len(literals) - 1)]
    template = SlotTemplate(pieces=tuple(literals), types=("str",) * (len(literals) - 1))
    rows = [template.texts(q) for q in questions]
    if any(row is None for row in rows):
        return None
    return _split_and_type(template, rows)


def _split_and_type(template: SlotTemplate, rows: list[list[str]]) -> SlotTemplate:
    """Split slots like '5 penguins' into a number and a word when every question agrees; type them."""
    pieces, types = [template.pieces[0]], []
    for i in range(len(template.types)):
        column = [row[i] for row in rows]
        parts = [value.split(" ") for value in column]
        if 1 < len(parts[0]) <= 3 and all(len(p) == len(parts[0]) for p in parts) and \
                kind_of(column) == "str" and \
                any(kind_of([p[j] for p in parts]) != "str" for j in range(len(parts[0]))):
            for j in range(len(parts[0])):
                types.append(kind_of([p[j] for p in parts]))
                pieces.append(" " if j < len(parts[0]) - 1 else template.pieces[i + 1])
        else:
            types.append(kind_of(column))
            pieces.append(template.pieces[i + 1])
    return SlotTemplate(pieces=tuple(pieces), types=tuple(types))
