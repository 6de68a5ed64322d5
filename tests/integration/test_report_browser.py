"""`latm report` on a real run's ledger, rendered by headless chromium: the inline SVG plots draw."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from .pipeline_helpers import CORE_PROMPT, CORE_SORT_TOOL, WORD_SORT_TOOL, WRONG_TOOL, word_sort_requests

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
BLUE, RED = (0x25, 0x63, 0xEB), (0xDC, 0x26, 0x26)  # the first two series colours of the plots


def png_pixels(data: bytes) -> list[tuple[int, int, int]]:
    """RGB pixels of an 8-bit RGB or RGBA PNG (what chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, prev, pixels = zlib.decompress(idat), width * channels, bytearray(width * channels), []
    for y in range(height):
        filt, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if filt == 1:
                line[i] = (line[i] + a) & 255
            elif filt == 2:
                line[i] = (line[i] + b) & 255
            elif filt == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, channels))
        prev = line
    return pixels


def run_latm(*args: str, env: dict, timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agents.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine (apt-get install chromium); "
                                            "the report is still tested without a browser in tests/unit")
def test_report_of_a_real_run_renders_its_plots_in_chromium(llm_stub, tmp_path):
    llm_stub.script(WRONG_TOOL, role="maker", match="vowels")
    llm_stub.script(CORE_SORT_TOOL, role="maker", match=CORE_PROMPT)
    llm_stub.script(WORD_SORT_TOOL, role="maker")
    llm_stub.script("2", role="solver")
    vowels = [json.dumps({"id": f"v{i}", "input": f"Count the vowels in this word: {w}"})
              for i, w in enumerate(["apple", "kiwi", "mango", "fig", "lemon", "peach", "olive", "grape"])]
    (tmp_path / "requests.jsonl").write_text("\n".join(word_sort_requests(40) + vowels) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATM_", "RAY_ADDRESS"))}
    env.update(OPENAI_BASE_URL=llm_stub.base_url, OPENAI_API_KEY="stub")
    store = tmp_path / "store" / "tools.sqlite"
    run = run_latm("run", str(tmp_path / "requests.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--store",
                   str(store), "--no-progress", "--summary-json", str(tmp_path / "summary.json"), env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    run_id = json.loads((tmp_path / "summary.json").read_text())["run_id"]
    page = tmp_path / "report.html"
    report = run_latm("report", run_id, "--ledger", str(store.parent / "runs.sqlite"), "-o", str(page), env=env)
    assert report.returncode == 0, report.stdout + report.stderr
    html = page.read_text()
    assert "count the vowels" in html and "word_sorting" in html and html.count("<svg") == 6
    shot = tmp_path / "report.png"
    chrome = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                             "--no-first-run", f"--user-data-dir={tmp_path / 'chrome'}", "--hide-scrollbars",
                             "--window-size=820,1400", f"--screenshot={shot}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert chrome.returncode == 0 and shot.exists(), chrome.stderr[-2000:]
    pixels = png_pixels(shot.read_bytes())
    assert len(pixels) == 820 * 1400
    assert sum(p == BLUE for p in pixels) > 300  # the latm lines and bars were drawn
    assert sum(p == RED for p in pixels) > 300  # and the second series (baselines)
    assert len(set(pixels)) > 50  # text and axes, not a blank or error page


def test_report_names_the_runs_when_one_is_missing(tmp_path):
    from store.run_ledger import RunLedger, RunRow
    ledger = RunLedger(tmp_path / "runs.sqlite")
    ledger.record(RunRow(run_id="abc123", request_id="1", route="tool"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATM_")}
    out = run_latm("report", "nope", "--ledger", str(tmp_path / "runs.sqlite"), env=env, timeout=60)
    assert out.returncode == 2 and "abc123" in out.stdout
    ok = run_latm("report", "--ledger", str(tmp_path / "runs.sqlite"), "-o", str(tmp_path / "r.html"),
                  env=env, timeout=60)
    assert ok.returncode == 0 and Path(tmp_path / "r.html").read_text().startswith("<!doctype html>")
