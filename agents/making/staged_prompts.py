"""Prompts of the staged shape: the model writes `compute` over the slots of the task's frame."""
from __future__ import annotations

import json
from dataclasses import dataclass

from agents.making.code_extract import returned_constants, unused_parameters
from agents.making.feedback import raised
from agents.making.parameters import Parameters
from agents.making.prompts import format_examples
from agents.making.slot_values import mentions_time
from agents.making.slots import SlotTemplate
from bus.wire.messages import CaseResult, Verdict
from bus.wire.tool_spec import Example

SYSTEM = "You are an expert Python programmer and a careful problem solver."

INTRO = (
    "Here are questions of one kind and their correct answers:\n\n{examples}\n\n"
    "Questions of this kind all have the same form; only the parts in braces change. Here is "
    "the first question again with each changing part numbered, and its value in it:\n\n"
    "{frame}\n\n{notes}"
)

# Every request for code ends so: a small model otherwise explains at length and may never code.
CODE_RULES = (
    "Name each parameter by what it means. It must work for any values (do not hard-code "
    "answers), use only the Python standard library (no sympy or numpy), and be efficient: other "
    "questions have other values, some much larger. For the example questions it must return "
    "exactly:\n\n{calls}\n\nReply with only the function in one ```python block, no explanation."
)

CODE_TASK = (
    "Write the Python function `compute` that gets these values and returns the answer as a "
    "string. Its arguments, in order:\n\n{arguments}\n\n" + CODE_RULES
)

PLAN_TASK = (
    "A function `compute` will get these values, in order:\n\n{arguments}\n\n"
    "and must return the answer. For the example questions it gets and returns:\n\n{calls}\n\n"
    "In a few short sentences say: what each value means; what the answer is in terms of them "
    "(the conditions it must satisfy; name the problem if it is a well-known one); and the steps "
    "that find it. Check the steps against every example. Do not write code yet."
)

COMPUTE_TASK = "Now write `compute` with those arguments, in order, doing these steps. " + CODE_RULES

TIME_NOTE = ("Times of day are given as minutes after midnight (09:30 is 570, 13:00 is 780); a "
             "time in an answer is written as in the question (HH:MM): the function `clock` is "
             "defined for you and turns minutes back into that form (clock(570) == '09:30').\n\n")

FEEDBACK = (
    "Your function returns the right answer in time for {passed} of {total} examples. It "
    "fails here:\n\n{failures}\n\n"
)
# A small coder often drops an argument (a meeting's length, say); its answers are then wrong
# in a way the failures alone do not show.
UNUSED = ("Your function never uses {names}, though the answer depends on every argument. "
          "Use {them}; as given:\n\n{described}\n\n")
# A function answering another question (is it valid?) returns words where the answers are
# made of a few symbols; naming the symbols says what kind of answer is wanted.
FOREIGN = ("Every expected answer is written with only these characters (and spaces): {alphabet}. "
           "Yours also use {extra}: the answer is not what your function returns.\n\n")
FOREIGN_MAX_ALPHABET = 12
# A small coder that cannot see the method returns the examples' answers as literals, one per
# branch; told so, it looks for the rule instead of patching another branch.
HARD_CODED = ("Your function returns the examples' answers as fixed values ({literals}), but other "
              "questions have other answers. Build the answer from the arguments, with steps "
              "that work for every question.\n\n")
FIX = "Fix it. Reply with only the complete corrected function in one ```python block."
# Shown only wrong answers, the small coder mostly returns its function unchanged; asked first
# what differs, it names the missing condition and then writes it.
DIAGNOSE = ("Before fixing it, say in two or three sentences what the expected answers have that "
            "yours lack, and which step of your function is wrong. Do not write code yet.")
AFTER_DIAGNOSIS = ("Now write the corrected `compute`, with the same arguments in order. Reply "
                   "with only the complete function in one ```python block, no explanation.")


@dataclass(frozen=True)
class ComputePrompts:
    """The staged shape's conversations, built once from the frame and the training examples."""

    intro: str  # the examples and the numbered frame
    arguments: str  # compute's arguments in order, one line each
    calls: str  # each training question's call of compute and its answer

    @classmethod
    def of(cls, template: SlotTemplate, params: Parameters, first: dict, arguments: list[list],
           train: list[Example]) -> ComputePrompts:
        """The prompts' parts; `first` are the first training question's slot values and
        `arguments` compute's arguments for each training question."""
        notes = TIME_NOTE if any(mentions_time(kind) for kind in template.types) else ""
        intro = INTRO.format(examples=format_examples(train, limit_chars=1000), notes=notes,
                             frame=_trim(params.shown(template, first), 2500))
        return cls(intro=intro, arguments=params.described(template, arguments[0]),
                   calls="\n".join(f"compute({_args(a)}) == {ex.target!r}"
                                   for a, ex in zip(arguments, train)))

    def code_only(self) -> list[dict]:
        """Ask for compute straight away: the cheapest draw, and often enough."""
        return _opening(self.intro + CODE_TASK.format(arguments=self.arguments, calls=self.calls))

    def plan(self) -> list[dict]:
        """Ask what the values mean and how the answer follows, before any code."""
        return _opening(self.intro + PLAN_TASK.format(arguments=self.arguments, calls=self.calls))

    def after_plan(self, asked: list[dict], plan_reply: str) -> list[dict]:
        """Continue a plan's conversation (`asked` ends with its question): ask for compute,
        doing the planned steps."""
        return asked + [{"role": "assistant", "content": plan_reply},
                        {"role": "user", "content": COMPUTE_TASK.format(calls=self.calls)}]


def _opening(task: str) -> list[dict]:
    """A conversation that starts with one task."""
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}]


# Marks a training call whose answer was right but came only under the serving limit.
SLOW = "slow"
# A right answer that came too late: the fix is speed, and the usual cause is a loop over
# every number up to a large bound.
SLOW_OUTCOME = ("returned the right answer, but took longer than {limit:g} s, and questions with "
                "larger values would take far longer: make it much faster, for example by "
                "stepping through candidates in large strides or computing the answer directly "
                "instead of trying every number")


def is_slow(case: CaseResult) -> bool:
    """Whether a training call was answered right, but only under the serving limit."""
    return case.error == SLOW


SPEED_PLAN = (
    "Your function returns the right answers, but too slowly: on {slow} of {total} examples it "
    "took longer than {limit:g} s, and questions with larger values would take far longer. In a "
    "few short sentences say why it is slow and how to find the same answers in far fewer steps "
    "(name the method if it is a well-known one). Do not write code yet."
)


def speed_plan(opening: list[dict], reply: str, verdict: Verdict, limit_s: float) -> list[dict]:
    """The conversation and the model's last function, right but slow: ask how to make it fast."""
    slow = sum(is_slow(case) for case in verdict.cases)
    task = SPEED_PLAN.format(slow=slow, total=verdict.total, limit=limit_s)
    return opening + [{"role": "assistant", "content": reply}, {"role": "user", "content": task}]


def compute_feedback(opening: list[dict], reply: str, verdict: Verdict, limit_s: float,
                     code: str = "", arguments: str = "", diagnose: bool = False) -> list[dict]:
    """The conversation, the model's last function, and the training calls it got wrong (or
    answered slower than `limit_s`), each with the exact difference from the answer; asking for
    the fix, or (`diagnose`) first for what is wrong (see `after_diagnosis`); `code` is the
    reply's compute and `arguments` its arguments described one per line, to recall those the
    function ignores."""
    lines = []
    for case in [c for c in verdict.cases if not c.ok][:3]:
        if is_slow(case):
            outcome = SLOW_OUTCOME.format(limit=limit_s)
        elif case.error:
            outcome = raised(case.error)
        else:
            outcome = f"returned {case.got!r}"
        line = (f"compute({_args(json.loads(case.input))})\n  expected: {case.expected!r}\n"
                f"  {outcome}")
        if not case.error and case.got is not None:
            line += _difference(case.got, case.expected)
        lines.append(line)
    task = FEEDBACK.format(passed=verdict.passed, total=verdict.total,
                           failures="\n\n".join(lines))
    task += _foreign_characters(verdict) + _hard_coded(code, verdict) + _unused(code, arguments)
    task += DIAGNOSE if diagnose else FIX
    return opening + [{"role": "assistant", "content": reply}, {"role": "user", "content": task}]


def after_diagnosis(asked: list[dict], diagnosis: str) -> list[dict]:
    """Continue a diagnosis (`asked` ends with its question): ask for the corrected function."""
    return asked + [{"role": "assistant", "content": diagnosis},
                    {"role": "user", "content": AFTER_DIAGNOSIS}]


def _foreign_characters(verdict: Verdict) -> str:
    """A note when the returned answers use characters no expected answer has, and the expected
    answers are written with a few characters only."""
    alphabet = {ch for c in verdict.cases for ch in c.expected if not ch.isspace()}
    returned = {ch for c in verdict.cases if not c.ok and c.got is not None
                for ch in c.got if not ch.isspace()}
    extra = returned - alphabet
    if not extra or not alphabet or len(alphabet) > FOREIGN_MAX_ALPHABET:
        return ""
    return FOREIGN.format(alphabet=" ".join(sorted(alphabet)), extra=" ".join(sorted(extra)[:8]))


def _hard_coded(code: str, verdict: Verdict) -> str:
    """A note when compute returns two or more of the examples' different answers as literals
    (one such literal, such as 'No time slot works.', may well be right)."""
    answers = {c.expected.strip() for c in verdict.cases}
    copied = list(dict.fromkeys(v for v in returned_constants(code, "compute")
                                if v.strip() in answers))
    if len(copied) < 2:
        return ""
    return HARD_CODED.format(literals=", ".join(repr(v) for v in copied[:4]))


def _unused(code: str, arguments: str) -> str:
    """A note naming the parameters compute never reads, with their descriptions."""
    unused = unused_parameters(code, "compute")
    if not unused:
        return ""
    described = arguments.splitlines()
    return UNUSED.format(names=", ".join(f"`{name}`" for _, name in unused),
                         them="it" if len(unused) == 1 else "them",
                         described="\n".join(described[i] for i, _ in unused if i < len(described)))


def _difference(got: str, expected: str) -> str:
    """Where a returned string first departs from the answer, when that is not plain to see."""
    if got.strip() == expected.strip():
        return "\n  (only spaces at the ends differ)"
    if len(expected) < 12:
        return ""
    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    return f"\n  (they differ from character {at}: {got[at:at + 12]!r} where {expected[at:at + 12]!r} is expected)"


def _args(arguments: list) -> str:
    """Positional arguments as Python source (the model may rename the parameters)."""
    return ", ".join(repr(v) for v in arguments)


def _trim(text: str, limit: int) -> str:
    """Text cut to a length, marked when cut."""
    return text if len(text) <= limit else text[:limit] + " ..."
