"""GitHub Actions: workflow-command annotations for the most important findings, and a job summary."""

from __future__ import annotations

import os

import polars as pl

from hygiene import SEVERITIES, Reporter, description_expr, known_expr, log_text, plural
# The job summary is the Markdown report: the same plugin's own module, not the core's.
from hygiene_plugins.reporters.markdown import render_markdown

#: GitHub shows about ten annotations of each kind per step and drops the rest.
ANNOTATIONS_PER_LEVEL = 10
COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
#: GitHub rejects a step summary over 1 MiB (everything the step appended, not just ours).
STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024
STEP_SUMMARY_FINDING_ROWS = 1000


def escape_data(text: str) -> str:
    """The toolkit's escaping of a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """The toolkit's escaping of a command property's value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    """A workflow command line: ``::name key=value,...::message``."""

    # Control characters other than CR and LF (which the toolkit escapes) are shown escaped: an ESC
    # from the export must not restyle the job log, which renders ANSI sequences, nor a bidi
    # override reorder it.
    given = ",".join(f"{key}={escape_property(log_text(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + given if given else ''}::{escape_data(log_text(message))}\n"


class GithubReporter(Reporter):
    """``::error`` / ``::warning`` / ``::notice`` annotations (for error / warning / info findings),
    each with ``file=`` (the export), ``line=`` (the finding's row) and ``title=`` (code and rule).

    GitHub shows about ten annotations of each kind per step, so at most ten are written per
    level, the largest amounts at stake first; one last line says how many were left out. With
    a baseline only new findings are annotated: known ones are counted in that line, not shown as
    failures. When ``GITHUB_STEP_SUMMARY`` is set, the Markdown report (score, counts, tables) is
    appended to that file, truncated to stay under GitHub's 1 MiB limit.
    """

    name = "github"
    shows_history = "none"
    shares_stdout = True
    summary = "GitHub Actions annotations for the top findings, plus a Markdown job summary"

    def write(self, report, stream) -> None:
        findings = report.findings
        known = int(findings.select(known_expr().sum()).item())
        if known:
            findings = findings.filter(~known_expr())
        # Ranked on the two columns that order them: the description is built for the annotated findings only, not for every one.
        ranked = findings.select("severity", "amount").with_row_index("order")
        left_out: dict[str, int] = {}
        # Leave room under the notice cap for the closing line, which is a notice itself.
        notice_room = ANNOTATIONS_PER_LEVEL - 1 if self._needs_closing_line(ranked, known) else ANNOTATIONS_PER_LEVEL
        for severity in SEVERITIES:
            level = ranked.filter(pl.col("severity") == severity).sort(["amount", "order"], descending=[True, False], nulls_last=True)
            cap = notice_room if severity == "info" else ANNOTATIONS_PER_LEVEL
            annotated = findings[level.head(cap).get_column("order")].with_columns(description_expr().alias("description"))
            for finding in annotated.iter_rows(named=True):
                stream.write(
                    command(
                        COMMANDS[severity],
                        finding["description"],
                        file=report.source,
                        line=finding["row"],
                        title=f"{finding['code']} {finding['rule']}",
                    )
                )
            if level.height > cap:
                left_out[severity] = level.height - cap
        if left_out or known:
            stream.write(command("notice", self._closing_line(left_out, known), title="hygiene"))
        summary_path = os.environ.get(STEP_SUMMARY_ENV)
        if summary_path and not append_step_summary(report, summary_path):
            stream.write(f"hygiene: no job summary written: {STEP_SUMMARY_ENV} is too close to GitHub's 1 MiB limit already\n")

    @staticmethod
    def _needs_closing_line(findings: pl.DataFrame, known: int) -> bool:
        busiest_level = findings.group_by("severity").len()["len"].max() or 0
        return bool(known) or busiest_level > ANNOTATIONS_PER_LEVEL

    @staticmethod
    def _closing_line(left_out: dict[str, int], known: int) -> str:
        parts = []
        if left_out:
            counts = ", ".join(plural(n, severity) for severity, n in left_out.items())
            parts.append(f"{sum(left_out.values())} more findings not annotated ({counts})")
        if known:
            parts.append(f"{plural(known, 'known finding')} from the baseline not annotated")
        return "; ".join(parts) + "; see the job summary or the full report"


def append_step_summary(report, path: str) -> bool:
    """Append the Markdown report to the job summary, within what the file has left of GitHub's limit.

    Returns False, writing nothing, when not even the report's summary fits.
    """
    used, last_byte = _size_and_last_byte(path)
    # A blank line between what earlier steps wrote and our heading.
    separator = "" if not used else "\n" if last_byte == b"\n" else "\n\n"
    budget = STEP_SUMMARY_LIMIT_BYTES - used - len(separator)
    text = separator + render_markdown(report, max_bytes=budget, max_finding_rows=STEP_SUMMARY_FINDING_ROWS)
    if used + len(text.encode("utf-8")) > STEP_SUMMARY_LIMIT_BYTES:
        # Better no summary from us than a file GitHub rejects along with what earlier steps wrote.
        return False
    with open(path, "a", encoding="utf-8", newline="") as summary:
        summary.write(text)
    return True


def _size_and_last_byte(path: str) -> tuple[int, bytes]:
    try:
        with open(path, "rb") as earlier:
            size = earlier.seek(0, os.SEEK_END)
            if not size:
                return 0, b""
            earlier.seek(size - 1)
            return size, earlier.read(1)
    except FileNotFoundError:
        return 0, b""
