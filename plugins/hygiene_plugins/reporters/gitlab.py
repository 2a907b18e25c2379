"""The GitLab Code Quality report: the JSON array GitLab shows in merge requests."""

from __future__ import annotations

import polars as pl

from hygiene import Reporter, description_expr, json_text_expr, known_expr

#: Hygiene severities as GitLab's. ``critical`` is kept for what fails a baseline gate (see the class).
SEVERITY_MAP = {"info": "info", "warning": "minor", "error": "major"}
REGRESSION_SEVERITY = "critical"
#: Issues encoded and written at a time (see JsonReporter).
SLICE_ROWS = 50_000


def location_path(source: str) -> str:
    """The export as GitLab wants a path: relative, without a leading ``./``."""
    while source.startswith("./"):
        source = source[2:]
    return source


class GitlabReporter(Reporter):
    """GitLab Code Quality JSON: one issue per finding, with ``description``, ``check_name``
    (code and rule), ``fingerprint``, ``severity`` and ``location`` (the export, and the
    finding's row as ``lines.begin``; 1 for owner-level findings).

    Severities: info -> ``info``, warning -> ``minor``, error -> ``major``; an error finding that
    is new against a baseline is ``critical``, the regression that fails the gate. Every finding
    is listed, known ones too: GitLab compares the merge request's report with the target
    branch's by fingerprint, and would show a known finding left out as fixed.

    GitLab shows one entry per fingerprint, so a fingerprint that repeats (one rule finding
    several things about one deal, such as three invalid values) gets ``-2``, ``-3``... from its
    second occurrence on, in report order. The file has no byte order mark, which GitLab's parser
    refuses.
    """

    name = "gitlab"
    shows_history = "none"
    summary = "GitLab Code Quality JSON for merge request widgets"

    def write(self, report, stream) -> None:
        findings = report.findings
        if not findings.height:
            stream.write("[]\n")
            return
        regression = (pl.col("severity") == "error") & ~known_expr() if report.baseline_file is not None else pl.lit(False)
        # Occurrence numbers and regressions need the whole table (two small columns); the JSON is
        # then encoded and written a slice at a time, so a million issues never exist as one string.
        findings = findings.with_columns(
            pl.col("fingerprint").cum_count().over("fingerprint").alias("_occurrence"), regression.alias("_regression")
        )
        issue = pl.struct(
            pl.lit("issue").alias("type"),
            description_expr().alias("description"),
            pl.concat_str(pl.col("code"), pl.lit(" "), pl.col("rule")).alias("check_name"),
            pl.when(pl.col("_occurrence") > 1)
            .then(pl.concat_str(pl.col("fingerprint"), pl.lit("-"), pl.col("_occurrence").cast(pl.String)))
            .otherwise(pl.col("fingerprint"))
            .alias("fingerprint"),
            pl.when(pl.col("_regression"))
            .then(pl.lit(REGRESSION_SEVERITY))
            .otherwise(pl.col("severity").replace_strict(SEVERITY_MAP, return_dtype=pl.String))
            .alias("severity"),
            pl.struct(
                pl.lit(location_path(report.source)).alias("path"),
                pl.struct(pl.col("row").fill_null(1).alias("begin")).alias("lines"),
            ).alias("location"),
        )
        encoded = issue.struct.json_encode().alias("json")
        stream.write("[\n")
        for offset in range(0, findings.height, SLICE_ROWS):
            lines = findings.slice(offset, SLICE_ROWS).select(encoded).select(json_text_expr("json"))["json"]
            last = offset + SLICE_ROWS >= findings.height
            stream.write(",\n".join("  " + line for line in lines) + ("\n" if last else ",\n"))
        stream.write("]\n")
