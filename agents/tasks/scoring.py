"""Answer normalisation and exact-match scoring that forgives formatting, not content."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

CHOICE_TARGET = re.compile(r"^\([A-Z]\)$")
CHOICE_ANSWER = re.compile(r"^\(([A-Za-z])\)|^([A-Z])(?:[).:,]|\s|$)")
ANSWER_PREFIX = re.compile(r"^(?:the\s+)?(?:final\s+)?answer\s*(?:is\b|[:=])\s*:?\s*", re.IGNORECASE)
NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
TIME = re.compile(r"(\d{1,2}):(\d{2})")
CHOICE_TASKS = ("logical_deduction", "tracking_shuffled_objects", "date_understanding", "disambiguation",
                "geometric_shapes", "hyperbaton", "movie_recommendation", "penguins_in_a_table",
                "reasoning_about_colored_objects", "ruin_names", "salient_translation", "snarks", "temporal_sequences")


def is_choice_task(task: str) -> bool:
    """Whether a task's targets are option letters like "(A)"."""
    return any(task.startswith(prefix) for prefix in CHOICE_TASKS)


def normalise(answer: object, task: str = "") -> str:
    """A canonical form of an answer for a task, so equal answers compare equal as strings."""
    text = ANSWER_PREFIX.sub("", " ".join(str(answer if answer is not None else "").split()))
    if is_choice_task(task):
        return _choice(text)
    if task == "dyck_languages":
        return re.sub(r"\s+", "", text)
    if task == "word_sorting":
        return " ".join(text.replace(",", " ").lower().split())
    if task == "schedule_meeting":
        return _schedule(text)
    return _general(text)


def is_correct(answer: object, target: str, task: str = "") -> bool:
    """Exact match after normalisation; an unknown task with "(X)" targets is scored as multiple choice."""
    if not task and CHOICE_TARGET.match(target.strip()):
        task = "logical_deduction"
    return normalise(answer, task) == normalise(target, task)


def _choice(text: str) -> str:
    """"A", "(a)", "(A) The owl is ..." -> "(A)"; anything else falls back to the general form."""
    match = CHOICE_ANSWER.match(text.strip())
    if match:
        return f"({(match.group(1) or match.group(2)).upper()})"
    return _general(text)


def _schedule(text: str) -> str:
    """Times as HH:MM joined by " - "; the no-slot sentence without case or final period."""
    times = TIME.findall(text)
    if len(times) == 2:
        return " - ".join(f"{int(hour):02d}:{minute}" for hour, minute in times)
    return _general(text)


def _general(text: str) -> str:
    """Collapse whitespace, drop a final period and case; numbers in canonical form ("14687.0" -> "14687")."""
    text = " ".join(text.split()).rstrip(".").strip().casefold()
    number = _number(text)
    return number if number is not None else text


def _number(text: str) -> str | None:
    """Canonical text of a number written with optional thousands commas, or None."""
    plain = text.replace(",", "") if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text) else text
    if not NUMBER.match(plain):
        return None
    try:
        value = Decimal(plain)
    except InvalidOperation:
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
