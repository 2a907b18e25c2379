"""Deals, configurations and report readers shared by the CI-gate tests (baseline, waivers, thresholds, diff).

As of :data:`AS_OF`, with the default stage table, each deal below has
exactly the findings its name says.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from _cli_audit import assert_valid_report
from test_plugins import FAILING_RULE

AS_OF = "2026-03-31"

#: HY001 stale-stage (warning): 89 days in Negotiation, whose limit is 21.
STALE = {"id": "D1", "name": "Alpha", "owner": "Zoe", "stage": "Negotiation", "close_date": "2026-06-30", "stage_entered_date": "2026-01-01"}
#: HY002 missing-close-date (error).
NO_CLOSE_DATE = {"id": "D2", "name": "Beta", "owner": "Ada", "stage": "Proposal", "stage_entered_date": "2026-03-25"}
#: HY003 past-due-close-date (error).
PAST_DUE = {"id": "D4", "name": "Delta", "owner": "Ada", "stage": "Proposal", "close_date": "2026-02-01", "stage_entered_date": "2026-03-20"}
#: No finding (its close date is not a month end, so that many copies of it do not clump: HY053).
CLEAN = {"id": "D3", "name": "Gamma", "owner": "Ada", "stage": "Proposal", "close_date": "2026-06-29", "stage_entered_date": "2026-03-25"}


def deal(template: dict[str, Any], deal_id: str, **fields: Any) -> dict[str, Any]:
    """``template`` under another id (and other fields): the same findings, about another deal."""
    return {**template, "id": deal_id, **fields}


def waiver(deal_id: str, rule: str, until: Any = "2026-04-30", reason: str = "Champion on holiday") -> dict[str, Any]:
    return {"deal": deal_id, "rule": rule, "reason": reason, "until": until}


def json_report(text: str) -> dict[str, Any]:
    """A JSON report, checked against the shipped schema."""
    report = json.loads(text)
    assert_valid_report(report)
    return report


def subjects(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(code, deal id) of each finding, in report order."""
    return [(finding["code"], finding["deal_id"]) for finding in report["findings"]]


def one_error_line(result) -> str:
    """The single ``hygiene: error:`` line of a run that exited with code 2."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hygiene: error: "), lines[0]
    return lines[0].removeprefix("hygiene: error: ")


def write_broken_rule_plugin(folder: Path) -> str:
    """A plugin file whose rule always raises (OOPS001 crashes), for ``plugins = [...]``: the audit reports a rule-error (HY999)."""
    (folder / "broken_rule.py").write_text(textwrap.dedent(FAILING_RULE), encoding="utf-8")
    return "broken_rule.py"
