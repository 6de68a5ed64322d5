"""The solver agent as a real Ray actor: SolveRequest in, SolveAnswer out, coc run in its sandbox."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.sandbox import Sandbox
from agents.solving.solver_agent import SolverAgent
from bus.runtime import spawn
from bus.wire.messages import SolveAnswer, SolveRequest

pytestmark = pytest.mark.usefixtures("ray_session")


async def test_solver_actor_solves_with_chain_of_code(llm_stub):
    llm_stub.script("```python\nanswer = 'yes' if is_even(14) else 'no'\n```", role="solver",
                    times=1)
    llm_stub.script("True", role="lmulator", match="`is_even(14)`")
    handle = spawn(SolverAgent, LLMClient(llm_stub.config(max_retries=0)), Sandbox(), resources={"lmulator": 1})
    try:
        reply = await handle.call(SolveRequest(question="Is 14 even?", method="coc",
                                               trace_id="ray-1"))
        assert isinstance(reply, SolveAnswer), reply
        assert reply.answer == "yes" and reply.method == "coc" and reply.trace_id == "ray-1"
        assert reply.spend.calls == 2 and "is_even(14)" in (reply.program or "")
        # A question the model cannot turn into a program is an answer with an error, not a crash.
        llm_stub.script("no idea", role="solver", match="Is the sky green?")
        failed = await handle.call(SolveRequest(question="Is the sky green?", method="coc"))
        assert isinstance(failed, SolveAnswer) and failed.answer is None
    finally:
        await handle.close()
    assert [r.role for r in llm_stub.calls()].count("lmulator") == 1
