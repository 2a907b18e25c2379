"""Properties of how exports are read: spreadsheet day serials, status flags, and recognising a CRM from its header."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene import RawTable
from hygiene.audit.export_mapping import FALSE_WORDS, TRUE_WORDS, add_status
from hygiene.audit.normalise import normalise
from hygiene.config.presets import detect_preset
from hygiene.plugin.registry import load_registry

EXCEL_DAY_ZERO = dt.date(1899, 12, 30)
PRESETS = [entry.cls for entry in load_registry().presets.values()]


@settings(max_examples=60)
@given(st.dates(min_value=dt.date(1927, 5, 19), max_value=dt.date(2173, 10, 13)), st.sampled_from(["", ".25", ".5", ".999"]))
def test_a_spreadsheet_day_serial_is_its_date_whatever_the_time_of_day(day, fraction):
    serial = f"{(day - EXCEL_DAY_ZERO).days}{fraction}"
    raw = RawTable(frame=pl.DataFrame({"id": ["D1"], "stage": ["Proposal"], "close_date": [serial]}), location="x.xlsx", date_serials=True)

    deals = normalise(raw, {})

    assert deals.frame.item(0, "close_date") == day
    assert deals.invalid_values.height == 0


@given(st.integers(min_value=10_000, max_value=99_999))
def test_a_number_in_a_csv_date_column_is_never_a_date(serial):
    raw = RawTable(frame=pl.DataFrame({"id": ["D1"], "stage": ["Proposal"], "close_date": [str(serial)]}), location="x.csv")

    deals = normalise(raw, {})

    assert deals.frame.item(0, "close_date") is None
    assert deals.invalid_values.get_column("column").to_list() == ["close_date"]


FLAG_WORDS = st.sampled_from(["1", "0", "true", "false", "TRUE", "False", "yes", "no", "", " 1 ", "maybe", None])


@given(st.lists(st.tuples(FLAG_WORDS, FLAG_WORDS), min_size=1, max_size=20))
def test_closed_and_won_flags_say_closed_won_or_nothing(flags):
    from hygiene.api.fields import CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN
    from hygiene.api.preset import DealStatus

    frame = pl.DataFrame({"IsClosed": [c for c, _ in flags], "IsWon": [w for _, w in flags]}, schema={"IsClosed": pl.String, "IsWon": pl.String})
    raw = add_status(RawTable(frame=frame, location="x"), DealStatus(closed_flag="IsClosed", won_flag="IsWon"), False, "x")

    def word(value):
        # An empty cell, or a word that is neither, says nothing: the stage table decides that deal.
        text = (value or "").strip().lower()
        return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None

    for (closed, won), row in zip(flags, raw.frame.select(CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN).iter_rows(), strict=True):
        expected_won = word(won)
        expected_closed = True if expected_won else word(closed)
        assert row == (expected_closed, expected_won)


@given(st.sampled_from(PRESETS), st.randoms(use_true_random=False), st.sampled_from([str.lower, str.upper, str.title, lambda s: s]))
def test_a_presets_own_header_is_recognised_as_it_in_any_order_and_case(preset, random, case):
    header = [case(column) for column in preset.signature_columns()]
    random.shuffle(header)

    match = detect_preset(header, PRESETS)

    assert match is not None and match.preset.name == preset.name
    assert match.certainty == "sure"
