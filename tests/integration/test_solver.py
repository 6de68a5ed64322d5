"""The solver's three methods and its agent against the stub LLM and a real sandbox."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.lmulator.agent import LMulatorAgent
from agents.sandbox import Sandbox
from agents.solving.solver import Solver
from agents.solving.solver_agent import SolverAgent
from bus.wire.messages import SimulateLine, SolveRequest

pytestmark = pytest.mark.asyncio(loop_scope="session")

QUESTION = "Which animal can fly?\nOptions:\n(A) a cat\n(B) a sparrow\n(C) a goldfish"
PROGRAM = ("```python\n"
           "options = {'(A)': 'a cat', '(B)': 'a sparrow', '(C)': 'a goldfish'}\n"
           "answer = None\n"
           "for letter, animal in options.items():\n"
           "    if can_fly(animal):\n"
           "        answer = letter\n"
           "```")


@pytest.fixture
async def solver(llm_stub, module_sandbox):
    """A solver whose roles talk to the stub."""
    client = LLMClient(llm_stub.config(max_retries=0))
    yield Solver(client, module_sandbox)
    await client.aclose()


async def test_direct_and_cot_extract_the_final_answer(solver, llm_stub):
    llm_stub.script_sequence(["b", "Sparrows have wings. So the answer is (B)."], role="solver")
    direct = await solver.solve(QUESTION, "direct")
    cot = await solver.solve(QUESTION, "cot")
    assert (direct.answer, cot.answer) == ("(B)", "(B)")
    assert "step by step" in llm_stub.calls(role="solver")[1].messages[0]["content"]
    assert direct.llm_calls == 1 and direct.trace is None


async def test_coc_writes_a_program_and_the_lmulator_runs_it(solver, llm_stub):
    llm_stub.script(PROGRAM, role="solver")
    llm_stub.script(lambda body: "True" if "`can_fly('a sparrow')`" in
                    body["messages"][-1]["content"] else "False", role="lmulator")
    result = await solver.solve(QUESTION, "coc")
    assert result.error is None, result.detail
    assert result.answer == "(B)"
    assert result.trace is not None and result.trace.simulated_lines == 3
    assert [r.role for r in result.records] == ["solver"] + ["lmulator"] * 3
    rendered = result.trace.render()
    assert "can_fly('a sparrow')" in rendered  # the call the LM answered, with its argument's value


async def test_coc_without_a_program_is_an_error_result(solver, llm_stub):
    llm_stub.script("I cannot write code for this.", role="solver")
    result = await solver.solve(QUESTION, "coc")
    assert result.answer is None and result.error == "no_program"


async def test_agent_answers_solve_request(llm_stub):
    agent = SolverAgent(LLMClient(llm_stub.config(max_retries=0)), Sandbox())
    await agent.start()
    try:
        llm_stub.script("So the answer is (B).", role="solver")
        reply = await agent.solve(SolveRequest(question=QUESTION, method="cot", trace_id="t1"))
        assert reply.answer == "(B)" and reply.trace_id == "t1" and reply.spend.calls == 1
        assert [(u.role, u.calls) for u in reply.spend.roles] == [("solver", 1)]
    finally:
        await agent.close()


async def test_lmulator_agent_simulates_one_line(llm_stub):
    agent = LMulatorAgent(LLMClient(llm_stub.config(max_retries=0)))
    try:
        llm_stub.script("{'total': 7, 'secret': 1}", role="lmulator", times=1)
        change = await agent.simulate_line(SimulateLine(
            program="total = 3\ntotal = add_lucky_number(total)\n", line_no=2,
            line="total = add_lucky_number(total)", error="NameError", state={"total": 3}))
        assert change.updates == {"total": 7} and change.error is None
        llm_stub.script("os.system('x')", role="lmulator", match="bad_line")
        change = await agent.simulate_line(SimulateLine(
            program="x = bad_line()\n", line_no=1, line="x = bad_line()", error="NameError"))
        assert change.error is not None and change.error.code == "state_reply_code"
    finally:
        await agent.close()
