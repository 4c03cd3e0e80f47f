"""Charts as server-rendered SVG: no JavaScript, no CDN, readable offline and in a screenshot.

``bar_chart`` stacks each day's values (positive up, negative down from zero);
``line_chart`` draws series with gaps where a day has no value. Every bar and
point has a ``<title>`` (the browser's tooltip) with the day's exact figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

__all__ = ["Series", "bar_chart", "line_chart", "nice_ticks"]

WIDTH, HEIGHT = 960, 240
LEFT, RIGHT, TOP, BOTTOM = 78, 12, 14, 30


@dataclass(frozen=True)
class Series:
    """A named series of one value per day (``None``: no value that day)."""

    label: str
    color: str
    values: Sequence[float | None]


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round tick values covering ``low``..``high`` (zero included)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


class _Frame:
    def __init__(self, days: Sequence[date], ticks: list[float]) -> None:
        self.days, self.ticks = days, ticks
        self.low, self.high = ticks[0], ticks[-1]
        self.slot = (WIDTH - LEFT - RIGHT) / max(1, len(days))

    def y(self, value: float) -> float:
        return TOP + (self.high - value) / (self.high - self.low) * (HEIGHT - TOP - BOTTOM)

    def x(self, index: int) -> float:
        return LEFT + index * self.slot

    def axes(self, fmt: Callable[[float], str]) -> list[str]:
        parts = []
        for tick in self.ticks:
            y = self.y(tick)
            stroke = "#999" if tick == 0 else "#e3e3e3"
            parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{stroke}"/>')
            parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(tick))}</text>')
        every = max(1, math.ceil(len(self.days) / 12))
        for index, day in enumerate(self.days):
            if index % every == 0 or index == len(self.days) - 1:
                x = self.x(index) + self.slot / 2
                parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{day:%d.%m}</text>')
        return parts


def _svg(css: str, label: str, parts: list[str], series: Sequence[Series]) -> Markup:
    legend = "".join(
        f'<span class="komtet-legend-item"><i style="background:{s.color}"></i>{escape(s.label)}</span>' for s in series)
    body = "".join(parts)
    return Markup(
        f'<figure class="komtet-chart {css}"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" font-size="11" fill="#555">{body}</svg>'
        f'<figcaption class="komtet-legend">{legend}</figcaption></figure>')


def bar_chart(days: Sequence[date], series: Sequence[Series], *, label: str, css: str = "",
              fmt: Callable[[float], str] = lambda v: f"{v:g}", titles: Sequence[str] = ()) -> Markup:
    """Bars per day, the series stacked (negative values below zero)."""
    ups = [sum(max(0.0, s.values[i] or 0.0) for s in series) for i in range(len(days))]
    downs = [sum(min(0.0, s.values[i] or 0.0) for s in series) for i in range(len(days))]
    frame = _Frame(days, nice_ticks(min(downs, default=0.0), max(ups, default=0.0)))
    parts = frame.axes(fmt)
    width = max(1.0, frame.slot * 0.72)
    for index in range(len(days)):
        up = down = 0.0
        x = frame.x(index) + (frame.slot - width) / 2
        title = escape(titles[index]) if index < len(titles) else ""
        for s in series:
            value = s.values[index] or 0.0
            if not value:
                continue
            base = up if value > 0 else down
            top, bottom = (base + value, base) if value > 0 else (base, base + value)
            if value > 0:
                up += value
            else:
                down += value
            y0, y1 = frame.y(top), frame.y(bottom)
            parts.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{max(0.5, y1 - y0):.1f}" '
                         f'fill="{s.color}"><title>{title}</title></rect>')
    return _svg(css, label, parts, series)


def line_chart(days: Sequence[date], series: Sequence[Series], *, label: str, css: str = "",
               fmt: Callable[[float], str] = lambda v: f"{v:g}", titles: Sequence[str] = ()) -> Markup:
    """A line per series with a dot per day that has a value."""
    values = [v for s in series for v in s.values if v is not None]
    frame = _Frame(days, nice_ticks(0.0, max(values, default=1.0)))
    parts = frame.axes(fmt)
    for s in series:
        path: list[str] = []
        for index, value in enumerate(s.values):
            if value is None:
                path.append("")
                continue
            x, y = frame.x(index) + frame.slot / 2, frame.y(value)
            path.append(f"{x:.1f},{y:.1f}")
            title = escape(titles[index]) if index < len(titles) else ""
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.color}"><title>{title}</title></circle>')
        for run in " ".join(path).split("  "):
            if run.strip():
                parts.append(f'<polyline points="{run.strip()}" fill="none" stroke="{s.color}" stroke-width="2"/>')
    return _svg(css, label, parts, series)


