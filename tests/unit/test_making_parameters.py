"""compute's parameters: repeated clauses of a frame become lists, copied slots are not passed."""
from __future__ import annotations

from agents.making.parameters import parameters_for
from agents.making.slots import find_slots

CLAUSE = "if we divide them equally among {} {}, we have {} left"


def crt(box, limit, item, groups):
    clauses = "; ".join(CLAUSE.format(*g) for g in groups)
    return (f"There is a {box} of no more than {limit} {item}. {clauses[0].upper()}{clauses[1:]}. "
            f"How many {item} are in the {box}?")


QUESTIONS = [crt("ship", 95765, "apricots", [(5, "penguins", 2), (107, "monkeys", 28), (179, "racoons", 9)]),
             crt("room", 2696017, "peaches", [(61, "monkeys", 44), (193, "racoons", 185), (229, "lemurs", 164)]),
             crt("truck", 1409623, "pears", [(17, "hippos", 13), (283, "cats", 7), (293, "owls", 1)])]


def test_three_alike_clauses_become_three_lists_and_copies_are_dropped():
    template = find_slots(QUESTIONS)
    values = [template.values(q) for q in QUESTIONS]
    params = parameters_for(template, values)
    assert params.arguments(values[1]) == ["room", 2696017, "peaches", [61, 193, 229],
                                           ["monkeys", "racoons", "lemurs"], [44, 185, 164]]
    described = params.described(template, params.arguments(values[0])).splitlines()
    # Each is shown where it sits in the frame: a bare number does not say it is a limit.
    assert described[1] == ('#2 (int): in "There is a {#1} of no more than {#2} {#3}. If we divide '
                            'them", e.g. 95765')
    assert described[3] == ('#4 (list[int]): the {#4[k]} of each repeat, in order, the first in '
                            '"{#2} {#3}. If we divide them equally among {#4[0]} {#5[0]}, we have '
                            '{#6[0]}", e.g. [5, 107, 179]')
    shown = params.shown(template, values[0])
    assert "{#4[1]=107} {#5[1]='monkeys'}" in shown and "How many 'apricots' are in the 'ship'" in shown


def test_the_arguments_source_matches_the_host_side_arguments():
    template = find_slots(QUESTIONS)
    values = [template.values(q) for q in QUESTIONS]
    params = parameters_for(template, values)
    namespace: dict = {}
    exec(compile(params.source(), "<arguments>", "exec"), namespace)  # the system's own source
    assert all(namespace["arguments"](v) == params.arguments(v) for v in values)


def test_two_alike_clauses_stay_scalars():
    two = [crt("ship", 100 + i, "figs", [(5 + i, "cats", 2), (7, "dogs", 3 + i)]) for i in range(3)]
    template = find_slots(two)
    params = parameters_for(template, [template.values(q) for q in two])
    assert not params.grouped


def test_time_ranges_are_described_as_start_end_pairs_in_minutes():
    questions = [f"Meet for {hours} hours. A is free: {free}. When?"
                 for hours, free in ((1, "09:00 - 09:30, 10:30 - 13:00"), (2, "08:00 - 12:00"),
                                     (3, "13:30 - 14:00, 14:30 - 16:00, 16:30 - 17:00"))]
    template = find_slots(questions)
    values = [template.values(q) for q in questions]
    params = parameters_for(template, values)
    described = params.described(template, params.arguments(values[0])).splitlines()
    assert described[0].startswith("#1 (int): ")
    assert described[1].startswith("#2 (list[list[int]], a list of [start, end] pairs of times of "
                                   "day in minutes after midnight): ")
    assert described[1].endswith("e.g. [[540, 570], [630, 780]]")
