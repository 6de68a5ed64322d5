"""STE one-step tool use on the 750 test queries: each model with no demos (base) and with explored demos (STE).

Exploration sees only the 50 API descriptions (never a test query): the explorer imagines queries, calls the
APIs through the simulator, reflects, and keeps as demos the calls that worked and whose values come from their
query. Then, per query, the model is shown the top --candidates APIs retrieved from all 50 by TF-IDF (the
store's ToolIndex; base over names and descriptions, STE also over the queries exploration served) and must
answer with one call in the tool user's call format (a grammar-enforced shape per candidate); STE adds the top
--demos demos of those candidates as earlier turns. Scores: well-formed
(a call parsed), API match, correct (right API and arguments equal after normalising: every scalar compared as
trimmed lower-case text with single spaces, so 15 == "15" and 2.0 == 2; keys must match exactly).
Results are appended to --results as they come, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.exploring.api_catalog import load_ste_apis  # noqa: E402
from agents.exploring.call_scoring import gold_arguments, score_call  # noqa: E402
from agents.pipeline import bootstrap  # noqa: E402
from agents.llm.client import LLMClient  # noqa: E402
from agents.llm.config import LLMConfig  # noqa: E402
from agents.llm.embedded import configure_with_embedded  # noqa: E402
from agents.llm.errors import LLMError  # noqa: E402
from agents.using.candidates import ToolRetrieval, candidates_and_demos  # noqa: E402
from agents.using.tool_calls import ArgumentError, extract_call  # noqa: E402
from bus.wire.messages import ExploreTool  # noqa: E402
from bus.wire.spend import Spend  # noqa: E402
from store.explorer_memory import ExplorerMemory  # noqa: E402
from store.tool_demos import ToolDemos  # noqa: E402

DATA = Path("/work/shared/data/ste")


def load_queries(data: Path) -> list[dict]:
    """The 750 test items in file order, each with a stable id 'API#i'."""
    rows = json.loads((data / "tool_test.json").read_text())
    return [{"id": f"{api}#{i}", **item} for api, items in rows.items() for i, item in enumerate(items)]


def pick(queries: list[dict], n: int, seed: int) -> list[dict]:
    """All queries, or a seeded random subset of n (kept in file order)."""
    if n >= len(queries):
        return queries
    chosen = sorted(random.Random(seed).sample(range(len(queries)), n))
    return [queries[i] for i in chosen]


def subset_name(items: list[dict]) -> str:
    """A short digest naming exactly which queries ran."""
    return hashlib.sha256("\n".join(q["id"] for q in items).encode()).hexdigest()[:12]


async def explore_all(apis, store: str, llm_config: LLMConfig, episodes: int, trials: int,
                      seconds: float = 0.0) -> dict:
    """Explore every API not yet explored to this budget (stats kept beside the store across runs).

    With `seconds`, no new API is started after that long, so a time-boxed run stops between APIs
    and every call it made is counted; the next run goes on from there."""
    stats_file = Path(store).with_suffix(".explore.json")
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    memory, explorer = ExplorerMemory(store), bootstrap.explorer(store, llm_config, simulate_http=True).build()
    started = time.perf_counter()
    try:
        for i, api in enumerate(apis, 1):
            have = memory.count(api.name)[0]
            if have >= episodes * trials:
                continue
            if seconds and time.perf_counter() - started > seconds:
                print(f"  stopping after {seconds:.0f} s; run again to explore the rest", flush=True)
                break
            t0 = time.perf_counter()
            done = await explorer.explore(ExploreTool(api=api, episodes=episodes, trials=trials))
            row = stats.setdefault(api.name, {"trials": 0, "successes": 0, "demos": 0, "usage": [], "seconds": 0.0})
            row["trials"] += done.trials
            row["successes"] += done.successes
            row["demos"] += done.demos_kept
            row["seconds"] += time.perf_counter() - t0
            row["usage"] = [u.model_dump() for u in (Spend(roles=row["usage"]) + done.spend).roles]
            stats_file.write_text(json.dumps(stats, indent=1))
            print(f"  explored {i}/{len(apis)} {api.name}: {done.trials} trials, {done.successes} ok, "
                  f"{done.demos_kept} demos, {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        await explorer.close()
    spend = Spend.total(Spend(roles=row["usage"]) for row in stats.values())
    return {"apis": len(stats), "trials": sum(r["trials"] for r in stats.values()),
            "successes": sum(r["successes"] for r in stats.values()),
            "demos": ToolDemos(store).count(), "seconds": sum(r["seconds"] for r in stats.values()),
            "calls": {u.role: u.calls for u in spend.roles}}


async def answer(llm: LLMClient, role: str, query: dict, candidates, demos, args) -> dict:
    """One query: the call (or why none), its scores and cost."""
    t0 = time.perf_counter()
    call, error, calls = None, None, 0
    try:
        call, record = await extract_call(llm, role, query["query"], candidates, demos,
                                          demo_chars=args.demo_chars, max_repairs=args.repairs,
                                          description_chars=args.description_chars)
        calls = record.calls
    except (ArgumentError, LLMError) as exc:
        error = f"{type(exc).__name__}: {str(exc)[:200]}"
        calls = len(getattr(exc, "records", []) or [])
    return {**score_call(call, query["action"], gold_arguments(query["action_input"])),
            "call": call.model_dump() if call else None, "error": error, "llm_calls": calls,
            "seconds": time.perf_counter() - t0, "demos": len(demos)}


async def run_model(role: str, label: str, items: list[dict], apis, demos: ToolDemos,
                    llm: LLMClient, done: dict, out, args) -> None:
    """Base and STE answers of one model over its queries, appended to the results file."""
    by_name = {api.name: api for api in apis}
    # Base retrieves over the descriptions; STE also over the queries exploration served (successful trials).
    memory = ExplorerMemory(args.store)
    served = {api.name: [t.query for t in memory.recent(api.name, 100) if t.success] for api in apis}
    indexes = {"base": ToolRetrieval(apis), "ste": ToolRetrieval(apis, served)}
    for method in args.methods:
        index = indexes[method]
        todo = [q for q in items if (label, method, q["id"]) not in done]
        started, correct = time.perf_counter(), 0
        for n, query in enumerate(todo, 1):
            names, shown = candidates_and_demos(index, demos if method == "ste" else None, query["query"],
                                                args.candidates, args.demos)
            candidates = [by_name[name] for name in names or [apis[0].name]]
            row = await answer(llm, role, query, candidates, shown, args)
            row.update(model=label, method=method, id=query["id"], retrieved=query["action"] in names)
            done[(label, method, query["id"])] = row
            out.write(json.dumps(row) + "\n")
            out.flush()
            correct += row["correct"]
            if n % 25 == 0 or n == len(todo):
                rate = (time.perf_counter() - started) / n
                print(f"  [{label} {method}] {n}/{len(todo)} correct {100 * correct / n:.1f}% "
                      f"({rate:.1f} s/query, ~{rate * (len(todo) - n) / 60:.0f} min left)", flush=True)


def report(specs, done: dict, methods: list[str]) -> list[str]:
    """Per model and method: n, well-formed, API match, correct, seconds per query; the last-line pairs."""
    print(f"{'model':<28} {'method':<5} {'n':>4} {'wellformed%':>11} {'api_match%':>10} {'correct%':>8} "
          f"{'retrieved%':>10} {'s/query':>7}")
    pairs = []
    for role, label, items in specs:
        for method in methods:
            rows = [done[(label, method, q["id"])] for q in items if (label, method, q["id"]) in done]
            if not rows:
                continue
            n = len(rows)
            pct = {k: 100 * sum(r[k] for r in rows) / n for k in ("wellformed", "api_match", "correct", "retrieved")}
            formed = [r for r in rows if r["wellformed"]]
            match = 100 * sum(r["api_match"] for r in formed) / len(formed) if formed else 0.0
            print(f"{label:<28} {method:<5} {n:>4} {pct['wellformed']:>11.1f} {match:>10.1f} {pct['correct']:>8.1f} "
                  f"{pct['retrieved']:>10.1f} {sum(r['seconds'] for r in rows) / n:>7.2f}")
            pairs += [f"{label}_{method}_correct={pct['correct']:.1f}", f"{label}_{method}_wellformed={pct['wellformed']:.1f}",
                      f"{label}_{method}_n={n}"]
    return pairs


def parse_models(text: str) -> list[tuple[str, int]]:
    """'user=750,maker=150' -> [(role, queries)]; a bare role means all queries."""
    out = []
    for part in filter(None, text.split(",")):
        role, _, n = part.partition("=")
        out.append((role.strip(), int(n) if n else 10**9))
    return out


async def main_async(args) -> None:
    llm_config = configure_with_embedded(LLMConfig.load(args.config))
    apis = load_ste_apis(args.data)
    queries = load_queries(args.data)
    Path(args.store).parent.mkdir(parents=True, exist_ok=True)
    print(f"exploring {len(apis)} APIs through the simulator: {args.explore_episodes} episode(s) x "
          f"{args.explore_trials} trial(s) per API; explorer={llm_config.role('explorer').model} "
          f"simulator={llm_config.role('simulator').model}", flush=True)
    # Short replies keep a small model from rambling to the role's default token limit.
    explored = await explore_all(apis, args.store, llm_config.with_role("explorer", max_tokens=args.max_tokens),
                                 args.explore_episodes, args.explore_trials, args.explore_seconds)
    print(f"exploration: {explored['apis']} APIs, {explored['trials']} trials, {explored['successes']} successes, "
          f"{explored['demos']} demos kept, LLM calls {explored['calls']}, {explored['seconds']:.0f} s", flush=True)
    specs = []
    for role, n in parse_models(args.models):
        label = re.sub(r"[^a-z0-9]+", "_", llm_config.role(role).model.lower()).strip("_") or role
        items = pick(queries, min(n, args.limit or n), args.seed)
        print(f"{label} (role {role}): {len(items)} queries, subset seed={args.seed} digest={subset_name(items)}")
        specs.append((role, label, items))
    results = Path(args.results)
    done = {}
    if results.exists():
        for line in results.read_text().splitlines():
            row = json.loads(line)
            done[(row["model"], row["method"], row["id"])] = row
    demos = ToolDemos(args.store)
    for role, label, items in specs:
        llm = LLMClient(llm_config.with_role(role, max_tokens=args.max_tokens, temperature=0.0))
        try:
            with results.open("a") as out:
                await run_model(role, label, items, apis, demos, llm, done, out, args)
        finally:
            await llm.aclose()
    pairs = report(specs, done, args.methods)
    calls = sum(explored["calls"].values())
    print(" ".join(pairs + [f"candidates={args.candidates}", f"demos={args.demos}",
                            f"explore_demos={explored['demos']}", f"explore_llm_calls={calls}"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder with tool_test.json, API_list.json, ...")
    parser.add_argument("--models", default="user=750,maker=150",
                        help="role=queries,... : the model each role uses, on all or a seeded subset of queries")
    parser.add_argument("--methods", type=lambda s: s.split(","), default=["base", "ste"], help="base,ste")
    parser.add_argument("--seed", type=int, default=7, help="seed of the query subsets")
    parser.add_argument("--limit", type=int, default=0, help="at most this many queries per model (quick runs)")
    parser.add_argument("--candidates", type=int, default=5, help="APIs retrieved and shown per query")
    parser.add_argument("--demos", type=int, default=4, help="STE: demos retrieved per query")
    parser.add_argument("--demo-chars", type=int, default=1500, help="STE: prompt budget of the demos")
    parser.add_argument("--description-chars", type=int, default=400,
                        help="each candidate's description is cut to this (the prompt of a 4k-context model)")
    parser.add_argument("--repairs", type=int, default=1, help="re-asks after an invalid reply")
    parser.add_argument("--max-tokens", type=int, default=160, help="completion limit of one call")
    parser.add_argument("--explore-episodes", type=int, default=1, help="exploration episodes per API")
    parser.add_argument("--explore-trials", type=int, default=3, help="trials per episode")
    parser.add_argument("--explore-seconds", type=float, default=0.0,
                        help="start no new API after this long (a time-boxed run; the next one resumes)")
    parser.add_argument("--store", default=".latm/bench/ste.sqlite", help="explorer memory, demos, simulator cache")
    parser.add_argument("--results", default=".latm/bench/ste_results.jsonl", help="per-query results (resumable)")
    parser.add_argument("--config", help="LLM endpoint config file (default: env, else the embedded models)")
    args = parser.parse_args()
    start = time.perf_counter()
    asyncio.run(main_async(args))
    print(f"elapsed_s={time.perf_counter() - start:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
