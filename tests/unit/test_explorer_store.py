"""Explorer persistence: demos (dedupe, bounded retrieval), long-term memory, the API response cache."""
from __future__ import annotations

import json

import pytest

from agents.exploring.api_catalog import ApiCatalogError, api_from_description, load_api_list
from agents.exploring.backends import Observation, checked
from agents.using.tool_calls import ArgumentError, call_messages, demo_turns, parse_call
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


def test_demo_turns_stay_within_their_budget_however_many_demos_are_given():
    many = [demo(f"question number {i} " + "word " * 40, i) for i in range(1000)]
    turns = demo_turns(many, single=True, budget_chars=1500, ask="Give the arguments.")
    assert 0 < len(turns) < 1000 and sum(len(q) + len(r) for q, r in turns) <= 1500
    prompt = call_messages("q", [ADD_DATE], many, demo_chars=1500)
    assert sum(len(m["content"]) for m in prompt) < 3000
    # Each demo is an earlier question and the reply in exactly the answer's format.
    assert [m["role"] for m in prompt[:4]] == ["system", "user", "assistant", "user"]
    assert json.loads(prompt[-2]["content"]) == {"date": "2022-01-01", "days": 0}  # the best demo, nearest
    assert prompt[-1]["content"].startswith("Question:\nq")


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


def test_the_call_schema_allows_each_candidate_only_its_own_arguments():
    import jsonschema
    from agents.using.tool_calls import MAX_TEXT, call_schema
    today = api_from_description("get_today_date", "Get today's date.")
    places = ApiSpec(name="places", parameters={"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "default": "London", "description": "a city"}, "lang": {"description": "code"}}})
    schema = call_schema([ADD_DATE, today, places])
    valid = jsonschema.Draft202012Validator(schema).is_valid
    assert valid({"tool": "add_date", "arguments": {"date": "2022-01-01", "days": 3}})
    assert valid({"tool": "get_today_date", "arguments": {}})
    assert not valid({"tool": "get_today_date", "arguments": {"type": "object"}})  # the schema-copying reply
    assert not valid({"tool": "add_date", "arguments": {"name": "Paris"}})  # another candidate's argument
    assert not valid({"tool": "nope", "arguments": {}})
    # Only names and types reach the grammar: no prose or defaults to copy; untyped arguments are text.
    text = {"type": "string", "maxLength": MAX_TEXT}  # bounded, so a rambling model cannot cut its own JSON
    assert call_schema([places])["properties"] == {"name": text, "lang": text}


def test_a_call_is_grounded_when_its_values_come_from_the_query():
    from agents.exploring.grounding import ungrounded
    query = "What is the date 90 days after 2022-10-14?"
    assert ungrounded(ToolCall(name="add_date", arguments={"date": "2022-10-14", "days": 90.0}), query) == []
    assert ungrounded(ToolCall(name="add_date", arguments={"date": "2018-04-30", "days": 90}), query) == ["date"]
    assert ungrounded(ToolCall(name="add_date", arguments={"date": "", "days": 9}), query) == ["date", "days"]
    # A default from the description is not in the query either: the demo would teach copying defaults.
    assert ungrounded(ToolCall(name="m", arguments={"name": "Cabel"}), "Details of a character?") == ["name"]
    assert ungrounded(ToolCall(name="m", arguments={"words": ["kiwi", "fig"], "json": True}), "sort kiwi, fig") == []


def test_explored_queries_bring_their_tool_among_the_candidates(tmp_path):
    from agents.using.candidates import ToolRetrieval, candidates_and_demos
    apis = [ApiSpec(name="grades", description="Student grades of the school"),
            ApiSpec(name="messages", description="Messages of the school")]
    demos = ToolDemos(tmp_path / "s.sqlite")
    demos.add(ToolDemo(tool="messages", query="What did the teacher write to student 3 at Santa Ana?",
                       call=ToolCall(name="messages", arguments={})))
    query = "What did the teacher write to student 5 at the Santa Ana school?"
    assert candidates_and_demos(ToolRetrieval(apis), None, query, k=1, demo_k=2) == (["grades"], [])
    served = {"messages": ["What did the teacher write to student 3 at Santa Ana?"]}
    names, shown = candidates_and_demos(ToolRetrieval(apis, served), demos, query, k=1, demo_k=2)
    assert names == ["messages"] and [d.tool for d in shown] == ["messages"]
    assert candidates_and_demos(ToolRetrieval(apis, served), demos, "student grades", k=1, demo_k=2) == (["grades"], [])
    assert [d.tool for _, d in demos.similar(query, 5)] == ["messages"]
