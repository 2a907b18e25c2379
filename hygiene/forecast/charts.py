"""The forecast page's charts as geometry for its SVG template: the forecast three ways, linearity, the funnel, the backtest.

Drawn from the JSON document alone with the public chart geometry
(:mod:`hygiene.api.charts`), as plain rectangles, lines and text: nothing
fetched, the same document gives the same bytes. Every chart carries a title and a text alternative that states its
numbers, so a screen reader (or a reader without the picture) loses nothing.
"""

from __future__ import annotations

from typing import Any

from hygiene.api.charts import Chart, ChartLayout, ChartLine
from hygiene.api.charts import bar_chart as _bar_chart

WIDTH = 640
PLOT_HEIGHT = 220
#: Fill by tone, as SVG attributes: the charts need no stylesheet, so the audit's HTML report can hold them as they are.
COLOURS = {"": "#8c959f", "won": "#1a7f37", "calibrated": "#0969da", "category": "#8250df", "weighted": "#9a6700", "risk": "#cf222e", "current": "#0969da", "past": "#afb8c1"}
LAYOUT = ChartLayout(width=WIDTH, label_width=190, value_width=110, row_height=26, top=8, max_label_chars=28, min_rows=0, min_height=40, palette=COLOURS)


def _amount(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def bar_chart(key: str, title: str, rows: list[tuple[str, float | None, str, str]], empty_note: str = "nothing to show") -> Chart:
    """Horizontal bars, one per ``(label, value, value text, tone)``; a None value draws no bar but keeps its text."""
    return _bar_chart(key, title, [(label, value, text, None, tone) for label, value, text, tone in rows], empty_note=empty_note, layout=LAYOUT)


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
        tone = "current" if index == 0 else "past"
        lines.append(ChartLine(label=period["period"], points=points, tone=tone, colour=COLOURS[tone], stroke_width=3 if tone == "current" else 1))
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
