"""Benchmark: BBH accuracy of direct answering, chain of thought and chain of code (LMulator).

Usage: .venv/bin/python bench/coc.py [--tasks a,b] [--limit N] [--methods direct,cot,coc]
(also `latm bench bbh ...` from a source checkout). Uses the configured endpoints
(LATM_CONFIG / LATM_<ROLE>_*), else the embedded model. Answers are scored with the tasks'
matching rules (agents/tasks/scoring.py), the same rules the pipeline uses.
Ends with: direct=A cot=B coc=C simulated_line_share=S
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# bench/ holds scripts named like packages (bench/bus.py): import the project, not the scripts.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from agents.lmulator.runner import LMulatorConfig  # noqa: E402
from agents.solving.solver import METHODS, Solver, SolverResult  # noqa: E402
from agents.tasks.scoring import is_correct  # noqa: E402
from bus.wire.spend import NOTHING, Spend  # noqa: E402

# BIG-Bench Hard's algorithmic tasks among the files we have (the rest are NLP or synthetic).
ALGORITHMIC = {"dyck_languages", "logical_deduction_five_objects",
               "logical_deduction_three_objects", "multistep_arithmetic_two",
               "tracking_shuffled_objects_five_objects",
               "tracking_shuffled_objects_three_objects", "word_sorting"}
TEST_START = 10  # items 0-9 are train/validation in the shared split; 10+ are the test set
PAPER = "paper (Chain of Code, PaLM 2 / text-davinci-003): BBH overall direct 55 cot 72 coc 84; " \
        "algorithmic 41 / 71 / 95"


def default_data_dir() -> Path:
    """The shared BBH folder: $LATM_BBH_DIR, else ../shared/data/bbh beside the project root."""
    env = os.environ.get("LATM_BBH_DIR")
    if env:
        return Path(env)
    return HERE.parent.parent / "shared" / "data" / "bbh"


def load_items(data_dir: Path, tasks: list[str] | None, limit: int) -> dict[str, list[dict]]:
    """task -> test items (input, target), `limit` per task from the start of the test split."""
    files = sorted(data_dir.glob("*.json"))
    if not files:
        raise SystemExit(f"no BBH files in {data_dir}: pass --data DIR or set LATM_BBH_DIR")
    chosen = {}
    for file in files:
        if tasks and file.stem not in tasks:
            continue
        examples = json.loads(file.read_text())["examples"]
        chosen[file.stem] = examples[TEST_START:TEST_START + limit]
    missing = set(tasks or []) - set(chosen)
    if missing:
        raise SystemExit(f"unknown tasks {sorted(missing)}: choose from "
                         f"{', '.join(f.stem for f in files)}")
    return chosen


def prepare_input(task: str, text: str) -> str:
    """Apply the dataset's documented quirks (spaces removed from Dyck inputs, as the paper did)."""
    if task == "dyck_languages" and "Input:" in text:
        head, _, seq = text.partition("Input:")
        return f"{head}Input: {seq.replace(' ', '')}"
    return text


@dataclass
class Tally:
    """Counts for one (task, method)."""

    n: int = 0
    correct: int = 0
    spend: Spend = NOTHING
    python_lines: int = 0  # executed statements: a loop body counts once per pass
    simulated_lines: int = 0
    program_lines: int = 0  # distinct program lines that ran, summed over programs
    simulated_program_lines: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, result: SolverResult, ok: bool) -> None:
        """Fold one solved question into the counts."""
        self.n += 1
        self.correct += ok
        self.spend = self.spend + result.spend
        if result.trace is not None:
            self.python_lines += result.trace.python_lines
            self.simulated_lines += result.trace.simulated_lines
            self.program_lines += len(result.trace.line_runners)
            self.simulated_program_lines += result.trace.simulated_program_lines
        if result.error:
            self.errors[result.error] = self.errors.get(result.error, 0) + 1

    def merge(self, other: "Tally") -> None:
        """Add another tally's counts into this one."""
        self.n += other.n
        self.correct += other.correct
        self.spend = self.spend + other.spend
        self.python_lines += other.python_lines
        self.simulated_lines += other.simulated_lines
        self.program_lines += other.program_lines
        self.simulated_program_lines += other.simulated_program_lines
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v

    @property
    def accuracy(self) -> float:
        """Percent correct."""
        return 100.0 * self.correct / self.n if self.n else 0.0

    @property
    def simulated_share(self) -> float:
        """Share of the program lines that ran which the LM simulated: per program line, not
        per execution, so a Python loop of a million passes does not drown the LM's lines."""
        return self.simulated_program_lines / self.program_lines if self.program_lines else 0.0


async def run_bench(solver: Solver, items: dict[str, list[dict]], methods: list[str],
                    concurrency: int) -> dict[tuple[str, str], Tally]:
    """Solve every item with every method; returns (task, method) -> Tally."""
    tallies = {(t, m): Tally() for t in items for m in methods}
    gate = asyncio.Semaphore(concurrency)
    done, total = [0], sum(len(v) for v in items.values()) * len(methods)

    async def one(task: str, method: str, item: dict) -> None:
        async with gate:
            question = prepare_input(task, item["input"])
            result = await solver.solve(question, method, task_hint=None)  # type: ignore[arg-type]
        tallies[(task, method)].add(result, is_correct(result.answer, item["target"], task))
        done[0] += 1
        print(f"[{done[0]}/{total}] {task} {method}: {result.answer!r} "
              f"(target {item['target']!r})", file=sys.stderr, flush=True)

    await asyncio.gather(*(one(t, m, item) for t in items for m in methods for item in items[t]))
    return tallies


def report(tallies: dict[tuple[str, str], Tally], methods: list[str], elapsed: float) -> str:
    """The table, the totals and the final `name=value` line."""
    tasks = sorted({t for t, _ in tallies})
    lines = [f"{'task':<44}" + "".join(f"{m:>9}" for m in methods) + "      n"
             + ("  coc_simulated_share" if "coc" in methods else "")]
    totals = {m: Tally() for m in methods}
    algo = {m: Tally() for m in methods}
    for task in tasks:
        row = f"{task:<44}"
        for m in methods:
            tally = tallies[(task, m)]
            row += f"{tally.accuracy:>9.1f}"
            totals[m].merge(tally)
            if task in ALGORITHMIC:
                algo[m].merge(tally)
        row += f"{tallies[(task, methods[0])].n:>7}"
        if "coc" in methods:
            # How much of the task's programs the LM ran rather than Python: the semantic steps.
            row += f"  {tallies[(task, 'coc')].simulated_share:>19.3f}"
        lines.append(row)
    lines.append(f"{'overall':<44}" + "".join(f"{totals[m].accuracy:>9.1f}" for m in methods))
    lines.append(f"{'algorithmic (BBH)':<44}" + "".join(f"{algo[m].accuracy:>9.1f}"
                                                        for m in methods))
    lines.append(PAPER)
    for m in methods:
        t = totals[m]
        lines.append(f"{m}: llm_calls/question={t.spend.calls / max(t.n, 1):.2f} "
                     f"errors={dict(sorted(t.errors.items()))}")
    share = 0.0
    if "coc" in totals:
        t = totals["coc"]
        share = t.simulated_share
        lines.append(f"coc program lines: ran={t.program_lines} "
                     f"simulated={t.simulated_program_lines} (share {share:.3f}); executed "
                     f"statements: python={t.python_lines} simulated={t.simulated_lines}")
    lines.append(f"wall time: {elapsed:.0f}s")
    final = " ".join(f"{m}={totals[m].accuracy:.1f}" for m in methods)
    lines.append(f"{final} simulated_line_share={share:.3f}")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options."""
    parser.add_argument("--tasks", default="", help="comma-separated task names (default: all)")
    parser.add_argument("--limit", type=int, default=2, help="test items per task (default 2)")
    parser.add_argument("--methods", default=",".join(METHODS), help="direct,cot,coc")
    parser.add_argument("--data", default=None, help="BBH folder (default ../shared/data/bbh)")
    parser.add_argument("--config", default=None, help="LLM config file (default: env/embedded)")
    parser.add_argument("--concurrency", type=int, default=2, help="questions in flight")
    parser.add_argument("--max-simulated-lines", type=int, default=12,
                        help="LMulator budget of simulated lines per coc question")


async def main_async(args: argparse.Namespace) -> str:
    """Build client, sandbox and solver from the options, run, and return the report."""
    from agents.llm.client import LLMClient
    from agents.llm.config import LLMConfig
    from agents.sandbox import Sandbox

    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise SystemExit(f"unknown methods {bad}: use direct, cot, coc")
    tasks = [t for t in args.tasks.split(",") if t] or None
    items = load_items(Path(args.data) if args.data else default_data_dir(), tasks, args.limit)
    client = LLMClient(LLMConfig.load(args.config))
    started = time.monotonic()
    try:
        async with Sandbox() as sandbox:
            solver = Solver(client, sandbox, lmulator_config=LMulatorConfig(
                max_simulated_lines=args.max_simulated_lines, max_wall_s=120))
            tallies = await run_bench(solver, items, methods, args.concurrency)
    finally:
        await client.aclose()
    return report(tallies, methods, time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (also what `latm bench bbh` runs)."""
    parser = argparse.ArgumentParser(description="BBH accuracy of direct / cot / coc")
    add_arguments(parser)
    print(asyncio.run(main_async(parser.parse_args(argv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
