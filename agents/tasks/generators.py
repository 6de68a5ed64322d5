"""Seeded generators of new chinese_remainder_theorem and schedule_meeting requests, worded as the data files."""
from __future__ import annotations

import math
import random
import re
from collections.abc import Callable

from bus.wire.tool_spec import Example

# Vocabulary observed in the 250 items of chinese_remainder_theorem.json; each slot is drawn independently.
CRT_PLACES = ("bag", "basket", "box", "container", "field", "room", "ship", "truck")
CRT_THINGS = ("apples", "apricots", "avocadoes", "bananas", "coconuts", "dragonfruits", "durians", "kiwifruits",
              "lemons", "limes", "mangos", "oranges", "papayas", "passionfruits", "peaches", "pears",
              "pineapples", "strawberries", "tomatoes", "watermelons")
CRT_GROUPS = ("bears", "cows", "crocodiles", "dinosaurs", "elephants", "hippos", "horses", "lemurs", "monkeys",
              "penguins", "people", "racoons")
# The data uses three distinct primes below 300 (in ascending order) and their product as the bound.
CRT_PRIMES = tuple(p for p in range(2, 300) if all(p % d for d in range(2, math.isqrt(p) + 1)))
CRT_TEXT = re.compile(r"^There is an? (\w+) of no more than (\d+) (\w+)\. If we divide them equally among (.*)\. "
                      r"How many \w+ are in the \w+\?$", re.DOTALL)
CRT_CLAUSE = re.compile(r"(\d+) \w+, we have (\d+) left")

# schedule_meeting: a 08:00-18:00 day of 20 half-hour slots; each person is free in 5 to 15 of them, drawn
# uniformly, merged into runs; meetings last 0.5, 1 or 1.5 hours (all as observed in the data file).
DAY_START, SLOT_MIN, SLOTS = 8 * 60, 30, 20
FREE_SLOTS = (5, 15)
DURATIONS = ("0.5", "1", "1.5")
NO_SLOT = "No time slot works."
HOUR_TEXT = re.compile(r"schedule an? ([\d.]+)-hour meeting")
SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


class GeneratorError(ValueError):
    """A text is not an instance of the task the target function was asked to solve."""


def crt_instance(rng: random.Random) -> Example:
    """One new "ship of no more than N fruits" request with its unique answer."""
    moduli = sorted(rng.sample(CRT_PRIMES, 3))
    bound = math.prod(moduli)
    # 0 would make both 0 and the bound valid answers; every other count is the only one <= bound.
    count = rng.randrange(1, bound)
    place, things = rng.choice(CRT_PLACES), rng.choice(CRT_THINGS)
    clauses = "; ".join(f"if we divide them equally among {m} {rng.choice(CRT_GROUPS)}, we have {count % m} left"
                        for m in moduli)
    text = (f"There is a {place} of no more than {bound} {things}. {clauses[0].upper()}{clauses[1:]}. "
            f"How many {things} are in the {place}?")
    return Example(input=text, target=str(count))


def crt_target(text: str) -> str:
    """Solve a CRT request from its text alone: the smallest positive count <= the bound meeting every remainder."""
    match = CRT_TEXT.match(text.strip())
    if not match:
        raise GeneratorError("not a chinese_remainder_theorem request: expected 'There is a ... of no more than N ...'")
    bound = int(match.group(2))
    pairs = [(int(m), int(r)) for m, r in CRT_CLAUSE.findall(match.group(4))]
    if not pairs:
        raise GeneratorError("no 'divide them equally among M ..., we have R left' clauses found")
    residue, modulus = 0, 1
    for m, r in pairs:
        residue, modulus = _merge_congruence(residue, modulus, r % m, m)
    smallest = residue or modulus
    if smallest > bound:
        raise GeneratorError(f"no count up to {bound} leaves those remainders")
    return str(smallest)


def _merge_congruence(r1: int, m1: int, r2: int, m2: int) -> tuple[int, int]:
    """Combine x = r1 (mod m1) and x = r2 (mod m2) into one congruence (moduli need not be coprime)."""
    g = math.gcd(m1, m2)
    if (r2 - r1) % g:
        raise GeneratorError("the remainders contradict each other: no count satisfies them all")
    lcm = m1 // g * m2
    step = ((r2 - r1) // g * pow(m1 // g, -1, m2 // g)) % (m2 // g) if m2 // g > 1 else 0
    return (r1 + m1 * step) % lcm, lcm


def schedule_instance(rng: random.Random) -> Example:
    """One new two-person meeting request with its earliest common slot (or the no-slot answer)."""
    hours = rng.choice(DURATIONS)
    lines = [f"A and B want to schedule a {hours}-hour meeting together."]
    for person in ("A", "B"):
        free = sorted(rng.sample(range(SLOTS), rng.randint(*FREE_SLOTS)))
        lines.append(f"{person}'s availability: " + ", ".join(f"{_hhmm(a)} - {_hhmm(b)}" for a, b in _runs(free)))
    # The data files' question lacks its closing ")"; kept so generated and stored requests look alike.
    lines.append("What time slot works best? (if multiple, choose the earliest one")
    text = "\n".join(lines)
    return Example(input=text, target=schedule_target(text))


def schedule_target(text: str) -> str:
    """Solve a meeting request from its text: the earliest start where both are free for the whole meeting."""
    duration = HOUR_TEXT.search(text)
    people = [line for line in text.splitlines() if "availability:" in line]
    if not duration or len(people) < 2:
        raise GeneratorError("not a schedule_meeting request: expected a 'N-hour meeting' line and two availabilities")
    minutes = round(float(duration.group(1)) * 60)
    common = _spans(people[0])
    for line in people[1:]:
        common = _intersect(common, _spans(line))
    for start, end in common:
        if end - start >= minutes:
            return f"{_hhmm(start)} - {_hhmm(start + minutes)}"
    return NO_SLOT


def _runs(slots: list[int]) -> list[tuple[int, int]]:
    """Sorted free slot numbers -> (start, end) minute spans of consecutive slots."""
    spans: list[list[int]] = []
    for slot in slots:
        if spans and spans[-1][1] == slot:
            spans[-1][1] = slot + 1
        else:
            spans.append([slot, slot + 1])
    return [(DAY_START + a * SLOT_MIN, DAY_START + b * SLOT_MIN) for a, b in spans]


def _spans(line: str) -> list[tuple[int, int]]:
    """Minute spans listed on one availability line, sorted."""
    return sorted((int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)) for h1, m1, h2, m2 in SPAN.findall(line))


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans where both lists are free."""
    return [(max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2)]


def _hhmm(minute: int) -> str:
    """Minutes since midnight as zero-padded HH:MM."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


GENERATORS: dict[str, Callable[[random.Random], Example]] = {
    "chinese_remainder_theorem": crt_instance,
    "schedule_meeting": schedule_instance,
}
TARGETS: dict[str, Callable[[str], str]] = {
    "chinese_remainder_theorem": crt_target,
    "schedule_meeting": schedule_target,
}


def generate(task: str, n: int, seed: int = 0) -> list[Example]:
    """n new instances of a generated task; the same (task, n, seed) always gives the same list."""
    if task not in GENERATORS:
        raise GeneratorError(f"no generator for {task!r}: generated tasks are {', '.join(GENERATORS)}")
    rng = random.Random(f"latm:{task}:{seed}")
    return [GENERATORS[task](rng) for _ in range(n)]
