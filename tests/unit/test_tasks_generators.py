"""Generators: their target functions reproduce every data item; new items look like the data and are right."""
from __future__ import annotations

import math
import random
import re

import pytest

from agents.tasks.bbh import load_task
from agents.tasks.generators import (CRT_GROUPS, CRT_PLACES, CRT_THINGS, GeneratorError, crt_target, generate,
                                     schedule_target)

GENERATED = ("chinese_remainder_theorem", "schedule_meeting")


def shape(text: str) -> str:
    """The wording of a request with its numbers and variable words blanked out."""
    text = re.sub(r"\d+(\.\d+)?", "#", text)
    text = re.sub(r"#:# - #:#(, #:# - #:#)*", "SPANS", text)
    return re.sub(r"\b(" + "|".join(CRT_PLACES + CRT_THINGS + CRT_GROUPS) + r")\b", "_", text)


def brute_force_crt(text: str) -> int:
    """Independent answer: scan every count up to the bound (small bounds only)."""
    bound = int(re.search(r"no more than (\d+)", text).group(1))
    pairs = [(int(m), int(r)) for m, r in re.findall(r"among (\d+) \w+, we have (\d+) left", text)]
    hits = [x for x in range(1, bound + 1) if all(x % m == r for m, r in pairs)]
    assert len(hits) == 1, hits
    return hits[0]


def brute_force_schedule(text: str) -> str:
    """Independent answer: try each minute of the day as a start."""
    hours = float(re.search(r"a ([\d.]+)-hour", text).group(1))
    need = int(hours * 60)
    people = []
    for line in text.splitlines()[1:3]:
        spans = re.findall(r"(\d\d):(\d\d) - (\d\d):(\d\d)", line)
        people.append([(int(a) * 60 + int(b), int(c) * 60 + int(d)) for a, b, c, d in spans])
    for start in range(0, 24 * 60, 5):
        if all(any(s <= start and start + need <= e for s, e in spans) for spans in people):
            return f"{start // 60:02d}:{start % 60:02d} - {(start + need) // 60:02d}:{(start + need) % 60:02d}"
    return "No time slot works."


@pytest.mark.parametrize("task,target", [("chinese_remainder_theorem", crt_target),
                                         ("schedule_meeting", schedule_target)])
def test_target_functions_reproduce_every_data_item(task, target):
    examples = load_task(task)
    assert len(examples) == 250
    wrong = [e for e in examples if target(e.input) != e.target]
    assert wrong == []


@pytest.mark.parametrize("task", GENERATED)
def test_generated_items_are_deterministic_new_and_worded_like_the_data(task):
    first, again, other = generate(task, 300, seed=1), generate(task, 300, seed=1), generate(task, 300, seed=2)
    assert first == again and first != other
    data = load_task(task)
    assert not {e.input for e in first} & {e.input for e in data}
    assert len({e.input for e in first}) == 300
    assert {shape(e.input) for e in first} <= {shape(e.input) for e in data}


def test_generated_crt_items_are_correct_and_shaped_like_the_data():
    for example in generate("chinese_remainder_theorem", 400, seed=3):
        moduli = [int(m) for m in re.findall(r"among (\d+) ", example.input)]
        bound = int(re.search(r"no more than (\d+)", example.input).group(1))
        assert moduli == sorted(set(moduli)) and len(moduli) == 3 and bound == math.prod(moduli)
        assert crt_target(example.input) == example.target
        if bound < 50_000:
            assert brute_force_crt(example.input) == int(example.target)


def test_generated_schedules_are_correct_with_the_data_quirk():
    examples = generate("schedule_meeting", 400, seed=4)
    assert all(e.input.endswith("choose the earliest one") for e in examples)  # no ")" as in the data
    assert all(brute_force_schedule(e.input) == e.target for e in examples)
    no_slot = sum(e.target == "No time slot works." for e in examples) / len(examples)
    assert 0.2 < no_slot < 0.6  # the data has 43%


def test_data_items_also_pass_brute_force():
    rng = random.Random(0)
    for example in rng.sample(load_task("schedule_meeting"), 50):
        assert brute_force_schedule(example.input) == example.target
    small = [e for e in load_task("chinese_remainder_theorem") if int(re.search(r"than (\d+)", e.input)[1]) < 30_000]
    assert small and all(brute_force_crt(e.input) == int(e.target) for e in small)


def test_target_functions_reject_other_texts():
    with pytest.raises(GeneratorError, match="chinese_remainder_theorem"):
        crt_target("Sort the following words alphabetically: List: b a")
    with pytest.raises(GeneratorError, match="contradict"):
        crt_target("There is a box of no more than 100 pears. If we divide them equally among 4 cows, we have 1 left; "
                   "if we divide them equally among 6 cows, we have 2 left. How many pears are in the box?")
    with pytest.raises(GeneratorError, match="schedule_meeting"):
        schedule_target("What time is it?")
    with pytest.raises(GeneratorError, match="no generator"):
        generate("word_sorting", 1)


def test_crt_with_shared_factors_and_zero_remainders():
    text = ("There is a box of no more than 60 pears. If we divide them equally among 4 cows, we have 0 left; "
            "if we divide them equally among 6 cows, we have 0 left. How many pears are in the box?")
    assert crt_target(text) == "12"
