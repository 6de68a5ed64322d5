"""The maker: sample-and-verify with feedback on training cases only, reuse of known tools, budgets,
and the maker actor the bootstrap wires with verifier actors (real stub, real sandbox, real Ray)."""
from __future__ import annotations

import asyncio

import pytest

from agents.llm.client import LLMClient
from agents.making.maker import Maker, MakerConfig
from agents.making.verifier import Verifier
from agents.pipeline import bootstrap
from agents.sandbox import Sandbox
from bus.runtime import spawn
from bus.wire.messages import MakeTool, ToolMade
from bus.wire.tool_spec import Example, ToolSpec

from .pipeline_helpers import CORE_SORT_TOOL, CRASHING_TOOL, SOFT_REVIEW_TOOL, WORD_SORT_TOOL, WRONG_TOOL

# The sandbox lives on one event loop: the fixtures and the tests share the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

END_TO_END = MakerConfig(samples_per_round=1, rounds=2, shapes=("end_to_end",))


def sort_case(words: str) -> Example:
    return Example(input=f"Sort the following words alphabetically: List: {words}",
                   target=" ".join(sorted(words.split())))


TRAIN = [sort_case("pear fig"), sort_case("kiwi apple plum")]
HELD_OUT = [sort_case("yam oat rye"), sort_case("lime date")]
SORT_TASK = MakeTool(task="word_sorting", train=TRAIN, validation=HELD_OUT)


@pytest.fixture
async def make_maker(llm_stub):
    """Builds started makers, each with a verifier of its own in this process; closes them after the test."""
    makers: list[Maker] = []

    async def build(config: MakerConfig = END_TO_END, concurrency: int = 4) -> Maker:
        client = LLMClient(llm_stub.config(max_retries=0, concurrency=concurrency))
        makers.append(Maker(client, Verifier(Sandbox(), LLMClient(llm_stub.config(max_retries=0))), config))
        await makers[-1].start()
        return makers[-1]
    yield build
    for maker in makers:
        await maker.close()


async def test_a_wrong_candidate_gets_training_failures_back_and_the_repair_is_accepted(llm_stub, make_maker):
    llm_stub.script_sequence([WRONG_TOOL, WORD_SORT_TOOL], role="maker")
    maker = await make_maker()
    made = await maker.make(SORT_TASK)
    assert made.ok and (made.samples, made.rounds) == (2, 2) and not made.reused
    assert made.tool.tool_id == "word_sorting" and made.tool.tests == tuple(HELD_OUT)
    feedback = llm_stub.calls("maker")[1].messages[-1]["content"]
    assert "Expected: 'fig pear'" in feedback and "'wrong'" in feedback
    assert "yam" not in feedback and "lime" not in feedback  # held-out cases are never shown
    assert made.spend.role("maker").calls == 2 and made.spend.role("maker").completion_tokens > 0


async def test_candidates_that_never_pass_end_within_the_rounds(llm_stub, make_maker):
    llm_stub.script(CRASHING_TOOL, role="maker")
    maker = await make_maker()
    made = await maker.make(SORT_TASK)
    assert not made.ok and made.tool is None and made.samples == 2
    assert made.reason == "rounds exhausted: best candidate passed 0/4 cases"
    # The repair is told the exception and the model's own line, not the sandbox's traceback.
    feedback = llm_stub.calls("maker")[1].messages[-1]["content"]
    assert ("Your function raised IndexError: list index out of range\n"
            "  at this line: return question.split(\"NOPE\")[1]") in feedback
    assert "Traceback" not in feedback


async def test_a_known_tool_that_passes_is_reused_without_a_sample(llm_stub, make_maker):
    known = ToolSpec(tool_id="alphabetize", code=WORD_SORT_TOOL.split("```python\n")[1].split("```")[0])
    wrong = ToolSpec(tool_id="wrong", code="def solve(question: str) -> str:\n    return 'wrong'\n")
    maker = await make_maker()
    made = await maker.make(SORT_TASK.model_copy(update={"known_tools": [wrong, known]}))
    assert made.ok and made.reused and made.tool == known and made.samples == 0
    assert llm_stub.calls("maker") == []


async def test_a_candidate_calling_undefined_helpers_is_a_soft_tool(llm_stub, make_maker):
    llm_stub.script(SOFT_REVIEW_TOOL, role="maker")
    llm_stub.script(lambda body: "True" if "love" in body["messages"][-1]["content"] else "False", role="lmulator")
    cases = [Example(input="Is this review positive: I love it", target="yes"),
             Example(input="Is this review positive: it broke", target="no")]
    maker = await make_maker()
    made = await maker.make(MakeTool(task="review", train=cases[:1], validation=cases[1:]))
    assert made.ok and made.tool.shape == "soft"
    assert made.spend.role("lmulator").calls == 2  # verifying simulated the helper once per case


async def test_core_feedback_shows_what_the_core_function_was_given(llm_stub, make_maker):
    llm_stub.script_sequence([WRONG_TOOL, WRONG_TOOL, CORE_SORT_TOOL], role="maker")
    maker = await make_maker(MakerConfig(samples_per_round=1, rounds=3, shapes=("core",)))
    made = await maker.make(SORT_TASK)
    assert made.ok and made.rounds == 3 and "core_solve(" in made.tool.code
    feedback = llm_stub.calls("maker")[1].messages[-1]["content"]
    assert "Given: [" in feedback and "List:" not in feedback  # the words list, not the question


async def test_questions_without_a_shared_instruction_skip_the_core_shape(llm_stub, make_maker):
    llm_stub.script(WRONG_TOOL, role="maker")
    bare = MakeTool(task="word_sorting", train=[Example(input=c.input.split("List: ")[1], target=c.target)
                                                for c in TRAIN], validation=HELD_OUT)
    maker = await make_maker(MakerConfig(samples_per_round=1, rounds=1, shapes=("core", "end_to_end")))
    made = await maker.make(bare)
    prompts = [c.messages[-1]["content"] for c in llm_stub.calls("maker")]
    assert not made.ok and len(prompts) == 1 and "Question 1:" in prompts[0]  # only the end-to-end ask


async def test_the_bootstrapped_maker_actor_verifies_on_verifier_actors(ray_session, llm_stub):
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    recipe = bootstrap.maker(llm_stub.config(), END_TO_END, 2.0, verifier_replicas=1)
    handle = spawn(recipe.agent, *recipe.args)
    try:
        made = await handle.call(SORT_TASK)
    finally:
        await handle.close()
    assert isinstance(made, ToolMade) and made.ok and made.samples == 1
    assert "sorted(words)" in made.tool.code


def marked_sort_task(task: str, marker: str) -> MakeTool:
    """A making request whose examples carry a marker word, so each LLM call shows its kind."""
    def marked(case: Example) -> Example:
        return Example(input=f"{case.input} {marker}", target=f"{case.target} {marker}")
    return MakeTool(task=task, train=[marked(c) for c in TRAIN], validation=[marked(c) for c in HELD_OUT])


def kinds_called(llm_stub) -> list[str]:
    """The marker of each maker call, in the order the stub received them."""
    return ["kind-one" if "kind-one" in str(c.messages) else "kind-two" for c in llm_stub.calls("maker")]


async def test_a_busy_maker_makes_one_kind_at_a_time_in_arrival_order(llm_stub, make_maker):
    llm_stub.script(WRONG_TOOL, role="maker")
    # Concurrency 2 serves one making's round of 2 samples: one making at a time.
    maker = await make_maker(MakerConfig(samples_per_round=2, rounds=2, shapes=("end_to_end",)), concurrency=2)
    made = await asyncio.gather(maker.make(marked_sort_task("first", "kind-one")),
                                maker.make(marked_sort_task("second", "kind-two")))
    assert [m.ok for m in made] == [False, False]
    assert kinds_called(llm_stub) == ["kind-one"] * 4 + ["kind-two"] * 4


async def test_a_maker_with_room_for_two_rounds_makes_two_kinds_at_once(llm_stub, make_maker):
    llm_stub.script(WRONG_TOOL, role="maker")
    maker = await make_maker(MakerConfig(samples_per_round=2, rounds=2, shapes=("end_to_end",)), concurrency=4)
    await asyncio.gather(maker.make(marked_sort_task("first", "kind-one")),
                         maker.make(marked_sort_task("second", "kind-two")))
    # Both kinds' first rounds are drawn before either kind's second round.
    assert sorted(kinds_called(llm_stub)[:4]) == ["kind-one", "kind-one", "kind-two", "kind-two"]
