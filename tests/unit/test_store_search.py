"""ToolStore.search: the right tool ranks first among 1000 synthetic ones, and the index follows the store."""
from __future__ import annotations

import random
import re

import pytest

from agents.tasks.bbh import PAPER_TASKS, available_tasks, load_task, paper_split
from bus.wire.tool_spec import Example, ToolSpec
from store.tool_store import ToolStore


def real_tool(task: str) -> ToolSpec:
    """A tool for a paper task described by its 3 training examples, as the maker would store it."""
    return ToolSpec(tool_id=task, task=task, code=f"def solve(q):\n    return {task!r}\n",
                    docstring=f"Solves {task.replace('_', ' ')} requests.", tests=tuple(paper_split(task).train[:3]))


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> ToolStore:
    """1000 synthetic tools whose words come from the benchmark texts themselves, plus the six real ones."""
    rng = random.Random(7)
    vocab = sorted({w for t in available_tasks() for e in load_task(t)[:30] for w in re.findall(r"[a-z]+", e.input.lower())})
    store = ToolStore(tmp_path_factory.mktemp("search") / "tools.sqlite")
    for i in range(1000):
        template = rng.sample(vocab, 8)
        tests = tuple(Example(input=" ".join(template + rng.sample(vocab, 6)), target="x") for _ in range(3))
        store.put(ToolSpec(tool_id=f"synthetic_{i}", task=f"synthetic_{i}", code=f"def solve(q):\n    return {i}\n",
                           docstring=" ".join(rng.sample(vocab, 10)), tests=tests))
    for task in PAPER_TASKS:
        store.put(real_tool(task))
    return store


def test_right_tool_ranks_first_among_1000(big_store):
    for task in PAPER_TASKS:
        for example in paper_split(task).test[:10]:
            hits = big_store.search(example.input, k=3)
            assert hits[0][0].tool_id == task, (task, [(s.tool_id, round(x, 3)) for s, x in hits])
            assert len(hits) == 3 and 0 < hits[0][1] <= 1 and hits[0][1] >= hits[1][1] >= hits[2][1]


def test_nothing_matches_text_without_known_words(big_store):
    assert big_store.search("4 + 5 * (3 - 1) =") == []
    assert big_store.search("") == []
    assert big_store.search("sort words", k=0) == []


def test_index_follows_changes_made_by_another_process(tmp_path):
    path = tmp_path / "tools.sqlite"
    reader, writer = ToolStore(path), ToolStore(path)
    query = paper_split("dyck_languages").test[0].input
    assert reader.search(query) == []
    writer.put(real_tool("dyck_languages"))
    writer.put(real_tool("word_sorting"))
    assert reader.search(query)[0][0].tool_id == "dyck_languages"
    writer.set_status("dyck_languages", "quarantined")
    assert all(spec.tool_id != "dyck_languages" for spec, _ in reader.search(query))
    writer.remove("word_sorting")
    assert reader.search(query) == []
