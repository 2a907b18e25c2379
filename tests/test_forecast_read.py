"""``hygiene forecast`` types only the fields it reads: the figures are those of the audit's full read, deal for deal."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from hygiene.api.source import RawTable
from hygiene.audit.normalise import ReadOptions, normalise
from hygiene.forecast.deals import NO_VALUE, READ_FIELDS, group_label

AS_OF = "2026-03-31"


def messy_export() -> list[dict]:
    """Closed and open deals with what a real export has: padded text, unreadable cells, a repeated id, a blank record."""
    deals = []
    for i in range(30):
        deals.append(
            {
                "id": f"C{i}",
                "name": f" Deal {i} ",
                "owner": " Ada " if i % 3 else "Grace",
                "team": "East" if i % 2 else "West",
                "stage": "Closed Won" if i % 3 == 0 else "Closed Lost",
                "amount": 1000 + 10 * i,
                "probability": 100 if i % 3 == 0 else 0,
                # Unreadable cells the forecast does not read, and one it does.
                "last_activity_date": "not a date" if i % 4 == 0 else "2026-01-15",
                "close_date": "2026-02-30" if i == 7 else "2026-02-01",
                "created_date": "2025-12-01",
                "Lead Source": "Web" if i % 2 else "Partner",
                "Territory": "North" if i % 2 else "South",
            }
        )
    for i in range(12):
        deals.append(
            {
                "id": f"O{i}",
                "name": f"Open {i}",
                "owner": "Ada" if i % 2 else "Grace",
                "team": "East",
                "stage": "Proposal" if i % 2 else "Negotiation",
                "amount": "12,5" if i == 3 else 5000 + i,
                "probability": 40,
                "forecast_category": "Commit" if i % 2 else "Pipeline",
                "close_date": "2026-03-20" if i < 8 else "2026-05-10",
                "created_date": "2026-01-10",
                "next_step_date": "soon",
                "Lead Source": "Web",
                "Territory": "South",
            }
        )
    deals.append(dict(deals[-1], name="the same id again"))
    deals.append({})  # a blank record
    return deals


def test_the_forecast_command_gives_the_audits_forecast_document(make_deals, hygiene_config, hygiene_cli, tmp_path):
    make_deals(messy_export())
    hygiene_config({"quotas": {"Ada": 20000, "Grace": 9000}, "forecast": {"min_deals": 5, "columns": {"region": "Territory"}}})
    alone = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json")
    assert alone.exit_code == 0, alone.output
    audited = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--forecast", "--format", f"json:{tmp_path / 'report.json'}")
    assert audited.exit_code in (0, 1), audited.output
    document = json.loads(alone.output)
    assert document == json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["forecast"]
    # The document is not empty: the figures the projection could have lost are there.
    assert document["deals"]["total"] == 42
    assert {g["key"] for g in document["win_rates"]["segments"]["region"]["groups"]} == {"North", "South"}
    assert [row["key"] for row in document["lead_generation"]["owners"]] == ["Ada", "Grace"]


def test_normalise_only_fields_types_those_and_keeps_rows_ids_and_extras():
    frame = pl.DataFrame(
        {
            "id": ["A", "B", "B", None],
            "stage": ["Proposal", " Closed Won ", "Proposal", None],
            "amount": ["10", "x", "30", None],
            "last_activity_date": ["2026-01-01", "never", "2026-01-02", None],
            "Region": ["North", "South", "East", None],
        },
        schema={c: pl.String for c in ("id", "stage", "amount", "last_activity_date", "Region")},
    )
    raw = RawTable(frame=frame, location="deals.csv")
    full = normalise(raw, {}, ReadOptions())
    only = normalise(raw, {}, ReadOptions(), only_fields=READ_FIELDS)
    # The same deals (the repeated id set aside alike, the blank record dropped), the read fields typed alike.
    assert only.frame.select("id", "stage", "amount", "__row__").equals(full.frame.select("id", "stage", "amount", "__row__"))
    assert only.duplicate_rows.equals(full.duplicate_rows)
    assert only.extra_columns == full.extra_columns == ("Region",)
    assert only.frame.get_column("Region").to_list() == ["North", "South"]
    # A field the forecast does not read is null, as for an export without it, and no cell is listed.
    assert full.frame.get_column("last_activity_date").to_list() == [dt.date(2026, 1, 1), None]
    assert only.frame.get_column("last_activity_date").to_list() == [None, None]
    assert set(full.invalid_values.get_column("column")) == {"amount", "id", "last_activity_date"}
    assert only.invalid_values.height == 0



GROUP_TEXT = st.lists(st.none() | st.sampled_from(["North", " North ", "", "  ", "South\t", "Zoë"]) | st.text(max_size=4), max_size=30)


@given(GROUP_TEXT)
def test_a_group_name_is_the_stripped_text_and_missing_or_empty_is_none(values):
    frame = pl.DataFrame({"region": values}, schema={"region": pl.String})
    text = pl.col("region").str.strip_chars()
    expected = frame.select(pl.when(text == "").then(None).otherwise(text).fill_null(NO_VALUE)).to_series().to_list()
    assert frame.select(group_label(frame, "region")).to_series().to_list() == expected


def test_padded_and_empty_group_names():
    frame = pl.DataFrame({"region": [" North ", "North", "  ", None, "South"]})
    assert frame.select(group_label(frame, "region")).to_series().to_list() == ["North", "North", NO_VALUE, NO_VALUE, "South"]
