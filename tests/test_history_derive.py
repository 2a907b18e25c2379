"""Fields derived from history, as ``hygiene deals`` and the rules see them."""

from __future__ import annotations

import csv
import json

import pytest

HEADER = ["id", "name", "owner", "stage", "amount", "close_date", "forecast_category", "created_date"]


@pytest.fixture
def weekly(write_csv, hygiene_cli, tmp_path):
    """Add exports (one list of rows per date) as snapshots; returns a function reading ``hygiene deals`` as of a date."""
    (tmp_path / "hygiene.toml").write_text("", encoding="utf-8")

    def add(snapshots: dict[str, list[list]]):
        for day, rows in snapshots.items():
            path = write_csv([HEADER, *rows], name=f"export-{day}.csv")
            result = hygiene_cli("snapshot", "add", path.name)
            assert result.exit_code == 0, result.output

    def deals(as_of: str, export: str | None = None) -> dict[str, dict]:
        result = hygiene_cli("deals", export or f"export-{as_of}.csv", "--as-of", as_of, "-o", "deals.json")
        assert result.exit_code == 0, result.output
        return {row["id"]: row for row in json.loads((tmp_path / "deals.json").read_text(encoding="utf-8"))}

    return add, deals


def test_three_weekly_snapshots_give_every_derived_field(weekly):
    add, deals = weekly
    add(
        {
            "2026-11-02": [["P", "Pushed", "Ada", "Proposal", 1000, "2026-11-30", "commit", "2026-10-01"]],
            "2026-11-09": [["P", "Pushed", "Bob", "Negotiation", 900, "2026-12-15", "commit", "2026-10-01"]],
            "2026-11-16": [["P", "Pushed", "Bob", "Proposal", 600, "2026-12-31", "commit", "2026-10-01"]],
        }
    )
    p = deals("2026-11-16")["P"]
    assert p["close_date_pushes"] == 2 and p["push_days_total"] == 31 and p["max_push_days"] == 16 and p["pull_ins"] == 0
    assert (p["last_push_from"], p["last_push_to"]) == ("2026-12-15", "2026-12-31")
    assert (p["close_date_previous"], p["amount_previous"], p["amount_first"]) == ("2026-12-15", 900.0, 1000.0)
    assert p["amount_at_commit"] == 1000.0  # in commit since it was first seen
    assert (p["stage_previous"], p["stage_regressions"], p["stage_entered_date"]) == ("Negotiation", 1, "2026-11-16")
    assert (p["owner_changes"], p["first_seen_date"], p["last_change_date"]) == (1, "2026-11-02", "2026-11-16")
    assert p["close_date_pushes_source"] == "history" and p["stage_entered_date_source"] == "history"


def test_a_pull_in_is_not_a_push(weekly):
    add, deals = weekly
    add(
        {
            "2026-11-02": [["Q", "Pulled", "Ada", "Proposal", 10, "2026-12-31", "", ""]],
            "2026-11-09": [["Q", "Pulled", "Ada", "Proposal", 10, "2026-12-01", "", ""]],
        }
    )
    q = deals("2026-11-09")["Q"]
    assert (q["close_date_pushes"], q["pull_ins"], q["push_days_total"]) == (0, 1, 0)


def test_a_run_that_began_at_the_first_snapshot_is_a_lower_bound_unless_the_deal_was_created_then(weekly):
    add, deals = weekly
    add(
        {
            "2026-11-02": [["OLD", "Old", "Ada", "Proposal", 10, "", "", "2026-01-01"], ["NEW", "New", "Ada", "Proposal", 10, "", "", "2026-11-02"]],
            "2026-11-09": [["OLD", "Old", "Ada", "Proposal", 10, "", "", "2026-01-01"], ["NEW", "New", "Ada", "Proposal", 10, "", "", "2026-11-02"]],
        }
    )
    table = deals("2026-11-09")
    assert table["OLD"]["stage_entered_date"] == "2026-11-02"
    assert table["OLD"]["stage_entered_date_source"] == "history-lower-bound"
    assert table["NEW"]["stage_entered_date_source"] == "history"


def test_a_column_in_the_export_always_wins(weekly, write_csv):
    add, deals = weekly
    add({"2026-11-02": [["D", "Deal", "Ada", "Proposal", 10, "2026-11-30", "", ""]], "2026-11-09": [["D", "Deal", "Ada", "Proposal", 10, "2026-12-30", "", ""]]})
    write_csv([[*HEADER, "close_date_pushes"], ["D", "Deal", "Ada", "Proposal", 10, "2026-12-30", "", "", 7]], name="with-pushes.csv")
    d = deals("2026-11-09", "with-pushes.csv")["D"]
    assert d["close_date_pushes"] == 7 and d["close_date_pushes_source"] == "export"
    assert d["push_days_total"] == 30 and d["push_days_total_source"] == "history"


def test_a_deal_seen_once_has_no_transition_fields_not_zero(weekly):
    add, deals = weekly
    add({"2026-11-02": [["A", "A", "Ada", "Proposal", 10, "2026-11-30", "", ""]], "2026-11-09": [["A", "A", "Ada", "Proposal", 10, "2026-11-30", "", ""], ["B", "B", "Ada", "Proposal", 10, "2026-11-30", "", ""]]})
    table = deals("2026-11-09")
    assert table["A"]["close_date_pushes"] == 0
    assert table["B"]["close_date_pushes"] is None and table["B"]["close_date_pushes_source"] is None
    assert table["B"]["first_seen_date"] == "2026-11-09"


def test_with_one_snapshot_nothing_is_derived(weekly):
    add, deals = weekly
    add({"2026-11-09": [["A", "A", "Ada", "Proposal", 10, "2026-11-30", "", ""]]})
    a = deals("2026-11-09")["A"]
    assert a["close_date_pushes"] is None and a["stage_entered_date"] is None


def test_an_export_not_yet_in_the_store_counts_as_the_newest_snapshot(weekly, write_csv):
    add, deals = weekly
    add({"2026-11-02": [["A", "A", "Ada", "Proposal", 10, "2026-11-30", "", ""]]})
    write_csv([HEADER, ["A", "A", "Ada", "Proposal", 10, "2026-12-10", "", ""]], name="today.csv")
    a = deals("2026-11-09", "today.csv")["A"]
    assert (a["close_date_pushes"], a["max_push_days"], a["close_date_previous"]) == (1, 10, "2026-11-30")


def test_deals_writes_csv_with_formulas_neutralised(weekly, hygiene_cli, tmp_path):
    add, _ = weekly
    add({"2026-11-02": [["A", "=HYPERLINK(\"x\")", "Ada", "Proposal", 10, "", "", ""]]})
    result = hygiene_cli("deals", "export-2026-11-02.csv", "--as-of", "2026-11-02", "-o", "deals.csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "deals.csv").open(encoding="utf-8")))
    assert rows[0]["name"] == "'=HYPERLINK(\"x\")"
    assert "stage_entered_date_source" in rows[0]


def test_an_export_stored_as_its_snapshot_derives_exactly_what_reading_it_afresh_does(weekly, tmp_path):
    """The weekly job adds the export, then audits that very file: the store already holds it, nothing is recomputed."""
    add, deals = weekly
    add(
        {
            "2026-11-02": [["A", "A", "Ada", "Proposal", 1000, "2026-11-30", "commit", "2026-10-01"], ["B", "B", "Bob", "Negotiation", 10, "", "", ""]],
            "2026-11-09": [["A", "A", "Bob", "Negotiation", 900, "2026-12-15", "commit", "2026-10-01"], ["C", "C", "Bob", "Proposal", 5, "", "", ""]],
            "2026-11-16": [["A", "A", "Bob", "Proposal", 600, "2026-12-31", "commit", "2026-10-01"], ["C", "C", "Bob", "Proposal", 5, "", "", ""], ["D", "D", "Cy", "Proposal", 1, "", "", ""]],
        }
    )
    stored = deals("2026-11-16")
    # The same rows in a file with other bytes (an extra blank line at the end): read afresh.
    copy = tmp_path / "export-copy.csv"
    copy.write_bytes((tmp_path / "export-2026-11-16.csv").read_bytes() + b"\n")
    afresh = deals("2026-11-16", "export-copy.csv")
    assert stored == afresh
    assert stored["A"]["close_date_pushes"] == 2 and stored["D"]["close_date_pushes"] is None


def test_deals_writes_parquet_with_the_types_rules_see(weekly, hygiene_cli, tmp_path):
    import polars as pl

    add, _ = weekly
    add({"2026-11-02": [["A", "A", "Ada", "Proposal", 10, "2026-11-30", "", ""]], "2026-11-09": [["A", "A", "Ada", "Proposal", 10, "2026-12-30", "", ""]]})
    result = hygiene_cli("deals", "export-2026-11-09.csv", "--as-of", "2026-11-09", "-o", "deals.parquet")
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(tmp_path / "deals.parquet")
    assert table.schema["close_date"] == pl.Date and table.schema["close_date_pushes"] == pl.Int64
    assert table.row(0, named=True)["push_days_total"] == 30


def test_deals_refuses_an_output_it_cannot_tell_the_format_of(weekly, hygiene_cli):
    add, _ = weekly
    add({"2026-11-02": [["A", "A", "Ada", "Proposal", 10, "", "", ""]]})
    result = hygiene_cli("deals", "export-2026-11-02.csv", "-o", "deals.xlsx")
    assert result.exit_code == 2
    assert "deals.xlsx: cannot tell the format from the extension '.xlsx'; use .csv, .json or .parquet" in result.output
