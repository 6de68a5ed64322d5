"""Prompts of the staged shape: the model writes `compute` over the slots of the task's frame."""
from __future__ import annotations

import json

from agents.making.slots import SlotTemplate
from bus.messages import Verdict
from store.tool_spec import Example

SYSTEM = "You are an expert Python programmer. Reply with a single ```python code block."

COMPUTE_TASK = (
    "Here is a question and its correct answer:\n\n{question}\nAnswer: {answer}\n\n"
    "Questions of this kind all have the same form; only the parts in braces change:\n\n"
    "{frame}\n\n"
    "Write a Python function `def compute({signature}) -> str` that answers any question of "
    "this form from those values. Start the body with comments saying what each value means "
    "and how the answer follows from them; then write the general algorithm (do not hard-code "
    "answers). Use only the Python standard library. These calls must return exactly these "
    "answers:\n\n{calls}"
)

FEEDBACK = (
    "Your function is wrong:\n\n{failures}\n\n"
    "Fix it. Reply with the complete corrected function in one ```python block."
)


def compute_messages(template: SlotTemplate, values: list[dict], train: list[Example]) -> list[dict]:
    """Ask for compute, showing the frame with its slots and each training call with its answer."""
    calls = "\n".join(f"compute({_args(v)}) == {ex.target!r}" for v, ex in zip(values, train))
    task = COMPUTE_TASK.format(question=_trim(train[0].input, 2000), answer=train[0].target,
                               frame=_trim(template.shown(), 2000), signature=template.signature(),
                               calls=calls)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}]


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
