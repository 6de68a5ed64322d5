"""Prompts of the staged shape: the model writes `compute` over the slots of the task's frame."""
from __future__ import annotations

import json

from agents.making.slots import SlotTemplate
from bus.wire.messages import Verdict
from bus.wire.tool_spec import Example

SYSTEM_PLAN = "You are an expert Python programmer and a careful problem solver."

PLAN_TASK = (
    "Here is a question and its correct answer:\n\n{question}\nAnswer: {answer}\n\n"
    "Questions of this kind all have the same form; only the parts in braces change. Here is "
    "the question again with each changing part named, and its value in this question:\n\n"
    "{frame}\n\n"
    "These are the values of each example question and its answer:\n\n{calls}\n\n"
    "Say in two or three sentences what the values v1, v2, ... mean and the exact steps that "
    "compute the answer from them. Do not write code yet."
)

COMPUTE_TASK = (
    "Now write the Python function `def compute({signature}) -> str` that does these steps "
    "for any values (do not hard-code answers), using only the Python standard library (no "
    "sympy or numpy). It "
    "must return exactly:\n\n{calls}"
)

FEEDBACK = (
    "Your function is wrong:\n\n{failures}\n\n"
    "Fix it. Reply with the complete corrected function in one ```python block."
)


def plan_messages(template: SlotTemplate, values: list[dict], train: list[Example]) -> list[dict]:
    """Ask what the slots mean and how the answer follows, before any code (plan, then code)."""
    task = PLAN_TASK.format(question=_trim(train[0].input, 2000), answer=train[0].target,
                            frame=_trim(template.shown(values[0]), 2500), calls=_calls(values, train))
    return [{"role": "system", "content": SYSTEM_PLAN}, {"role": "user", "content": task}]


def compute_messages(plan: list[dict], plan_reply: str, template: SlotTemplate,
                     values: list[dict], train: list[Example]) -> list[dict]:
    """Continue the plan's conversation: ask for compute, which must return the training answers."""
    task = COMPUTE_TASK.format(signature=template.signature(), calls=_calls(values, train))
    return plan + [{"role": "assistant", "content": plan_reply}, {"role": "user", "content": task}]


def _calls(values: list[dict], train: list[Example]) -> str:
    """Each training question's call of compute and the answer it must return."""
    return "\n".join(f"compute({_args(v)}) == {ex.target!r}" for v, ex in zip(values, train))


def compute_feedback(opening: list[dict], reply: str, verdict: Verdict) -> list[dict]:
    """The opening conversation, the model's last function, and the training calls it got wrong."""
    lines = []
    for case in [c for c in verdict.cases if not c.ok][:3]:
        outcome = f"raised {case.error}" if case.error else f"returned {case.got!r}"
        lines.append(f"compute({_args(json.loads(case.input))})\n  expected: {case.expected!r}\n"
                     f"  {outcome}")
    return opening + [{"role": "assistant", "content": reply},
                      {"role": "user", "content": FEEDBACK.format(failures="\n\n".join(lines))}]


def _args(values: dict) -> str:
    """Positional arguments as Python source (the model may rename the parameters)."""
    return ", ".join(repr(v) for v in values.values())


def _trim(text: str, limit: int) -> str:
    """Text cut to a length, marked when cut."""
    return text if len(text) <= limit else text[:limit] + " ..."
