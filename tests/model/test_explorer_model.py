"""One short exploration on the embedded model: imagine, call through the simulator, reflect, remember."""
from __future__ import annotations

import pytest

from agents.exploring.api_catalog import api_from_description
from agents.exploring.grounding import ungrounded
from agents.llm.config import LLMConfig
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded
from agents.llm.model_catalog import SMOLLM2
from agents.pipeline import bootstrap
from bus.wire.messages import ExploreTool
from store.explorer_memory import ExplorerMemory
from store.tool_demos import ToolDemos

pytestmark = [pytest.mark.model, pytest.mark.asyncio(loop_scope="session")]

ADD_DATE = api_from_description(
    "add_date", "Add days to a date. Date should be pass as 'yyyy-mm-dd'.. Your input should be a json "
                '(args json schema): {{"date" : string, "days" : integer, }}')


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The embedded SmolLM2 server for this module (the fastest model: the test checks structure, not skill)."""
    model = EmbeddedModel(SMOLLM2, EmbeddedSettings(state_dir=str(tmp_path_factory.mktemp("explore"))))
    model.ensure_started()
    yield model
    model.stop()


async def test_one_short_exploration_completes(embedded, tmp_path):
    config = configure_with_embedded(LLMConfig.load(env={"LATM_DEFAULT_EMBEDDED_MODEL": SMOLLM2}),
                                     {SMOLLM2: embedded})
    store = str(tmp_path / "s.sqlite")
    explorer = bootstrap.explorer(store, config).build()
    try:
        done = await explorer.explore(ExploreTool(api=ADD_DATE, episodes=1, trials=2, corrections=1))
    finally:
        await explorer.close()
    assert done.error is None and done.episodes == 1
    # Every trial that got a query is remembered; failed steps are counted, never raised.
    assert done.trials + done.step_errors >= 2 and ExplorerMemory(store).count("add_date")[0] == done.trials
    assert done.demos_kept == ToolDemos(store).count("add_date") <= done.successes
    assert {u.role for u in done.spend.roles} <= {"explorer", "simulator"} and done.spend.calls
    for demo in ToolDemos(store).list("add_date"):  # a kept demo's call fits the API's schema, from its query
        assert set(demo.call.arguments) == {"date", "days"} and isinstance(demo.call.arguments["days"], int)
        assert ungrounded(demo.call, demo.query) == []
