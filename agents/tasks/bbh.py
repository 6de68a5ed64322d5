"""Load the BIG-Bench-Hard style task files and the LATM paper's train/validation/test split."""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from bus.wire.tool_spec import Example

PAPER_TASKS = (
    "logical_deduction_five_objects",
    "tracking_shuffled_objects_five_objects",
    "dyck_languages",
    "word_sorting",
    "chinese_remainder_theorem",
    "schedule_meeting",
)
TRAIN = slice(0, 5)
VALIDATION = slice(5, 10)
TEST = slice(10, 250)
DYCK_INPUT = re.compile(r"(Input:)(.*)$", re.DOTALL)


class TaskDataError(Exception):
    """The task data cannot be found or read."""


class Split(NamedTuple):
    """The paper's split: items 0-4 train, 5-9 validation, 10-249 test."""

    train: list[Example]
    validation: list[Example]
    test: list[Example]


def data_dir() -> Path:
    """The folder holding `bbh/`: $LATM_DATA_DIR, else `shared/data` found walking up from here or cwd."""
    env = os.environ.get("LATM_DATA_DIR")
    if env:
        root = Path(env).expanduser()
        if (root / "bbh").is_dir():
            return root
        if root.name == "bbh" and root.is_dir():
            return root.parent
        raise TaskDataError(f"LATM_DATA_DIR={env} has no bbh/ folder: point it at the data folder that contains bbh/")
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            candidate = folder / "shared" / "data"
            if (candidate / "bbh").is_dir():
                return candidate
    raise TaskDataError("no shared/data/bbh folder found above this package or the working directory: "
                        "set LATM_DATA_DIR to the folder that contains bbh/")


def available_tasks() -> list[str]:
    """Names of every task file in the data folder."""
    return sorted(path.stem for path in (data_dir() / "bbh").glob("*.json"))


def load_task(name: str, *, paper_format: bool = True) -> list[Example]:
    """All examples of a task in file order; `paper_format` applies the paper's preprocessing."""
    examples = _read_task(str(data_dir() / "bbh" / f"{name}.json"), name)
    return [paper_example(example, name) for example in examples] if paper_format else list(examples)


def paper_split(name: str, *, paper_format: bool = True) -> Split:
    """The paper's train/validation/test split of a task."""
    examples = load_task(name, paper_format=paper_format)
    return Split(examples[TRAIN], examples[VALIDATION], examples[TEST])


def paper_example(example: Example, task: str) -> Example:
    """The paper's preprocessing: Dyck sequences lose their spaces (input and target); nothing else changes.

    schedule_meeting inputs keep their missing closing ")" on purpose: the generators reproduce it,
    so stored, generated and user-sent requests all look alike to the tools made from them.
    """
    if task != "dyck_languages":
        return example
    text = DYCK_INPUT.sub(lambda m: m.group(1) + " " + re.sub(r"\s+", "", m.group(2)), example.input)
    return Example(input=text, target=re.sub(r"\s+", "", example.target))


@lru_cache(maxsize=32)
def _read_task(path: str, name: str) -> tuple[Example, ...]:
    """Parse one task file once per process."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return tuple(Example(input=item["input"], target=str(item["target"])) for item in payload["examples"])
    except FileNotFoundError:
        raise TaskDataError(f"no task {name!r} in {Path(path).parent}: choose one of {', '.join(available_tasks())}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TaskDataError(f"{path} is not a task file ({exc}): expected {{'examples': [{{'input', 'target'}}]}}") from exc
