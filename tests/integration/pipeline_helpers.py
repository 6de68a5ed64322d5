"""Shared pieces of the pipeline tests: scripted maker replies and request builders."""
from __future__ import annotations

import json

# Scripted maker replies (the stub's, for tests only).
WORD_SORT_TOOL = '''```python
def solve(question: str) -> str:
    """Sort the words after 'List:' alphabetically."""
    words = question.split("List:")[1].split()
    return " ".join(sorted(words))
```'''

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
