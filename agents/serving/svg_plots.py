"""Small inline SVG charts (lines and horizontal bars) for pages that must render offline."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 44
PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")


@dataclass
class Series:
    """One line: a label, its points (x, y), and whether it is drawn dashed (a baseline)."""

    label: str
    points: list[tuple[float, float]]
    dashed: bool = False
    color: str = ""


@dataclass
class LineChart:
    """Lines over a shared x axis, with optional vertical markers (e.g. when a tool was made)."""

    title: str
    x_label: str
    y_label: str
    series: list[Series]
    markers: list[tuple[float, str]] = field(default_factory=list)
    y_max: float | None = None
    y_format: str = "{:g}"

    def svg(self) -> str:
        points = [p for s in self.series for p in s.points]
        if not points:
            return _empty(self.title)
        x_max = max(x for x, _ in points) or 1.0
        y_top = self.y_max if self.y_max is not None else _nice_ceiling(max(y for _, y in points))
        sx = lambda x: LEFT + (WIDTH - LEFT - RIGHT) * x / x_max  # noqa: E731
        sy = lambda y: TOP + (HEIGHT - TOP - BOTTOM) * (1 - y / y_top)  # noqa: E731
        parts = [_frame(self.title)]
        for i in range(5):
            y = y_top * i / 4
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" class="grid"/>'
                         f'<text x="{LEFT - 6}" y="{sy(y) + 4:.1f}" class="tick" text-anchor="end">'
                         f'{escape(self.y_format.format(y))}</text>')
        for i in range(6):
            x = x_max * i / 5
            parts.append(f'<text x="{sx(x):.1f}" y="{HEIGHT - BOTTOM + 16}" class="tick" text-anchor="middle">'
                         f'{x:,.0f}</text>')
        for x, label in self.markers:
            parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" class="marker">'
                         f'<title>{escape(label)}</title></line>')
        for i, s in enumerate(self.series):
            color = s.color or PALETTE[i % len(PALETTE)]
            path = " ".join(f"{sx(x):.1f},{sy(min(y, y_top)):.1f}" for x, y in _thin(s.points))
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>')
        parts.append(_axis_labels(self.x_label, self.y_label))
        parts.append(_legend([(s.label, s.color or PALETTE[i % len(PALETTE)], s.dashed)
                              for i, s in enumerate(self.series)]))
        return _close(parts)


@dataclass
class BarChart:
    """Horizontal bars, one per label; several values per label are drawn as grouped bars."""

    title: str
    labels: list[str]
    groups: list[tuple[str, list[float]]]  # (legend, one value per label)
    value_format: str = "{:,.0f}"
    log_scale: bool = False

    def svg(self) -> str:
        values = [v for _, vs in self.groups for v in vs]
        if not self.labels or not values:
            return _empty(self.title)
        left, row = 190, 14 * len(self.groups) + 10
        height = TOP + BOTTOM + row * len(self.labels)
        top = max(values) or 1.0
        floor = min([v for v in values if v > 0] or [1.0]) / 2
        scale = ((lambda v: max(0.0, math.log10(max(v, floor) / floor) / math.log10(top / floor)))
                 if self.log_scale and top > floor else (lambda v: v / top))
        span = WIDTH - left - RIGHT - 70
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img">'
                 f'<title>{escape(self.title)}</title>']
        for i, label in enumerate(self.labels):
            y = TOP + i * row
            parts.append(f'<text x="{left - 8}" y="{y + row / 2 + 2:.1f}" class="tick" text-anchor="end">'
                         f'{escape(_short(label, 30))}<title>{escape(label)}</title></text>')
            for j, (_, vs) in enumerate(self.groups):
                w = span * scale(vs[i])
                by = y + 4 + j * 14
                parts.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="11" fill="{PALETTE[j % len(PALETTE)]}"/>'
                             f'<text x="{left + w + 4:.1f}" y="{by + 9}" class="tick">'
                             f'{escape(self.value_format.format(vs[i]))}</text>')
        if len(self.groups) > 1:
            parts.append(_legend([(name, PALETTE[j % len(PALETTE)], False) for j, (name, _) in enumerate(self.groups)],
                                 y=height - 14))
        return _close(parts)


def _thin(points: list[tuple[float, float]], most: int = 800) -> list[tuple[float, float]]:
    """At most `most` points per line: a page stays small for a stream of millions."""
    step = max(1, len(points) // most)
    return points[::step] + ([points[-1]] if (len(points) - 1) % step else [])


def _nice_ceiling(value: float) -> float:
    """A round axis top at or above value (1, 2, 2.5, 5 x 10^k)."""
    if value <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(value))
    return next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= value)


def _frame(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">'
            f'<title>{escape(title)}</title>'
            f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" class="plot"/>')


def _axis_labels(x_label: str, y_label: str) -> str:
    mid = TOP + (HEIGHT - TOP - BOTTOM) / 2
    return (f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{HEIGHT - 6}" class="axis" text-anchor="middle">'
            f'{escape(x_label)}</text><text x="14" y="{mid}" class="axis" text-anchor="middle" '
            f'transform="rotate(-90 14 {mid})">{escape(y_label)}</text>')


def _legend(entries: list[tuple[str, str, bool]], y: int = TOP - 10) -> str:
    parts, x = [], LEFT + 10
    for label, color, dashed in entries:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" stroke-width="3"{dash}/>'
                     f'<text x="{x + 27}" y="{y}" class="legend">{escape(label)}</text>')
        x += 40 + 7 * len(label)
    return "".join(parts)


def _empty(title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} 60" role="img"><title>{escape(title)}'
            f'</title><text x="{WIDTH / 2}" y="34" class="axis" text-anchor="middle">no data</text></svg>')


def _close(parts: list[str]) -> str:
    return "".join(parts) + "</svg>"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
