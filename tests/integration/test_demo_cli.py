"""`latm demo` as the README runs it: a subprocess, a real Ray runtime, the stub as every role."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Scripted maker replies (the stub's): a plan (for later rounds), a compute over the frame's list parameters
# (the last three; which words the two examples share decides how many come before them).
PLAN = "v4 are divisors and v6 remainders: the answer is the number with those remainders."
SIEVE_COMPUTE = '''```python
def compute(*values):
    divisors, names, remainders = values[-3:]
    n, step = 0, 1
    for d, r in zip(divisors, remainders):
        while n % d != r:
            n += step
        step *= d
    return str(n)
```'''


def test_demo_makes_a_staged_tool_and_answers_the_rest_with_it(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=lambda body: "Do not write code yet" in body["messages"][-1]["content"])
    llm_stub.script(SIEVE_COMPUTE, role="maker")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update(OPENAI_BASE_URL=llm_stub.base_url, OPENAI_API_KEY="stub")
    work = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "agents.cli.main", "demo", "-n", "10", "--tasks",
         "chinese_remainder_theorem", "--samples", "1", "--dir", str(work), "--no-progress"],
        env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[maker] verified and stored chinese_remainder_theorem" in proc.stdout
    records = [json.loads(line) for line in Path(work / "results.jsonl").read_text().splitlines()]
    assert len({r["id"] for r in records}) == 10
    # Three examples shown and three held out start making; the tool answers every request after.
    by_tool = [r for r in records if r["route"] == "tool"]
    assert len(by_tool) >= 4 and all(r["correct"] and r["llm_calls"] == 0 for r in by_tool)
    prompt = llm_stub.calls("maker")[0].messages[-1]["content"]
    assert "{#4[2]=" in prompt and "{#6[0]=" in prompt  # the repeated clause became lists
