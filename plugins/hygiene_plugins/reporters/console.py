"""The terminal report: findings grouped by owner, then a summary."""

from __future__ import annotations

import click
import polars as pl

from hygiene import NO_OWNER, Reporter, format_number, format_share, known_expr, plural, since_previous_run, terminal_text, terminal_text_expr

SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}
#: Fixed baseline entries named one per line in the summary; the rest are counted.
MAX_FIXED_LINES = 20
#: Columns that carry text from the export or the configuration (custom rules name themselves).
EXPORT_TEXT_COLUMNS = ("code", "rule", "deal_id", "deal_name", "owner", "message")
#: What a finding's line shows.
LINE_COLUMNS = (*EXPORT_TEXT_COLUMNS, "severity", "amount", "row", "baseline_status")
#: Findings escaped at a time: escaped copies of a million findings' texts at once would add a
#: copy of the report to the peak.
SLICE_ROWS = 50_000


def _styled_expr(text: pl.Expr, style, **kwargs) -> pl.Expr:
    """``style(text, **kwargs)`` for a column: the style's codes around the text, as :func:`click.style` puts them."""
    before, after = style("\0", **kwargs).split("\0")
    return pl.lit(before) + text + pl.lit(after)


def _finding_lines(findings: pl.DataFrame, report, style) -> pl.Expr:
    """Each finding's lines as the terminal shows them: its owner's heading on the owner's first finding, then the finding.

    Built by polars a column at a time; ``findings`` is sorted by owner and carries
    ``first_of_owner`` and ``owner_findings`` (each owner's count, before escaping).
    """
    # Text from the export is shown with its control characters escaped: an ESC in a deal
    # name must not drive the terminal, and a newline must not forge a line of the report.
    owner, deal_id, deal_name, message, row = (pl.col(name) for name in ("owner", "deal_id", "deal_name", "message", "row"))
    count = pl.col("owner_findings")
    heading = (
        pl.when(pl.int_range(pl.len()) + pl.col("offset") > 0).then(pl.lit("\n")).otherwise(pl.lit(""))
        + _styled_expr(pl.when(owner.is_null() | (owner == "")).then(pl.lit(NO_OWNER)).otherwise(owner), style, bold=True)
        + pl.lit(" (")
        + count.cast(pl.String)
        + pl.when(count == 1).then(pl.lit(" finding)\n")).otherwise(pl.lit(" findings)\n"))
    )
    severities = findings.get_column("severity").unique().drop_nulls().to_list()
    severity = pl.col("severity").replace_strict({name: style(f"{name:<7}", fg=SEVERITY_COLOURS.get(name)) for name in severities}, return_dtype=pl.String)
    # Findings about neither a deal nor an owner (rule errors, waivers) are about the audit itself.
    subject = pl.coalesce(deal_id, owner, pl.lit("(audit)"))
    subject = pl.when(deal_name.is_null() | (deal_name == "")).then(subject).otherwise(subject + pl.lit(" ") + deal_name)
    # An export without an amount column gets no "(no amount)" on every line.
    if "amount" in report.mapped_fields:
        subject = pl.when(deal_id.is_null()).then(subject).otherwise(subject + pl.lit(" (") + format_number(pl.col("amount")).fill_null("no amount") + pl.lit(")"))
    # A message that already names the row (an unreadable cell) is not told it twice.
    row_text = row.cast(pl.String)
    location = pl.when(row.is_null() | message.str.starts_with(pl.lit("row ") + row_text + pl.lit(","))).then(pl.lit("")).otherwise(pl.lit(" [row ") + row_text + pl.lit("]"))
    known = pl.when(pl.col("baseline_status") == "known").then(pl.lit(" " + style("[known]", dim=True))).otherwise(pl.lit(""))
    line = pl.concat_str([pl.lit("  "), severity, pl.lit(" "), pl.col("code"), pl.lit(" "), pl.col("rule"), pl.lit(": "), subject, pl.lit(": "), message, location, known, pl.lit("\n")])
    return pl.when(pl.col("first_of_owner")).then(heading + line).otherwise(line)


class ConsoleReporter(Reporter):
    """Findings grouped by owner (owners in alphabetical order, most severe first within each),
    each deal with its amount; then the header figures (open pipeline, amount at risk, quota,
    coverage, win rate; a figure that cannot be computed says why), counts by rule and
    severity, deals a rule could not evaluate, and the score per owner and per team as
    aligned tables, worst first."""

    name = "console"
    shows_history = "previous-run"
    summary = "Findings grouped by owner, then a summary (default)"

    def write(self, report, stream) -> None:
        colour = self.settings.wants_colour(stream)

        def style(text: str, **kwargs) -> str:
            return click.style(text, **kwargs) if colour else text

        findings = report.figures().deal_findings
        if report.show == "new":
            findings = findings.filter(~known_expr())
        findings = findings.select(*LINE_COLUMNS).sort(["owner"], nulls_last=True, maintain_order=True)
        # Owners are counted and headed before escaping, as the lines are grouped: escaping keeps distinct names distinct.
        findings = findings.with_columns(
            pl.col("owner").is_first_distinct().alias("first_of_owner"),
            pl.len().over("owner").alias("owner_findings"),
        )
        lines = _finding_lines(findings, report, style)
        # A slice at a time: the escaped text of a million findings at once would add a copy of the report to the peak.
        for offset in range(0, findings.height, SLICE_ROWS):
            part = findings.slice(offset, SLICE_ROWS).with_columns(terminal_text_expr(list(EXPORT_TEXT_COLUMNS)), pl.lit(offset).alias("offset"))
            stream.write(part.select(lines.str.join("")).item())
        if findings.height:
            stream.write("\n")
        self._summary(report, stream, style)

    def _summary(self, report, stream, style) -> None:
        summary = report.summary()
        stream.write(style("Summary", bold=True) + f" ({terminal_text(report.source)}, as of {report.as_of.isoformat()}, period {report.period.name})\n")
        stream.write(f"  deals audited: {summary['deals']} ({summary['open_deals']} open)\n")
        if report.scope:
            stream.write(f"  only: {terminal_text(', '.join(report.scope))}\n")
        self._figures(report.figures(), stream)
        by_severity = summary["by_severity"]
        stream.write(
            f"  findings: {summary['findings']} ("
            + ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in by_severity.items())
            + ")\n"
        )
        names = {terminal_text(rule.code): terminal_text(rule.name) for rule in report.rules}
        for code, count in ((terminal_text(code), count) for code, count in summary["by_rule"].items()):
            stream.write(f"    {code} {names.get(code, '')}: {count}\n")
        for code, count in ((terminal_text(code), count) for code, count in summary["not_evaluable"].items()):
            if count:
                deals = "1 deal lacks" if count == 1 else f"{count} deals lack"
                fields = {field: n for field, n in summary["not_evaluable_by_field"].get(code, {}).items() if n}
                if len(fields) == 1:
                    what = terminal_text(next(iter(fields)))
                else:
                    what = ", ".join(f"{terminal_text(field)} ({n})" for field, n in fields.items()) if fields else "the data"
                stream.write(f"  not evaluable by {code} {names.get(code, '')}: {deals} {what}\n")
        score = summary["score"]
        if score["overall"] is not None:
            stream.write(f"  hygiene score: {format_share(score['overall'])} of open deals have no error or warning\n")
        else:
            stream.write("  hygiene score: not evaluable (no open deal)\n")
        write_level_tables(report, stream)
        self._health(summary, stream)
        self._baseline_and_waivers(report, stream)

    def _health(self, summary, stream) -> None:
        health = summary["health"]
        if health["average"] is not None:
            stream.write(f"  deal health: {health['average']:.1f} on average (0-100), {health['deals_below_100']} open deals below 100\n")

    def _figures(self, figures, stream) -> None:
        """The header figures; one that cannot be computed is shown as such, with the reason, never as 0."""
        without = f", {figures.open_without_amount} without an amount" if figures.open_without_amount else ""
        stream.write(f"  open pipeline: {_figure(figures.open_amount, _amount)} ({plural(figures.open_deals, 'open deal')}{without})\n")
        unknown = f", {figures.at_risk_without_amount} of them without an amount" if figures.at_risk_without_amount else ""
        stream.write(f"  amount at risk: {_figure(figures.amount_at_risk, _amount)} ({plural(figures.deals_at_risk, 'open deal')} with an error or warning{unknown})\n")
        if figures.quota.evaluable:
            stream.write(
                f"  quota: {_amount(figures.quota.value)}, won {_figure(figures.won, _amount)}, weighted {_figure(figures.weighted, _amount)},"
                f" gap {_figure(figures.gap, _amount)}, coverage {_figure(figures.coverage, lambda v: f'{v:.2f}x')}\n"
            )
        stream.write(f"  win rate: {_figure(figures.win_rate, format_share)}\n")

    def _baseline_and_waivers(self, report, stream) -> None:
        baseline = report.baseline_summary()
        if baseline is not None:
            stream.write(f"  baseline {terminal_text(baseline['file'])}: {baseline['new']} new, {baseline['known']} known, {baseline['fixed']} fixed\n")
            for entry in baseline["fixed_entries"][:MAX_FIXED_LINES]:
                subject = entry["deal_id"] if entry["deal_id"] is not None else entry["owner"] or "(audit)"
                times = f" (x{entry['count']})" if entry["count"] > 1 else ""
                stream.write(f"    fixed: {terminal_text(entry['code'])} {terminal_text(subject)}{times}\n")
            if len(baseline["fixed_entries"]) > MAX_FIXED_LINES:
                stream.write(f"    and {len(baseline['fixed_entries']) - MAX_FIXED_LINES} more fixed entries\n")
            if baseline["obsolete"]:
                rules = ", ".join(sorted({terminal_text(entry["code"]) for entry in baseline["obsolete_entries"]}))
                stream.write(f"    obsolete: {plural(baseline['obsolete'], 'finding')} of rules this audit does not run ({rules}); `hygiene baseline --prune` drops them\n")
            if baseline["unadopted_rules"]:
                rules = ", ".join(terminal_text(code) for code in baseline["unadopted_rules"])
                stream.write(f"    not in the baseline: {rules} (every finding new; adopt with `hygiene baseline --add RULE`)\n")
            if report.show == "new" and baseline["known"]:
                stream.write(f"    {plural(baseline['known'], 'known finding')} not listed (--show new)\n")
        if report.waived:
            stream.write(f"  waived: {report.waived} finding{'s' if report.waived != 1 else ''} (by [[waivers]] in the configuration)\n")
        change = since_previous_run(report)
        if change is not None:
            stream.write(f"  {terminal_text(change)}\n")
        history = report.history
        if history is not None and history["previous_run"] is not None:
            status, resolved = history["finding_status"], history["resolved"]
            stream.write(
                f"  since the previous audit ({history['previous_run']['as_of']}): {status['new']} new, {status['persisting']} persisting; "
                f"resolved {len(resolved['closed'])} closed, {len(resolved['cleared'])} cleared\n"
            )


def _amount(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _figure(figure, render) -> str:
    return render(figure.value) if figure.evaluable else f"not evaluable ({figure.reason})"


def _aligned(stream, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A table under the summary: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(cells[i]) for cells in (header, *rows)) for i in range(len(header))]
    for cells in (header, *rows):
        line = cells[0].ljust(widths[0]) + "".join("  " + cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        stream.write(f"    {line.rstrip()}\n")


#: The levels of :func:`write_level_tables`: the report figures' tables, then the roster's own ``segment``.
LEVELS = ("owner", "team", "manager", "region")
SEGMENT = "segment"


def _cell(value: float | None, render) -> str:
    return "-" if value is None else render(value)


def level_rows(table: pl.DataFrame, level: str, with_quota: bool) -> tuple[list[str], list[tuple[str, ...]], list[str]]:
    """The header, rows and coverage notes of one level's table, from a ``report.figures()`` group table (worst first)."""
    header = [level, "score", "findings", "amount at risk", "open"]
    if with_quota:
        header += ["won", "quota", "gap", "coverage"]
    rows, notes = [], []
    for row in table.iter_rows(named=True):
        name = terminal_text(row[level]) if row[level] is not None else f"(no {level})"
        cells = [name, _cell(row["score"], format_share), f"{row['findings']:,}", _amount(row["amount_at_risk"]), f"{row['open_deals']:,}"]
        if with_quota:
            coverage = "-" if row["quota"] is None else (f"{row['coverage']:.2f}x" if row["coverage"] is not None else "n/e")
            if row["quota"] is not None and row["coverage"] is None:
                notes.append(f"{name}: {terminal_text(row['coverage_reason'] or 'not evaluable')}")
            cells += [_amount(row["won"]) if row["quota"] is not None else "-", _amount(row["quota"]), _amount(row["gap"]) if row["quota"] is not None else "-", coverage]
        rows.append(tuple(cells))
    return header, rows, notes


def write_level_tables(report, stream) -> None:
    """One aligned table per level (owner, team, manager, region, then segment), worst score first.

    Score, findings, amount at risk and open deals, and with ``[quotas]`` won,
    quota, gap and coverage (``n/e``: not evaluable, the reason below the
    table; ``-``: no quota). Owner to region come from ``report.figures()``;
    ``segment``, which only the roster's groups know, from ``report.groups()``.
    """
    figures = report.figures()
    tables = {"owner": figures.owners, **figures.groups()}
    for level in LEVELS:
        table = tables.get(level)
        if table is None or not table.height:
            continue
        with_quota = table.get_column("quota").is_not_null().any()
        header, rows, notes = level_rows(table, level, with_quota)
        stream.write(f"  by {level}:\n")
        _aligned(stream, tuple(header), rows)
        for note in notes:
            stream.write(f"      coverage not evaluable for {note}\n")
    # Every level's groups are computed together: an audit without segments does not pay for them.
    segments = report.groups().get(SEGMENT) if report.grouping is not None and SEGMENT in report.grouping.levels else None
    if segments:
        rows = sorted(segments, key=lambda r: (r["score"] is None, r["score"] if r["score"] is not None else 0.0, r["name"] is None, r["name"] or ""))
        stream.write(f"  by {SEGMENT}:\n")
        _aligned(
            stream,
            (SEGMENT, "score", "findings", "open", "open amount", "quota", "gap"),
            [
                (
                    terminal_text(r["name"]) if r["name"] is not None else f"(no {SEGMENT})",
                    _cell(r["score"], format_share),
                    f"{r['findings']:,}",
                    f"{r['open_deals']:,}",
                    ", ".join(f"{c} {v:,.0f}" for c, v in sorted(r["open_amount"].items())) if isinstance(r["open_amount"], dict) else _amount(r["open_amount"]),
                    _amount(r["quota"]),
                    _amount(r["gap"]),
                )
                for r in rows
            ],
        )
