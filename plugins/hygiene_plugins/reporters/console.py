"""The terminal report: findings grouped by owner, then a summary."""

from __future__ import annotations

import os

import click

from hygiene import NO_OWNER, Reporter, format_share, terminal_text, terminal_text_expr

SEVERITY_COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}
#: Fixed baseline entries named one per line in the summary; the rest are counted.
MAX_FIXED_LINES = 20
#: Columns that carry text from the export.
EXPORT_TEXT_COLUMNS = ("deal_id", "deal_name", "owner", "message")


class ConsoleReporter(Reporter):
    """Findings grouped by owner (owners in alphabetical order, most severe first within each),
    then counts by rule and severity, deals audited, and deals a rule could not evaluate."""

    name = "console"
    summary = "Findings grouped by owner, then a summary (default)"

    def write(self, report, stream) -> None:
        colour = _wants_colour(stream)

        def style(text: str, **kwargs) -> str:
            return click.style(text, **kwargs) if colour else text

        # Text from the export is shown with its control characters escaped: an ESC in a deal
        # name must not drive the terminal, and a newline must not forge a line of the report.
        findings = report.findings.with_columns(terminal_text_expr(list(EXPORT_TEXT_COLUMNS))).sort(["owner"], nulls_last=True, maintain_order=True)
        counts = {owner: n for owner, n in findings.group_by("owner").len().iter_rows()}
        current: object = None
        for index, row in enumerate(findings.iter_rows(named=True)):
            if index == 0 or row["owner"] != current:
                if index:
                    stream.write("\n")
                current = row["owner"]
                count = counts[current]
                header = style(current or NO_OWNER, bold=True)
                stream.write(f"{header} ({count} finding{'s' if count != 1 else ''})\n")
            severity = style(f"{row['severity']:<7}", fg=SEVERITY_COLOURS.get(row["severity"]))
            # Findings about neither a deal nor an owner (rule errors, waivers) are about the audit itself.
            subject = row["deal_id"] if row["deal_id"] is not None else "(owner)" if row["owner"] is not None else "(audit)"
            if row["deal_name"]:
                subject += f" {row['deal_name']}"
            location = f" [row {row['row']}]" if row["row"] is not None else ""
            known = " " + style("[known]", dim=True) if row["baseline_status"] == "known" else ""
            stream.write(f"  {severity} {row['code']} {row['rule']}: {subject}: {row['message']}{location}{known}\n")
        if findings.height:
            stream.write("\n")
        self._summary(report, stream, style)

    def _summary(self, report, stream, style) -> None:
        summary = report.summary()
        stream.write(style("Summary", bold=True) + f" ({report.source}, as of {report.as_of.isoformat()}, period {report.period.name})\n")
        stream.write(f"  deals audited: {summary['deals']} ({summary['open_deals']} open)\n")
        by_severity = summary["by_severity"]
        stream.write(
            f"  findings: {summary['findings']} ("
            + ", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in by_severity.items())
            + ")\n"
        )
        names = {rule.code: rule.name for rule in report.rules}
        for code, count in summary["by_rule"].items():
            stream.write(f"    {code} {names.get(code, '')}: {count}\n")
        for code, count in summary["not_evaluable"].items():
            if count:
                deals = "1 open deal lacks" if count == 1 else f"{count} open deals lack"
                stream.write(f"  not evaluable by {code} {names.get(code, '')}: {deals} the data\n")
        score = summary["score"]
        if score["overall"] is not None:
            stream.write(f"  hygiene score: {format_share(score['overall'])} of open deals have no error or warning\n")
            if score["by_owner"]:
                stream.write("    " + ", ".join(f"{terminal_text(owner)} {format_share(value)}" for owner, value in score["by_owner"].items()) + "\n")
        self._baseline_and_waivers(report, stream)

    def _baseline_and_waivers(self, report, stream) -> None:
        baseline = report.baseline_summary()
        if baseline is not None:
            stream.write(f"  baseline {terminal_text(baseline['file'])}: {baseline['new']} new, {baseline['known']} known, {baseline['fixed']} fixed\n")
            for entry in baseline["fixed_entries"][:MAX_FIXED_LINES]:
                subject = entry["deal_id"] if entry["deal_id"] is not None else entry["owner"] or "(audit)"
                times = f" (x{entry['count']})" if entry["count"] > 1 else ""
                stream.write(f"    fixed: {entry['code']} {terminal_text(subject)}{times}\n")
            if len(baseline["fixed_entries"]) > MAX_FIXED_LINES:
                stream.write(f"    and {len(baseline['fixed_entries']) - MAX_FIXED_LINES} more fixed entries\n")
        if report.waived:
            stream.write(f"  waived: {report.waived} finding{'s' if report.waived != 1 else ''} (by [[waivers]] in the configuration)\n")
        history = report.history
        if history is not None and history["previous_run"] is not None:
            status, resolved = history["finding_status"], history["resolved"]
            stream.write(
                f"  since the previous audit ({history['previous_run']['as_of']}): {status['new']} new, {status['persisting']} persisting; "
                f"resolved {len(resolved['closed'])} closed, {len(resolved['cleared'])} cleared\n"
            )


def _wants_colour(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
