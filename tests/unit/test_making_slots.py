"""The frame finder: shared wording becomes the parser, what differs becomes typed slots."""
from __future__ import annotations

from agents.making.slots import find_slots

CRT = ("There is a {box} of no more than {limit} {item}. If we divide them equally among {a} "
       "{who}, we have {r} left. How many {item} are in the {box}?")


def crt(box, limit, item, a, who, r):
    return CRT.format(box=box, limit=limit, item=item, a=a, who=who, r=r)


QUESTIONS = [crt("ship", 95765, "apricots", 5, "penguins", 2),
             crt("room", 2696017, "peaches", 61, "monkeys", 44),
             crt("truck", 1409623, "pears", 17, "hippos", 13)]


def run_parser(source: str, question: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<parser>", "exec"), namespace)  # the system's own generated parser
    return namespace["parse"](question)


def test_numbers_become_int_slots_and_words_stay_in_the_frame():
    template = find_slots(QUESTIONS)
    assert template is not None
    assert template.types == ("str", "int", "str", "int", "str", "int", "str", "str")
    assert "If we divide them equally among" in template.shown()
    assert list(template.values(QUESTIONS[1]).values()) == [
        "room", 2696017, "peaches", 61, "monkeys", 44, "peaches", "room"]


def test_the_generated_parser_reads_a_new_question_of_the_form():
    template = find_slots(QUESTIONS)
    new = crt("barn", 500, "eggs", 7, "hens", 3)
    assert run_parser(template.parser_source(), new) == template.values(new)
    assert template.values(new)["v2"] == 500


def test_a_question_of_another_form_does_not_fit():
    template = find_slots(QUESTIONS)
    assert template.values("Sort the following words alphabetically: List: b a") is None


def test_numbers_shared_by_two_questions_are_still_slots():
    questions = [crt("ship", 100, "figs", 5, "cats", 2), crt("room", 100, "figs", 5, "dogs", 4),
                 crt("van", 300, "nuts", 7, "cats", 2)]
    template = find_slots(questions)
    assert template is not None and "int" in template.types
    assert "100" not in template.shown() and "5 " not in template.shown()


MEETINGS = ["Meet for 1.5 hours.\nA's availability: 09:00 - 09:30, 10:30 - 13:00\nB's "
            "availability: 08:30 - 12:00\nWhat time slot works best?",
            "Meet for 0.5 hours.\nA's availability: 08:30 - 09:00\nB's availability: "
            "08:00 - 09:30, 10:00 - 10:30, 11:30 - 12:00\nWhat time slot works best?",
            "Meet for 1 hours.\nA's availability: 13:00 - 14:00, 15:00 - 16:00\nB's "
            "availability: 13:30 - 15:30\nWhat time slot works best?"]


def test_lists_of_time_ranges_of_varying_length_become_typed_lists():
    template = find_slots(MEETINGS)
    assert template is not None and template.types == ("float", "list[range[time]]", "list[range[time]]")
    assert template.values(MEETINGS[1])["v3"] == [[480, 570], [600, 630], [690, 720]]
    assert template.values(MEETINGS[1])["v2"] == [[510, 540]]  # a one-item list is still a list


def test_the_generated_parser_reads_typed_lists_as_the_maker_did():
    template = find_slots(MEETINGS)
    new = "Meet for 2 hours.\nA's availability: 08:00 - 10:00\nB's availability: 09:00 - 17:30, 17:45 - 18:00\nWhat time slot works best?"
    assert run_parser(template.parser_source(), new) == template.values(new)
    assert template.values(new)["v3"] == [[540, 1050], [1065, 1080]]


def test_free_text_with_commas_stays_text():
    questions = ["Say: red, green and blue. Done?", "Say: a cat, a dog. Done?", "Say: one. Done?"]
    template = find_slots(questions)
    assert template is not None and template.types == ("str",)


def test_questions_without_a_shared_frame_give_none():
    assert find_slots(["What is two plus two?", "Name a red fruit.", "Why is the sky blue?"]) is None
    assert find_slots(["one question only: 5"]) is None


def test_a_bracket_every_question_opens_its_value_with_stays_in_the_slot():
    questions = ["Close it. Input: [ <", "Close it. Input: [ [ (", "Close it. Input: [ {"]
    template = find_slots(questions)
    assert template is not None and template.pieces[0] == "Close it. Input: "
    assert template.values("Close it. Input: ( [")["v1"] == "( ["
