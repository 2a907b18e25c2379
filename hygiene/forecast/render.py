"""The forecast document rendered for a terminal or as Markdown, from the JSON document alone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from hygiene.api.escaping import terminal_text

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]~|<>#])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_MENTION = re.compile(r"@(?=\w)")

SEGMENT_TITLES = {
    "owner": "owner",
    "team": "team",
    "manager": "manager",
    "region": "region",
    "lead_source": "lead source",
    "deal_type": "deal type",
    "product": "product",
    "size_band": "deal size",
}


@attrs.define(kw_only=True)
class Section:
    """A titled table, with the lines that say what could not be computed."""

    title: str
    columns: list[str] = attrs.field(factory=list)
    rows: list[list[str]] = attrs.field(factory=list)
    notes: list[str] = attrs.field(factory=list)


def amount(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def share(value: float) -> str:
    return f"{value * 100:.1f}%"


def rate_text(figure: dict[str, Any]) -> str:
    """``35.2% [30.1-40.5%]``, or the reason there is no number."""
    if "rate" not in figure:
        return figure["reason"]
    return f"{share(figure['rate'])} [{figure['low'] * 100:.1f}-{figure['high'] * 100:.1f}%]"


def cycle_text(figure: dict[str, Any]) -> str:
    if "median" not in figure:
        return figure["reason"]
    return f"{figure['median']:g} d ({figure['p25']:g}-{figure['p75']:g}), n={figure['n']}"


def forecast_sections(document: dict[str, Any]) -> list[Section]:
    """The document as tables, in the order a reader wants them: the period's number first."""
    return [
        *_forecast_sections(document["forecast"]),
        *_lead_generation_sections(document["lead_generation"]),
        *_win_rate_sections(document["win_rates"]),
        _cycle_section(document["cycle"]),
        _velocity_section(document["velocity"]),
        *_calibration_sections(document["calibration"]),
        _linearity_section(document["linearity"]),
        _creation_pace_section(document["creation_pace"]),
        *_accuracy_sections(document["accuracy"]),
        _funnel_section(document["funnel"]),
        _backtest_section(document["backtest"]),
    ]


def pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.1f}%"


def _linearity_section(linearity: dict[str, Any]) -> Section:
    if "reason" in linearity:
        return Section(title="Linearity", notes=[linearity["reason"]])
    week = linearity["week"]
    section = Section(title=f"Linearity: won amount by week {week} of the period, against past periods", columns=["period", f"won by week {week}", "period total", f"share by week {week}"])
    for row in linearity["periods"]:
        upto = row["cumulative"][min(week, len(row["cumulative"])) - 1] if row["cumulative"] else 0.0
        total = row["won"]
        section.rows.append([row["period"], amount(upto), amount(total) if row is not linearity["periods"][0] else "(in progress)", share(upto / total) if total and row is not linearity["periods"][0] else ""])
    if "projected" in linearity:
        section.notes.append(f"{linearity['method']}: {amount(linearity['projected'])}")
    else:
        section.notes.append(linearity["projected_reason"])
    return section


def _creation_pace_section(pace: dict[str, Any]) -> Section:
    if "reason" in pace:
        return Section(title="Pipeline creation pace", notes=[pace["reason"]])
    trailing, this = pace["trailing"], pace["this_period"]
    section = Section(
        title="Pipeline creation pace: new deals per week",
        notes=[
            f"trailing window: {trailing['deals_per_week']:.1f} deals ({amount(trailing['amount_per_week'])}) a week; "
            f"this period: {this['deals_per_week']:.1f} deals ({amount(this['amount_per_week'])}) a week, {this['deals']} in all"
        ],
    )
    if "required_reason" in pace:
        section.notes.append(f"required pace: {pace['required_reason']}")
        return section
    section.columns = ["owner", "created this period", "per week", "deals needed", "needed per week"]
    for row in pace["owners"]:
        needed = "" if row.get("deals_needed") is None else str(row["deals_needed"])
        per_week = f"{row['required_per_week']:.1f}" + (f" (by {row['create_by']})" if "create_by" in row else "") if "required_per_week" in row else row["required_reason"]
        section.rows.append([row["key"], str(row["created_this_period"]), f"{row['created_per_week']:.1f}", needed, per_week])
    if "required_per_week" in pace:
        section.notes.append(f"required in all: {pace['required_per_week']:.1f} new deals a week until the create-by dates")
    if pace["owners_past_create_by"]:
        section.notes.append(f"{pace['owners_past_create_by']} owner(s) are past their create-by date: a deal created now closes after the period at the median cycle, so plan B (pulling deals in) is what is left")
    return section


def _accuracy_sections(accuracy: dict[str, Any]) -> list[Section]:
    if "reason" in accuracy:
        return [Section(title="Forecast accuracy of past periods", notes=[accuracy["reason"]])]
    kinds = (("commit_call", "commit call"), ("stage_weighted", "stage-weighted"), ("calibrated", "calibrated"))
    periods = Section(title="Forecast accuracy: the forecast at the start of each past period against what was won", columns=["period", "as of", "won", *(f"{title} (error)" for _, title in kinds)])
    for row in accuracy["periods"]:
        cells = [row["period"], row["snapshot"], amount(row["actual"])]
        for key, _ in kinds:
            figure = row[key]
            cells.append(f"{amount(figure['forecast'])} ({pct(figure['error_share'])})" if "forecast" in figure else figure["reason"])
        periods.rows.append(cells)
    owners = Section(title="Forecast bias by owner (sum of errors / sum won: above 0 over-forecasts)", columns=["owner", "periods", "won", *(f"{title} bias / abs. error" for _, title in kinds)])
    for row in [{"key": "(all)", **accuracy["overall"]}, *accuracy["owners"]]:
        owners.rows.append([row["key"], str(row["periods"]), amount(row["actual"]), *(_bias_text(row[k]) for k, _ in kinds)])
    return [periods, owners]


def _bias_text(figure: dict[str, Any]) -> str:
    error = figure["absolute_error"]
    return f"{pct(figure['bias'])} / {'' if error is None else f'{error * 100:.1f}%'}"


def _funnel_section(funnel: dict[str, Any]) -> Section:
    if "reason" in funnel:
        return Section(title="Stage funnel", notes=[funnel["reason"]])
    section = Section(
        title=f"Stage funnel over the trailing window ({funnel['snapshots']} snapshots since {funnel['first_snapshot']})",
        columns=["stage", "entered", "advanced", "lost", "still in", "removed", "median dwell", "won deals' dwell", "max_days", f"suggested (p{funnel['suggested_max_days_percentile']} of won)"],
    )
    for row in funnel["stages"]:
        section.rows.append(
            [
                row["stage"],
                str(row["entered"]),
                str(row["advanced"]),
                str(row["lost"]),
                str(row["still_in_stage"]),
                str(row["removed"]),
                cycle_text(row["dwell_days"]),
                cycle_text(row["won_dwell_days"]),
                "" if row["max_days"] is None else str(row["max_days"]),
                str(row["suggested_max_days"]) if "suggested_max_days" in row else row["suggested_max_days_reason"],
            ]
        )
    return section


def _backtest_section(backtest: dict[str, Any]) -> Section:
    if "reason" in backtest:
        return Section(title="Rule backtest", notes=[backtest["reason"]])
    section = Section(
        title=f"Rule backtest: how flagged deals ended ({backtest['audit_runs']} audit runs, {backtest['first_run']} to {backtest['last_run']})",
        columns=["rule", "flagged", "won / lost / open", "loss rate", "not flagged", "won / lost / open", "loss rate", "lift"],
    )
    for row in backtest["rules"]:
        flagged, others = row["flagged"], row["not_flagged"]
        section.rows.append(
            [
                row["code"],
                str(flagged["deals"]),
                f"{flagged['won']} / {flagged['lost']} / {flagged['open']}",
                rate_text(flagged["loss_rate"]),
                str(others["deals"]),
                f"{others['won']} / {others['lost']} / {others['open']}",
                rate_text(others["loss_rate"]),
                f"{row['lift']:.2f}x" if "lift" in row else row["lift_reason"],
            ]
        )
    section.notes.append("lift = loss rate of the flagged deals / that of the others; above 1, the rule predicts loss")
    return section


def _overall_and_groups(figure: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    yield "(all)", figure["overall"]
    for group in figure.get("groups", []):
        yield group["key"], group


def _forecast_sections(forecast: dict[str, Any]) -> list[Section]:
    period = forecast["period"]
    section = Section(
        title=f"Forecast for {period['name']} ({period['start']} to {period['end']}), by {forecast['by']}",
        columns=[forecast["by"], "won", "open", "commit call", "best case call", "pipeline call", "stage-weighted", "calibrated", "p10", "p50", "p90"],
    )
    for key, figure in _overall_and_groups(forecast):
        category = figure["by_category"]
        calibrated = figure["calibrated"]
        has_range = "p50" in calibrated
        section.rows.append(
            [
                key,
                amount(figure["won"]),
                f"{amount(figure['open_amount'])} ({figure['open_deals']})",
                amount(category.get("commit_call")),
                amount(category.get("best_case_call")),
                amount(category.get("pipeline_call")),
                amount(figure["stage_weighted"]["forecast"]),
                amount(calibrated.get("forecast")) if has_range else calibrated["reason"],
                amount(calibrated.get("p10")),
                amount(calibrated.get("p50")),
                amount(calibrated.get("p90")),
            ]
        )
    if "reason" in forecast["overall"]["by_category"]:
        section.notes.append(f"forecast category: {forecast['overall']['by_category']['reason']}")
    if "groups_reason" in forecast:
        section.notes.append(f"by {forecast['by']}: {forecast['groups_reason']}")
    method = forecast["method"]
    if "reason" in method:
        section.notes.append(f"calibrated: {method['reason']}")
    else:
        section.notes.append(
            f"calibrated: stage probability x owner and size-band factors (trailing win rate {share(method['overall_rate'])} of {method['n']} "
            f"closed deals, shrunk with a prior of {method['prior_weight']} deals); range from {forecast['simulation']['runs']} seeded runs"
        )
    missing = forecast["not_evaluable"]["open in the period without an amount"]
    if missing:
        section.notes.append(f"not evaluable: {missing} open deal(s) closing in the period have no amount")
    return [section]


def _lead_generation_sections(need: dict[str, Any]) -> list[Section]:
    if "reason" in need:
        return [Section(title="Lead-generation need", notes=[need["reason"]])]
    result = []
    for key, title in (("owners", "owner"), ("teams", "team")):
        if key not in need:
            if f"{key}_reason" in need:
                result.append(Section(title=f"Lead-generation need by {title}", notes=[need[f"{key}_reason"]]))
            continue
        section = Section(
            title=f"Lead-generation need for {need['period']}, by {title}",
            columns=[title, "quota", "won", "calibrated", "gap", "coverage now / needed", "need"],
        )
        plan_b = Section(title=f"Plan B by {title}: open deals outside the period, by calibrated value", columns=[title, "deal", "stage", "close", "amount", "calibrated value", "cumulative", "gap"])
        for row in need[key]:
            coverage = row["coverage"]
            current = "n/a" if coverage["current"] is None else f"{coverage['current']:.2f}x"
            section.rows.append(
                [row["key"], amount(row["quota"]), amount(row["won"]), amount(row["calibrated_forecast"]), amount(row["gap"]), f"{current} / {coverage['required']:.2f}x", row.get("message") or row.get("reason", "")]
            )
            if row["gap"]:
                for deal in row["plan_b"]["deals"]:
                    plan_b.rows.append([row["key"], deal["id"], deal["stage"], deal["close_date"] or "", amount(deal["amount"]), amount(deal["calibrated_value"]), amount(deal["cumulative_amount"]), amount(row["gap"])])
        result.append(section)
        if plan_b.rows:
            result.append(plan_b)
    return result


def _win_rate_sections(rates: dict[str, Any]) -> list[Section]:
    overall = rates["overall"]
    head = Section(
        title="Win rates over the trailing window (95% Wilson intervals)",
        columns=["group", "closed", "won", "by count", "by amount"],
        rows=[["(all)", str(overall["closed"]), str(overall["won"]), rate_text(overall["by_count"]), rate_text(overall["by_amount"])]],
    )
    result = [head]
    for field, segment in rates["segments"].items():
        title = SEGMENT_TITLES[field]
        if "reason" in segment:
            head.notes.append(f"by {title}: {segment['reason']}")
            continue
        section = Section(title=f"Win rates by {title}", columns=[title, "closed", "won", "by count", "by amount"])
        for group in segment["groups"]:
            section.rows.append([group["key"], str(group["closed"]), str(group["won"]), rate_text(group["by_count"]), rate_text(group["by_amount"])])
        result.append(section)
    conversion = rates["stage_conversion"]
    if "reason" in conversion:
        head.notes.append(f"stage conversion: {conversion['reason']}")
        return result
    section = Section(title="Stage conversion: of the deals that reached a stage and closed, the share won", columns=["stage", "closed", "won", "conversion", "stage table"])
    for row in conversion["stages"]:
        section.rows.append([row["stage"], str(row["closed"]), str(row["won"]), rate_text(row["conversion"]), "" if row["stage_probability"] is None else f"{row['stage_probability']:g}%"])
    return [*result, section]


def _cycle_section(cycle: dict[str, Any]) -> Section:
    if "reason" in cycle:
        return Section(title="Sales cycle", notes=[cycle["reason"]])
    section = Section(title=f"Sales cycle, created to close: median (quartiles), by {cycle['by']}", columns=[cycle["by"], "won", "lost"])
    for key, figure in _overall_and_groups(cycle):
        section.rows.append([key, cycle_text(figure["won"]), cycle_text(figure["lost"])])
    skipped = cycle["overall"]["not_evaluable"]
    counted = {reason: n for reason, n in skipped.items() if n}
    if counted:
        section.notes.append("not evaluable: " + ", ".join(f"{n} closed deal(s) with {reason}" if reason.startswith("no ") else f"{n} {reason}" for reason, n in counted.items()))
    if "groups_reason" in cycle:
        section.notes.append(f"by {cycle['by']}: {cycle['groups_reason']}")
    return section


def _velocity_section(velocity: dict[str, Any]) -> Section:
    if "reason" in velocity:
        return Section(title="Velocity", notes=[velocity["reason"]])
    section = Section(title=f"Velocity: open deals x win rate x average won / median won cycle, by {velocity['by']}", columns=[velocity["by"], "open deals", "per day", "per period"])
    for key, figure in _overall_and_groups(velocity):
        if "per_day" in figure:
            section.rows.append([key, str(figure["open_deals"]), amount(figure["per_day"]), amount(figure["per_period"])])
        else:
            section.rows.append([key, str(figure["open_deals"]), figure["reason"], ""])
    if "groups_reason" in velocity:
        section.notes.append(f"by {velocity['by']}: {velocity['groups_reason']}")
    return section


def _calibration_sections(calibration: dict[str, Any]) -> list[Section]:
    if "reason" in calibration:
        return [Section(title="Probability calibration", notes=[calibration["reason"]])]
    bands = Section(title=f"Probability calibration: Brier score {calibration['brier_score']:.4f} over {calibration['n']} closed deals", columns=["stated band", "n", "stated", "actual"])
    for band in calibration["bands"]:
        bands.rows.append([band["band"], str(band["n"]), share(band["stated"]) if "stated" in band else band["reason"], share(band["actual"]) if "actual" in band else ""])
    result = [bands]
    if "owners" in calibration:
        owners = Section(title="Calibration bias by owner (stated minus actual: above 0 over-calls)", columns=["owner", "n", "stated", "actual", "bias"])
        for row in calibration["owners"]:
            if "bias" in row:
                owners.rows.append([row["key"], str(row["n"]), share(row["stated"]), share(row["actual"]), f"{row['bias'] * 100:+.1f} pts"])
            else:
                owners.rows.append([row["key"], str(row["n"]), row["reason"], "", ""])
        result.append(owners)
    return result


# --- formats ----------------------------------------------------------------------------


def header_lines(document: dict[str, Any]) -> list[str]:
    """The title line and the line that says what the figures are over."""
    window = document["window"]
    deals = document["deals"]
    return [
        f"Forecast as of {document['as_of']}: {document['source'] or 'deals'}",
        f"{deals['total']} deals, {deals['open']} open; trailing window {window['text']} ({window['start']} to {window['end']}): "
        f"{deals['closed_in_window']} closed deals; figures over fewer than {document['min_deals']} deals are not shown",
    ]


def _aligned(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]
    lines = []
    for row in [columns, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return lines


def render_console(document: dict[str, Any]) -> str:
    """Plain aligned tables; every text from the export is escaped for a terminal."""
    lines = header_lines(document)
    for section in forecast_sections(document):
        lines += ["", section.title]
        if section.columns:
            lines += ["  " + line for line in _aligned(section.columns, [[terminal_text(str(c)) for c in row] for row in section.rows])]
        lines += [f"  {terminal_text(note)}" for note in section.notes]
    return "\n".join(lines) + "\n"


def markdown_cell(value: object) -> str:
    """One line of plain text in a Markdown table: no markup, no HTML, no mention."""
    text = _CONTROLS.sub("\ufffd", _LINE_BREAKS.sub(" ", str(value)))
    text = text.replace("&", "&amp;")
    return _MENTION.sub("@\u2060", _MARKDOWN_SPECIALS.sub(r"\\\1", text))


def render_markdown(document: dict[str, Any]) -> str:
    header = header_lines(document)
    lines = [f"## {markdown_cell(header[0])}", "", markdown_cell(header[1])]
    for section in forecast_sections(document):
        lines += ["", f"### {markdown_cell(section.title)}", ""]
        if section.columns and section.rows:
            lines.append("| " + " | ".join(markdown_cell(c) for c in section.columns) + " |")
            lines.append("|" + "|".join("---" for _ in section.columns) + "|")
            lines += ["| " + " | ".join(markdown_cell(c) for c in row) + " |" for row in section.rows]
            lines.append("")
        lines += [f"- {markdown_cell(note)}" for note in section.notes]
    return "\n".join(lines).rstrip() + "\n"
