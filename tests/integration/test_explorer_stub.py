"""The explorer against the scripted stub: episodes, memory, demos, simulator, malformed output, the ToolUser."""
from __future__ import annotations

import json

from agents.exploring.api_catalog import api_from_description
from agents.exploring.simulator import SimulatedApi
from agents.llm.client import LLMClient
from agents.pipeline import bootstrap
from bus.wire.api_spec import ToolCall
from bus.wire.messages import ExploreTool
from store.api_cache import ApiCache
from store.explorer_memory import ExplorerMemory
from store.tool_demos import ToolDemos

ADD_DATE = api_from_description(
    "add_date", "Add days to a date. Date should be pass as 'yyyy-mm-dd'.. Your input should be a json "
                '(args json schema): {{"date" : string, "days" : integer, }}')
IMAGINE = "Write one new, specific request"
TRY = "Give the arguments of"
REFLECT = "Did this call answer the query?"


def script_good_trial(stub, query: str, days: int, times: int | None = None) -> None:
    """One well-behaved trial: a query, a valid call, a simulated answer, a positive reflection."""
    stub.script({"query": query}, role="explorer", match=IMAGINE, times=times)
    stub.script({"date": "2022-01-01", "days": days}, role="explorer", match=TRY, times=times)
    stub.script('{"date": "2022-01-11"}', role="simulator", times=times)
    stub.script({"fulfilled": True, "reason": "the date is given"}, role="explorer", match=REFLECT, times=times)


def step_of(request) -> str:
    text = "\n".join(str(m.get("content") or "") for m in request.messages)
    if request.role == "simulator":
        return "simulate"
    return next(name for name, marker in (("imagine", IMAGINE), ("reflect", REFLECT), ("try", TRY))
                if marker in text)


def sent_schema(request) -> dict:
    """The JSON schema a request asked the server to enforce (json_schema or json_object mode)."""
    form = request.params["response_format"]
    return form["json_schema"]["schema"] if form["type"] == "json_schema" else form["schema"]


async def test_an_episode_imagines_calls_observes_and_reflects(llm_stub, tmp_path):
    script_good_trial(llm_stub, "What is the date 10 days after 2022-01-01?", 10)
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    try:
        done = await explorer.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=1))
    finally:
        await explorer.close()
    assert (done.trials, done.successes, done.demos_kept, done.step_errors) == (1, 1, 1, 0)
    assert [step_of(r) for r in llm_stub.calls()] == ["imagine", "try", "simulate", "reflect"]
    simulate, reflect = llm_stub.calls("simulator")[0], llm_stub.calls()[-1]
    assert '"days": 10' in simulate.messages[-1]["content"]
    assert "2022-01-11" in reflect.messages[-1]["content"]  # the reflection sees the observation
    assert {u.role: u.calls for u in done.spend.roles} == {"explorer": 3, "simulator": 1}
    [demo] = ToolDemos(tmp_path / "s.sqlite").list("add_date")
    assert demo.call == ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": 10})
    assert demo.observation == '{"date": "2022-01-11"}'


async def test_memory_is_shown_within_an_episode_and_after_a_restart(llm_stub, tmp_path):
    store = str(tmp_path / "s.sqlite")
    script_good_trial(llm_stub, "First query about 3 days", 3, times=1)
    script_good_trial(llm_stub, "Second query about 4 days", 4, times=1)
    explorer = bootstrap.explorer(store, llm_stub.config()).build()
    await explorer.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=2))
    await explorer.close()
    imagines = [r for r in llm_stub.calls() if step_of(r) == "imagine"]
    assert "Earlier trials in this session" in imagines[1].messages[-1]["content"]
    assert "First query about 3 days" in imagines[1].messages[-1]["content"]  # short-term memory
    script_good_trial(llm_stub, "Third query about 5 days", 5, times=1)
    restarted = bootstrap.explorer(store, llm_stub.config()).build()  # a new process would open the same file
    await restarted.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=1))
    await restarted.close()
    third = [r for r in llm_stub.calls() if step_of(r) == "imagine"][2].messages[-1]["content"]
    assert "Queries already tried on this tool" in third and "Earlier trials in this session" not in third
    assert "First query about 3 days [worked]" in third and "Second query about 4 days [worked]" in third
    assert ExplorerMemory(store).count("add_date") == (3, 3)


async def test_a_failed_call_is_never_stored_as_a_success_demo(llm_stub, tmp_path):
    llm_stub.script({"query": "Ten days after new year?"}, role="explorer", match=IMAGINE)
    llm_stub.script({"date": "2022-01-01", "days": 10}, role="explorer", match=TRY)
    llm_stub.script("", role="simulator")  # the API answers nothing: a typed error, not a result
    llm_stub.script({"fulfilled": True, "reason": "looks right"}, role="explorer", match=REFLECT)
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    done = await explorer.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=1, corrections=1))
    await explorer.close()
    assert (done.trials, done.successes, done.demos_kept) == (1, 0, 0)
    tries = [r for r in llm_stub.calls() if step_of(r) == "try"]
    assert len(tries) == 2 and "simulator_empty" in tries[1].messages[-1]["content"]  # corrective turn
    assert len(llm_stub.calls("simulator")) == 2  # an empty answer is not cached
    [trial] = ExplorerMemory(tmp_path / "s.sqlite").recent("add_date")
    assert not trial.success and trial.observation.startswith("ERROR simulator_empty")
    assert ToolDemos(tmp_path / "s.sqlite").count() == 0


async def test_a_call_the_schema_refuses_is_repaired_before_it_runs(llm_stub, tmp_path):
    llm_stub.script({"query": "Ten days after new year?"}, role="explorer", match=IMAGINE)
    llm_stub.script({"date": "2022-01-01", "days": "ten"}, role="explorer", match=TRY, times=1)
    llm_stub.script({"date": "2022-01-01", "days": 10}, role="explorer", match=TRY)
    llm_stub.script('{"date": "2022-01-11"}', role="simulator")
    llm_stub.script({"fulfilled": True, "reason": "ok"}, role="explorer", match=REFLECT)
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    done = await explorer.explore(ExploreTool(api=ADD_DATE, trials=1))
    await explorer.close()
    assert done.successes == 1 and '"days": 10' in llm_stub.calls("simulator")[0].messages[-1]["content"]
    repair = [r for r in llm_stub.calls() if step_of(r) == "try"][1].messages[-1]["content"]
    assert "not valid" in repair and "days" in repair


async def test_malformed_output_in_any_step_is_a_typed_error_and_the_episode_goes_on(llm_stub, tmp_path):
    llm_stub.script("no json here", role="explorer", match=IMAGINE, times=3)  # trial 1: imagine fails
    llm_stub.script({"query": "Two days after 2022-01-01?"}, role="explorer", match=IMAGINE)
    llm_stub.script("garbage", role="explorer", match=TRY, times=3)  # trial 2: try fails
    llm_stub.script({"date": "2022-01-01", "days": 2}, role="explorer", match=TRY)
    llm_stub.script('{"date": "2022-01-03"}', role="simulator")
    llm_stub.script("what?", role="explorer", match=REFLECT)  # trial 3: reflect fails
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    done = await explorer.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=3))
    await explorer.close()
    assert done.error is None and done.step_errors == 3
    assert (done.trials, done.successes, done.demos_kept) == (2, 0, 0)
    notes = [t.note for t in ExplorerMemory(tmp_path / "s.sqlite").recent("add_date")]
    assert notes == ["try: no well-formed call", "reflect failed"]


async def test_the_simulator_caches_answers_and_refuses_bad_arguments(llm_stub, tmp_path):
    llm_stub.script('{"date": "2022-01-04"}', role="simulator", times=1)
    llm_stub.script('{"date": "a different answer"}', role="simulator")
    client = LLMClient(llm_stub.config())
    call = ToolCall(name="add_date", arguments={"days": 3, "date": "2022-01-01"})
    try:
        first = await SimulatedApi(ADD_DATE, client, ApiCache(tmp_path / "s.sqlite")).execute(call)
        reordered = ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": 3})
        again = await SimulatedApi(ADD_DATE, client, ApiCache(tmp_path / "s.sqlite")).execute(reordered)
        bad = await SimulatedApi(ADD_DATE, client, ApiCache(tmp_path / "s.sqlite")).execute(
            ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": 3, "hours": 2}))
        other = await SimulatedApi(ADD_DATE, client, ApiCache(tmp_path / "s.sqlite")).execute(
            ToolCall(name="add_date", arguments={"date": "2022-01-01", "days": 4}))
    finally:
        await client.aclose()
    assert first.ok and first.text == again.text == '{"date": "2022-01-04"}'
    assert not bad.ok and bad.error == "invalid_arguments" and "hours" in bad.text
    assert other.text == '{"date": "a different answer"}'
    assert len(llm_stub.calls("simulator")) == 2  # the repeat and the refused call cost nothing
    assert 'Response: {"date": "2022-01-04"}' in llm_stub.calls("simulator")[1].messages[-1]["content"]  # earlier answer shown


async def test_a_missing_tool_is_a_typed_error(llm_stub, tmp_path):
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    done = await explorer.explore(ExploreTool(tool_id="nope"))
    await explorer.close()
    assert done.error.code == "explore_target" and "latm tools list" in done.error.message
    assert llm_stub.calls() == []


async def test_a_call_whose_values_the_query_does_not_hold_is_not_kept_as_a_demo(llm_stub, tmp_path):
    llm_stub.script({"query": "Can you add some days to a date?"}, role="explorer", match=IMAGINE)
    llm_stub.script({"date": "2018-04-30", "days": 7}, role="explorer", match=TRY)  # values made up
    llm_stub.script('{"date": "2018-05-07"}', role="simulator")
    llm_stub.script({"fulfilled": True, "reason": "a date came back"}, role="explorer", match=REFLECT)
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    done = await explorer.explore(ExploreTool(api=ADD_DATE, trials=1))
    await explorer.close()
    assert (done.trials, done.successes, done.demos_kept) == (1, 1, 0)
    assert ToolDemos(tmp_path / "s.sqlite").count() == 0


async def test_no_step_shows_the_model_a_raw_json_schema(llm_stub, tmp_path):
    from agents.exploring.prompts import IMAGINE_FORMAT
    from agents.using.tool_calls import MAX_TEXT, SINGLE_FORMAT
    script_good_trial(llm_stub, "What is the date 10 days after 2022-01-01?", 10)
    explorer = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config()).build()
    await explorer.explore(ExploreTool(api=ADD_DATE, trials=1))
    await explorer.close()
    imagine, call, _, reflect = llm_stub.calls()
    for request in (imagine, call, reflect):
        assert '"properties"' not in "\n".join(m["content"] for m in request.messages)
    assert IMAGINE_FORMAT in imagine.messages[0]["content"] and SINGLE_FORMAT in call.messages[0]["content"]
    # The schema goes to the server as the response format, whose grammar enforces it.
    sent = sent_schema(call)
    assert sent["properties"] == {"date": {"type": "string", "maxLength": MAX_TEXT}, "days": {"type": "integer"}}
    assert sent["additionalProperties"] is False


async def test_a_call_among_candidates_is_held_to_the_chosen_tools_arguments(llm_stub, tmp_path):
    from agents.using.tool_calls import MULTI_FORMAT, extract_call
    today = api_from_description("get_today_date", "Get today's date.")
    llm_stub.script({"tool": "get_today_date", "arguments": {"type": "object"}}, role="user", times=1)
    llm_stub.script({"tool": "get_today_date", "arguments": {}}, role="user")
    client = LLMClient(llm_stub.config())
    try:
        call, record = await extract_call(client, "user", "What day is it?", [ADD_DATE, today])
    finally:
        await client.aclose()
    assert call == ToolCall(name="get_today_date", arguments={}) and record.calls == 2
    first, repair = llm_stub.calls("user")
    assert MULTI_FORMAT in first.messages[0]["content"]
    assert len(sent_schema(first)["anyOf"]) == 2
    assert "not valid" in repair.messages[-1]["content"]  # the schema-copying reply was refused
