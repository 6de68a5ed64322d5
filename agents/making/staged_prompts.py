"""Prompts of the staged shape: the model writes `compute` over the slots of the task's frame."""
from __future__ import annotations

import json

from agents.making.parameters import Parameters
from agents.making.prompts import format_examples
from agents.making.slot_values import mentions_time
from agents.making.slots import SlotTemplate
from bus.wire.messages import Verdict
from bus.wire.tool_spec import Example

SYSTEM_PLAN = "You are an expert Python programmer and a careful problem solver."

PLAN_TASK = (
    "Here are questions of one kind and their correct answers:\n\n{examples}\n\n"
    "Questions of this kind all have the same form; only the parts in braces change. Here is "
    "the first question again with each changing part named, and its value in it:\n\n"
    "{frame}\n\n{notes}"
    "A function `compute` will get these values and must return the answer. These are the "
    "values of each example question and its answer:\n\n{calls}\n\n"
    "In a few short sentences say: what the values {names} mean; what the answer is in terms "
    "of them (the conditions it must satisfy; name the problem if it is a well-known one); and "
    "the steps that find it. Check the steps against every example. Do not write code yet."
)

TIME_NOTE = ("Times of day are given as minutes after midnight (09:30 is 570, 13:00 is 780); a "
             "time in an answer is written as in the question (HH:MM): the function `clock` is "
             "defined for you and turns minutes back into that form (clock(570) == '09:30').\n\n")

COMPUTE_TASK = (
    "Now write the Python function `def compute({signature}) -> str` that does these steps "
    "for any values (do not hard-code answers), using only the Python standard library (no "
    "sympy or numpy). Other questions have other values, some much larger, so it must be "
    "efficient (no loop over millions of numbers when a smarter step exists). It must return "
    "exactly:\n\n{calls}"
)

FEEDBACK = (
    "Your function is wrong:\n\n{failures}\n\n"
    "Fix it. Reply with the complete corrected function in one ```python block."
)


def plan_messages(template: SlotTemplate, params: Parameters, values: dict,
                  arguments: list[list], train: list[Example]) -> list[dict]:
    """Ask what the values mean and how the answer follows, before any code (plan, then code);
    `values` are the first training question's slot values."""
    notes = TIME_NOTE if any(mentions_time(kind) for kind in template.types) else ""
    task = PLAN_TASK.format(examples=format_examples(train, limit_chars=1000),
                            frame=_trim(params.shown(template, values), 2500), notes=notes,
                            calls=_calls(arguments, train), names=", ".join(params.names))
    return [{"role": "system", "content": SYSTEM_PLAN}, {"role": "user", "content": task}]


def compute_messages(plan: list[dict], plan_reply: str, signature: str, arguments: list[list],
                     train: list[Example]) -> list[dict]:
    """Continue the plan's conversation: ask for compute, which must return the training answers."""
    task = COMPUTE_TASK.format(signature=signature, calls=_calls(arguments, train))
    return plan + [{"role": "assistant", "content": plan_reply}, {"role": "user", "content": task}]


def _calls(arguments: list[list], train: list[Example]) -> str:
    """Each training question's call of compute and the answer it must return."""
    return "\n".join(f"compute({_args(a)}) == {ex.target!r}" for a, ex in zip(arguments, train))


def compute_feedback(opening: list[dict], reply: str, verdict: Verdict) -> list[dict]:
    """The opening conversation, the model's last function, and the training calls it got wrong."""
    lines = []
    for case in [c for c in verdict.cases if not c.ok][:3]:
        outcome = f"raised {case.error}" if case.error else f"returned {case.got!r}"
        lines.append(f"compute({_args(json.loads(case.input))})\n  expected: {case.expected!r}\n"
                     f"  {outcome}")
    return opening + [{"role": "assistant", "content": reply},
                      {"role": "user", "content": FEEDBACK.format(failures="\n\n".join(lines))}]


def _args(arguments: list) -> str:
    """Positional arguments as Python source (the model may rename the parameters)."""
    return ", ".join(repr(v) for v in arguments)


def _trim(text: str, limit: int) -> str:
    """Text cut to a length, marked when cut."""
    return text if len(text) <= limit else text[:limit] + " ..."
