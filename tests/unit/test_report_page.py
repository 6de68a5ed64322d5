"""The report page from ledger rows: every section, inline SVG only, hostile names escaped."""
from __future__ import annotations

import re

from agents.serving.report_page import render_report
from agents.serving.svg_plots import LineChart, Series
from store.run_ledger import RunRow


def rows(n: int) -> list[RunRow]:
    out = []
    for i in range(n):
        route = "solver" if i < 6 else "error" if i % 17 == 0 else "tool"
        out.append(RunRow(run_id="r1", request_id=f"q{i:03d}", route=route,
                          tool_id="sorter" if route == "tool" else None, llm_calls=route == "solver",
                          cost=0.002 if route == "solver" else 0.0, latency=0.5 if route == "solver" else 0.001,
                          correct=True if route == "tool" else None,
                          error="timeout: solver took too long" if route == "error" else None,
                          extra={"seq": n - 1 - i, "task": "<script>alert(1)</script>"}))
    return out


def test_page_has_every_section_and_no_external_resource():
    info = {"figures": {"requests": 120, "all_maker_spend_usd": 1.2, "spend_usd": 0.02, "maker_model": "gpt-4o"},
            "events": [{"kind": "made", "seq": 6, "task": "<b>sorting</b>", "ok": True, "samples": 4,
                        "tokens": 900, "tool_id": "sorter", "version": "abc", "cost_usd": 0.01},
                       {"kind": "made", "seq": 50, "task": "vowels", "ok": False, "samples": 8, "tokens": 2000,
                        "reason": "rounds exhausted"}]}
    html = render_report("r1", rows(120), info)
    for heading in ("Cache hit rate over the stream", "Spend against the all-strong-model baseline",
                    "Latency per route", "Tools and the requests each answered", "Failures by kind"):
        assert heading in html
    assert html.count("<svg") == 6
    assert "<script" not in html and "&lt;script&gt;" in html and "&lt;b&gt;sorting" in html
    assert not re.search(r'(src|href)="https?:', html)
    assert "rounds exhausted" in html and "timeout" in html and "gpt-4o" in html
    assert ">made sorter@abc<" in html  # the tool-making table


def test_run_without_figures_says_the_baseline_is_missing():
    html = render_report("r2", rows(20), {})
    assert "baseline is not shown" in html and html.count("<svg") == 6


def test_long_lines_are_thinned_and_axis_tops_are_round():
    chart = LineChart("t", "x", "y", [Series("s", [(i, i * 0.37) for i in range(100_000)])])
    svg = chart.svg()
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert len(points) <= 802
    assert ">50000<" in svg  # 36,999.6 rounds up to a top of 50,000 (five ticks of 12,500)
