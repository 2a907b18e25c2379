"""CRM change logs as history: Salesforce OpportunityHistory and OpportunityFieldHistory; HubSpot's stage-entry columns."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "salesforce_dev_edition_sample"
OPPORTUNITY_HISTORY_SHA256 = "8d8a6fb97ed5088ec10347ad41de709b3117b1ec8386c457c7b31ede0e93ee4e"


@pytest.fixture
def config(tmp_path, store_url, monkeypatch):
    """An empty configuration, its store each database in ``store_url`` (SQLite, and a real PostgreSQL server)."""
    (tmp_path / "hygiene.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("HYGIENE_HISTORY_URL", store_url)


@pytest.mark.realdata
def test_the_real_salesforce_opportunity_history_imports_one_state_per_day(config, hygiene_cli, tmp_path):
    path = REAL / "OpportunityHistory.csv"
    if not path.is_file():
        pytest.skip(f"real CRM exports not found at {path}: they live beside the repository in shared/data/real/")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == OPPORTUNITY_HISTORY_SHA256
    result = hygiene_cli("snapshot", "import", str(path), "--format", "salesforce-opportunity-history")
    assert result.exit_code == 0, result.output
    # 62 rows, two per opportunity, both stamped 2018-10-13 17:16:45 (PROVENANCE.md §2, quirk 4): one day, the later row wins.
    assert "31 deals, 62 changes on 1 dates (2018-10-13 to 2018-10-13)" in result.output
    assert hygiene_cli("snapshot", "show", "--date", "2018-10-13", "-o", "state.csv").exit_code == 0
    state = {row["id"]: row for row in csv.DictReader((tmp_path / "state.csv").open(encoding="utf-8"))}
    opportunities = {row["Id"]: row for row in csv.DictReader((REAL / "Opportunity.csv").open(encoding="utf-8"))}
    assert set(state) == set(opportunities)
    for deal_id, row in opportunities.items():
        # The second row moved the close date from the 2013-09-16 insert to the one the opportunity has.
        assert state[deal_id]["close_date"] == row["CloseDate"][:10]
        assert state[deal_id]["stage"] == row["StageName"]
        assert state[deal_id]["created_date"] == "2018-10-13"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == OPPORTUNITY_HISTORY_SHA256  # never modified


def test_opportunity_history_over_several_days_gives_pushes_and_stage_entry(config, hygiene_cli, write_csv, tmp_path):
    header = ["Id", "OpportunityId", "CreatedDate", "StageName", "Amount", "CloseDate", "Probability", "ForecastCategory"]
    write_csv(
        [
            header,
            ["1", "006A", "2026-09-01 10:00:00", "Prospecting", "1000", "2026-10-31", "10", "Pipeline"],
            ["2", "006A", "2026-09-15 10:00:00", "Proposal", "1000", "2026-10-31", "60", "Pipeline"],
            ["3", "006A", "2026-10-20 09:00:00", "Proposal", "1000", "2026-11-30", "60", "Pipeline"],
            ["4", "006A", "2026-10-20 16:00:00", "Proposal", "900", "2026-12-31", "60", "Commit"],
        ],
        name="OpportunityHistory.csv",
    )
    assert hygiene_cli("snapshot", "import", "OpportunityHistory.csv", "--format", "salesforce-opportunity-history").exit_code == 0
    write_csv([["id", "stage", "amount", "close_date"], ["006A", "Proposal", "900", "2026-12-31"]], name="today.csv")
    result = hygiene_cli("deals", "today.csv", "--as-of", "2026-11-02", "-o", "deals.json")
    assert result.exit_code == 0, result.output
    deal = json.loads((tmp_path / "deals.json").read_text(encoding="utf-8"))[0]
    # Same-day changes collapse into the day's last state: one push of 61 days on 2026-10-20.
    assert (deal["close_date_pushes"], deal["push_days_total"], deal["stage_entered_date"]) == (1, 61, "2026-09-15")
    assert deal["stage_entered_date_source"] == "history"  # the change log starts at creation: exact, not a lower bound
    assert (deal["first_seen_date"], deal["amount_first"]) == ("2026-09-01", 1000.0)


def test_field_history_is_replayed_from_old_and_new_values(config, hygiene_cli, write_csv, tmp_path):
    header = ["OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue"]
    write_csv(
        [
            header,
            ["006B", "2026-09-01T08:00:00.000Z", "created", "", ""],
            ["006B", "2026-09-10T08:00:00.000Z", "CloseDate", "2026-09-30", "2026-10-31"],
            ["006B", "2026-09-20T08:00:00.000Z", "StageName", "Qualification", "Proposal"],
            ["006B", "2026-10-01T08:00:00.000Z", "CloseDate", "2026-10-31", "2026-10-15"],
        ],
        name="OpportunityFieldHistory.csv",
    )
    assert hygiene_cli("snapshot", "import", "OpportunityFieldHistory.csv", "--format", "salesforce-field-history").exit_code == 0
    for day, stage, close in (("2026-09-01", "Qualification", "2026-09-30"), ("2026-09-10", "Qualification", "2026-10-31"), ("2026-09-20", "Proposal", "2026-10-31"), ("2026-10-01", "Proposal", "2026-10-15")):
        assert hygiene_cli("snapshot", "show", "--date", day, "-o", f"{day}.json").exit_code == 0
        row = json.loads((tmp_path / f"{day}.json").read_text(encoding="utf-8"))[0]
        assert (row["stage"], row["close_date"]) == (stage, close), day


def test_a_change_log_with_an_unreadable_date_names_its_row(config, hygiene_cli, write_csv):
    write_csv([["OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue"], ["006B", "yesterday", "Amount", "1", "2"]], name="fh.csv")
    result = hygiene_cli("snapshot", "import", "fh.csv", "--format", "salesforce-field-history")
    assert result.exit_code == 2
    assert "fh.csv: row 2, column 'CreatedDate': 'yesterday' is not a date" in result.output


def test_import_refuses_a_store_that_holds_exports(config, hygiene_cli, write_csv):
    write_csv([["id", "stage"], ["A", "Proposal"]], name="export-2026-11-02.csv")
    assert hygiene_cli("snapshot", "add", "export-2026-11-02.csv").exit_code == 0
    write_csv([["OpportunityId", "CreatedDate", "Field", "OldValue", "NewValue"], ["006B", "2026-09-01", "Amount", "1", "2"]], name="fh.csv")
    result = hygiene_cli("snapshot", "import", "fh.csv", "--format", "salesforce-field-history")
    assert result.exit_code == 2
    assert "holds exports already" in result.output


def test_hubspot_date_entered_columns_feed_stage_entered_date(config, hygiene_cli, write_csv, tmp_path):
    write_csv(
        [
            ["Record ID", "Deal Stage", "Pipeline", 'Date entered "Appointment Scheduled (Sales Pipeline)"', 'Date entered "Contract Sent (Sales Pipeline)"'],
            ["1", "Contract Sent", "Sales Pipeline", "2026-01-05", "2026-02-10 09:30"],
            ["2", "Appointment Scheduled", "Sales Pipeline", "2026-03-01", ""],
        ],
        name="hubspot.csv",
    )
    (tmp_path / "hygiene.toml").write_text('[source.fields]\nid = "Record ID"\nstage = "Deal Stage"\n', encoding="utf-8")
    result = hygiene_cli("deals", "hubspot.csv", "--as-of", "2026-03-31", "-o", "deals.json")
    assert result.exit_code == 0, result.output
    deals = {row["id"]: row for row in json.loads((tmp_path / "deals.json").read_text(encoding="utf-8"))}
    assert deals["1"]["stage_entered_date"] == "2026-02-10"
    assert deals["2"]["stage_entered_date"] == "2026-03-01"
    assert deals["1"]["stage_entered_date_source"] == "export"
