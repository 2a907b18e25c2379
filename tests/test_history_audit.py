"""``hygiene audit`` with a history store: derived fields reach the rules, missing history is not evaluable, statuses against the previous run."""

from __future__ import annotations

import json

import pytest

from hygiene.testing import audit_deals

HEADER = ["id", "name", "owner", "stage", "amount", "close_date", "created_date", "last_activity_date"]


@pytest.fixture
def history(write_csv, hygiene_cli, tmp_path):
    (tmp_path / "hygiene.toml").write_text('select = ["HY"]\n', encoding="utf-8")

    def add(day: str, rows: list[list]) -> str:
        path = write_csv([HEADER, *rows], name=f"export-{day}.csv")
        result = hygiene_cli("snapshot", "add", path.name)
        assert result.exit_code == 0, result.output
        return path.name

    def audit(day: str, *extra: str) -> dict:
        result = hygiene_cli("audit", f"export-{day}.csv", "--as-of", day, "--format", "json", "--output", "report.json", "--exit-zero", *extra)
        assert result.exit_code == 0, result.output
        return json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))

    return add, audit


def messages(report: dict, code: str) -> dict[str, str]:
    return {f["deal_id"]: f["message"] for f in report["findings"] if f["code"] == code}


def test_history_feeds_the_change_rules_with_figures_in_the_messages(history):
    add, audit = history
    add("2026-09-28", [["S", "Slipper", "Ada", "Proposal", 1000, "2026-09-30", "2026-01-01", "2026-09-01"]])
    add("2026-10-05", [["S", "Slipper", "Ada", "Proposal", 1000, "2026-10-31", "2026-01-01", "2026-09-01"]])
    add("2026-10-12", [["S", "Slipper", "Ada", "Negotiation", 1000, "2026-11-10", "2026-01-01", "2026-09-01"]])
    add("2026-11-16", [["S", "Slipper", "Ada", "Proposal", 700, "2027-01-15", "2026-01-01", "2026-09-01"]])
    report = audit("2026-11-16")
    assert messages(report, "HY201") == {"S": "pushed 3 times, 107 days in all, last from 2026-11-10 to 2027-01-15"}
    assert messages(report, "HY202") == {"S": "one push of 66 days (limit 21), pushes of 107 days in all (limit 45), last from 2026-11-10 to 2027-01-15"}
    assert messages(report, "HY200") == {"S": "close date moved out of 2026-Q4: from 2026-11-10 to 2027-01-15"}
    assert messages(report, "HY203") == {"S": "amount fell 30% since the previous snapshot (1,000 to 700)"}
    assert messages(report, "HY204") == {"S": "moved back from Negotiation to Proposal on 2026-11-16 (1 moves back in all)"}


def test_with_one_snapshot_the_change_rules_say_why_they_cannot_judge(history):
    add, audit = history
    add("2026-11-16", [["A", "A", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"]])
    summary = audit("2026-11-16")["summary"]
    assert summary["not_evaluable"]["HY201"] == 1
    assert summary["not_evaluable_reasons"]["HY201"] == {"history has 1 snapshot": 1}


def test_a_deal_seen_once_is_not_evaluable_and_never_zero_pushes(history):
    add, audit = history
    add("2026-11-09", [["OLD", "Old", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"]])
    add("2026-11-16", [["OLD", "Old", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"], ["NEW", "New", "Ada", "Proposal", 10, "2026-12-01", "2026-11-10", "2026-11-10"]])
    summary = audit("2026-11-16")["summary"]
    assert summary["not_evaluable_reasons"]["HY201"] == {"deal seen in 1 snapshot": 1}


def test_without_history_ruthless_drop_does_not_read_a_missing_push_count_as_zero():
    deals = [{"id": "OLD-SILENT", "stage": "Proposal", "created_date": "2025-01-01", "last_activity_date": "2026-01-01"}]
    report = audit_deals(deals, rules=["HY005"], as_of="2026-06-30")
    assert report.findings.height == 0
    assert report.not_evaluable == {"HY005": 1}
    assert report.not_evaluable_reasons == {"HY005": {"no close_date_pushes in the export, and no history to derive it from": 1}}


def test_stale_stage_flags_a_lower_bound_that_already_exceeds_the_limit_and_says_at_least(history):
    add, audit = history
    rows = [
        ["LONG", "Long", "Ada", "Negotiation", 10, "2026-12-01", "2026-01-01", "2026-11-01"],
        ["SHORT", "Short", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"],
    ]
    add("2026-10-19", rows)
    add("2026-11-16", rows)
    report = audit("2026-11-16")
    assert messages(report, "HY001") == {"LONG": "in Negotiation for at least 28 days (limit 21)"}
    assert report["summary"]["not_evaluable_reasons"]["HY001"] == {"in its stage since before the store's first snapshot": 1}


def test_each_finding_is_new_or_persisting_and_gone_ones_are_closed_or_cleared(history):
    add, audit = history
    add("2026-11-02", [["PAST", "Past due", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["WIN", "Will win", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["FIX", "Fixed", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"]])
    first = audit("2026-11-02", "--select", "HY003")
    assert first["history"]["previous_run"] is None
    assert first["history"]["finding_status"] == {"new": 3, "persisting": 0}
    add("2026-11-09", [["PAST", "Past due", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["WIN", "Will win", "Ada", "Closed Won", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["FIX", "Fixed", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"]])
    second = audit("2026-11-09", "--select", "HY003")
    assert second["history"]["previous_run"]["as_of"] == "2026-11-02"
    assert second["history"]["finding_status"] == {"new": 0, "persisting": 1}
    assert [entry["runs"] for entry in second["history"]["persisting"]] == [2]
    assert [entry["deal_id"] for entry in second["history"]["resolved"]["closed"]] == ["WIN"]
    assert [entry["deal_id"] for entry in second["history"]["resolved"]["cleared"]] == ["FIX"]


def test_re_running_an_audit_gives_the_same_report_byte_for_byte(history, tmp_path):
    add, audit = history
    add("2026-11-02", [["A", "A", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"]])
    add("2026-11-09", [["A", "A", "Ada", "Proposal", 20, "2026-10-01", "2026-01-01", "2026-11-01"]])
    audit("2026-11-02")
    audit("2026-11-09")
    once = (tmp_path / "report.json").read_bytes()
    audit("2026-11-09")
    assert (tmp_path / "report.json").read_bytes() == once


def test_the_console_says_what_changed_since_the_previous_run(history, hygiene_cli):
    add, audit = history
    add("2026-11-02", [["PAST", "Past due", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["FIX", "Fixed", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"]])
    audit("2026-11-02", "--select", "HY003")
    add("2026-11-09", [["PAST", "Past due", "Ada", "Proposal", 10, "2026-10-01", "2026-01-01", "2026-11-01"], ["FIX", "Fixed", "Ada", "Proposal", 10, "2026-12-01", "2026-01-01", "2026-11-01"]])
    result = hygiene_cli("audit", "export-2026-11-09.csv", "--as-of", "2026-11-09", "--select", "HY003", "--exit-zero")
    assert "  since the previous audit (2026-11-02): 0 new, 1 persisting; resolved 0 closed, 1 cleared" in result.output
