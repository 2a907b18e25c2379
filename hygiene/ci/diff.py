"""``hygiene diff OLD.json NEW.json``: what changed between two JSON reports.

Findings are paired by fingerprint, as a baseline pairs them: if OLD has a
fingerprint twice and NEW three times, the first two of NEW (in report
order) pair with OLD's and the third is new. An unpaired finding of NEW is
*new*, one of OLD is *fixed*; a pair whose message, severity or details
differ is *changed*. Only new findings decide the exit code, with the
audit's ``fail_on`` rule: a finding that changed severity is the same
finding, as it is for a baseline.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

from hygiene.api.models import severities_at_or_above
from hygiene.api.presentation import terminal_text
from hygiene.files import read_checked_json

DIFF_SCHEMA_VERSION = 1
#: What may change in a finding that keeps its fingerprint.
COMPARED_FIELDS = ("severity", "message", "details")


@attrs.define(frozen=True, kw_only=True)
class ReportDiff:
    old: dict[str, Any]
    new: dict[str, Any]
    new_findings: list[dict[str, Any]]
    fixed_findings: list[dict[str, Any]]
    changed_findings: list[dict[str, Any]]

    def exit_code(self, fail_on: str) -> int:
        counted = severities_at_or_above(fail_on)
        return 1 if any(finding["severity"] in counted for finding in self.new_findings) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": DIFF_SCHEMA_VERSION,
            "old": self.old,
            "new": self.new,
            "summary": {"new": len(self.new_findings), "fixed": len(self.fixed_findings), "changed": len(self.changed_findings)},
            "new_findings": self.new_findings,
            "fixed_findings": self.fixed_findings,
            "changed_findings": self.changed_findings,
        }


def read_report(path: Path, display: str) -> dict[str, Any]:
    """A JSON report, checked against the report schema the package ships."""
    document = read_checked_json(path, display, "report.schema.json", "hygiene JSON report")
    return {**document, "file": display}


def _about(report: dict[str, Any]) -> dict[str, Any]:
    return {"file": report["file"], "source": report["source"], "as_of": report["as_of"]}


def diff_reports(old: dict[str, Any], new: dict[str, Any]) -> ReportDiff:
    unpaired_old: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in old["findings"]:
        unpaired_old[finding["fingerprint"]].append(finding)
    new_findings, changed = [], []
    for finding in new["findings"]:
        earlier = unpaired_old[finding["fingerprint"]]
        if not earlier:
            new_findings.append(finding)
            continue
        before = earlier.pop(0)
        changes = {field: {"old": before[field], "new": finding[field]} for field in COMPARED_FIELDS if before[field] != finding[field]}
        if changes:
            identity = {key: finding[key] for key in ("fingerprint", "code", "rule", "deal_id", "deal_name", "owner")}
            changed.append({**identity, "changes": changes})
    # Fixed findings keep OLD's report order.
    still_unpaired = {id(finding) for findings in unpaired_old.values() for finding in findings}
    fixed = [finding for finding in old["findings"] if id(finding) in still_unpaired]
    return ReportDiff(old=_about(old), new=_about(new), new_findings=new_findings, fixed_findings=fixed, changed_findings=changed)


def render_diff(diff: ReportDiff, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) + "\n"
    lines = []
    for title, findings in (("new", diff.new_findings), ("fixed", diff.fixed_findings)):
        if findings:
            lines.append(f"{title} ({len(findings)})")
            lines += [f"  {f['severity']:<7} {f['code']} {f['rule']}: {_subject(f)}: {terminal_text(f['message'])}" for f in findings]
    if diff.changed_findings:
        lines.append(f"changed ({len(diff.changed_findings)})")
        for finding in diff.changed_findings:
            lines.append(f"  {finding['code']} {finding['rule']}: {_subject(finding)}")
            for field, change in finding["changes"].items():
                lines.append(f"    {field}: {_shown(change['old'])} -> {_shown(change['new'])}")
    summary = ", ".join(f"{n} {kind}" for kind, n in diff.to_dict()["summary"].items())
    lines.append(f"Diff {_described(diff.old)} -> {_described(diff.new)}: {summary}")
    return "\n".join(lines) + "\n"


def _subject(finding: dict[str, Any]) -> str:
    if finding["deal_id"] is not None:
        return terminal_text(finding["deal_id"] + (f" {finding['deal_name']}" if finding["deal_name"] else ""))
    return terminal_text(finding["owner"]) if finding["owner"] is not None else "(audit)"


def _shown(value: Any) -> str:
    return terminal_text(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True))


def _described(about: dict[str, Any]) -> str:
    return f"{terminal_text(about['file'])} ({terminal_text(about['source'])}, as of {about['as_of']})"
