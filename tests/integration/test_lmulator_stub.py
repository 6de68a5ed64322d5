"""The LMulator end to end: real sandbox workers, the real LLM client, the scripted stub server."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.lmulator import LMulator, LMulatorConfig, verify_soft_tool
from agents.lmulator.soft_tools import run_soft_tool
from bus.wire.tool_spec import Example, ToolSpec

# The sandbox pool lives on one event loop; every test here runs on the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def lmulator(llm_stub, module_sandbox):
    """An LMulator whose 'lmulator' role talks to the stub."""
    client = LLMClient(llm_stub.config(max_retries=0))
    yield LMulator(client, module_sandbox, LMulatorConfig(python_timeout_s=1.5))
    await client.aclose()


def lm_prompts(stub) -> list[str]:
    """The user prompts the lmulator role sent."""
    return [r.messages[-1]["content"] for r in stub.calls(role="lmulator")]


async def test_undefined_helper_is_simulated_and_gives_the_answer(lmulator, llm_stub):
    llm_stub.script("True", role="lmulator",
                    match="`is_sarcastic('Great, another Monday meeting at 7am')`")
    program = ("sentence = 'Great, another Monday meeting at 7am'\n"
               "answer = 'sarcastic' if is_sarcastic(sentence) else 'sincere'\n")
    run = await lmulator.run(program)
    assert run.ok, run.detail
    assert run.answer == "sarcastic"  # the LM answered the call, Python did the rest
    steps = [(s.line, s.by) for s in run.trace.steps]
    assert steps == [(1, "python"), (2, "lm")]
    prompt = lm_prompts(llm_stub)[0]
    assert ">>   2" in prompt and "sentence = 'Great, another Monday meeting at 7am'" in prompt
    assert len(run.records) == 1 and run.records[0].role == "lmulator"


async def test_helper_in_function_inside_loop(lmulator, llm_stub):
    def classify(body: dict) -> str:
        text = body["messages"][-1]["content"]
        return "'fruit'" if "`category_of('pear')`" in text else "'tool'"

    llm_stub.script(classify, role="lmulator")
    program = ("def kind_of(word):\n"
               "    label = category_of(word)\n"
               "    return label\n"
               "answer = []\n"
               "for w in ['pear', 'saw', 'pear']:\n"
               "    answer.append(kind_of(w))\n")
    run = await lmulator.run(program)
    assert run.ok, run.detail
    # A list answer is written as its items between spaces, as BBH answers are.
    assert run.answer == "fruit tool fruit" and run.answer_repr == "['fruit', 'tool', 'fruit']"
    assert run.trace.simulated_lines == 3
    assert {s.scope for s in run.trace.steps if s.by == "lm"} == {"kind_of"}


async def test_expression_statement_state_reply_rebinds_list(lmulator, llm_stub):
    llm_stub.script("{'answer': ['Canberra']}", role="lmulator")
    # A list has no .push: the whole statement goes to the LM, which returns the new state.
    run = await lmulator.run("answer = []\nanswer.push(capital_of_australia)\n")
    assert run.ok and run.answer == "Canberra"
    assert "dict literal" in lm_prompts(llm_stub)[0]


async def test_a_sorted_list_answers_as_words_and_a_nested_list_as_python(lmulator):
    run = await lmulator.run("answer = sorted('pear fig apple'.split())\n")
    assert run.ok and run.answer == "apple fig pear"
    run = await lmulator.run("answer = [sorted('b a'.split()), [True]]\n")
    assert run.ok and run.answer == "[['a', 'b'], [True]]"


@pytest.mark.parametrize("reply, code", [
    ("__import__('os').system('touch /tmp/pwned')", "state_reply_code"),
    ("'" + "x" * 6000 + "'", "state_reply_too_large"),
    ("I think it could be several things", "state_reply_malformed"),
])
async def test_bad_state_replies_are_rejected(lmulator, llm_stub, reply, code):
    llm_stub.script(reply, role="lmulator")
    run = await lmulator.run("answer = mystery_value(3)\n")
    assert not run.ok and run.error == "state_reply"
    assert code in run.detail
    # Rejected once, re-asked once with the reason, rejected again.
    assert len(run.trace.rejected) == 2 and len(llm_stub.calls(role="lmulator")) == 2
    assert "rejected" in llm_stub.calls(role="lmulator")[1].messages[-1]["content"]


async def test_python_infinite_loop_is_stopped_by_the_sandbox(lmulator):
    run = await lmulator.run("n = 0\nwhile True:\n    n += 1\nanswer = n\n")
    assert not run.ok and run.error == "timeout"


async def test_simulated_line_budget_stops_a_loop_of_helpers(llm_stub, module_sandbox):
    llm_stub.script("1", role="lmulator")
    client = LLMClient(llm_stub.config(max_retries=0))
    lm = LMulator(client, module_sandbox, LMulatorConfig(max_simulated_lines=3))
    run = await lm.run("answer = 0\nwhile True:\n    answer += next_step(answer)\n")
    await client.aclose()
    assert run.error == "budget" and "max_simulated_lines" in run.detail
    assert len(llm_stub.calls(role="lmulator")) == 3


async def test_malicious_statements_are_blocked(lmulator, llm_stub):
    run = await lmulator.run("import os\nanswer = os.listdir('/')\n")
    assert run.error == "forbidden" and "os" in run.detail
    run = await lmulator.run("answer = open('/etc/passwd').read()\n")
    assert run.error == "forbidden"
    # Reaching builtins through the object graph is refused too; the LM is never asked.
    run = await lmulator.run("answer = ().__class__.__bases__[0].__subclasses__()\n")
    assert run.error == "forbidden"
    assert llm_stub.calls(role="lmulator") == []


async def test_soft_tool_is_verified_and_used(lmulator, llm_stub):
    def sentiment(body: dict) -> str:
        text = body["messages"][-1]["content"]
        return "True" if "loved" in text else "False"

    llm_stub.script(sentiment, role="lmulator")
    code = ("def solve(review):\n"
            "    if is_positive_review(review):\n"
            "        return 'positive'\n"
            "    return 'negative'\n")
    cases = [Example(input="I loved every minute", target="positive"),
             Example(input="Cold food, rude staff", target="negative")]
    verdict = await verify_soft_tool(lmulator, code, "solve", cases)
    assert (verdict.passed, verdict.total) == (2, 2), verdict
    spec = ToolSpec(tool_id="review_sentiment", code=code, shape="soft")
    run = await run_soft_tool(lmulator, spec.tool_code, "We loved the view")
    assert run.ok and run.value == "positive"
    assert run.trace.simulated_lines == 1


async def test_soft_tool_with_wrong_helper_answers_fails_verification(lmulator, llm_stub):
    llm_stub.script("False", role="lmulator")
    code = "def solve(text):\n    return 'yes' if is_question(text) else 'no'\n"
    verdict = await verify_soft_tool(lmulator, code, "solve",
                                     [Example(input="Is it raining?", target="yes")])
    assert verdict.passed == 0 and verdict.cases[0].got == "no"


async def test_runaway_allocation_and_recursion_are_not_simulated(llm_stub, module_sandbox):
    # A deadline far beyond the time to fill the address-space limit: only the limit can stop the
    # loop, however slow a loaded machine makes the allocations.
    client = LLMClient(llm_stub.config(max_retries=0))
    lm = LMulator(client, module_sandbox, LMulatorConfig(python_timeout_s=120))
    run = await lm.run("data = []\nwhile True:\n    data.append('x' * 10**7)\n")
    assert not run.ok and run.error == "memory"
    run = await lm.run("def down(n):\n    return down(n + 1)\nanswer = down(0)\n")
    await client.aclose()
    assert not run.ok and run.error in ("tool_error", "memory") and "Recursion" in run.detail
    assert llm_stub.calls(role="lmulator") == []
