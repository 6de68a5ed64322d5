"""The tool user: the tool travels with the call, is checked once and cached by version; typed
failures; structured tools through the stub user role; a replica built from its recipe in Ray."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.pipeline import bootstrap
from agents.pipeline.config import PipelineConfig
from agents.sandbox import Sandbox
from agents.using.tool_user import ToolUser
from bus.runtime import Pool
from bus.wire.messages import ErrorReply, ToolAnswer, UseTool
from bus.wire.tool_spec import ToolSpec

from .pipeline_helpers import started, words_from_prompt

# The sandbox lives on one event loop: the fixtures and the tests share the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

SORTER = ToolSpec(tool_id="word_sorting", code="def solve(question: str) -> str:\n"
                  "    return ' '.join(sorted(question.split('List:')[1].split()))\n")
STRUCTURED = ToolSpec(tool_id="sorter", entry="tool", shape="structured", signature="tool(words: list[str]) -> str",
                      code="def tool(words: list[str]) -> str:\n    return ' '.join(sorted(words))\n")
QUESTION = "Sort the following words alphabetically: List: pear fig kiwi"


@pytest.fixture
async def user(llm_stub):
    """A tool user with no store at all: everything it runs comes with the call."""
    async with started(ToolUser(Sandbox(), LLMClient(llm_stub.config(max_retries=0)))) as agent:
        yield agent


def use(spec: ToolSpec, text: str = QUESTION) -> UseTool:
    return UseTool(text=text, task="word_sorting", tool=spec.tool_code, confidence=0.7, trace_id="t1")


async def test_the_tool_sent_with_the_call_answers_without_a_store(user, llm_stub):
    answer = await user.use(use(SORTER))
    assert (answer.route, answer.answer, answer.error) == ("tool", "fig kiwi pear", None)
    assert (answer.tool_id, answer.tool_version, answer.confidence) == ("word_sorting", SORTER.version, 0.7)
    assert answer.spend.calls == 0 and llm_stub.calls() == []


async def test_a_tool_that_raises_is_a_typed_error_answer(user):
    broken = ToolSpec(tool_id="broken", code="def solve(question: str) -> str:\n    return question.split('NOPE')[1]\n")
    answer = await user.use(use(broken))
    assert answer.route == "error" and answer.answer is None
    assert answer.error.code == "tool_tool_error" and "IndexError" in answer.error.message


async def test_a_structured_tool_gets_its_arguments_from_the_user_role(user, llm_stub):
    llm_stub.script(words_from_prompt, role="user")
    answer = await user.use(use(STRUCTURED))
    assert answer.route == "tool" and answer.answer == "fig kiwi pear"
    assert [(u.role, u.calls) for u in answer.spend.roles] == [("user", 1)]
    assert "tool(words: list[str])" in llm_stub.calls("user")[0].messages[-1]["content"]


async def test_a_structured_tool_without_an_llm_says_so(llm_stub):
    async with started(ToolUser(Sandbox())) as agent:
        answer = await agent.use(use(STRUCTURED))
    assert answer.route == "error" and answer.error.code == "argument_extraction"
    assert "LLM" in answer.error.message


async def test_replicas_built_from_the_bootstrap_recipe_answer_in_ray(ray_session, llm_stub, tmp_path):
    config = PipelineConfig(store_path=str(tmp_path / "tools.sqlite"))
    recipe = bootstrap.agent_recipes(llm_stub.config(), config, in_actors=True).user
    pool = Pool(*recipe, replicas=2, batch_size=8)
    try:
        answers = [await pool.submit(use(SORTER, text=f"Sort: List: {w} apple")) for w in ("pear", "fig", "kiwi")]
    finally:
        await pool.close()
    assert all(isinstance(a, ToolAnswer) and a.route == "tool" for a in answers)
    assert [a.answer for a in answers] == ["apple pear", "apple fig", "apple kiwi"]


async def test_a_replica_refuses_code_that_does_not_hash_to_its_version(ray_session, llm_stub, tmp_path):
    config = PipelineConfig(store_path=str(tmp_path / "tools.sqlite"))
    pool = Pool(*bootstrap.agent_recipes(llm_stub.config(), config, in_actors=True).user, replicas=1)
    forged = SORTER.tool_code.model_construct(**{**SORTER.tool_code.model_dump(), "code": "def solve(q):\n    return 'x'\n"})
    try:
        reply = await pool.submit(UseTool.model_construct(**{**use(SORTER).model_dump(), "tool": forged}))
        intact = await pool.submit(use(SORTER))
    finally:
        await pool.close()
    assert isinstance(reply, ErrorReply) and reply.code == "bad_message" and "does not hash" in reply.message
    assert isinstance(intact, ToolAnswer) and intact.answer == "fig kiwi pear"
