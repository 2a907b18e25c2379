"""SVG chart geometry for HTML reports: bars, a waterfall, lines, computed here and placed by a template.

Charts in a hygiene page are drawn by small SVG templates rather than a
charting library: the page must be static, readable without JavaScript and
byte-identical from run to run, and a report's charts need only rectangles,
polylines and text. These functions compute the geometry (every coordinate
rounded to a tenth, so the same figures give the same bytes); a template
loops over :attr:`Chart.bars`, :attr:`Chart.marks` or :attr:`Chart.lines`
and writes ``<rect>``, ``<circle>`` and ``<polyline>`` elements. Every
chart carries a ``title`` and a ``description`` that states its numbers: the
text alternative a screen reader reads, and what a reader without the
picture still gets.

:class:`ChartLayout` holds the sizes. A page that colours its bars with
SVG attributes rather than a stylesheet gives the layout a ``palette`` (tone
to colour); each bar then carries its ``colour``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import attrs


@attrs.define(frozen=True, kw_only=True)
class ChartLayout:
    """The sizes of a page's charts, in SVG user units.

    A bar chart is ``width`` wide: ``label_width`` for the labels (cut to
    ``max_label_chars`` characters), then the bars, then ``value_width``
    for each bar's value text. Rows are ``row_height`` apart, starting
    ``top`` from the top; the chart is ``2 * top + rows * row_height``
    high, counting at least ``min_rows`` rows, and at least ``min_height``.
    """

    width: int = 640
    label_width: int = 200
    value_width: int = 110
    row_height: int = 26
    top: int = 8
    max_label_chars: int = 30
    min_rows: int = 1
    min_height: int = 0
    #: Tone to fill colour, for pages whose charts carry their colours as attributes; the ``""`` tone is the default.
    palette: Mapping[str, str] | None = None

    def colour(self, tone: str) -> str:
        """The fill of a bar of ``tone`` (empty without a palette: the page's stylesheet colours it by class)."""
        if self.palette is None:
            return ""
        return self.palette.get(tone, self.palette.get("", ""))

    def height(self, rows: int) -> int:
        return max(self.min_height, 2 * self.top + max(rows, self.min_rows) * self.row_height)


#: The layout of the audit's HTML report.
DEFAULT_LAYOUT = ChartLayout()


class BarRow(NamedTuple):
    """One bar to draw: its label, its value (None draws no bar but keeps the text), the value as text, a link and a tone."""

    label: str
    value: float | None
    text: str
    href: str | None = None
    #: Overrides the chart's tone for this bar ("risk", "muted", ...): a CSS class, or a palette key.
    tone: str | None = None


@attrs.define(frozen=True, kw_only=True)
class ChartBar:
    """A bar's (or a line chart's point's) geometry: where it starts (``x``, ``y``), how wide, and its texts."""

    label: str
    short_label: str
    text: str
    x: float
    y: float
    width: float
    tone: str = ""
    href: str | None = None
    #: Its fill when the layout has a palette, else empty.
    colour: str = ""


@attrs.define(frozen=True, kw_only=True)
class ChartLine:
    """A polyline of a line chart: its label, its ``points`` (``"x,y x,y ..."``), tone, colour and stroke width."""

    label: str
    points: str
    tone: str = ""
    colour: str = ""
    stroke_width: int = 1


@attrs.define(frozen=True, kw_only=True)
class Chart:
    """A chart's geometry with its title and text alternative (``description``).

    A bar chart has ``bars`` (and its axis at ``axis_x``); a trend has one
    polyline in ``points`` and a labelled point per run in ``marks``; a chart
    of several lines has ``lines`` and axis labels in ``ticks``. A chart with
    nothing to draw has an ``empty_note`` instead.
    """

    key: str
    title: str
    description: str
    width: int
    height: int
    bars: Sequence[ChartBar] = ()
    axis_x: float = DEFAULT_LAYOUT.label_width
    points: str = ""
    marks: Sequence[ChartBar] = ()
    lines: Sequence[ChartLine] = ()
    #: Axis labels of a line chart: (x, text).
    ticks: Sequence[tuple[float, str]] = ()
    empty_note: str = ""


def short_label(label: str, limit: int = DEFAULT_LAYOUT.max_label_chars) -> str:
    """``label`` cut to ``limit`` characters, the last one an ellipsis when it was cut."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    key: str,
    title: str,
    rows: Sequence[BarRow | tuple],
    *,
    tone: str = "",
    empty_note: str = "nothing to show",
    layout: ChartLayout = DEFAULT_LAYOUT,
) -> Chart:
    """Horizontal bars, one per row, the longest for the largest absolute value; bars of tone ``tone`` unless a row says otherwise."""
    rows = [row if isinstance(row, BarRow) else BarRow(*row) for row in rows]
    top = max([abs(row.value) for row in rows if row.value is not None] or [0.0])
    span = layout.width - layout.label_width - layout.value_width
    bars = []
    for index, row in enumerate(rows):
        width = 0.0 if not row.value or top == 0 else round(abs(row.value) / top * span, 1)
        bar_tone = tone if row.tone is None else row.tone
        bars.append(
            ChartBar(
                label=row.label,
                short_label=short_label(row.label, layout.max_label_chars),
                text=row.text,
                x=layout.label_width,
                y=layout.top + index * layout.row_height,
                width=width,
                tone=bar_tone,
                href=row.href,
                colour=layout.colour(bar_tone),
            )
        )
    description = f"{title}: " + "; ".join(f"{row.label} {row.text}" for row in rows) if rows else f"{title}: {empty_note}"
    return Chart(
        key=key,
        title=title,
        description=description,
        width=layout.width,
        height=layout.height(len(rows)),
        bars=bars,
        axis_x=layout.label_width,
        empty_note="" if rows else empty_note,
    )


def waterfall_chart(key: str, title: str, steps: Sequence[tuple[str, float, str]], *, layout: ChartLayout = DEFAULT_LAYOUT) -> Chart:
    """A flow, one ``(label, amount, text)`` step per row: the first and last steps are totals, the others signed changes between them.

    Totals have tone ``total``; changes ``up`` or ``down``.
    """
    running, extents = 0.0, []
    for index, (_, amount, _) in enumerate(steps):
        total = index in (0, len(steps) - 1)
        start = 0.0 if total else running
        end = amount if total else running + amount
        running = end
        extents.append((min(start, end), max(start, end), total, amount))
    top = max([hi for _, hi, _, _ in extents] or [0.0])
    span = layout.width - layout.label_width - layout.value_width
    scale = span / top if top else 0.0
    bars = []
    for index, ((label, _, text), (lo, hi, total, amount)) in enumerate(zip(steps, extents, strict=True)):
        bar_tone = "total" if total else ("up" if amount >= 0 else "down")
        bars.append(
            ChartBar(
                label=label,
                short_label=short_label(label, layout.max_label_chars),
                text=text,
                x=round(layout.label_width + max(lo, 0.0) * scale, 1),
                y=layout.top + index * layout.row_height,
                width=round(max(hi - max(lo, 0.0), 0.0) * scale, 1),
                tone=bar_tone,
                colour=layout.colour(bar_tone),
            )
        )
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text in steps)
    return Chart(key=key, title=title, description=description, width=layout.width, height=layout.height(len(steps)), bars=bars, axis_x=layout.label_width)


def trend_chart(key: str, title: str, points: Sequence[tuple[str, float | None, str]], *, layout: ChartLayout = DEFAULT_LAYOUT) -> Chart:
    """A line over ``(label, value, text)`` points, oldest first; points without a value are left out, and the note says when none has one."""
    known = [(label, value, text) for label, value, text in points if value is not None]
    height, left, right, pad = 160, 60, layout.width - 20, 20
    if not known:
        return Chart(key=key, title=title, description=f"{title}: no earlier figures", width=layout.width, height=40, empty_note="no earlier figures")
    low, high = min(v for _, v, _ in known), max(v for _, v, _ in known)
    spread = (high - low) or 1.0
    step = (right - left) / max(len(known) - 1, 1)
    marks = []
    for index, (label, value, text) in enumerate(known):
        x = round(left + index * step, 1)
        y = round(height - pad - (value - low) / spread * (height - 2 * pad), 1)
        marks.append(ChartBar(label=label, short_label=short_label(label, 12), text=text, x=x, y=y, width=0))
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text in known)
    return Chart(key=key, title=title, description=description, width=layout.width, height=height + 20, points=" ".join(f"{m.x},{m.y}" for m in marks), marks=marks)
