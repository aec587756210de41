"""A patient's platelet course as an inline SVG: counts over time, the protocol's thresholds,
baseline, dose changes and rescue therapy — readable at a glance, no JavaScript needed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 900, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 20, 50
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
AXIS_Y = HEIGHT - BOTTOM


@dataclass(frozen=True)
class ChartPoint:
    date: dt.date
    value: float
    response: str


@dataclass(frozen=True)
class ChartLine:
    value: float
    label: str


@dataclass(frozen=True)
class ChartSpan:
    start: dt.date
    end: dt.date
    label: str


@dataclass(frozen=True)
class ChartMark:
    date: dt.date
    label: str


RESPONSE_COLOURS = {"CR": "#1a7f37", "R": "#2f81f7", "PR": "#2f81f7", "NR": "#cf222e"}


def platelet_chart_svg(
    points: list[ChartPoint],
    *,
    day1: dt.date,
    thresholds: list[ChartLine],
    baseline: float | None,
    rescue: list[ChartSpan],
    dose_changes: list[ChartMark],
) -> str:
    if not points:
        return '<p class="help">No platelet counts recorded after day 1.</p>'
    last = max([p.date for p in points] + [s.end for s in rescue] + [m.date for m in dose_changes])
    first = min([day1] + [p.date for p in points])
    span_days = max((last - first).days, 1)
    top_value = (
        max([p.value for p in points] + [t.value for t in thresholds] + [baseline or 0]) * 1.1
    )

    def x(day: dt.date) -> float:
        return LEFT + (day - first).days / span_days * (PLOT_W)

    def y(value: float) -> float:
        return AXIS_Y - value / top_value * (PLOT_H)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'role="img" aria-label="Platelet count over time" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" '
        'fill="#fff" stroke="#ccc"/>',
    ]
    for span in rescue:
        x0, x1 = x(max(span.start, first)), x(min(span.end, last))
        parts.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 2):.1f}" height="{PLOT_H}" '
            f'fill="#f6c343" opacity="0.3"><title>Rescue: {escape(span.label)}</title></rect>'
        )
    for line in thresholds:
        parts.append(_hline(y(line.value), "#8c959f", "4 3", line.label))
    if baseline is not None:
        parts.append(_hline(y(baseline), "#6e40c9", "1 3", f"baseline {baseline:g}"))
    for mark in dose_changes:
        parts.append(
            f'<line x1="{x(mark.date):.1f}" x2="{x(mark.date):.1f}" y1="{TOP}" y2="{AXIS_Y}" '
            f'stroke="#0969da" stroke-width="1"><title>{escape(mark.label)}</title></line>'
        )
    path = " ".join(f"{x(p.date):.1f},{y(p.value):.1f}" for p in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#24292f" stroke-width="1.5"/>')
    for p in points:
        colour = RESPONSE_COLOURS.get(p.response, "#2f81f7")
        parts.append(
            f'<circle cx="{x(p.date):.1f}" cy="{y(p.value):.1f}" r="4" fill="{colour}">'
            f"<title>{p.date.isoformat()}: PLT {p.value:g} ({escape(p.response)})</title></circle>"
        )
    parts.append(_axes(first, last, x, top_value, y))
    parts.append("</svg>")
    return "".join(parts)


def _hline(y_pos: float, colour: str, dash: str, label: str) -> str:
    return (
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_pos:.1f}" y2="{y_pos:.1f}" '
        f'stroke="{colour}" stroke-dasharray="{dash}"/>'
        f'<text x="{WIDTH - RIGHT - 4}" y="{y_pos - 3:.1f}" '
        f'text-anchor="end" fill="{colour}">{escape(label)}</text>'
    )


def _axes(first: dt.date, last: dt.date, x, top_value: float, y) -> str:
    parts = []
    steps = 5
    for i in range(steps + 1):
        value = top_value * i / steps
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.0f}</text>'
        )
    total = (last - first).days
    for i in range(steps + 1):
        day = first + dt.timedelta(days=round(total * i / steps))
        parts.append(
            f'<text x="{x(day):.1f}" y="{AXIS_Y + 16}" text-anchor="middle">'
            f"{day.isoformat()}</text>"
        )
    parts.append(
        f'<text x="14" y="{TOP + (PLOT_H) / 2:.0f}" '
        f'transform="rotate(-90 14 {TOP + (PLOT_H) / 2:.0f})" text-anchor="middle">'
        "PLT ×10⁹/L</text>"
    )
    return "".join(parts)
