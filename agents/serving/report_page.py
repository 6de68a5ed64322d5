"""`latm report`: one self-contained HTML page of a run from its ledger rows, figures and events."""
from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from html import escape

from agents.serving.svg_plots import BarChart, LineChart, Series
from store.run_ledger import RunRow

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:780px;color:#111;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}p.note{color:#555;margin:2px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid #ddd;border-radius:6px;
padding:8px 12px;min-width:120px}.card b{display:block;font-size:20px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;font-variant-numeric:tabular-nums}
svg{width:100%;height:auto}.plot{fill:#fafafa;stroke:#ccc}.grid{stroke:#e5e5e5}.tick{font-size:11px;fill:#444}
.axis{font-size:12px;fill:#222}.legend{font-size:12px;fill:#222}.marker{stroke:#16a34a;stroke-dasharray:2 3}
"""


def render_report(run_id: str, rows: list[RunRow], info: dict) -> str:
    """The whole page: headline figures, then one section per plot, all inline (no network needed)."""
    rows = sorted(rows, key=lambda r: (r.extra.get("seq", 0), r.extra.get("t", 0), r.request_id))
    figures, events = info.get("figures") or {}, info.get("events") or []
    made = [e for e in events if e.get("kind") == "made"]
    sections = [_header(run_id, rows, figures, made), _hit_rate(rows, made), _spend(rows, figures, made),
                _latency(rows), _tools(rows, made), _failures(rows, made)]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>latm run {escape(run_id)}</title>'
            f"<style>{STYLE}</style></head><body>{''.join(sections)}</body></html>")


def _header(run_id: str, rows: list[RunRow], figures: dict, made: list[dict]) -> str:
    n = len(rows)
    hits = sum(r.route == "tool" for r in rows)
    scored = [r.correct for r in rows if r.correct is not None]
    spend = figures.get("spend_usd", sum(r.cost for r in rows))
    times = [r.extra["t"] for r in rows if "t" in r.extra]
    when = (datetime.datetime.fromtimestamp(min(times)).strftime("%Y-%m-%d %H:%M")
            + f", {max(times) - min(times):,.0f} s") if times else "time not recorded"
    cards = [("requests", f"{n:,}"), ("cache hit rate", f"{hits / n:.1%}" if n else "n/a"),
             ("accuracy", f"{sum(scored) / len(scored):.1%}" if scored else "no targets"),
             ("tools made", str(sum(1 for e in made if e.get("ok") and not e.get("reused")))),
             ("LLM calls / request", f"{sum(r.llm_calls for r in rows) / n:.3f}" if n else "n/a"),
             ("spend", f"${spend:,.4f}")]
    if "all_maker_spend_usd" in figures:
        cards.append(("all-maker-model estimate", f"${figures['all_maker_spend_usd']:,.4f}"))
    body = "".join(f'<div class="card">{escape(k)}<b>{escape(v)}</b></div>' for k, v in cards)
    return (f"<h1>latm run {escape(run_id)}</h1><p class='note'>{escape(when)}; errors "
            f"{sum(r.route == 'error' for r in rows)}</p><div class='cards'>{body}</div>")


def _hit_rate(rows: list[RunRow], made: list[dict]) -> str:
    window = max(10, len(rows) // 40)
    hits = [r.route == "tool" for r in rows]
    cumulative, rolling, total = [], [], 0
    for i, hit in enumerate(hits):
        total += hit
        cumulative.append((i + 1, total / (i + 1)))
        recent = hits[max(0, i + 1 - window): i + 1]
        rolling.append((i + 1, sum(recent) / len(recent)))
    chart = LineChart("cache hit rate over the stream", "requests, in the order they were answered", "answered by a cached tool",
                      [Series(f"last {window} requests", rolling), Series("since the start", cumulative)],
                      markers=_made_markers(made), y_max=1.0, y_format="{:.0%}")
    return ("<h2>Cache hit rate over the stream</h2><p class='note'>Green lines: a tool was made or reused "
            f"(hover for its name).</p>{chart.svg()}")


def _spend(rows: list[RunRow], figures: dict, made: list[dict]) -> str:
    making_cost, making_calls = defaultdict(float), defaultdict(int)
    for e in made:
        making_cost[e.get("seq", 0)] += e.get("cost_usd", 0.0)
        making_calls[e.get("seq", 0)] += e.get("samples", 0)
    spend, calls, cost_total, call_total = [], [], 0.0, 0
    for i, r in enumerate(rows):
        cost_total += r.cost + making_cost.get(i, 0.0)
        call_total += r.llm_calls + making_calls.get(i, 0)
        spend.append((i + 1, cost_total))
        calls.append((i + 1, call_total))
    n = len(rows)
    per_request = figures.get("all_maker_spend_usd", 0.0) / figures["requests"] if figures.get("requests") else None
    series = [Series("latm (answers + tool making)", spend)]
    if per_request is not None:
        series.append(Series("every request to the maker's model (estimate)",
                             [(0, 0.0), (n, per_request * n)], dashed=True))
    money = LineChart("cumulative spend", "requests answered", "USD", series, markers=_made_markers(made),
                      y_format="${:.4g}")
    llm = LineChart("cumulative LLM calls", "requests answered", "LLM calls",
                    [Series("latm (answers + tool making)", calls),
                     Series("one strong-model call per request", [(0, 0), (n, n)], dashed=True)],
                    markers=_made_markers(made))
    note = ("The baseline prices each request like the run's mean solver call on the maker's model "
            f"({escape(figures.get('maker_model') or 'unknown')})." if per_request is not None else
            "This run stored no summary figures, so the all-maker-model baseline is not shown.")
    return (f"<h2>Spend against the all-strong-model baseline</h2><p class='note'>{note} Local models cost "
            f"what they cost to run here, which may be $0: the LLM-call chart shows the same saving in calls."
            f"</p>{money.svg()}{llm.svg()}")


def _latency(rows: list[RunRow]) -> str:
    by_route: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        by_route[r.route].append(r.latency * 1000)
    routes = sorted(by_route)
    stats = {route: _percentiles(sorted(by_route[route])) for route in routes}
    chart = BarChart("latency percentiles per route (ms, log scale)", routes,
                     [(f"p{q}", [stats[route][q] for route in routes]) for q in (50, 90, 99)],
                     value_format="{:,.1f} ms", log_scale=True)
    table = "".join(f"<tr><td>{escape(route)}</td><td>{len(by_route[route]):,}</td>"
                    + "".join(f"<td>{stats[route][q]:,.2f}</td>" for q in (50, 90, 99, 100)) + "</tr>"
                    for route in routes)
    return ("<h2>Latency per route</h2><p class='note'>From request to answer, in the pipeline (ms).</p>"
            f"{chart.svg()}<table><tr><th>route</th><th>requests</th><th>p50</th><th>p90</th><th>p99</th>"
            f"<th>max</th></tr>{table}</table>")


def _tools(rows: list[RunRow], made: list[dict]) -> str:
    uses = Counter(r.tool_id for r in rows if r.route == "tool" and r.tool_id)
    correct = Counter(r.tool_id for r in rows if r.route == "tool" and r.correct)
    names = [t for t, _ in uses.most_common(25)]
    chart = BarChart("requests answered per tool", names, [("requests", [uses[t] for t in names])])
    table = "".join(
        f"<tr><td>{e.get('seq', 0):,}</td><td>{escape(str(e.get('task')))}</td><td>"
        f"{escape(_outcome(e))}</td><td>{e.get('samples', 0)}</td><td>{e.get('tokens', 0):,}</td>"
        f"<td>{uses.get(e.get('tool_id'), 0):,}</td></tr>" for e in made)
    scored = "".join(f"<li>{escape(t)}: {uses[t]:,} answered, {correct[t]:,} scored correct</li>"
                     for t in names if correct[t])
    return (f"<h2>Tools and the requests each answered</h2>{chart.svg()}"
            f"{'<ul>' + scored + '</ul>' if scored else ''}"
            "<table><tr><th>at request</th><th>kind</th><th>outcome</th><th>samples</th><th>tokens</th>"
            f"<th>answered</th></tr>{table or '<tr><td colspan=6>no tool was made in this run</td></tr>'}</table>")


def _failures(rows: list[RunRow], made: list[dict]) -> str:
    errors = Counter((r.error or "").split(":", 1)[0] or "unknown" for r in rows if r.route == "error")
    error_kinds = Counter(r.extra.get("task") or "(unlabelled)" for r in rows if r.route == "error")
    failed = [e for e in made if not e.get("ok")]
    failed_kinds = Counter(str(e.get("task")) for e in failed)
    names = sorted(set(error_kinds) | set(failed_kinds))
    chart = BarChart("failures by kind", names, [("request errors", [error_kinds[k] for k in names]),
                                                 ("making attempts failed", [failed_kinds[k] for k in names])])
    reasons = "".join(f"<tr><td>{escape(str(e.get('task')))}</td><td>{escape(str(e.get('reason')))[:300]}</td></tr>"
                      for e in failed)
    codes = "".join(f"<tr><td>{escape(code)}</td><td>{n:,}</td></tr>" for code, n in errors.most_common())
    return (f"<h2>Failures by kind</h2>{chart.svg()}<table><tr><th>error code</th><th>requests</th></tr>"
            f"{codes or '<tr><td colspan=2>no request failed</td></tr>'}</table>"
            f"<table><tr><th>kind</th><th>why no tool was made</th></tr>"
            f"{reasons or '<tr><td colspan=2>no making attempt failed</td></tr>'}</table>")


def _made_markers(made: list[dict]) -> list[tuple[float, str]]:
    return [(e.get("seq", 0), f"{e.get('task')}: {_outcome(e)}") for e in made if e.get("ok")]


def _outcome(event: dict) -> str:
    if event.get("reused"):
        return f"reused {event.get('tool_id')}"
    return f"made {event.get('tool_id')}@{event.get('version')}" if event.get("ok") else "not made"


def _percentiles(values: list[float]) -> dict[int, float]:
    pick = lambda q: values[min(len(values) - 1, int(q / 100 * len(values)))] if values else 0.0  # noqa: E731
    return {50: pick(50), 90: pick(90), 99: pick(99), 100: values[-1] if values else 0.0}
