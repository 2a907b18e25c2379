"""The JSON report builds finding lines with string operations: they must decode to the values."""

import io
import json

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene import json_text
from hygiene.testing import audit_deals
from hygiene_plugins.reporters import json_report
from hygiene_plugins.reporters.json_report import JsonReporter, json_value


@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=20))
def test_any_text_round_trips_through_the_json_encoding(values):
    encoded = pl.DataFrame({"text": values}, schema={"text": pl.String}).select(json_value("text", pl.String)).to_series()

    assert [json.loads(line) for line in encoded] == values


@given(st.lists(st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)), min_size=1, max_size=20))
def test_row_numbers_round_trip_through_the_json_encoding(values):
    encoded = pl.DataFrame({"row": values}, schema={"row": pl.Int64}).select(json_value("row", pl.Int64)).to_series()

    assert [json.loads(line) for line in encoded] == values


@pytest.mark.parametrize("slice_rows", [1, 2, 3, 4, 5])
def test_a_report_written_in_slices_is_the_same_document(monkeypatch, slice_rows):
    report = audit_deals(
        deals=[{"id": f"D{n}", "stage": "Proposal", "owner": "Ada"} for n in range(4)],
        rules=["missing-close-date"],
        as_of="2026-03-31",
    )
    whole = io.StringIO()
    JsonReporter().write(report, whole)
    monkeypatch.setattr(json_report, "SLICE_ROWS", slice_rows)
    sliced = io.StringIO()

    JsonReporter().write(report, sliced)

    assert sliced.getvalue() == whole.getvalue()
    assert [f["deal_id"] for f in json.loads(sliced.getvalue())["findings"]] == ["D0", "D1", "D2", "D3"]


_TEXT = st.one_of(st.none(), st.text(), st.sampled_from(['"', "\\", "\x00", "\x1f", "\x7f", "\x85", "\u2028", "\u202e", "é", "{}", "}"]))


@given(st.lists(st.tuples(_TEXT, st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)), _TEXT), min_size=1, max_size=12))
def test_finding_lines_encode_each_field_as_the_one_field_encoder_does_and_as_json_text_asks(rows):
    # The lines encode runs of fields with polars' JSON encoder and skip the json_text pass for plain
    # columns: the bytes must be those of each field encoded alone, with json_text over the line.
    frame = pl.DataFrame(
        {"message": [r[0] for r in rows], "row": [r[1] for r in rows], "owner": [r[2] for r in rows], "details": ['{"k":1}'] * len(rows)},
        schema={"message": pl.String, "row": pl.Int64, "owner": pl.String, "details": pl.String},
    )
    keys = ("message", "row", "details", "owner")

    lines = json_report.object_lines(frame, keys, last=True).to_series().to_list()

    for line, (message, row, owner) in zip(lines, rows, strict=True):
        one_by_one = ",".join(
            f'"{key}":{value}'
            for key, value in (("message", json.dumps(message, ensure_ascii=False)), ("row", json.dumps(row)), ("details", '{"k":1}'), ("owner", json.dumps(owner, ensure_ascii=False)))
        )
        assert line.rstrip(",") == json_text("    {" + one_by_one + "}")
        assert json.loads(line.rstrip(",")) == {"message": message, "row": row, "details": {"k": 1}, "owner": owner}
