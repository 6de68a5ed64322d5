"""The staged shape through the pipeline: the frame parses, the stub model writes only compute."""
from __future__ import annotations

import json
import random
import re

from store.tool_store import ToolStore

from .pipeline_helpers import run_lines

FRAME = ("There is a {box} of no more than {limit} {item}. If we divide them equally among {a} "
         "{who}, we have {r} left. How many {item} are in the {box}?")

# Scripted maker replies (the stub's): a compute over the slots, wrong and then right.
RIGHT_COMPUTE = '''```python
def compute(box, limit, item, divisor, who, remainder):
    for n in range(remainder, limit + 1, divisor):
        if n > 0:
            return str(n)
    return "none"
```'''
PLAN = "#4 is the divisor and #6 the remainder: the answer is the smallest positive n with n % #4 == #6."
WRONG_COMPUTE = '''```python
def compute(box, limit, item, divisor, who, remainder):
    return str(limit)
```'''

RAISING_COMPUTE = '''```python
def compute(box, limit, item, divisor, who, remainder):
    step = divisor - divisor
    return str(limit // step)
```'''


def asks_for_plan(body: dict) -> bool:
    """Whether a maker request is the plan step (its last message asks for no code yet)."""
    return "Do not write code yet" in body["messages"][-1]["content"]


def remainder_requests(n: int, seed: int = 3) -> list[str]:
    """Requests of one frame whose answer is the smallest positive n = r (mod a)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a = rng.randint(3, 40)
        r = rng.randint(1, a - 1)
        # Every word slot changes from one request to the next, so two examples show the frame.
        box, item, who = ["ship", "room", "van"][i % 3], ["figs", "nuts"][i % 2], ["cats", "owls"][i % 2]
        rows.append(json.dumps({"id": f"c{i}", "task": "remainders", "target": str(r),
                                "input": FRAME.format(box=box, limit=rng.randint(500, 900), item=item,
                                                      a=a, who=who, r=r)}))
    return rows


async def test_staged_tool_parses_by_frame_and_computes_by_model(llm_stub, tmp_path):
    llm_stub.script(RIGHT_COMPUTE, role="maker")
    summary, records, config = await run_lines(llm_stub, tmp_path, remainder_requests(16),
                                               shapes=("staged",), samples_per_round=2, rounds=1)
    assert [m.ok for m in summary.made] == [True]
    # Code first: one draw, shown the numbered frame and compute's arguments by position.
    [call] = llm_stub.calls("maker")
    prompt = call.messages[-1]["content"]
    assert "{#1=" in prompt and "If we divide them equally among {#4=" in prompt
    assert 'divide them equally among {#4} {#5}, we have {#6} left. How", e.g. ' in prompt and "Do not write code yet" not in prompt
    spec = ToolStore(config.store_path).find_by_task("remainders")
    assert "FRAME = re.compile(" in spec.code and "def compute(" in spec.code
    answered = [r for r in records if r["route"] == "tool"]
    assert len(answered) >= 12 and all(r["correct"] and r["llm_calls"] == 0 for r in answered)


async def test_a_raising_compute_is_told_its_exception_and_the_line_that_raised_it(llm_stub,
                                                                                   tmp_path):
    llm_stub.script_sequence([RAISING_COMPUTE, RIGHT_COMPUTE], role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=2)
    assert summary.made[0].ok
    feedback = llm_stub.calls("maker")[-1].messages[-1]["content"]
    # The sandbox's traceback is cut to what the model wrote: no harness frames or line numbers.
    assert ("raised ZeroDivisionError: integer division or modulo by zero\n"
            "  at this line: return str(limit // step)") in feedback
    assert "Traceback" not in feedback and "check_compute" not in feedback


async def test_failing_compute_gets_training_calls_back_never_held_out_ones(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([WRONG_COMPUTE, RIGHT_COMPUTE], role="maker")
    lines = remainder_requests(8)
    summary, _, _ = await run_lines(llm_stub, tmp_path, lines, shapes=("staged",),
                                    samples_per_round=1, rounds=2)
    assert summary.made[0].ok
    calls = llm_stub.calls("maker")
    # Wrong answers (no exception): the repair first asks what is wrong, then for the fix.
    feedback = calls[1].messages[-1]["content"]
    assert feedback.endswith("Do not write code yet.") and "Before fixing it" in feedback
    assert calls[2].messages[-1]["content"].startswith("Now write the corrected `compute`")
    assert "right answer in time for 0 of 3 examples" in feedback
    assert "expected:" in feedback and "returned" in feedback
    # The first 6 labelled requests are examples: 3 shown to the maker and 3 held out.
    shown = "\n".join(m["content"] for c in calls for m in c.messages)
    rows = [json.loads(line) for line in lines]
    assert all(_call_text(r) in shown for r in rows[:3])
    assert not any(_call_text(r) in shown for r in rows[3:6])


async def test_later_rounds_repair_the_best_function_and_draw_planned_ones(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([WRONG_COMPUTE, WRONG_COMPUTE.replace("limit", "limit - 1"),
                              WRONG_COMPUTE.replace("limit", "limit + 1"), RIGHT_COMPUTE],
                             role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=2, rounds=2)
    assert summary.made[0].ok
    asked = [c.messages[-1]["content"] for c in llm_stub.calls("maker")]
    # Round one: two code-only draws; round two: a repair (what is wrong, then the fix), then a
    # plan and the code it plans.
    assert ["Do not write code yet" in a for a in asked] == [False, False, True, False, True, False]
    assert "Your function returns" in asked[2] and asked[3].startswith("Now write the corrected")
    assert asked[5].startswith("Now write `compute`") and summary.made[0].samples == 6


async def test_a_repair_that_repeats_the_function_becomes_a_fresh_plan(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([WRONG_COMPUTE, WRONG_COMPUTE, RIGHT_COMPUTE], role="maker")
    journal = tmp_path / "draws.jsonl"
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=2, journal_path=str(journal))
    assert summary.made[0].ok
    asked = [c.messages[-1]["content"] for c in llm_stub.calls("maker")]
    # Code, a repair (what is wrong, then the fix) that comes back unchanged, then in the same
    # draw a plan and its code.
    assert "Before fixing it" in asked[1] and asked[2].startswith("Now write the corrected")
    assert "Do not write code yet" in asked[3] and "Before fixing it" not in asked[3]
    assert asked[4].startswith("Now write `compute`") and len(asked) == 5
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(e["ask"], e.get("passed")) for e in entries] == [
        ("code", 0), ("repair", None), ("plan", 3)]


def _call_text(row: dict) -> str:
    """How the maker's prompt would show a request's limit, item and divisor."""
    limit, item, a = re.search(r"no more than (\d+) (\w+)\. If we divide them equally among (\d+)",
                               row["input"]).groups()
    return f"{limit}, '{item}', {a}"


async def test_without_a_shared_frame_the_staged_shape_asks_nothing(llm_stub, tmp_path):
    llm_stub.script(RIGHT_COMPUTE, role="maker")
    llm_stub.script("7", role="solver")
    rows = [json.dumps({"id": f"q{i}", "task": "misc", "target": "7", "input": text})
            for i, text in enumerate(["What is seven?", "Name a number.", "Pick one digit!", "Say it."])]
    summary, records, _ = await run_lines(llm_stub, tmp_path, rows, shapes=("staged",))
    assert llm_stub.calls("maker") == [] and not summary.made[0].ok
    assert "frame" in summary.made[0].reason


SLOW_COMPUTE = '''```python
def compute(box, limit, item, divisor, who, remainder):
    n = 0
    while True:
        n += 1
```'''


async def test_a_compute_too_slow_for_the_making_limit_is_sent_back_as_a_timeout(llm_stub, tmp_path):
    llm_stub.script_sequence([SLOW_COMPUTE, RIGHT_COMPUTE], role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=2)
    assert summary.made[0].ok
    feedback = llm_stub.calls("maker")[-1].messages[-1]["content"]
    assert "raised timeout" in feedback


# Right, but it spins for 0.3 s of wall-clock time on every call.
SLOW_RIGHT_COMPUTE = '''```python
import datetime
def compute(box, limit, item, divisor, who, remainder):
    start = datetime.datetime.now()
    while (datetime.datetime.now() - start).total_seconds() < 0.3:
        pass
    for n in range(remainder, limit + 1, divisor):
        if n > 0:
            return str(n)
    return "none"
```'''


async def test_a_right_but_slow_compute_is_sent_back_to_be_made_faster(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([SLOW_RIGHT_COMPUTE, RIGHT_COMPUTE], role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=2, compute_timeout_s=0.1)
    assert summary.made[0].ok and "for n in range" in summary.made[0].tool.code
    assert "datetime" not in summary.made[0].tool.code
    speed_plan = llm_stub.calls("maker")[1].messages[-1]["content"]
    assert "too slowly: on 3 of 3 examples it took longer than 0.1 s" in speed_plan


async def test_a_right_but_slow_compute_is_kept_when_no_faster_one_comes(llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([SLOW_RIGHT_COMPUTE, WRONG_COMPUTE], role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=2, compute_timeout_s=0.1)
    assert summary.made[0].ok and "datetime" in summary.made[0].tool.code


async def test_a_right_but_slow_best_is_asked_how_to_be_faster_and_the_faster_attempt_repaired(
        llm_stub, tmp_path):
    llm_stub.script(PLAN, role="maker", match=asks_for_plan)
    llm_stub.script_sequence([SLOW_RIGHT_COMPUTE, WRONG_COMPUTE,
                              WRONG_COMPUTE.replace("str(limit)", "str(limit - 1)"), RIGHT_COMPUTE],
                             role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=2, rounds=2, compute_timeout_s=0.1)
    assert summary.made[0].ok and "datetime" not in summary.made[0].tool.code
    calls = llm_stub.calls("maker")
    asked = [c.messages[-1]["content"] for c in calls]
    # Round two: how to make the slow function faster, the faster code, then a repair of that
    # faster attempt (not of the slow function, which stays the best so far).
    assert ["too slowly: on 3 of 3 examples" in a for a in asked] == [False, False, True, False, False]
    assert asked[3].startswith("Now write `compute`") and "in time for 0 of 3" in asked[4]
    assert "limit - 1" in calls[4].messages[-2]["content"]


async def test_the_making_journal_records_every_draw_and_latm_draws_reads_it(llm_stub, tmp_path,
                                                                              capsys):
    from agents.cli.main import main

    journal = tmp_path / "draws.jsonl"
    llm_stub.script_sequence([RAISING_COMPUTE, "I cannot write that.", RIGHT_COMPUTE],
                             role="maker")
    summary, _, _ = await run_lines(llm_stub, tmp_path, remainder_requests(8), shapes=("staged",),
                                    samples_per_round=1, rounds=3, journal_path=str(journal))
    assert summary.made[0].ok
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(e["ask"], e["code"] is None, e.get("passed")) for e in entries] == [
        ("code", False, 0), ("repair", True, None), ("repair", False, 3)]
    assert "ZeroDivisionError" in entries[0]["failures"][0]["error"]
    assert entries[1]["reply"] == "I cannot write that." and entries[0]["task"] == "remainders"
    capsys.readouterr()
    assert main(["draws", str(journal)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:5] == ["#", "TASK", "SHAPE", "ASK", "PASSED"]
    assert [row.split()[4] for row in table[1:4]] == ["0/3", "no", "3/3"]
    assert "no code" in table[2] and "ZeroDivisionError" in table[1]
    assert table[-1] == f"3 draw(s) in {journal}"
    assert main(["draws", str(journal), "--show", "2"]) == 0
    shown = capsys.readouterr().out
    assert "--- assistant\n" in shown and "--- reply\nI cannot write that." in shown
    assert main(["draws", str(journal), "--show", "9"]) == 1
    assert "no draw 9: the journal has 3" in capsys.readouterr().err
