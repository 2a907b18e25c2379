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
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs

from hygiene.api.models import severities_at_or_above
from hygiene.api.escaping import json_text, terminal_text
from hygiene.files import read_checked_json

DIFF_SCHEMA_VERSION = 1
#: What may change in a finding that keeps its fingerprint (counters aside), in the order a diff lists them.
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
    counters = _counters(old, new)
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
        changes = _changes(before, finding, counters.get(finding["code"], ()))
        if changes:
            identity = {key: finding[key] for key in ("fingerprint", "code", "rule", "deal_id", "deal_name", "owner")}
            changed.append({**identity, "changes": changes})
    # Fixed findings keep OLD's report order.
    still_unpaired = {id(finding) for findings in unpaired_old.values() for finding in findings}
    fixed = [finding for finding in old["findings"] if id(finding) in still_unpaired]
    return ReportDiff(old=_about(old), new=_about(new), new_findings=new_findings, fixed_findings=fixed, changed_findings=changed)


def _counters(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each rule's counter keys, as either report declares them (reports written before counters declare none)."""
    codes = {*old.get("counters", {}), *new.get("counters", {})}
    return {code: tuple(dict.fromkeys([*old.get("counters", {}).get(code, []), *new.get("counters", {}).get(code, [])])) for code in codes}


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
            message = re.sub(rf"(?<![\w.,-]){re.escape(text)}(?![\w]|[.,-]\d)", "#", message)
    return message


def render_diff(diff: ReportDiff, output_format: str) -> str:
    if output_format == "json":
        return json_text(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False)) + "\n"
    lines = []
    for title, findings in (("new", diff.new_findings), ("fixed", diff.fixed_findings)):
        if findings:
            lines.append(f"{title} ({len(findings)})")
            lines += [
                f"  {terminal_text(f['severity']):<7} {terminal_text(f['code'])} {terminal_text(f['rule'])}: {_subject(f)}: {terminal_text(f['message'])}"
                for f in findings
            ]
    if diff.changed_findings:
        lines.append(f"changed ({len(diff.changed_findings)})")
        for finding in diff.changed_findings:
            lines.append(f"  {terminal_text(finding['code'])} {terminal_text(finding['rule'])}: {_subject(finding)}")
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
