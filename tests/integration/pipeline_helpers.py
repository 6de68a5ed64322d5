"""Shared pieces of the pipeline tests: scripted maker replies and request builders."""
from __future__ import annotations

import contextlib
import io
import json

from agents.pipeline.config import PipelineConfig
from agents.pipeline.bootstrap import local_services
from agents.pipeline.run import run_stream

# Scripted maker replies (the stub's, for tests only).
WORD_SORT_TOOL = '''```python
def solve(question: str) -> str:
    """Sort the words after 'List:' alphabetically."""
    words = question.split("List:")[1].split()
    return " ".join(sorted(words))
```'''

# A core function: the fixed wording of the question is the system's business, not the model's.
CORE_SORT_TOOL = '''```python
def solve(words: list[str]) -> str:
    return " ".join(sorted(words))
```'''
CORE_PROMPT = "solve(words: list[str])"

WRONG_TOOL = '''```python
def solve(question: str) -> str:
    return "wrong"
```'''

CRASHING_TOOL = '''```python
def solve(question: str) -> str:
    return question.split("NOPE")[1]
```'''


def word_sort_requests(n: int, start: int = 0, with_target: bool = True, task: str | None = "word_sorting") -> list[str]:
    """JSONL lines of word-sorting requests built from a seeded word list."""
    import random
    rng = random.Random(start)
    vocab = ["apple", "zebra", "mango", "kiwi", "banana", "cherry", "delta", "echo", "fig", "grape",
             "lemon", "olive", "peach", "quince", "raisin", "tomato", "ugli", "vanilla"]
    lines = []
    for i in range(start, start + n):
        words = rng.sample(vocab, 5)
        row = {"id": f"w{i}", "input": "Sort the following words alphabetically: List: " + " ".join(words)}
        if task:
            row["task"] = task
        if with_target:
            row["target"] = " ".join(sorted(words))
        lines.append(json.dumps(row))
    return lines

SOFT_REVIEW_TOOL = '''```python
def solve(question: str) -> str:
    review = question.split(":", 1)[1].strip()
    return "yes" if is_positive(review) else "no"
```'''


def review_requests(n: int) -> list[str]:
    """Requests a soft tool answers: the sentiment judgement is left to the LM."""
    good = ["I love this phone", "We love the food here", "they love the show"]
    bad = ["The screen cracked", "Cold soup and slow staff", "It broke in a day"]
    lines = []
    for i in range(n):
        positive = i % 2 == 0
        text = (good if positive else bad)[i % 3]
        lines.append(json.dumps({"id": f"r{i}", "input": f"Is this review positive: {text}",
                                 "task": "review", "target": "yes" if positive else "no"}))
    return lines

STRUCTURED_SORT_TOOL = '''```python
def tool(words: list[str]) -> str:
    return " ".join(sorted(words))
```'''


def words_from_prompt(body: dict) -> dict:
    """The stub user's argument extraction: the words after 'List:' in the question."""
    text = body["messages"][-1]["content"]
    question = text.split("Question:\n", 1)[1]
    return {"words": question.split("List:", 1)[1].split("\n")[0].split()}


def sorted_words_reply(body: dict) -> str:
    """A stub solver that answers word sorting right: sort the words after the last 'List:'."""
    text = "\n".join(str(m.get("content") or "") for m in body["messages"])
    return " ".join(sorted(text.rsplit("List:", 1)[1].split("\n")[0].split()))


def make_config(tmp_path, **maker) -> PipelineConfig:
    """A pipeline on a fresh store with a small maker budget (one sample per round, end-to-end only)."""
    from agents.making.maker import MakerConfig
    knobs = {"samples_per_round": 1, "rounds": 2, "shapes": ("end_to_end",), **maker}
    return PipelineConfig(store_path=str(tmp_path / "tools.sqlite"), maker=MakerConfig(**knobs))


async def run_lines(stub, tmp_path, lines, coordinator=None, **maker):
    """Run request lines through in-process agents talking to the stub: (summary, records, config)."""
    config = make_config(tmp_path, **maker)
    if coordinator is not None:
        config = config.model_copy(update={"coordinator": coordinator})
    services = local_services(stub.config(), config)
    out = io.StringIO()
    try:
        await services.start()
        summary, _ = await run_stream(lines, services, out, config.coordinator)
    finally:
        await services.close()
    return summary, [json.loads(line) for line in out.getvalue().splitlines()], config


@contextlib.asynccontextmanager
async def started(agent):
    """An agent started for the block and closed after it, as its actor would be."""
    await agent.start()
    try:
        yield agent
    finally:
        await agent.close()
