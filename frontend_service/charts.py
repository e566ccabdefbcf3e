"""Charts for the reports page, drawn as SVG on the server.

No charting library and no script: the page stays within the site's CSP and works
without JavaScript. A chart here is geometry (bars, lines, bands in SVG user units);
templates/charts.html turns it into markup, escaping every label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 28  # room for the value axis and the day labels
COLOURS = ["#7a3e12", "#2f6f8f", "#c28f2c", "#5b8c5a", "#8e5572", "#b3261e"]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Line:
    points: str  # "x,y x,y ..." for <polyline>
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    label: str
    legend: list[tuple[str, str]] = field(default_factory=list)  # (name, colour)
    rects: list[Rect] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


class _Frame:
    """Maps days and values onto the plotting area."""

    def __init__(self, days: list[date], top_value: float):
        self.days = days
        self.top = _nice_ceiling(top_value)
        self.slot = (WIDTH - LEFT - RIGHT) / len(days)

    def x(self, index: int) -> float:
        return LEFT + index * self.slot

    def y(self, value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / self.top)

    def ticks(self, unit: str) -> tuple[list[Tick], list[Tick]]:
        y_ticks = [Tick(self.y(self.top * i / 4), _format(self.top * i / 4, unit)) for i in range(5)]
        every = max(1, len(self.days) // 8)
        x_ticks = [
            Tick(self.x(i) + self.slot / 2, day.strftime("%m-%d")) for i, day in enumerate(self.days) if i % every == 0
        ]
        return y_ticks, x_ticks


def stacked_bars(
    label: str,
    days: list[date],
    series: dict[str, dict[date, float]],
    unit: str = "",
    colours: list[str] = COLOURS,
) -> Chart:
    """One bar per day, one coloured segment per series."""
    totals = [sum(values.get(day, 0.0) for values in series.values()) for day in days]
    chart = Chart(label, legend=[(name, colours[i % len(colours)]) for i, name in enumerate(series)])
    chart.empty = not any(totals)
    frame = _Frame(days, max(totals, default=0.0))
    chart.y_ticks, chart.x_ticks = frame.ticks(unit)
    for index, day in enumerate(days):
        base = 0.0
        for (name, colour), values in zip(chart.legend, series.values(), strict=True):
            value = values.get(day, 0.0)
            if value <= 0:
                continue
            top, bottom = frame.y(base + value), frame.y(base)
            chart.rects.append(
                Rect(
                    frame.x(index) + frame.slot * 0.1,
                    top,
                    frame.slot * 0.8,
                    bottom - top,
                    colour,
                    f"{day.isoformat()} · {name}: {_format(value, unit)}",
                )
            )
            base += value
    return chart


def lines(
    label: str,
    days: list[date],
    series: dict[str, dict[date, float]],
    unit: str = "",
    references: dict[str, float] | None = None,
) -> Chart:
    """One line per series through the days that have a value; references are
    horizontal dashed lines (a target, the ends of an estimate)."""
    references = references or {}
    values = [v for s in series.values() for v in s.values() if v is not None]
    chart = Chart(label, legend=[(name, COLOURS[i % len(COLOURS)]) for i, name in enumerate(series)])
    chart.empty = not values
    frame = _Frame(days, max(values + list(references.values()), default=0.0))
    chart.y_ticks, chart.x_ticks = frame.ticks(unit)
    for (name, colour), points in zip(chart.legend, series.values(), strict=True):
        marks = [
            (day, frame.x(i) + frame.slot / 2, frame.y(points[day]))
            for i, day in enumerate(days)
            if points.get(day) is not None
        ]
        if marks:
            chart.lines.append(Line(" ".join(f"{x:.1f},{y:.1f}" for _, x, y in marks), colour))
            chart.rects += [
                Rect(x - 2.5, y - 2.5, 5, 5, colour, f"{day.isoformat()} · {name}: {_format(points[day], unit)}")
                for day, x, y in marks
            ]
    for offset, (name, value) in enumerate(references.items(), start=len(chart.legend)):
        colour = COLOURS[offset % len(COLOURS)]
        chart.legend.append((f"{name}: {_format(value, unit)}", colour))
        chart.lines.append(Line(f"{LEFT},{frame.y(value):.1f} {WIDTH - RIGHT},{frame.y(value):.1f}", colour, True))
    return chart


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _format(value: float, unit: str) -> str:
    if unit == "$":
        return f"${value:.6f}".rstrip("0") if 0 < abs(value) < 0.01 else f"${value:,.2f}"
    if unit == "s":
        return gettext("%(seconds)s s", seconds=f"{value:,.1f}")
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
