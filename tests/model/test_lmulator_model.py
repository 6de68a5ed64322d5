"""Chain of Code with the embedded SmolLM2 model: runs complete and traces are well formed."""
from __future__ import annotations

import pytest

from agents.llm.client import LLMClient
from agents.llm.config import LLMConfig
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded
from agents.llm.model_catalog import SMOLLM2
from agents.lmulator import LMulator, LMulatorConfig
from agents.sandbox import Sandbox
from agents.solving.solver import Solver

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="session")]

PROGRAM = ("words = ['apple', 'chair', 'banana']\n"
           "count = 0\n"
           "for w in words:\n"
           "    if is_fruit(w):\n"
           "        count += 1\n"
           "answer = count\n")


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The embedded llama.cpp server for this module."""
    model = EmbeddedModel(SMOLLM2, EmbeddedSettings(state_dir=str(tmp_path_factory.mktemp("coc"))))
    model.ensure_started()
    yield model
    model.stop()


@pytest.fixture
async def parts(embedded):
    """(client, sandbox) wired to the embedded model."""
    client = LLMClient(configure_with_embedded(
        LLMConfig.load(env={"LATM_DEFAULT_EMBEDDED_MODEL": SMOLLM2}), {SMOLLM2: embedded}))
    sandbox = Sandbox()
    await sandbox.start()
    yield client, sandbox
    await sandbox.close()
    await client.aclose()


async def test_lmulator_simulates_helper_lines_with_the_real_model(parts):
    client, sandbox = parts
    run = await LMulator(client, sandbox, LMulatorConfig(max_simulated_lines=5)).run(PROGRAM)
    # The tiny model may answer badly, but every helper call must have reached it and the
    # run must end as an answer or a typed error, with a consistent trace.
    assert run.ok or run.error in ("state_reply", "budget", "no_answer")
    assert run.records and {r.role for r in run.records} == {"lmulator"}
    lm_steps = [s for s in run.trace.steps if s.by == "lm"]
    if run.ok:
        assert run.trace.simulated_lines == 3 and len(lm_steps) == 3
        assert {s.line for s in lm_steps} == {4}
        assert run.answer is not None and run.trace.python_lines >= 3
    else:
        assert run.trace.rejected or run.trace.simulated_lines
    assert all(1 <= s.line <= 6 for s in run.trace.steps)
    assert "python lines:" in run.trace.render()


async def test_solver_coc_completes_with_the_real_model(parts):
    client, sandbox = parts
    solver = Solver(client, sandbox, lmulator_config=LMulatorConfig(max_simulated_lines=4))
    result = await solver.solve("How many of these words are fruits: apple, chair, banana?",
                                "coc")
    assert result.method == "coc" and result.records[0].role == "solver"
    if result.program is not None:
        assert result.trace is not None
        assert result.trace.python_lines + result.trace.simulated_lines + \
            len(result.trace.rejected) >= 1 or result.error is not None
    else:
        assert result.error == "no_program"
