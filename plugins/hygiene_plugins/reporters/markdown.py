"""The Markdown report: a summary and tables for a pull-request comment, a CI job summary or a chat message."""

from __future__ import annotations

import polars as pl

from hygiene import NO_OWNER, SEVERITIES, Reporter, deal_with_name_expr, forecast_sections, format_share, known_expr, markdown_cell, plural, since_previous_run

#: GitHub refuses a comment body over 65,536 characters; a UTF-8 byte is never less than a character.
COMMENT_LIMIT_BYTES = 65_536
MAX_FINDING_ROWS = 100
#: Score-by-owner, findings-by-owner and fixed-entry tables.
MAX_TABLE_ROWS = 50
#: One long value from the export (a pasted e-mail in a deal name) must not crowd out the rest.
MAX_CELL_CHARS = 200
#: Room kept for the "and N more" line that ends a truncated table.
NOTE_RESERVE_BYTES = 200



def cell(value: object) -> str:
    """A value as one Markdown table cell: one line, no markup, no HTML, no mention (:func:`hygiene.markdown_cell`)."""
    return markdown_cell(value, MAX_CELL_CHARS)


def severity_counts(counts: dict[str, int]) -> str:
    return ", ".join(plural(counts.get(severity, 0), severity) for severity in SEVERITIES)


class MarkdownPage:
    """Markdown built block by block within a size limit; tables lose their last rows first."""

    def __init__(self, max_bytes: int | None) -> None:
        self.max_bytes = max_bytes
        self.parts: list[str] = []
        self.size = 0
        self.omitted_tables = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode("utf-8"))

    def fits(self, text: str) -> bool:
        return self.max_bytes is None or self.size + len(text.encode("utf-8")) + NOTE_RESERVE_BYTES <= self.max_bytes

    def table(self, heading: str, columns: list[str], rows: list[list[object]], total: int, noun: str) -> None:
        """A table of ``rows`` (the first of ``total``), ending with how many were left out."""
        header = f"### {heading}\n\n| {' | '.join(columns)} |\n|{'|'.join(':--' if i == 0 else '--' for i in range(len(columns)))}|\n"
        if not self.fits(header):
            self.omitted_tables += 1
            return
        self.add(header)
        shown = 0
        for row in rows:
            line = "| " + " | ".join(cell(value) for value in row) + " |\n"
            if not self.fits(line):
                break
            self.add(line)
            shown += 1
        if shown < total:
            self.add(f"\n_… and {total - shown} more {noun}._\n")
        self.add("\n")

    def text(self) -> str:
        return "".join(self.parts)


def _forecast_tables(page: MarkdownPage, document: dict) -> None:
    """``hygiene audit --forecast``: the tables ``hygiene forecast --format markdown`` shows, within the page's size limit."""
    heading = "## Forecast\n\n"
    if not page.fits(heading):
        page.omitted_tables += 1
        return
    page.add(heading)
    for section in forecast_sections(document):
        if section.columns and section.rows:
            page.table(markdown_cell(section.title), section.columns, section.rows, len(section.rows), "rows")
        elif page.fits(title := f"### {markdown_cell(section.title)}\n\n"):
            page.add(title)
        notes = "".join(f"- {markdown_cell(note)}\n" for note in section.notes)
        if notes and page.fits(notes + "\n"):
            page.add(notes + "\n")


def render_markdown(report, *, max_bytes: int | None = COMMENT_LIMIT_BYTES, max_finding_rows: int = MAX_FINDING_ROWS) -> str:
    """The Markdown report of ``report``, at most ``max_bytes`` of UTF-8 (no limit when None)."""
    page = MarkdownPage(max_bytes)
    summary = report.summary()
    baseline = report.baseline_summary()
    _summary(page, report, summary, baseline)
    findings = report.findings
    if baseline is not None:
        # New findings first: they are the regressions a reviewer has to look at.
        findings = findings.sort(known_expr(), maintain_order=True)
    _level_tables(page, report)
    if findings.height:
        by_rule = _counts_by(findings, pl.concat_str(pl.col("code"), pl.lit(" "), pl.col("rule")), baseline is not None).sort("key")
        page.table("Findings by rule", ["Rule", *by_rule.columns[1:]], by_rule.rows(), by_rule.height, "rules")
        # Owners with the most findings first, so a truncated table still shows where the work is.
        by_owner = _counts_by(findings, pl.col("owner"), baseline is not None).sort(
            ["Findings", "key"], descending=[True, False], nulls_last=True
        )
        rows = [[NO_OWNER if key is None else key, *counts] for key, *counts in by_owner.head(MAX_TABLE_ROWS).rows()]
        page.table("Findings by owner", ["Owner", *by_owner.columns[1:]], rows, by_owner.height, "owners")
        _findings_table(page, findings, max_finding_rows, baseline is not None)
    if report.fixed:
        rows = [[entry.get("code"), entry.get("deal_id") or "", entry.get("owner"), entry.get("count", 1)] for entry in report.fixed[:MAX_TABLE_ROWS]]
        page.table("Fixed since the baseline", ["Rule", "Deal", "Owner", "Count"], rows, len(report.fixed), "fixed entries")
    if report.forecast is not None:
        _forecast_tables(page, report.forecast)
    if page.omitted_tables:
        page.add(f"_{plural(page.omitted_tables, 'table')} left out to stay under the size limit._\n")
    return page.text().rstrip("\n") + "\n"


#: Per level, the heading of its table: the report figures' tables, then the roster's own segment.
LEVEL_TITLES = {"owner": "By owner", "team": "By team", "manager": "By manager", "region": "By region"}
SEGMENT = "segment"


def money(value) -> str:
    """An amount as the tables show it: whole units with thousands separators; per currency when amounts are."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{code or '?'} {amount:,.0f}" for code, amount in sorted(value.items())) or "0"
    return f"{value:,.0f}"


def _level_tables(page: MarkdownPage, report) -> None:
    """One table per level, worst score first, as the console shows them: score, findings, amount at risk, open,
    and with ``[quotas]`` won, quota, gap and coverage (a coverage that cannot be computed says why)."""
    figures = report.figures()
    tables = {"owner": figures.owners, **figures.groups()}
    for level, title in LEVEL_TITLES.items():
        table = tables.get(level)
        if table is None or not table.height:
            continue
        with_quota = table.get_column("quota").is_not_null().any()
        headers = [level.capitalize(), "Score", "Findings", "Amount at risk", "Open deals"]
        if with_quota:
            headers += ["Won", "Quota", "Gap", "Coverage"]
        rows = []
        for row in table.head(MAX_TABLE_ROWS).iter_rows(named=True):
            cells = [
                f"(no {level})" if row[level] is None else row[level],
                "" if row["score"] is None else format_share(row["score"]),
                row["findings"],
                money(row["amount_at_risk"]),
                row["open_deals"],
            ]
            if with_quota:
                if row["quota"] is None:
                    cells += ["", "", "", ""]
                else:
                    coverage = f"{row['coverage']:.2f}x" if row["coverage"] is not None else f"not evaluable ({row['coverage_reason']})"
                    cells += [money(row["won"]), money(row["quota"]), money(row["gap"]), coverage]
            rows.append(cells)
        page.table(title, headers, rows, table.height, f"{level}s")
    # Every level's groups are computed together: an audit without segments does not pay for them.
    segments = report.groups().get(SEGMENT) if report.grouping is not None and SEGMENT in report.grouping.levels else None
    if segments:
        ordered = sorted(segments, key=lambda r: (r["score"] is None, r["score"] if r["score"] is not None else 0.0, r["name"] is None, r["name"] or ""))
        rows = [
            [f"(no {SEGMENT})" if r["name"] is None else r["name"], "" if r["score"] is None else format_share(r["score"]), r["findings"], r["open_deals"], money(r["open_amount"]), money(r["quota"]), money(r["gap"])]
            for r in ordered[:MAX_TABLE_ROWS]
        ]
        page.table("By segment", ["Segment", "Score", "Findings", "Open deals", "Open amount", "Quota", "Gap"], rows, len(segments), "segments")


def _summary(page: MarkdownPage, report, summary: dict, baseline: dict | None) -> None:
    if baseline is not None:
        title = f"{plural(baseline['new'], 'new finding')} ({baseline['known']} known, {baseline['fixed']} fixed)"
    elif summary["findings"]:
        title = f"{plural(summary['findings'], 'finding')} ({severity_counts(summary['by_severity'])})"
    else:
        title = "no findings"
    period = report.period
    score = summary["score"]["overall"]
    lines = [
        ("Source", cell(report.source)),
        ("As of", f"{report.as_of.isoformat()} (period {cell(period.name)}: {period.start.isoformat()} to {period.end.isoformat()})"),
        ("Deals", f"{summary['deals']} audited, {summary['open_deals']} open"),
        ("Findings", f"{summary['findings']}: {severity_counts(summary['by_severity'])}"),
        ("Hygiene score", "no open deals" if score is None else f"{format_share(score)} of open deals have no error or warning"),
    ]
    if baseline is not None:
        obsolete = f", {baseline['obsolete']} obsolete (rules no longer run)" if baseline.get("obsolete") else ""
        lines.append(("Baseline", f"{cell(baseline['file'])}: {baseline['new']} new, {baseline['known']} known, {baseline['fixed']} fixed{obsolete}"))
    if report.scope:
        lines.append(("Only", cell(", ".join(report.scope))))
    change = since_previous_run(report)
    if change is not None:
        label, _, text = change.partition(": ")
        lines.append((label[0].upper() + label[1:], cell(text)))
    if report.waived:
        lines.append(("Waived", f"{plural(report.waived, 'finding')} suppressed by waivers"))
    page.add(f"## Pipeline hygiene: {title}\n\n| | |\n|:--|:--|\n")
    for label, value in lines:
        page.add(f"| {label} | {value} |\n")
    page.add("\n")


def _counts_by(findings: pl.DataFrame, key: pl.Expr, with_baseline: bool) -> pl.DataFrame:
    """Findings per value of ``key``, by severity, and new/known against a baseline."""
    counts = [
        pl.len().alias("Findings"),
        *(pl.col("severity").eq(severity).sum().alias(severity.capitalize()) for severity in SEVERITIES),
    ]
    if with_baseline:
        counts += [(~known_expr()).sum().alias("New"), known_expr().sum().alias("Known")]
    return findings.group_by(key.alias("key")).agg(*counts)


def _findings_table(page: MarkdownPage, findings: pl.DataFrame, max_rows: int, with_baseline: bool) -> None:
    columns = [
        pl.col("severity"),
        pl.concat_str(pl.col("code"), pl.lit(" "), pl.col("rule")),
        deal_with_name_expr(),
        pl.col("owner"),
        pl.col("message"),
        pl.col("row"),
    ]
    headers = ["Severity", "Rule", "Deal", "Owner", "Message", "Row"]
    if with_baseline:
        columns.append(pl.col("baseline_status"))
        headers.append("Baseline")
    rows = findings.head(max_rows).select(*(c.alias(str(i)) for i, c in enumerate(columns))).rows()
    page.table("Findings", headers, rows, findings.height, "findings")


class MarkdownReporter(Reporter):
    """A summary (source, as_of and period, deals, findings by severity, hygiene score overall and per
    owner, baseline new/known/fixed) and tables (findings per rule, per owner, then the findings),
    sized for a pull-request comment: at most 100 finding rows and 64 KiB, each table ending with
    how many rows it left out.

    Text from the export is escaped cell by cell (table pipes, HTML, Markdown markup, backticks,
    line breaks) and ``@mentions`` are defused. With a baseline, new findings come first and each
    row says whether it is new or known.
    """

    name = "markdown"
    shows_history = "previous-run"
    summary = "Markdown summary and tables for a pull-request comment or a chat message"

    def write(self, report, stream) -> None:
        stream.write(render_markdown(report))
