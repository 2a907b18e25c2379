"""Bar, waterfall and trend charts as geometry for the SVG templates (``templates/_charts.html.j2``).

Charts are drawn by small SVG templates rather than a charting library:
the page must be static, readable without JavaScript and byte-identical
from run to run, and a handful of bar charts needs only rectangles and
text. This module computes the geometry; the templates only place it.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 110
BAR_HEIGHT = 18
ROW_HEIGHT = 26
TOP = 8
MAX_LABEL_CHARS = 30


@attrs.define(frozen=True, kw_only=True)
class Bar:
    label: str
    short_label: str
    text: str
    x: float
    y: float
    width: float
    tone: str = ""
    href: str | None = None


@attrs.define(frozen=True, kw_only=True)
class Chart:
    """A chart's geometry with its title and text alternative (``description``)."""

    key: str
    title: str
    description: str
    width: int
    height: int
    bars: Sequence[Bar] = ()
    axis_x: float = LABEL_WIDTH
    #: For line charts: the polyline's points and the labelled points.
    points: str = ""
    marks: Sequence[Bar] = ()
    empty_note: str = ""


def short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(key: str, title: str, rows: Sequence[tuple[str, float | None, str, str | None]], *, tone: str = "", empty_note: str = "nothing to show") -> Chart:
    """Horizontal bars, one per ``(label, value, value text, link)``; a None value draws no bar but keeps its text."""
    values = [value for _, value, _, _ in rows if value is not None]
    top = max([abs(v) for v in values] or [0.0])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, (label, value, text, href) in enumerate(rows):
        width = 0.0 if value is None or top == 0 else round(abs(value) / top * span, 1)
        bars.append(Bar(label=label, short_label=short(label), text=text, x=LABEL_WIDTH, y=TOP + index * ROW_HEIGHT, width=width, tone="muted" if value is None else tone, href=href))
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text, _ in rows) if rows else f"{title}: {empty_note}"
    return Chart(key=key, title=title, description=description, width=WIDTH, height=TOP * 2 + max(len(rows), 1) * ROW_HEIGHT, bars=bars, empty_note="" if rows else empty_note)


def waterfall_chart(key: str, title: str, steps: Sequence[tuple[str, float, str]]) -> Chart:
    """The period's pipeline flow: the first and last steps are totals, the others changes between them."""
    running, extents = 0.0, []
    for index, (_, amount, _) in enumerate(steps):
        total = index in (0, len(steps) - 1)
        start = 0.0 if total else running
        end = amount if total else running + amount
        running = end
        extents.append((min(start, end), max(start, end), total, amount))
    top = max([hi for _, hi, _, _ in extents] or [0.0])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    scale = span / top if top else 0.0
    bars = [
        Bar(
            label=label,
            short_label=short(label),
            text=text,
            x=round(LABEL_WIDTH + max(lo, 0.0) * scale, 1),
            y=TOP + index * ROW_HEIGHT,
            width=round(max(hi - max(lo, 0.0), 0.0) * scale, 1),
            tone="total" if total else ("up" if amount >= 0 else "down"),
        )
        for index, ((label, _, text), (lo, hi, total, amount)) in enumerate(zip(steps, extents, strict=True))
    ]
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text in steps)
    return Chart(key=key, title=title, description=description, width=WIDTH, height=TOP * 2 + max(len(steps), 1) * ROW_HEIGHT, bars=bars)


def trend_chart(key: str, title: str, points: Sequence[tuple[str, float | None, str]]) -> Chart:
    """A line over earlier runs, oldest first; runs without the figure are skipped."""
    known = [(label, value, text) for label, value, text in points if value is not None]
    height, left, right, pad = 160, 60, WIDTH - 20, 20
    if not known:
        return Chart(key=key, title=title, description=f"{title}: no earlier figures", width=WIDTH, height=40, empty_note="no earlier figures")
    low, high = min(v for _, v, _ in known), max(v for _, v, _ in known)
    spread = (high - low) or 1.0
    step = (right - left) / max(len(known) - 1, 1)
    marks = []
    for index, (label, value, text) in enumerate(known):
        x = round(left + index * step, 1)
        y = round(height - pad - (value - low) / spread * (height - 2 * pad), 1)
        marks.append(Bar(label=label, short_label=short(label, 12), text=text, x=x, y=y, width=0))
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text in known)
    return Chart(key=key, title=title, description=description, width=WIDTH, height=height + 20, points=" ".join(f"{m.x},{m.y}" for m in marks), marks=marks)
