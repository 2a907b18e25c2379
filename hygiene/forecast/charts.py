"""The forecast page's charts as geometry for its SVG template: the forecast three ways, linearity, the funnel, the backtest.

Drawn from the JSON document alone, as plain rectangles, lines and text:
no charting library, nothing fetched, the same document gives the same
bytes. Every chart carries a title and a text alternative that states its
numbers, so a screen reader (or a reader without the picture) loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

WIDTH = 640
LABEL_WIDTH = 190
VALUE_WIDTH = 110
ROW_HEIGHT = 26
PLOT_HEIGHT = 220
MAX_LABEL_CHARS = 28
#: Fill by tone, as SVG attributes: the charts need no stylesheet, so the audit's HTML report can hold them as they are.
COLOURS = {"": "#8c959f", "won": "#1a7f37", "calibrated": "#0969da", "category": "#8250df", "weighted": "#9a6700", "risk": "#cf222e", "current": "#0969da", "past": "#afb8c1"}


@attrs.define(frozen=True, kw_only=True)
class Bar:
    label: str
    short_label: str
    text: str
    x: float
    y: float
    width: float
    tone: str = ""

    @property
    def colour(self) -> str:
        return COLOURS.get(self.tone, COLOURS[""])


@attrs.define(frozen=True, kw_only=True)
class Line:
    label: str
    points: str
    tone: str

    @property
    def colour(self) -> str:
        return COLOURS[self.tone]

    @property
    def stroke_width(self) -> int:
        return 3 if self.tone == "current" else 1


@attrs.define(frozen=True, kw_only=True)
class Chart:
    """A chart's geometry with its title and text alternative (``description``)."""

    key: str
    title: str
    description: str
    width: int
    height: int
    bars: Sequence[Bar] = ()
    lines: Sequence[Line] = ()
    #: Axis labels of a line chart: (x, text).
    ticks: Sequence[tuple[float, str]] = ()
    empty_note: str = ""


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _amount(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def bar_chart(key: str, title: str, rows: Sequence[tuple[str, float | None, str, str]], empty_note: str = "nothing to show") -> Chart:
    """Horizontal bars, one per ``(label, value, value text, tone)``; a None value draws no bar but keeps its text."""
    top = max([abs(v) for _, v, _, _ in rows if v is not None] or [0.0])
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [
        Bar(label=label, short_label=_short(label), text=text, x=LABEL_WIDTH, y=8 + i * ROW_HEIGHT, width=round(span * abs(value) / top, 1) if value and top else 0.0, tone=tone)
        for i, (label, value, text, tone) in enumerate(rows)
    ]
    description = f"{title}: " + "; ".join(f"{label} {text}" for label, _, text, _ in rows) if rows else f"{title}: {empty_note}"
    return Chart(key=key, title=title, description=description, width=WIDTH, height=max(40, 16 + len(rows) * ROW_HEIGHT), bars=bars, empty_note="" if rows else empty_note)


def forecast_chart(forecast: dict[str, Any]) -> Chart:
    """The period's number three ways, and the calibrated range."""
    overall = forecast["overall"]
    category, weighted, calibrated = overall["by_category"], overall["stage_weighted"], overall["calibrated"]
    rows = [("won so far", overall["won"], _amount(overall["won"]), "won")]
    for key, label in (("commit_call", "commit call"), ("best_case_call", "best case call"), ("pipeline_call", "pipeline call")):
        if key in category:
            rows.append((label, category[key], _amount(category[key]), "category"))
    rows.append(("stage-weighted", weighted["forecast"], _amount(weighted["forecast"]), "weighted"))
    for key in ("p10", "p50", "p90"):
        if key in calibrated:
            rows.append((f"calibrated {key}", calibrated[key], _amount(calibrated[key]), "calibrated"))
    return bar_chart("forecast", f"Forecast for {forecast['period']['name']}, three ways", rows)


def win_rate_chart(rates: dict[str, Any]) -> Chart:
    owners = rates["segments"].get("owner", {})
    rows = []
    for group in owners.get("groups", []):
        figure = group["by_count"]
        if "rate" in figure:
            rows.append((group["key"], figure["rate"], f"{figure['rate'] * 100:.1f}% [{figure['low'] * 100:.1f}-{figure['high'] * 100:.1f}%]", ""))
        else:
            rows.append((group["key"], None, figure["reason"], ""))
    return bar_chart("win-rates", "Win rate by owner, by count (95% Wilson interval)", rows, owners.get("reason", "no owner"))


def funnel_chart(funnel: dict[str, Any]) -> Chart | None:
    if "reason" in funnel:
        return None
    rows = [(row["stage"], float(row["entered"]), f"{row['entered']} entered, {row['advanced']} advanced, {row['lost']} lost", "") for row in funnel["stages"]]
    return bar_chart("funnel", "Stage funnel: deals that entered each stage in the trailing window", rows)


def backtest_chart(backtest: dict[str, Any]) -> Chart | None:
    if "reason" in backtest:
        return None
    rows = [(row["code"], row.get("lift"), f"lift {row['lift']:.2f}x" if "lift" in row else row["lift_reason"], "risk" if (row.get("lift") or 0) > 1 else "") for row in backtest["rules"]]
    return bar_chart("backtest", "Rule backtest: loss-rate lift of flagged deals", rows)


def linearity_chart(linearity: dict[str, Any]) -> Chart | None:
    """Cumulative won amount by week of the period: this period (bold) against the past ones."""
    if "reason" in linearity or not linearity["periods"]:
        return None
    periods = linearity["periods"]
    weeks = max(len(p["cumulative"]) for p in periods) or 1
    top = max([v for p in periods for v in p["cumulative"]] or [0.0]) or 1.0
    left, right, top_margin, bottom = 60, 20, 10, 30
    span_x, span_y = WIDTH - left - right, PLOT_HEIGHT - top_margin - bottom

    def point(week: int, value: float) -> str:
        x = left + span_x * (week + 1) / weeks
        y = top_margin + span_y * (1 - value / top)
        return f"{x:.1f},{y:.1f}"

    lines = []
    for index, period in enumerate(periods):
        points = " ".join([f"{left:.1f},{top_margin + span_y:.1f}", *(point(w, v) for w, v in enumerate(period["cumulative"]))])
        lines.append(Line(label=period["period"], points=points, tone="current" if index == 0 else "past"))
    ticks = [(left + span_x * (w + 1) / weeks, str(w + 1)) for w in range(0, weeks, max(1, weeks // 7))]
    description = "Cumulative won amount by week: " + "; ".join(f"{p['period']} {_amount(p['won'])} after {len(p['cumulative'])} weeks" for p in periods)
    return Chart(key="linearity", title="Linearity: cumulative won amount by week of the period (this period in bold)", description=description, width=WIDTH, height=PLOT_HEIGHT, lines=lines, ticks=ticks)


def charts(document: dict[str, Any]) -> list[Chart]:
    """The page's charts, in the order the page shows them."""
    made = [
        forecast_chart(document["forecast"]),
        linearity_chart(document["linearity"]),
        win_rate_chart(document["win_rates"]),
        funnel_chart(document["funnel"]),
        backtest_chart(document["backtest"]),
    ]
    return [chart for chart in made if chart is not None]
