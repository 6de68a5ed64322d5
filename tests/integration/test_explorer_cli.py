"""`latm explore` and `latm tools demos` end to end, and exploration wired after the maker stores a tool."""
from __future__ import annotations

import io
import json

from agents.cli.main import main
from agents.pipeline.config import PipelineConfig
from agents.pipeline.bootstrap import local_services
from agents.pipeline.run import run_stream
from store.explorer_memory import ExplorerMemory
from store.tool_demos import ToolDemos
from store.tool_store import ToolStore

from .pipeline_helpers import STRUCTURED_SORT_TOOL, WRONG_TOOL, word_sort_requests, words_from_prompt

IMAGINE, TRY, REFLECT = "Write one new, specific request", "Give the arguments of", "Did this call answer"


def test_explore_apis_then_list_demos(llm_stub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", llm_stub.base_url)  # every role at the stub (environment, not the client)
    apis = tmp_path / "apis.json"
    apis.write_text(json.dumps([
        {"name": "add_date", "description": "Add days to a date.", "required_parameters": [
            {"name": "date", "type": "STRING"}, {"name": "days", "type": "NUMBER"}]},
        {"name": "unused", "description": "Never explored (--only)."}]))
    llm_stub.script({"query": "What is 5 days after 2022-03-01?"}, role="explorer", match=IMAGINE)
    llm_stub.script({"date": "2022-03-01", "days": 5}, role="explorer", match=TRY)
    llm_stub.script('{"date": "2022-03-06"}', role="simulator")
    llm_stub.script({"fulfilled": True, "reason": "ok"}, role="explorer", match=REFLECT)
    store = str(tmp_path / "s.sqlite")
    code = main(["explore", "--apis", str(apis), "--only", "add_date", "--trials", "2", "--store", store, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and (summary["tools"], summary["trials"], summary["successes"]) == (1, 2, 2)
    assert summary["demos_kept"] == 1  # the second trial repeated the first: deduplicated
    assert {u["role"]: u["calls"] for u in summary["usage"]} == {"explorer": 6, "simulator": 1}
    assert main(["tools", "demos", "add_date", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "What is 5 days after 2022-03-01?" in out and '"days": 5' in out and "1 demo(s)" in out
    assert main(["tools", "demos", "--store", store, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"add_date": 1}


def test_explore_refuses_bad_arguments(tmp_path, capsys):
    assert main(["explore"]) == 2
    assert "give a tool id or --apis FILE" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["explore", "--apis", str(bad), "--store", str(tmp_path / "s.sqlite")]) == 1
    assert "cannot read API descriptions" in capsys.readouterr().err


async def test_a_new_structured_tool_is_explored_in_the_background(llm_stub, tmp_path):
    from agents.making.maker import MakerConfig
    llm_stub.script(STRUCTURED_SORT_TOOL, role="maker", match="typed parameters")
    llm_stub.script(WRONG_TOOL, role="maker")
    llm_stub.script(words_from_prompt, role="user")
    llm_stub.script({"query": "Sort the following words alphabetically: List: pear fig"}, role="explorer",
                    match=IMAGINE)
    llm_stub.script({"words": ["pear", "fig"]}, role="explorer", match=TRY)
    llm_stub.script({"fulfilled": True, "reason": "sorted"}, role="explorer", match=REFLECT)
    config = PipelineConfig(store_path=str(tmp_path / "tools.sqlite"), maker=MakerConfig(
        samples_per_round=1, rounds=1, shapes=("end_to_end", "structured")))
    services = local_services(llm_stub.config(), config)
    await services.start()
    try:
        summary, _ = await run_stream(word_sort_requests(8), services, io.StringIO(), config.coordinator)
        await services.exploration.wait()
    finally:
        await services.close()
    spec = ToolStore(config.store_path).find_by_task("word_sorting")
    assert spec.shape == "structured"
    [explored] = services.exploration.results
    assert explored.tool == spec.tool_id and explored.trials == config.explore.trials
    assert ExplorerMemory(config.store_path).count(spec.tool_id)[0] == config.explore.trials
    assert ToolDemos(config.store_path).list(spec.tool_id)[0].observation == "fig pear"  # run in the sandbox
