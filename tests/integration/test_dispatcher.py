"""The dispatcher: task label, retrieval, and the judge only in the unsure band (real stub, real SQLite)."""
from __future__ import annotations

from agents.dispatching.dispatcher import Dispatcher, DispatcherConfig
from agents.llm.client import LLMClient
from agents.pipeline import bootstrap
from agents.pipeline.config import PipelineConfig
from bus.runtime import Pool
from bus.wire.messages import DispatchRequest, Dispatched
from bus.wire.tool_spec import Example, ToolSpec
from store.tool_store import ToolStore


def topic(i: int) -> str:
    """A distinct letters-only word per tool (retrieval ignores digits)."""
    return "top" + "".join("abcdefghij"[int(d)] for d in str(i)) + "ic"


def synthetic_tool(i: int) -> ToolSpec:
    code = f"def solve(question: str) -> str:\n    return '{i}'\n"
    return ToolSpec(tool_id=f"tool_{i}", task=f"task_{i}", code=code,
                    docstring=f"Answers questions about {topic(i)} widgets and gadgets",
                    tests=(Example(input=f"question about {topic(i)} widgets", target=str(i)),))


def dispatcher_over(tmp_path, llm_stub, n_tools: int, **knobs) -> Dispatcher:
    """A dispatcher over a fresh store of n synthetic tools, its judge on the stub."""
    store = ToolStore(tmp_path / f"tools{n_tools}.sqlite")
    for i in range(n_tools):
        store.put(synthetic_tool(i))
    return Dispatcher(store, LLMClient(llm_stub.config(max_retries=0)), DispatcherConfig(**knobs))


async def judge_prompt(llm_stub, tmp_path, n_tools: int) -> str:
    """The dispatcher judge's prompt for one request against a store of n tools."""
    llm_stub.reset()
    llm_stub.script({"choice": 1}, role="dispatcher")
    dispatcher = dispatcher_over(tmp_path, llm_stub, n_tools, accept_score=1.0, reject_score=0.0)
    try:
        decision = await dispatcher.dispatch(DispatchRequest(text=f"a question about {topic(7)} widgets"))
    finally:
        await dispatcher.close()
    assert decision.method == "judge" and decision.tool_id == "tool_7"
    return llm_stub.calls("dispatcher")[0].messages[-1]["content"]


async def test_dispatcher_prompt_size_does_not_grow_with_the_store(llm_stub, tmp_path):
    small = await judge_prompt(llm_stub, tmp_path, 10)
    large = await judge_prompt(llm_stub, tmp_path, 1000)
    assert small.count("Example request:") == large.count("Example request:") == 3
    assert abs(len(large) - len(small)) < 40  # only the candidates' numbers differ


async def test_a_task_label_names_the_tool_without_retrieval_or_judge(llm_stub, tmp_path):
    dispatcher = dispatcher_over(tmp_path, llm_stub, 5)
    decision = await dispatcher.dispatch(DispatchRequest(text="anything at all", task="task_3"))
    unknown = await dispatcher.dispatch(DispatchRequest(text=f"about {topic(3)} widgets", task="task_99"))
    await dispatcher.close()
    assert (decision.method, decision.tool_id, decision.confidence) == ("task", "tool_3", 1.0)
    assert decision.tool_version == synthetic_tool(3).version
    assert unknown.method == "miss" and unknown.tool_id is None  # a label is not second-guessed
    assert llm_stub.calls() == []


async def test_a_sure_retrieval_decides_alone_and_a_far_one_misses(llm_stub, tmp_path):
    dispatcher = dispatcher_over(tmp_path, llm_stub, 5, accept_score=0.3, reject_score=0.1)
    sure = await dispatcher.dispatch(DispatchRequest(text=f"question about {topic(2)} widgets"))
    far = await dispatcher.dispatch(DispatchRequest(text="sort these words: pear fig"))
    await dispatcher.close()
    assert sure.method == "retrieval" and sure.tool_id == "tool_2" and sure.confidence >= 0.3
    assert far.method == "miss" and far.tool_id is None
    assert llm_stub.calls() == []


async def test_a_judge_that_picks_none_is_a_paid_miss(llm_stub, tmp_path):
    llm_stub.script({"choice": 0}, role="dispatcher")
    dispatcher = dispatcher_over(tmp_path, llm_stub, 5, accept_score=1.0, reject_score=0.0)
    decision = await dispatcher.dispatch(DispatchRequest(text=f"question about {topic(4)} widgets"))
    await dispatcher.close()
    assert decision.method == "judge" and decision.tool_id is None
    assert decision.spend.role("dispatcher").calls == 1 and len(llm_stub.calls("dispatcher")) == 1


async def test_a_judge_that_cannot_be_reached_is_a_miss_not_an_error(llm_stub, tmp_path):
    llm_stub.script("not json at all", role="dispatcher")
    dispatcher = dispatcher_over(tmp_path, llm_stub, 5, accept_score=1.0, reject_score=0.0)
    decision = await dispatcher.dispatch(DispatchRequest(text=f"question about {topic(1)} widgets"))
    await dispatcher.close()
    assert decision.method == "miss" and decision.tool_id is None


async def test_replicas_built_from_the_bootstrap_recipe_read_the_same_store(ray_session, llm_stub, tmp_path):
    store_path = tmp_path / "tools.sqlite"
    ToolStore(store_path).put(synthetic_tool(5))
    config = PipelineConfig(store_path=str(store_path))
    pool = Pool(*bootstrap.agent_recipes(llm_stub.config(), config, in_actors=True).dispatcher, replicas=2)
    try:
        decision = await pool.submit(DispatchRequest(text="anything", task="task_5"))
    finally:
        await pool.close()
    assert isinstance(decision, Dispatched) and (decision.method, decision.tool_id) == ("task", "tool_5")
