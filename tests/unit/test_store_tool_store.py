"""ToolStore: versions, stats, status, removal, export/import."""
from __future__ import annotations

import io
import json

import pytest

from bus.wire.tool_spec import Demo, Example, Provenance, ToolSpec
from store.store_errors import ToolNotFound, ToolStoreError
from store.tool_store import ToolStore


def make_spec(tool_id: str = "sorter", body: str = "return q", **fields) -> ToolSpec:
    """A small valid spec whose code (hence version) depends on `body`."""
    return ToolSpec(tool_id=tool_id, task=fields.pop("task", "word_sorting"),
                    code=f"def solve(q):\n    {body}\n", docstring="Sort the words.",
                    tests=(Example(input="Sort the following words alphabetically: List: b a", target="a b"),),
                    demos=(Demo(input="Sort: b a", call="solve('Sort: b a')", output="a b"),), **fields)


@pytest.fixture()
def store(tmp_path) -> ToolStore:
    """A fresh store in a temporary folder."""
    return ToolStore(tmp_path / "nested" / "tools.sqlite")


def test_put_get_round_trip_sets_created_at(store):
    spec = make_spec(provenance=Provenance(maker_model="big", prompt_tokens=12))
    version = store.put(spec)
    got = store.get("sorter")
    assert version == spec.version == got.version
    assert got.provenance.created_at > 0
    assert got.model_dump(exclude={"provenance"}) == spec.model_dump(exclude={"provenance"})
    assert got.provenance.maker_model == "big" and got.provenance.prompt_tokens == 12
    assert store.get("missing") is None and store.get("sorter", "0" * 16) is None


def test_versions_are_immutable_and_puts_idempotent(store):
    first = make_spec(body="return q")
    v1 = store.put(first)
    # Same code but a different docstring is the same version: the first write wins.
    assert store.put(first.model_copy(update={"docstring": "changed"})) == v1
    assert store.get("sorter").docstring == "Sort the words."
    v2 = store.put(make_spec(body="return q.strip()"))
    assert v1 != v2 and store.versions("sorter") == [v1, v2]
    assert store.get("sorter").version == v2
    assert store.get("sorter", v1).version == v1
    assert store.list()[0].versions == 2


def test_stats_single_and_batched(store):
    v1 = store.put(make_spec(body="return 1"))
    v2 = store.put(make_spec(body="return 2"))
    store.record_use("sorter", v1, ok=True)
    store.record_use("sorter", v1, ok=False, n=3)
    assert store.record_uses([("sorter", v2, True, 5), ("sorter", v2, False, 1), ("ghost", v2, True, 9)]) == 2
    assert (store.stats("sorter", v1).uses, store.stats("sorter", v1).failures) == (4, 3)
    assert (store.stats("sorter", v2).uses, store.stats("sorter", v2).failures) == (6, 1)
    assert (store.stats("sorter").uses, store.stats("sorter").failures) == (10, 4)
    summary = store.list()[0]
    assert (summary.version, summary.uses, summary.failures) == (v2, 6, 1)
    with pytest.raises(ToolNotFound):
        store.stats("ghost")


def test_quarantine_hides_tool_and_rolls_back_per_version(store):
    v1 = store.put(make_spec(body="return 1"))
    v2 = store.put(make_spec(body="return 2"))
    store.set_status("sorter", "quarantined", version=v2)
    assert store.get("sorter").version == v1  # serves the previous good version
    assert store.find_by_task("word_sorting").version == v1
    assert store.set_status("sorter", "quarantined") == 2
    assert store.get("sorter") is None and store.get("sorter", v1) is None
    assert store.find_by_task("word_sorting") is None
    assert store.search("Sort the following words alphabetically: List: b a") == []
    assert store.get("sorter", v2, include_quarantined=True).status == "quarantined"
    assert [s.tool_id for s in store.list(status="quarantined")] == ["sorter"]
    assert store.list(status="active") == []
    store.set_status("sorter", "active")
    assert store.get("sorter").version == v2 and store.search("sort words")[0][0].version == v2
    with pytest.raises(ToolStoreError, match="unknown status"):
        store.set_status("sorter", "broken")
    with pytest.raises(ToolNotFound):
        store.set_status("ghost", "quarantined")


def test_find_by_task_and_remove(store):
    store.put(make_spec("a", body="return 1", task="t1"))
    store.put(make_spec("b", body="return 2", task="t2"))
    assert store.find_by_task("t2").tool_id == "b" and store.find_by_task("t3") is None
    assert store.remove("a") == 1
    assert store.get("a") is None and [s.tool_id for s in store.list()] == ["b"]
    with pytest.raises(ToolNotFound, match="latm tools list"):
        store.remove("a")
    with pytest.raises(ToolNotFound):
        store.require("a")


def test_export_import_round_trip(store, tmp_path):
    store.put(make_spec("a", body="return 1"))
    store.put(make_spec("a", body="return 2"))
    store.put(make_spec("b", body="return 3"))
    store.set_status("b", "quarantined")
    path = tmp_path / "tools.jsonl"
    assert store.export(path) == 3
    other = ToolStore(tmp_path / "other.sqlite")
    report = other.import_(path)
    assert (report.imported, report.existing, report.errors) == (3, 0, ())
    assert other.versions("a") == store.versions("a")
    assert other.get("a") == store.get("a")
    assert other.get("b") is None and other.get("b", include_quarantined=True).status == "quarantined"
    assert other.import_(path).existing == 3
    buffer = io.StringIO()
    assert store.export(buffer, tool_id="b") == 1 and json.loads(buffer.getvalue())["tool_id"] == "b"


def test_import_refuses_tampered_and_malformed_records(store, tmp_path):
    store.put(make_spec("a", body="return 1"))
    store.put(make_spec("b", body="return 2"))
    lines = io.StringIO()
    store.export(lines)
    good, tampered = lines.getvalue().splitlines()
    record = json.loads(tampered)
    record["code"] = "def solve(q):\n    return 'evil'\n"
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([good, json.dumps(record), "{not json", json.dumps({"tool_id": "x"})]) + "\n")
    other = ToolStore(tmp_path / "other.sqlite")
    report = other.import_(path)
    assert report.imported == 1 and len(report.errors) == 3
    assert "line 2" in report.errors[0] and "hashes to" in report.errors[0]
    assert "line 3" in report.errors[1] and "line 4" in report.errors[2]
    assert other.get("b") is None and other.get("a") is not None


def test_import_of_missing_file_is_a_typed_error(store, tmp_path):
    with pytest.raises(ToolStoreError, match="latm tools export"):
        store.import_(tmp_path / "nope.jsonl")


def test_a_non_sqlite_file_is_a_typed_error(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ToolStoreError, match="move the file away"):
        ToolStore(bad)


def test_making_failures_are_counted_listed_and_cleared(store):
    assert store.failures.record("crt", "rounds exhausted: 0/6") == 1
    assert store.failures.record("crt", "rounds exhausted: 1/6") == 2
    store.failures.record("dyck", "token budget spent")
    crt = store.failures.list("crt")[0]
    assert (crt.attempts, crt.reason) == (2, "rounds exhausted: 1/6")
    assert [f.task for f in store.failures.list()] == ["dyck", "crt"]  # latest first
    assert store.failures.clear("crt") == 1 and store.failures.list("crt") == []
    assert store.failures.clear() == 1 and store.failures.list() == []


def test_a_task_alias_routes_to_the_tool_until_it_is_removed(store):
    store.put(ToolSpec(tool_id="sorter", task="word_sorting", code="def solve(q):\n    return q\n"))
    assert store.find_by_task("alphabetize") is None
    store.aliases.set("alphabetize", "sorter")
    assert store.find_by_task("alphabetize").tool_id == "sorter"
    store.set_status("sorter", "quarantined")
    assert store.find_by_task("alphabetize") is None  # a pulled tool serves no alias either
    store.remove("sorter")
    assert store.db.conn().execute("SELECT COUNT(*) FROM task_aliases").fetchone()[0] == 0
