"""The staged shape's repair conversations: what the model is told about its last function."""
from __future__ import annotations

from agents.making import staged_prompts as prompts
from agents.making.feedback import raised
from bus.wire.messages import CaseResult, Verdict

OPENING = [{"role": "system", "content": "s"}, {"role": "user", "content": "write compute"}]


def case(args: str, want: str, got: str | None, error: str | None = None) -> CaseResult:
    return CaseResult(input=args, expected=want, got=got, ok=got == want and error is None, error=error)


def verdict(*cases: CaseResult) -> Verdict:
    return Verdict(request_id="r", trace_id="t", passed=sum(c.ok for c in cases), total=len(cases),
                   cases=list(cases))


def test_feedback_tells_wrong_slow_and_raising_calls_apart_and_skips_the_right_ones():
    shown = verdict(case("[1, 2]", "3", "3"), case("[5, 107]", "14687", None, prompts.SLOW),
                    case("[2, 2]", "4", "5"), case("[0, 0]", "0", None, "ZeroDivisionError: x"))
    history = prompts.compute_feedback(OPENING, "```python\nold\n```", shown, 0.5)
    assert history[:2] == OPENING and history[2] == {"role": "assistant", "content": "```python\nold\n```"}
    told = history[3]["content"]
    assert "in time for 1 of 4" in told and "compute(1, 2)" not in told
    assert "compute(5, 107)\n  expected: '14687'\n  returned the right answer, but took longer than 0.5 s" in told
    assert "compute(2, 2)\n  expected: '4'\n  returned '5'" in told
    assert "compute(0, 0)\n  expected: '0'\n  raised ZeroDivisionError: x" in told


def test_the_speed_question_counts_the_slow_calls_and_asks_for_no_code():
    slow = verdict(case("[1]", "1", "1"), case("[2]", "2", None, prompts.SLOW))
    history = prompts.speed_plan(OPENING, "reply", slow, 0.25)
    told = history[-1]["content"]
    assert history[-2] == {"role": "assistant", "content": "reply"}
    assert "on 1 of 2 examples it took longer than 0.25 s" in told and told.endswith("Do not write code yet.")


TRACEBACK = ("tool_error: Traceback (most recent call last):\n"
             '  File "<tool 3f2a>", line 140, in check_compute\n'
             "    return _json.dumps(compute(*_json.loads(arguments)))\n"
             "                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
             '  File "<tool 3f2a>", line 97, in compute\n'
             "    for start, end in busy:\n"
             "        ^^^^^^^^^^\n"
             "TypeError: cannot unpack non-iterable int object")


def test_a_raised_traceback_is_cut_to_the_exception_and_the_models_line():
    assert raised(TRACEBACK) == ("raised TypeError: cannot unpack non-iterable int object"
                                 "\n  at this line: for start, end in busy:")


def test_an_exception_of_the_harness_call_is_shown_without_its_line():
    # e.g. compute was written with the wrong number of parameters: the call itself raised.
    at_call = (TRACEBACK.split('  File "<tool 3f2a>", line 97')[0]
               + "TypeError: compute() takes 2 positional arguments but 6 were given")
    assert raised(at_call) == "raised TypeError: compute() takes 2 positional arguments but 6 were given"


def test_errors_that_are_not_tracebacks_are_shown_whole():
    assert raised("timeout: over 0.5 s") == "raised timeout: over 0.5 s"
    assert raised("forbidden: import of os") == "raised forbidden: import of os"


IGNORES_DURATION = ('def compute(duration, a, b):\n    for start, end in a:\n'
                    '        return f"{start} - {end}"\n')


def test_a_repair_names_the_arguments_the_function_never_reads():
    wrong = verdict(case("[1.5, [[1, 3]], [[1, 2]]]", "1 - 2", "1 - 3"))
    described = "#1 (float): the hours\n#2 (list): A's slots\n#3 (list): B's slots"
    told = prompts.compute_feedback(OPENING, "reply", wrong, 0.5, IGNORES_DURATION, described)[-1]["content"]
    assert "never uses `duration`, `b`" in told and "Use them; as given:" in told
    assert "#1 (float): the hours\n#3 (list): B's slots\n" in told and "A's slots" not in told
    uses_all = IGNORES_DURATION.replace("for start, end in a", "for start, end in a + b[:int(duration)]")
    told = prompts.compute_feedback(OPENING, "reply", wrong, 0.5, uses_all, described)[-1]["content"]
    assert "never uses" not in told


def test_answers_in_characters_no_expected_answer_has_are_named():
    validator = verdict(case('["[ ["]', "] ]", "Invalid"), case('["< ["]', "] >", "] >"))
    told = prompts.compute_feedback(OPENING, "reply", validator, 0.5)[-1]["content"]
    assert "only these characters (and spaces): > ]." in told and "also use I a d i l n v" in told
    close = verdict(case('["[ ["]', "] ]", "]"), case('["< ["]', "] >", "] >"))
    assert "only these characters" not in prompts.compute_feedback(OPENING, "reply", close, 0.5)[-1]["content"]


BRANCHES_ON_EXAMPLES = '''def compute(s):
    if s.endswith("<"):
        return "]]>"
    if s == "":
        return None
    return "]]"
'''


def test_a_repair_says_when_the_function_returns_the_examples_answers_as_literals():
    cases = verdict(case('["[["]', "]]", "]]>"), case('["<[["]', "]]>", "]]"), case('["{"]', "}", "]]"))
    told = prompts.compute_feedback(OPENING, "reply", cases, 0.5, BRANCHES_ON_EXAMPLES)[-1]["content"]
    assert "answers as fixed values (']]>', ']]')" in told
    one_literal = BRANCHES_ON_EXAMPLES.replace('return "]]"', "return s[::-1]")
    told = prompts.compute_feedback(OPENING, "reply", cases, 0.5, one_literal)[-1]["content"]
    assert "fixed values" not in told
