"""Exploring stored tools in the sandbox, the HTTP adapter, demos in the ToolUser's prompt, the Ray actor."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agents.exploring.api_catalog import api_from_description
from agents.exploring.backends import HttpApi
from agents.llm.client import LLMClient
from agents.pipeline import bootstrap
from agents.sandbox import Sandbox
from agents.using.tool_user import ToolUser
from bus.wire.api_spec import ApiSpec, ToolCall
from bus.wire.messages import Explored, ExploreTool, UseTool
from bus.wire.tool_spec import ToolSpec
from store.tool_demos import ToolDemo, ToolDemos
from store.tool_store import ToolStore

SORTER = ToolSpec(tool_id="sorter", task="word_sorting", shape="structured", entry="tool",
                  signature="tool(words: list[str]) -> str", docstring="Sort words alphabetically.",
                  code='def tool(words: list[str]) -> str:\n    return " ".join(sorted(words))\n')
IMAGINE, TRY, REFLECT = "Write one new, specific request", "Give the arguments of", "Did this call answer"


async def test_a_stored_structured_tool_runs_for_real_in_the_sandbox(llm_stub, tmp_path):
    store = str(tmp_path / "s.sqlite")
    ToolStore(store).put(SORTER)
    llm_stub.script({"query": "Sort pear apple fig"}, role="explorer", match=IMAGINE)
    llm_stub.script({"words": ["pear", "apple", "fig"]}, role="explorer", match=TRY)
    llm_stub.script({"fulfilled": True, "reason": "sorted"}, role="explorer", match=REFLECT)
    explorer = bootstrap.explorer(store, llm_stub.config()).build()
    try:
        await explorer.start()
        done = await explorer.explore(ExploreTool(tool_id="sorter", trials=1))
    finally:
        await explorer.close()
    assert (done.successes, done.demos_kept) == (1, 1)
    [demo] = ToolDemos(store).list("sorter")
    assert demo.observation == "apple fig pear"  # computed by the tool, not by a model


async def test_a_tool_that_raises_gives_an_error_observation_not_a_demo(llm_stub, tmp_path):
    store = str(tmp_path / "s.sqlite")
    ToolStore(store).put(SORTER.model_copy(update={"tool_id": "boom", "code": SORTER.code.replace(
        'return " ".join(sorted(words))', 'raise ValueError("no")')}))
    llm_stub.script({"query": "Sort b a"}, role="explorer", match=IMAGINE)
    llm_stub.script({"words": ["b", "a"]}, role="explorer", match=TRY)
    llm_stub.script({"fulfilled": True, "reason": "sure"}, role="explorer", match=REFLECT)
    explorer = bootstrap.explorer(store, llm_stub.config()).build()
    try:
        await explorer.start()
        done = await explorer.explore(ExploreTool(tool_id="boom", trials=1, corrections=0))
    finally:
        await explorer.close()
    assert (done.trials, done.successes, done.demos_kept) == (1, 0, 0)


class _Api(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - stdlib name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, payload = (500, {"error": "broken"}) if body.get("fail") else (200, {"echo": body})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/run"
    server.shutdown()
    server.server_close()


async def test_the_http_adapter_posts_json_and_types_its_errors(http_api):
    api = ApiSpec(name="echo", endpoint=http_api, parameters={"type": "object", "properties": {
        "s": {"type": "string"}, "fail": {"type": "boolean"}}, "additionalProperties": False})
    ok = await HttpApi(api).execute(ToolCall(name="echo", arguments={"s": "hi"}))
    failed = await HttpApi(api).execute(ToolCall(name="echo", arguments={"fail": True}))
    refused = await HttpApi(api).execute(ToolCall(name="echo", arguments={"x": 1}))
    gone = await HttpApi(api.model_copy(update={"endpoint": "http://127.0.0.1:9/x"})).execute(
        ToolCall(name="echo", arguments={}))
    assert ok.ok and json.loads(ok.text) == {"echo": {"s": "hi"}}
    assert (failed.ok, failed.error) == (False, "http_500") and "broken" in failed.text
    assert refused.error == "invalid_arguments" and gone.error == "unreachable"


def _fill_demos(store: str, n: int) -> None:
    demos = ToolDemos(store)
    for i in range(n):
        words = [f"w{i}a", f"w{i}b"]
        demos.add(ToolDemo(tool="sorter", query=f"Sort the words {' '.join(words)} for batch {i}",
                           call=ToolCall(name="sorter", arguments={"words": words}), observation=" ".join(words)))
    demos.add(ToolDemo(tool="sorter", query="Sort the following words alphabetically: List: kiwi fig",
                       call=ToolCall(name="sorter", arguments={"words": ["kiwi", "fig"]}), observation="fig kiwi"))


async def test_the_tool_user_prompt_holds_retrieved_demos_and_stays_bounded(llm_stub, tmp_path):
    from tests.integration.pipeline_helpers import words_from_prompt
    llm_stub.script(words_from_prompt, role="user")
    sizes = {}
    for n in (10, 1000):
        store = str(tmp_path / f"s{n}.sqlite")
        ToolStore(store).put(SORTER)
        _fill_demos(store, n)
        user = ToolUser(Sandbox(), LLMClient(llm_stub.config()), ToolDemos(store), demo_k=3, demo_chars=1200)
        await user.start()
        try:
            answer = await user.use(UseTool(text="Sort the following words alphabetically: List: pear apple",
                                            tool=SORTER.tool_code))
        finally:
            await user.close()
        assert answer.answer == "apple pear"
        messages = llm_stub.calls("user")[-1].messages
        prompt = "\n".join(m["content"] for m in messages)
        assert "Examples of correct calls" in prompt
        # The three most similar demos, each a question and a reply in the answer's own format, the closest last.
        demo_turns = [m["content"] for m in messages[1:-1]]
        assert len(demo_turns) == 6 and "List: kiwi fig" in demo_turns[-2]
        assert json.loads(demo_turns[-1]) == {"words": ["kiwi", "fig"]}
        sizes[n] = len(prompt)
    assert sizes[1000] < 4000 and abs(sizes[1000] - sizes[10]) < 200  # bounded, not growing with the store


async def test_the_explorer_runs_as_a_ray_actor(llm_stub, tmp_path, ray_session):
    from bus.runtime import spawn
    api = api_from_description("get_today_date", "Get today's date.")
    llm_stub.script({"query": "What day is it?"}, role="explorer", match=IMAGINE)
    llm_stub.script({}, role="explorer", match=TRY)
    llm_stub.script('{"date": "2023-05-01"}', role="simulator")
    llm_stub.script({"fulfilled": True, "reason": "a date"}, role="explorer", match=REFLECT)
    recipe = bootstrap.explorer(str(tmp_path / "s.sqlite"), llm_stub.config())
    handle = spawn(recipe.agent, *recipe.args)
    try:
        done = await handle.call(ExploreTool(api=api, trials=1))
    finally:
        await handle.close()
    assert isinstance(done, Explored) and (done.successes, done.demos_kept) == (1, 1)
    assert ToolDemos(tmp_path / "s.sqlite").list("get_today_date")[0].call.arguments == {}
