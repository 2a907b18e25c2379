"""``hygiene diff OLD.json NEW.json``: what changed between two JSON reports.

Findings are paired by fingerprint, as a baseline pairs them: if OLD has a
fingerprint twice and NEW three times, the first two of NEW (in report
order) pair with OLD's and the third is new. An unpaired finding of NEW is
*new*, one of OLD is *fixed*; a pair whose severity, details or message
differ is *changed*, except for **counters**: detail keys that grow with
time alone (days past due, days in stage), which each report lists under
``counters`` (from the rules' ``counter_details``). A finding whose only
difference is that its counters moved, in its details and where its
message quotes them, is unchanged. Only new findings decide the exit code,
with the audit's ``fail_on`` rule: a finding that changed severity is the
same finding, as it is for a baseline.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import attrs
import polars as pl

from hygiene.api.models import severities_at_or_above
from hygiene.api.escaping import json_text, json_text_expr, terminal_text
from hygiene.ci.report_reader import FINDING_KEYS, ReadReport, read_report as read_json_report
from hygiene.files import MAX_DOCUMENT_BYTES

DIFF_SCHEMA_VERSION = 1
#: What may change in a finding that keeps its fingerprint (counters aside), in the order a diff lists them.
COMPARED_FIELDS = ("severity", "message", "details")
#: Rows turned into Python objects at a time, when the diff is written.
SLICE_ROWS = 20_000
_IDENTITY = ("fingerprint", "code", "rule", "deal_id", "deal_name", "owner")


@attrs.define(frozen=True, kw_only=True)
class ReportDiff:
    """Two reports' findings paired by fingerprint: tables of the new, the fixed and the changed ones.

    ``changed`` holds the paired findings' identity and ``changes``, the JSON text of what changed.
    """

    old: dict[str, Any]
    new: dict[str, Any]
    new_findings: pl.DataFrame
    fixed_findings: pl.DataFrame
    changed_findings: pl.DataFrame

    def exit_code(self, fail_on: str) -> int:
        counted = severities_at_or_above(fail_on)
        return 1 if self.new_findings.get_column("severity").is_in(counted).any() else 0

    @property
    def summary(self) -> dict[str, int]:
        return {"new": self.new_findings.height, "fixed": self.fixed_findings.height, "changed": self.changed_findings.height}


def read_report(path: Path, display: str, *, limit: int = MAX_DOCUMENT_BYTES) -> ReadReport:
    """A JSON report of any size, checked against the report schema the package ships (see :mod:`hygiene.ci.report_reader`)."""
    return read_json_report(path, display, limit=limit)


def diff_reports(old: ReadReport, new: ReadReport) -> ReportDiff:
    """Pair ``old``'s and ``new``'s findings: a polars join on (fingerprint, occurrence), Python only for pairs that differ."""
    counters = _counters(old.counters, new.counters)
    # The n-th finding with a fingerprint in one report pairs with the n-th in the other.
    occurrence = pl.int_range(pl.len(), dtype=pl.Int64).over("fingerprint").alias("occurrence")
    before = old.findings.with_columns(occurrence)
    after = new.findings.with_columns(occurrence)
    key = ["fingerprint", "occurrence"]
    new_findings = after.join(before.select(key), on=key, how="anti").sort("index").drop("occurrence")
    fixed_findings = before.join(after.select(key), on=key, how="anti").sort("index").drop("occurrence")
    paired = after.join(before.select(*key, *COMPARED_FIELDS), on=key, how="inner", suffix="_old").filter(
        pl.any_horizontal(pl.col(field) != pl.col(f"{field}_old") for field in COMPARED_FIELDS)
    ).sort("index")
    changes: list[str | None] = []
    for rows in paired.select("code", *COMPARED_FIELDS, *(f"{field}_old" for field in COMPARED_FIELDS)).iter_slices(SLICE_ROWS):
        for code, severity, message, details, old_severity, old_message, old_details in rows.iter_rows():
            found = _changes(
                {"severity": old_severity, "message": old_message, "details": json.loads(old_details)},
                {"severity": severity, "message": message, "details": json.loads(details)},
                counters.get(code, ()),
            )
            changes.append(json.dumps(found, ensure_ascii=False) if found else None)
    changed = paired.select(*_IDENTITY).with_columns(pl.Series("changes", changes, dtype=pl.String)).filter(pl.col("changes").is_not_null())
    return ReportDiff(old=old.about, new=new.about, new_findings=new_findings, fixed_findings=fixed_findings, changed_findings=changed)


def _counters(old: dict[str, list[str]], new: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    """Each rule's counter keys, as either report declares them (reports written before counters declare none)."""
    return {code: tuple(dict.fromkeys([*old.get(code, []), *new.get(code, [])])) for code in {*old, *new}}


def _changes(before: dict[str, Any], after: dict[str, Any], counters: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """What changed in a paired finding, counters aside; empty when it is the same finding."""
    changes = {}
    if before["severity"] != after["severity"]:
        changes["severity"] = {"old": before["severity"], "new": after["severity"]}
    old_details, new_details = before["details"] or {}, after["details"] or {}
    if _masked(before["message"], old_details, counters) != _masked(after["message"], new_details, counters):
        changes["message"] = {"old": before["message"], "new": after["message"]}
    if _without(old_details, counters) != _without(new_details, counters):
        changes["details"] = {"old": before["details"], "new": after["details"]}
    return changes


def _without(details: dict[str, Any], counters: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in details.items() if key not in counters}


def _masked(message: str, details: dict[str, Any], counters: tuple[str, ...]) -> str:
    """``message`` with the numbers its counters hold replaced by ``#``: "75 days past due" -> "# days past due"."""
    for key in counters:
        value = details.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        number = int(value) if float(value).is_integer() else value
        for text in dict.fromkeys([f"{number}", f"{number:,}"]):
            # A whole number only: not the 75 of 175, nor of 75.5 or 2026-01-75.
            message = _whole_number(text).sub("#", message)
    return message


@lru_cache(maxsize=4096)
def _whole_number(text: str) -> re.Pattern[str]:
    """``text`` as a whole number: not the 75 of 175, nor of 75.5 or 2026-01-75 (compiled once: counters repeat)."""
    return re.compile(rf"(?<![\w.,-]){re.escape(text)}(?![\w]|[.,-]\d)")


def write_diff(diff: ReportDiff, output_format: str, stream: TextIO) -> None:
    """Write ``diff`` to ``stream``, a slice of findings at a time (``json``: the document ``diff.schema.json`` describes)."""
    if output_format == "json":
        _write_json(diff, stream)
        return
    for title, findings in (("new", diff.new_findings), ("fixed", diff.fixed_findings)):
        if findings.height:
            stream.write(f"{title} ({findings.height})\n")
            for f in _objects(findings):
                stream.write(f"  {terminal_text(f['severity']):<7} {terminal_text(f['code'])} {terminal_text(f['rule'])}: {_subject(f)}: {terminal_text(f['message'])}\n")
    if diff.changed_findings.height:
        stream.write(f"changed ({diff.changed_findings.height})\n")
        for finding in _objects(diff.changed_findings):
            stream.write(f"  {terminal_text(finding['code'])} {terminal_text(finding['rule'])}: {_subject(finding)}\n")
            for field, change in finding["changes"].items():
                stream.write(f"    {field}: {_shown(change['old'])} -> {_shown(change['new'])}\n")
    summary = ", ".join(f"{n} {kind}" for kind, n in diff.summary.items())
    stream.write(f"Diff {_described(diff.old)} -> {_described(diff.new)}: {summary}\n")


def _objects(rows: pl.DataFrame):
    """Each row as the object the JSON report (or, with ``changes``, the diff) holds, a slice at a time."""
    keys = FINDING_KEYS if "changes" not in rows.columns else (*_IDENTITY, "changes")
    decoded = "details" if "changes" not in rows.columns else "changes"
    for part in rows.select(keys).iter_slices(SLICE_ROWS):
        for row in part.iter_rows(named=True):
            row[decoded] = json.loads(row[decoded])
            yield row


def _object_lines(rows: pl.DataFrame) -> pl.Expr:
    """Each row as one line of JSON, in the key order of :func:`_objects`; the JSON-text column spliced in verbatim."""
    keys = FINDING_KEYS if "changes" not in rows.columns else (*_IDENTITY, "changes")
    verbatim = "details" if "changes" not in rows.columns else "changes"
    before, after = keys[: keys.index(verbatim)], keys[keys.index(verbatim) + 1 :]
    parts = [pl.struct(before).struct.json_encode().str.strip_suffix("}"), pl.lit(f',"{verbatim}":'), pl.col(verbatim)]
    parts += [pl.lit(","), pl.struct(after).struct.json_encode().str.strip_prefix("{")] if after else [pl.lit("}")]
    return pl.concat_str(parts).alias("line")


def _write_json(diff: ReportDiff, stream: TextIO) -> None:
    """The diff document: its head indented, then one finding per line (as the JSON report writes them), a slice at a time."""
    head = {"schema_version": DIFF_SCHEMA_VERSION, "old": diff.old, "new": diff.new, "summary": diff.summary}
    stream.write(json_text(json.dumps(head, indent=2, ensure_ascii=False))[:-2])
    for key, rows in (("new_findings", diff.new_findings), ("fixed_findings", diff.fixed_findings), ("changed_findings", diff.changed_findings)):
        stream.write(f',\n  "{key}": [')
        if not rows.height:
            stream.write("]")
            continue
        line = _object_lines(rows)
        for offset in range(0, rows.height, SLICE_ROWS):
            lines = rows.slice(offset, SLICE_ROWS).select(line).select(json_text_expr("line")).to_series().to_list()
            stream.write(("\n    " if offset == 0 else ",\n    ") + ",\n    ".join(lines))
        stream.write("\n  ]")
    stream.write("\n}\n")


def _subject(finding: dict[str, Any]) -> str:
    if finding["deal_id"] is not None:
        return terminal_text(finding["deal_id"] + (f" {finding['deal_name']}" if finding["deal_name"] else ""))
    return terminal_text(finding["owner"]) if finding["owner"] is not None else "(audit)"


def _shown(value: Any) -> str:
    return terminal_text(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))


def _described(about: dict[str, Any]) -> str:
    return f"{terminal_text(about['file'])} ({terminal_text(about['source'])}, as of {about['as_of']})"
