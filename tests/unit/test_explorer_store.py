"""Explorer persistence: demos (dedupe, bounded retrieval), long-term memory, the API response cache."""
from __future__ import annotations

import json

import pytest

from agents.exploring.api_catalog import ApiCatalogError, api_from_description, load_api_list
from agents.exploring.backends import Observation, checked
from agents.using.tool_calls import ArgumentError, call_messages, parse_call, render_demos
from bus.wire.api_spec import ApiSpec, ToolCall
from store.api_cache import ApiCache
from store.explorer_memory import ExplorerMemory, Trial
from store.tool_demos import ToolDemo, ToolDemos

ADD_DATE = api_from_description(
    "add_date", 'Add days to a date.. Your input should be a json (args json schema): '
                '{{"date" : string, "days" : integer, }} The Action to trigger this API should be add_date')


def demo(query: str, days: int, tool: str = "add_date") -> ToolDemo:
    return ToolDemo(tool=tool, query=query, call=ToolCall(name=tool, arguments={"date": "2022-01-01", "days": days}),
                    observation="2022-02-01")


def test_demos_are_deduplicated_by_query_and_by_call(tmp_path):
    demos = ToolDemos(tmp_path / "s.sqlite")
    assert demos.add(demo("What is 31 days after new year?", 31))
    assert not demos.add(demo("what is 31 days  after New Year", 5))  # same query words
    assert not demos.add(demo("A different question", 31))  # same call
    assert demos.add(demo("Another question", 7))
    assert demos.count("add_date") == 2 and demos.tools() == {"add_date": 2}


def test_retrieval_returns_the_most_similar_demos_of_the_named_tools(tmp_path):
    demos = ToolDemos(tmp_path / "s.sqlite")
    demos.add(demo("date ninety days after christmas", 90))
    demos.add(demo("weather in tokyo tomorrow", 1))
    demos.add(demo("ninety days after christmas for another tool", 90, tool="other"))
    found = demos.retrieve(["add_date"], "What is the date ninety days after christmas 2021?", k=1)
    assert [d.query for d in found] == ["date ninety days after christmas"]
    assert demos.retrieve(["missing"], "anything", k=3) == []


def test_demo_block_stays_within_its_budget_however_many_demos_are_given():
    many = [demo(f"question number {i} " + "word " * 40, i) for i in range(1000)]
    text = render_demos(many, single=True, budget_chars=1500)
    assert 0 < len(text) <= 1500 + len("Examples of correct calls:\n") + 1
    prompt = call_messages("q", [ADD_DATE], many, demo_chars=1500)
    assert len(prompt[-1]["content"]) < 3000


def test_memory_persists_across_instances(tmp_path):
    path = tmp_path / "s.sqlite"
    ExplorerMemory(path).record(Trial(tool="t", query="first", success=True, note="ok"))
    ExplorerMemory(path).record(Trial(tool="t", query="second", call=ToolCall(name="t", arguments={"a": 1})))
    again = ExplorerMemory(path)
    assert [(t.query, t.success) for t in again.recent("t")] == [("first", True), ("second", False)]
    assert again.recent("t")[1].call.arguments == {"a": 1}
    assert again.count("t") == (2, 1) and again.recent("other") == []


def test_api_cache_keys_on_canonical_arguments(tmp_path):
    cache = ApiCache(tmp_path / "s.sqlite")
    assert cache.put("api", {"b": 1, "a": "x"}, "first") == "first"
    assert cache.put("api", {"a": "x", "b": 1}, "second") == "first"  # first answer wins
    assert cache.get("api", {"a": "x", "b": 1}) == "first" and cache.get("api", {"a": "y"}) is None
    assert cache.recent("api") == [('{"a":"x","b":1}', "first")]


def test_catalog_reads_both_description_forms(tmp_path):
    assert ADD_DATE.parameters["properties"] == {"date": {"type": "string"}, "days": {"type": "integer"}}
    bart = api_from_description("BART%%Advisory", json.dumps({
        "description": "", "required_parameters": [{"name": "cmd", "type": "STRING", "description": "d"}],
        "optional_parameters": [{"name": "orig", "type": "ENUM", "description": ""}]}))
    assert bart.parameters["required"] == ["cmd"] and bart.parameters["properties"]["orig"] == {}
    listing = tmp_path / "apis.json"
    listing.write_text(json.dumps([{"name": "echo", "description": "echo", "endpoint": "http://127.0.0.1:1/e",
                                    "parameters": {"type": "object", "properties": {"s": {"type": "string"}}}}]))
    assert load_api_list(listing)[0].endpoint == "http://127.0.0.1:1/e"
    listing.write_text('[{"description": "no name"}]')
    with pytest.raises(ApiCatalogError, match="name"):
        load_api_list(listing)


def test_schema_violations_are_typed_errors():
    ok = ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": 3})
    assert checked(ADD_DATE, ok) is None
    wrong_type = checked(ADD_DATE, ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": "3"}))
    assert wrong_type.error == "invalid_arguments" and "days" in wrong_type.text
    assert checked(ADD_DATE, ToolCall(name="add_date", arguments={"date": "x"})).error == "invalid_arguments"
    assert checked(ADD_DATE, ToolCall(name="other", arguments={})).error == "unknown_tool"
    assert not Observation(ok=True, text=" null ").useful and Observation(ok=True, text="3").useful


def test_parse_call_checks_the_tool_name():
    other = ApiSpec(name="other")
    assert parse_call({"date": "d"}, [ADD_DATE]) == ToolCall(name="add_date", arguments={"date": "d"})
    assert parse_call({"tool": "other", "arguments": {}}, [ADD_DATE, other]).name == "other"
    with pytest.raises(ArgumentError):
        parse_call({"tool": "nope", "arguments": {}}, [ADD_DATE, other])
    with pytest.raises(ArgumentError):
        parse_call(["not", "an", "object"], [ADD_DATE])


def test_call_scoring_normalises_types_and_whitespace():
    from agents.exploring.call_scoring import gold_arguments, score_call
    gold = gold_arguments('{\n  "length": "15", "name": "New  York ", "n": 2.0}')
    same = ToolCall(name="api", arguments={"length": 15, "name": "new york", "n": 2})
    assert score_call(same, "api", gold) == {"wellformed": True, "api_match": True, "correct": True}
    assert score_call(ToolCall(name="api", arguments={"length": 15}), "api", gold)["correct"] is False
    assert score_call(ToolCall(name="other", arguments={}), "api", {})["api_match"] is False
    assert score_call(None, "api", {}) == {"wellformed": False, "api_match": False, "correct": False}
