"""The verifier: per-case verdicts in the sandbox, scored with the task's rules; as actors behind the
maker's interface (real sandbox, real stub, real Ray)."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.making.verifier import Verifier
from agents.making.verifier_pool import VerifierPool
from agents.sandbox import Sandbox
from bus.wire.messages import VerifyTool
from bus.wire.tool_spec import Example

from .pipeline_helpers import started, words_from_prompt

# The sandbox lives on one event loop: the fixtures and the tests share the session loop.
pytestmark = pytest.mark.asyncio(loop_scope="session")

FIRST_WORD = "def solve(question: str) -> str:\n    return question.split()[0]\n"
CASES = [Example(input="pear fig", target="pear"), Example(input="kiwi", target="plum"),
         Example(input="", target="x")]


@pytest.fixture
async def verifier(llm_stub):
    async with started(Verifier(Sandbox(), LLMClient(llm_stub.config(max_retries=0)))) as agent:
        yield agent


async def test_each_case_is_run_and_scored_on_its_own(verifier):
    verdict = await verifier.verify(VerifyTool(code=FIRST_WORD, cases=CASES, request_id="v1", trace_id="t1"))
    assert (verdict.request_id, verdict.trace_id, verdict.passed, verdict.total) == ("v1", "t1", 1, 3)
    assert [(c.got, c.ok) for c in verdict.cases] == [("pear", True), ("kiwi", False), (None, False)]
    assert verdict.cases[2].error.startswith("tool_error") and "IndexError" in verdict.cases[2].error
    assert verdict.cases[1].error is None  # a wrong answer is not an error


# Deep recursion makes a long traceback; the exception that ends it must reach the maker.
DEEP_FAILURE = ("def solve(question: str) -> str:\n    return down(40)\n\n\n"
                "def down(n):\n    if n == 0:\n        raise ValueError('the real cause')\n"
                "    return down(n - 1)  # " + "a long line makes a long traceback " * 10 + "\n")


async def test_a_long_traceback_keeps_its_kind_and_its_end(verifier):
    verdict = await verifier.verify(VerifyTool(code=DEEP_FAILURE, cases=CASES[:1], request_id="v9",
                                               trace_id="t9"))
    error = verdict.cases[0].error
    assert error.startswith("tool_error: ...") and "ValueError: the real cause" in error


async def test_forbidden_code_fails_every_case_before_the_sandbox(verifier):
    code = "import os\ndef solve(question: str) -> str:\n    return os.getcwd()\n"
    verdict = await verifier.verify(VerifyTool(code=code, cases=CASES[:2]))
    assert verdict.passed == 0 and verdict.total == 2
    assert all(c.error.startswith("forbidden:") and "os" in c.error for c in verdict.cases)


async def test_answers_are_matched_with_the_tasks_rules(verifier):
    code = "def solve(question: str) -> str:\n    return question\n"
    cases = [Example(input="(a) the owl", target="(A)"), Example(input="B", target="(A)")]
    verdict = await verifier.verify(VerifyTool(code=code, cases=cases, task="logical_deduction_five_objects"))
    assert [c.ok for c in verdict.cases] == [True, False]


async def test_a_structured_candidate_is_run_on_extracted_arguments_and_paid_for(verifier, llm_stub):
    llm_stub.script(words_from_prompt, role="user")
    code = "def tool(words: list[str]) -> str:\n    return ' '.join(sorted(words))\n"
    cases = [Example(input="Sort the following words alphabetically: List: pear fig", target="fig pear")]
    verdict = await verifier.verify(VerifyTool(code=code, entry="tool", shape="structured", cases=cases))
    assert verdict.passed == 1 and verdict.spend.role("user").calls == 1


async def test_verifier_actors_give_the_local_verdict(ray_session, llm_stub, verifier):
    pool = VerifierPool((Sandbox(), LLMClient(llm_stub.config()), 2.0), replicas=1)
    await pool.start()
    try:
        msg = VerifyTool(code=FIRST_WORD, cases=CASES)
        remote, local = await pool.verify(msg), await verifier.verify(msg)
    finally:
        await pool.close()
    assert remote.cases == local.cases and remote.passed == 1
