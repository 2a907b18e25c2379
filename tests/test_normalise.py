"""How an export's text becomes typed deal fields: dates, numbers, counts, columns, duplicate ids."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene.api.errors import SourceError
from hygiene.audit.normalise import NormalisedDeals, ReadOptions, normalise
from hygiene.api.source import RawTable

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

LOCATION = "deals.csv"


def normalise_cells(columns: dict[str, list[str | None]], fields: dict[str, str] | None = None, **read_options) -> NormalisedDeals:
    """Normalise an export given column by column, as text; its records are rows 2, 3, ..."""
    frame = pl.DataFrame(columns, schema={name: pl.String for name in columns})
    return normalise(RawTable(frame=frame, location=LOCATION), fields or {}, ReadOptions(**read_options))


def read_column(field: str, texts: list[str], **read_options) -> NormalisedDeals:
    """Normalise one column of ``field`` cells, one deal per cell."""
    ids = [f"D{index}" for index in range(len(texts))]
    return normalise_cells({"id": ids, "stage": ["Proposal"] * len(texts), field: texts}, **read_options)


def assert_reads_as(field: str, cells: list[tuple[str, object]], **read_options) -> None:
    """Each ``(text, value)`` cell reads as its value, and none is listed as unreadable."""
    deals = read_column(field, [text for text, _ in cells], **read_options)
    read = list(zip([text for text, _ in cells], deals.frame[field].to_list(), strict=True))
    assert read == [(text, value) for text, value in cells]
    assert deals.invalid_values.to_dicts() == []


def assert_unreadable(field: str, texts: list[str], **read_options) -> None:
    """Each cell is null and listed with its row, column and raw text."""
    deals = read_column(field, texts, **read_options)
    assert deals.frame[field].to_list() == [None] * len(texts)
    listed = deals.invalid_values.select("row", "column", "value").rows()
    assert listed == [(row, field, text) for row, text in enumerate(texts, start=2)]


def several(cells) -> st.SearchStrategy:
    # Several cells per export: one normalisation checks them all.
    return st.lists(cells, min_size=1, max_size=20)


# Dates.

DATES = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
#: These properties hold for every four-digit year; a real export's dates are held to [source] date_window (see below).
ALL_YEARS = (1000, 9999)


@given(several(DATES))
def test_an_iso_date_is_that_date(days):
    assert_reads_as("close_date", [(day.isoformat(), day) for day in days], date_window=ALL_YEARS)


ISO_DATETIMES = st.tuples(
    st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["T", " "]),
    st.sampled_from(["minutes", "seconds", "milliseconds", "microseconds"]),
    st.sampled_from(["", "Z", "+00:00", "+05:30", "-08:00"]),
)


@given(several(DATES))
def test_a_date_outside_the_date_window_is_unreadable_and_one_inside_is_read(days):
    window = (1900, 2200)
    outside = [day for day in days if not window[0] <= day.year <= window[1]]
    inside = [day for day in days if window[0] <= day.year <= window[1]]
    if outside:
        assert_unreadable("close_date", [day.isoformat() for day in outside])
    if inside:
        assert_reads_as("close_date", [(day.isoformat(), day) for day in inside])


@given(several(ISO_DATETIMES))
def test_an_iso_datetime_is_its_date_part_whatever_its_offset(moments):
    cells = [(moment.isoformat(sep=separator, timespec=timespec) + offset, moment.date()) for moment, separator, timespec, offset in moments]
    assert_reads_as("close_date", cells, date_window=ALL_YEARS)


DATE_FORMATS = ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%d %b %Y", "%B %d, %Y", "%a %d %b %Y", "%j/%Y", "%d/%m/%y"]
DATETIME_FORMATS = [
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%Y-%m-%dT%H:%M:%S",
    "%d-%m-%Y %H:%M:%S.%f",
    "%d/%m/%Y %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S%z",
]


def years_written_unambiguously(date_format: str) -> tuple[int, int]:
    # Two-digit years: strptime reads 69-99 as 19xx and 00-68 as 20xx; polars reads 69 as 2069, so 1969 is left out.
    return (1970, 2068) if "%y" in date_format else (1000, 9999)


@st.composite
def written_with_a_format(draw, formats):
    """A date format, and cells it wrote: (text, the date written)."""
    date_format = draw(st.sampled_from(formats))
    first_year, last_year = years_written_unambiguously(date_format)
    moments = st.datetimes(min_value=dt.datetime(first_year, 1, 1), max_value=dt.datetime(last_year, 12, 31, 23, 59, 59))
    offsets = st.integers(-12 * 60, 14 * 60).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
    written = draw(several(st.tuples(moments, offsets)))
    return date_format, [(moment.replace(tzinfo=offset).strftime(date_format), moment.date()) for moment, offset in written]


@given(written_with_a_format(DATE_FORMATS))
def test_a_date_written_with_date_format_reads_as_strptime_reads_it(case):
    date_format, cells = case
    assert [(text, dt.datetime.strptime(text, date_format).date()) for text, _ in cells] == cells
    assert_reads_as("close_date", cells, date_format=date_format, date_window=ALL_YEARS)


@given(written_with_a_format(DATETIME_FORMATS))
def test_a_datetime_written_with_date_format_is_its_date_as_written_whatever_its_offset(case):
    date_format, cells = case
    assert_reads_as("close_date", cells, date_format=date_format, date_window=ALL_YEARS)


@pytest.mark.parametrize(
    ("text", "date_format"),
    [
        ("2026-02-30", None),
        ("2026-1-3", None),
        ("31/03/2026", None),
        ("tomorrow", None),
        ("31/03/26", "%d/%m/%Y"),  # strptime's %Y wants four digits, not the year 26
        ("03/31/2026", "%d/%m/%Y"),
        ("31/03/2026", "%d/%m/%Y %H:%M"),
    ],
)
def test_a_date_that_cannot_be_read_is_listed_and_null(text, date_format):
    assert_unreadable("close_date", [text], date_format=date_format)


def test_a_fraction_of_a_second_in_strptime_syntax_is_read_without_a_warning():
    # Polars spells it "%.f" and warns about ".%f"; users write strptime syntax and must not see the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_reads_as("close_date", [("31-03-2026 23:59:59.5", dt.date(2026, 3, 31))], date_format="%d-%m-%Y %H:%M:%S.%f")


def test_iso_dates_stay_readable_when_a_date_format_is_set():
    assert_reads_as("close_date", [("2026-03-31", dt.date(2026, 3, 31))], date_format="%d/%m/%Y")


# Numbers.


@given(several(st.decimals(min_value=-(10**12), max_value=10**12, places=4)))
def test_a_plain_decimal_reads_as_its_value(numbers):
    assert_reads_as("amount", [(format(number, "f"), float(number)) for number in numbers])


@st.composite
def decimal_comma_numbers(draw):
    """A number as ``[source] decimal = ","`` exports write it, with or without dots grouping thousands."""
    whole = draw(st.integers(0, 10**12))
    fraction = draw(st.from_regex(r"[0-9]{0,4}", fullmatch=True))
    sign = draw(st.sampled_from(["", "-"]))
    grouped = f"{whole:,}".replace(",", ".") if draw(st.booleans()) else str(whole)
    text = sign + grouped + ("," + fraction if fraction else "")
    return text, float(f"{sign}{whole}.{fraction or 0}")


@given(several(decimal_comma_numbers()))
def test_a_decimal_comma_number_reads_as_its_value(cells):
    assert_reads_as("amount", cells, decimal=",")


@pytest.mark.parametrize(
    ("text", "decimal_mark"),
    [
        ("1.234,56", "."),  # a decimal comma in a plain-decimal export
        ("1,234.56", ","),  # a plain decimal in a decimal-comma export: not 1.23456
        ("1.5", ","),  # a dot that groups no thousands: not 15
        ("12 EUR", "."),
        ("inf", "."),
        ("NaN", "."),
    ],
)
def test_a_number_in_another_notation_is_listed_and_null(text, decimal_mark):
    assert_unreadable("amount", [text], decimal=decimal_mark)


@given(several(st.tuples(st.integers(0, 10**12), st.sampled_from(["{}", "{}.0", " {} "]))))
def test_a_count_is_a_whole_number_written_with_or_without_zero_decimals(counts):
    assert_reads_as("contacts", [(pattern.format(count), count) for count, pattern in counts])


@given(several(st.one_of(st.integers(max_value=-1).map(str), st.integers(0, 10**6).map(lambda n: f"{n}.5"))))
def test_a_negative_or_fractional_count_is_listed_and_null(texts):
    assert_unreadable("close_date_pushes", texts)


@given(several(st.floats(min_value=0, max_value=100)))
def test_a_probability_from_0_to_100_reads_as_its_value(percents):
    assert_reads_as("probability", [(repr(percent), percent) for percent in percents])


@given(several(st.one_of(st.floats(min_value=100, max_value=1e9, exclude_min=True), st.floats(max_value=0, min_value=-1e9, exclude_max=True))))
def test_a_probability_outside_0_to_100_is_listed_and_null(percents):
    assert_unreadable("probability", [repr(percent) for percent in percents])


# Invalid and empty cells.


def test_each_unreadable_cell_is_listed_with_its_row_column_and_raw_text():
    deals = normalise_cells(
        {
            "Opportunity": ["D1", "D2", "D3"],
            "Stage": ["Proposal", "Proposal", "Proposal"],
            "Name": ["Acme", "Globex", "Initech"],
            "Owner": ["Ada", "Grace", "Alan"],
            "Close Date": ["2026-04-01", "31/04/2026", "2026-04-30"],
            "Amount": ["1000", "1000", "lots"],
        },
        fields={"id": "Opportunity"},
    )
    assert deals.invalid_values.select("row", "deal_id", "deal_name", "owner", "field", "column", "value", "expected").rows() == [
        (3, "D2", "Globex", "Grace", "close_date", "Close Date", "31/04/2026", "a date (YYYY-MM-DD)"),
        (4, "D3", "Initech", "Alan", "amount", "Amount", "lots", "a number"),
    ]
    # The deals are still audited, without the values that could not be read.
    assert deals.frame.select("id", "close_date", "amount").rows() == [
        ("D1", dt.date(2026, 4, 1), 1000.0),
        ("D2", None, 1000.0),
        ("D3", dt.date(2026, 4, 30), None),
    ]


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_an_empty_cell_is_null_and_not_an_error(blank):
    deals = normalise_cells(
        {"id": ["D1"], "stage": ["Proposal"], "close_date": [blank], "amount": [blank], "contacts": [blank], "owner": [blank]}
    )
    assert deals.frame.select("close_date", "amount", "contacts", "owner").row(0) == (None, None, None, None)
    assert deals.invalid_values.height == 0


def test_a_row_without_an_id_is_listed_and_not_audited():
    deals = normalise_cells({"id": ["D1", " ", "D3"], "stage": ["Proposal"] * 3})
    assert deals.frame["id"].to_list() == ["D1", "D3"]
    assert deals.invalid_values.select("row", "field", "expected").rows() == [(3, "id", "a non-empty id")]


# Which column feeds which field.


def test_source_fields_map_columns_onto_fields_and_one_column_may_feed_two():
    deals = normalise_cells(
        {"Opportunity ID": ["D1"], "Sales Stage": ["Proposal"], "Rep": ["Ada"], "stage_entered_date": ["2026-03-01"]},
        fields={"id": "Opportunity ID", "stage": "Sales Stage", "owner": "Rep", "team": "Rep"},
    )
    assert deals.frame.select("id", "stage", "owner", "team", "stage_entered_date").row(0) == (
        "D1",
        "Proposal",
        "Ada",
        "Ada",
        dt.date(2026, 3, 1),
    )
    assert deals.column_for_field["team"] == "Rep"


@pytest.mark.parametrize("header", ["CLOSE_DATE", "Close Date", "close-date"])
def test_an_unmapped_field_takes_the_column_of_the_same_name_in_any_case(header):
    deals = normalise_cells({"ID": ["D1"], "Stage": ["Proposal"], header: ["2026-04-30"]})
    assert deals.frame.select("id", "stage", "close_date").row(0) == ("D1", "Proposal", dt.date(2026, 4, 30))


def test_a_mapped_column_is_found_in_any_case():
    deals = normalise_cells({"id": ["D1"], "stage": ["Proposal"], "OWNER NAME": ["Ada"]}, fields={"owner": "Owner Name"})
    assert deals.frame.item(0, "owner") == "Ada"


def test_unmapped_columns_stay_available_to_rules_under_their_own_names():
    deals = normalise_cells(
        {"id": ["D1"], "stage": ["Proposal"], "Region": ["EMEA"], "amount": ["5"], "Amount USD": ["7"]},
        fields={"amount": "Amount USD"},
    )
    # An unmapped column that carries a canonical name is kept beside the field it would shadow.
    assert deals.extra_columns == ("Region", "amount_raw")
    assert deals.frame.select("amount", "Region", "amount_raw").row(0) == (7.0, "EMEA", "5")


@pytest.mark.parametrize(
    ("columns", "fields", "expected"),
    [
        (
            ["Name", "Stage"],
            {},
            "deals.csv: no column for required field 'id' (looked for 'id'; map it with [source.fields] "
            "id = \"Column Name\"); its columns are: 'Name', 'Stage'",
        ),
        (
            ["id", "Phase"],
            {},
            "deals.csv: no column for required field 'stage' (looked for 'stage'; map it with [source.fields] "
            "stage = \"Column Name\"); its columns are: 'id', 'Phase'",
        ),
        (
            ["Deal", "Stage"],
            {"id": "Opportunity ID"},
            "deals.csv: column 'Opportunity ID' (source.fields.id) is not in the file; its columns are: 'Deal', 'Stage'",
        ),
    ],
)
def test_a_missing_id_or_stage_column_names_the_field_the_column_and_the_files_columns(columns, fields, expected):
    with pytest.raises(SourceError) as raised:
        normalise_cells({column: ["x"] for column in columns}, fields=fields)
    assert str(raised.value) == expected


# Duplicate ids.


def test_a_repeated_id_keeps_its_first_row_and_lists_the_others_with_that_row():
    deals = normalise_cells(
        {
            "id": ["D1", "D2", "D1", " D1 ", "D3"],
            "stage": ["Proposal", "Proposal", "Negotiation", "Qualification", "Proposal"],
            "owner": ["Ada", "Grace", "Alan", "Alan", "Ada"],
        }
    )
    assert deals.frame.select("id", "stage", "__row__").rows() == [("D1", "Proposal", 2), ("D2", "Proposal", 3), ("D3", "Proposal", 6)]
    assert deals.duplicate_rows.select("row", "deal_id", "owner", "first_row").rows() == [(4, "D1", "Alan", 2), (5, "D1", "Alan", 2)]


@given(st.lists(st.sampled_from(["D1", "D2", " D2", "D3 ", "d1", "D10", "\u00a0D3"]), min_size=1, max_size=12))
def test_each_id_keeps_its_first_row_whatever_the_repeats(ids):
    # The uniqueness check counts hashes first; whatever it decides, the deals kept and set aside
    # are those of comparing the ids themselves (after stripping, as every cell is).
    deals = normalise_cells({"id": ids, "stage": ["Proposal"] * len(ids)})
    first_row: dict[str, int] = {}
    repeated = []
    for row, text in enumerate(ids, start=2):
        key = text.strip()
        if key in first_row:
            repeated.append((row, key, first_row[key]))
        else:
            first_row[key] = row
    assert deals.frame.select("id", "__row__").rows() == list(first_row.items())
    assert deals.duplicate_rows.select("row", "deal_id", "first_row").rows() == repeated


def test_an_unreadable_cell_is_reported_through_the_cli_as_invalid_value(write_csv, hygiene_cli):
    export = write_csv(
        [
            ["Id", "Stage", "Close Date", "Amount"],
            ["D1", "Closed Won", "2026-03-01", "100"],
            ["D2", "Closed Won", "01/03/2026", "1.000,50"],
        ]
    )
    # A configuration of defaults: without one, the audit would guess the export's date format.
    (export.parent / "empty.toml").write_text("", encoding="utf-8")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--select", "invalid-value", "--config", "empty.toml")
    assert result.exit_code == 1
    # The message names the row; the line does not repeat it.
    assert "HY900 invalid-value: D2 (no amount): row 3, column 'Close Date': '01/03/2026' is not a date (YYYY-MM-DD)\n" in result.output
    assert "row 3, column 'Amount': '1.000,50' is not a number" in result.output
