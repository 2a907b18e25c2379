"""The JSON report builds finding lines with string operations: they must decode to the values."""

import json

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from hygiene_plugins.reporters.json_report import json_value


@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=20))
def test_any_text_round_trips_through_the_json_encoding(values):
    encoded = pl.DataFrame({"text": values}, schema={"text": pl.String}).select(json_value("text", pl.String)).to_series()

    assert [json.loads(line) for line in encoded] == values


@given(st.lists(st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)), min_size=1, max_size=20))
def test_row_numbers_round_trip_through_the_json_encoding(values):
    encoded = pl.DataFrame({"row": values}, schema={"row": pl.Int64}).select(json_value("row", pl.Int64)).to_series()

    assert [json.loads(line) for line in encoded] == values
