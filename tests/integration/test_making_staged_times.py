"""Times in the staged shape: compute gets minutes after midnight and writes answers with `clock`."""
from __future__ import annotations

import json
import random

from .pipeline_helpers import run_lines

FRAME = "A {length}-minute break starts at {start} in the {room}. At what time does it end?"
# The compute a model writes when told `clock` is defined for it: it never defines clock itself.
CLOCK_COMPUTE = '''```python
def compute(length, start, room):
    return clock(start + length)
```'''


def break_requests(n: int, seed: int = 5) -> list[str]:
    """Requests whose answer is a time of day: the start plus the break's length."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        start, length = rng.randrange(8 * 60, 17 * 60, 5), rng.choice([15, 20, 45, 90, 125])
        end = start + length
        rows.append(json.dumps({
            "id": f"b{i}", "task": "breaks", "target": f"{end // 60:02d}:{end % 60:02d}",
            "input": FRAME.format(length=length, start=f"{start // 60:02d}:{start % 60:02d}",
                                  room=["hall", "lab", "attic"][i % 3])}))
    return rows


async def test_a_compute_that_writes_times_with_clock_verifies_and_answers(llm_stub, tmp_path):
    llm_stub.script(CLOCK_COMPUTE, role="maker")
    summary, records, _ = await run_lines(llm_stub, tmp_path, break_requests(14),
                                          shapes=("staged",), samples_per_round=1, rounds=1)
    assert [m.ok for m in summary.made] == [True]
    prompt = llm_stub.calls("maker")[0].messages[-1]["content"]
    assert "minutes after midnight" in prompt and "clock(570) == '09:30'" in prompt
    answered = [r for r in records if r["route"] == "tool"]
    assert len(answered) >= 8 and all(r["correct"] for r in answered)
