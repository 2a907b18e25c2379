"""Reporters that write a slice of findings at a time write the same bytes as in one piece.

The CSV, console, JUnit, GitLab and JSON reports encode and write their
findings a slice at a time (so that a million findings never exist as one
string); slicing must not change a byte, whether the stream is a file
(polars writes to its buffer) or a text-only stream (io.StringIO).
"""

from __future__ import annotations

import io

import pytest

from hygiene.testing import audit_deals
from hygiene_plugins.reporters import console, csv_report, gitlab, json_report, junit
from hygiene_plugins.reporters.console import ConsoleReporter
from hygiene_plugins.reporters.csv_report import CsvReporter
from hygiene_plugins.reporters.gitlab import GitlabReporter
from hygiene_plugins.reporters.json_report import JsonReporter
from hygiene_plugins.reporters.junit import JunitReporter

REPORTERS = {
    "csv": (csv_report, CsvReporter),
    "console": (console, ConsoleReporter),
    "junit": (junit, JunitReporter),
    "gitlab": (gitlab, GitlabReporter),
    "json": (json_report, JsonReporter),
}


@pytest.fixture(scope="module")
def report():
    """Findings of three rules over three owners, with text that every format escapes."""
    owners = ["Ada", "=cmd|' /C calc'!A0", "Bo \x1b[31m"]
    deals = [
        {
            "id": f"D{n}",
            "name": f"Deal {n} \u202e<b>&\"",
            "owner": owners[n % 3],
            "stage": "Proposal",
            "amount": 1000 + n,
            "close_date": None if n % 2 else "2026-01-31",
            "created_date": "2025-01-01",
            "stage_entered_date": "2025-06-01",
        }
        for n in range(9)
    ]
    return audit_deals(deals=deals, rules=["missing-close-date", "past-due-close-date", "stale-stage"], as_of="2026-03-31")


def _write(reporter_cls, report, stream_kind: str, tmp_path) -> str:
    if stream_kind == "text":
        stream = io.StringIO()
        reporter_cls().write(report, stream)
        return stream.getvalue()
    path = tmp_path / "report"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        reporter_cls().write(report, stream)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(REPORTERS))
@pytest.mark.parametrize("stream_kind", ["file", "text"])
@pytest.mark.parametrize("slice_rows", [1, 2, 7])
def test_a_report_written_in_slices_is_the_same_report(report, monkeypatch, tmp_path, name, stream_kind, slice_rows):
    module, reporter_cls = REPORTERS[name]
    assert report.findings.height > 7
    whole = _write(reporter_cls, report, stream_kind, tmp_path)
    monkeypatch.setattr(module, "SLICE_ROWS", slice_rows)

    sliced = _write(reporter_cls, report, stream_kind, tmp_path)

    assert sliced == whole


def test_an_empty_csv_report_still_has_its_header(tmp_path):
    empty = audit_deals(deals=[{"id": "D1", "stage": "Proposal", "owner": "Ada", "close_date": "2026-06-30"}], rules=["missing-close-date"], as_of="2026-03-31")
    assert empty.findings.height == 0
    assert _write(CsvReporter, empty, "file", tmp_path) == "\ufeffseverity,code,rule,owner,deal_id,deal_name,message,row,fingerprint,baseline_status,details\n"
