"""One staged making attempt on the embedded coder model: it completes and reports its outcome."""
from __future__ import annotations

import pytest

from agents.llm.config import LLMConfig
from agents.llm.embedded import EmbeddedModel, EmbeddedSettings, configure_with_embedded
from agents.llm.model_catalog import CODER_15B
from agents.making.maker import MakerConfig
from agents.pipeline import bootstrap
from agents.tasks.bbh import paper_split
from bus.wire.messages import MakeTool

pytestmark = pytest.mark.model


@pytest.mark.timeout(1500)  # a plan and a function from a 1.5B model on 2 shared cores
async def test_a_staged_attempt_writes_compute_and_reports(tmp_path):
    embedded = EmbeddedModel(CODER_15B, EmbeddedSettings(state_dir=str(tmp_path / "embedded")))
    llm_config = configure_with_embedded(LLMConfig.load(env={}), {CODER_15B: embedded})
    split = paper_split("schedule_meeting")
    maker = bootstrap.maker(llm_config, MakerConfig(samples_per_round=1, rounds=1, max_tokens=400,
                                                    shapes=("staged",)), 2.0).build()
    await maker.start()
    try:
        made = await maker.make(MakeTool(request_id="m1", trace_id="t1", task="schedule_meeting",
                                         train=split.train[:3], validation=split.validation[:3]))
    finally:
        await maker.close()
        embedded.stop()
    # Round one draws one compute function straight away (no plan), and it is paid for.
    assert made.samples == 1 and made.spend.completion_tokens > 0 and made.spend.cost_usd > 0
    assert made.ok == (made.tool is not None)
    assert made.ok or "compute" in made.reason  # a failure names the stage that failed
    assert not made.ok or ("FRAME = re.compile(" in made.tool.code and "def compute(" in made.tool.code)
