"""Task data loading, the paper split and mixed streams."""
from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest

from agents.tasks.bbh import PAPER_TASKS, TaskDataError, data_dir, load_task, paper_split
from agents.tasks.stream import mixed_stream, write_jsonl


def test_paper_split_sizes_and_order():
    for task in PAPER_TASKS:
        split = paper_split(task)
        assert (len(split.train), len(split.validation), len(split.test)) == (5, 5, 240)
        assert split.test[0] == load_task(task)[10]


def test_dyck_spaces_removed_only_in_paper_format():
    raw = load_task("dyck_languages", paper_format=False)[1]
    paper = load_task("dyck_languages")[1]
    assert raw.input.endswith("Input: < [ [") and raw.target == "] ] >"
    assert paper.input.endswith("Input: <[[") and paper.target == "]]>"
    assert paper.input.startswith("Complete the rest of the sequence, making sure")
    assert load_task("schedule_meeting")[0] == load_task("schedule_meeting", paper_format=False)[0]


def test_data_dir_from_env_and_errors(tmp_path, monkeypatch):
    copy = tmp_path / "data" / "bbh"
    copy.mkdir(parents=True)
    shutil.copy(data_dir() / "bbh" / "word_sorting.json", copy)
    monkeypatch.setenv("LATM_DATA_DIR", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data" and len(load_task("word_sorting")) == 250
    with pytest.raises(TaskDataError, match="choose one of word_sorting"):
        load_task("dyck_languages")
    monkeypatch.setenv("LATM_DATA_DIR", str(tmp_path))
    with pytest.raises(TaskDataError, match="LATM_DATA_DIR"):
        data_dir()


def test_mixed_stream_is_balanced_shuffled_and_deterministic():
    stream = mixed_stream(600, seed=5)
    assert stream == mixed_stream(600, seed=5) and stream != mixed_stream(600, seed=6)
    assert Counter(r["task"] for r in stream) == {task: 100 for task in PAPER_TASKS}
    assert len({r["id"] for r in stream}) == 600
    assert [r["task"] for r in stream[:6]] != list(PAPER_TASKS)
    tests = {task: {e.input: e.target for e in paper_split(task).test} for task in PAPER_TASKS}
    for request in stream:
        if request["task"] in ("chinese_remainder_theorem", "schedule_meeting"):
            assert request["input"] not in tests[request["task"]]
        else:
            assert tests[request["task"]][request["input"]] == request["target"]
    # The 100 drawn per task are distinct test items (240 available).
    drawn = [r["input"] for r in stream if r["task"] == "word_sorting"]
    assert len(set(drawn)) == 100


def test_stream_options(tmp_path):
    stream = mixed_stream(500, seed=1, tasks=["word_sorting"], generated=False, with_targets=False)
    assert set(stream[0]) == {"id", "input", "task"} and len(stream) == 500  # more than the test split
    plain = mixed_stream(7, seed=1, tasks=["chinese_remainder_theorem"], generated=False)
    tests = {e.input for e in paper_split("chinese_remainder_theorem").test}
    assert all(r["input"] in tests for r in plain)
    assert mixed_stream(0) == []
    with pytest.raises(ValueError):
        mixed_stream(3, tasks=[])
    path = tmp_path / "r.jsonl"
    assert write_jsonl(mixed_stream(4, seed=2), path) == 4
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [f"s2-{i:06d}" for i in range(4)]
