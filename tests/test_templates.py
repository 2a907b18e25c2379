"""Numbers and messages rendered by polars must read exactly as Python would write them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene.api.templates import MISSING, expand_template, format_number


def render_numbers(values: list[float | None], **spec) -> list[str | None]:
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    return frame.select(format_number(pl.col("x"), **spec)).to_series().to_list()


# Amounts up to a trillion, and whole numbers of cents, where ties (x.xx5) hide.
AMOUNTS = st.one_of(
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
    st.integers(-(10**14), 10**14).map(lambda cents: cents / 100),
    st.integers(-(10**14), 10**14).map(lambda tenths_of_cents: tenths_of_cents / 1000),
)


@given(st.lists(AMOUNTS, min_size=1, max_size=50))
def test_whole_numbers_with_thousands_read_as_python_writes_round_x(values):
    assert render_numbers(values) == [format(round(x), ",") for x in values]


@given(st.lists(AMOUNTS, min_size=1, max_size=50), st.integers(1, 3))
def test_fixed_decimals_read_as_python_writes_them(values, decimals):
    # Python keeps the sign of a value that rounds to zero ("-0.00"); a report should not, hence "z".
    assert render_numbers(values, decimals=decimals) == [format(x, f"z,.{decimals}f") for x in values]
    assert render_numbers(values, decimals=decimals, thousands=False) == [format(x, f"z.{decimals}f") for x in values]


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (2.675, 2, "2.67"),  # the float is 2.67499999...: not rounded up
        (0.125, 2, "0.12"),  # an exact tie goes to the even digit
        (0.375, 2, "0.38"),
        (2.5, 0, "2"),
        (3.5, 0, "4"),
        (-0.004, 2, "0.00"),  # no "-0.00"
        (-1234567.891, 2, "-1,234,567.89"),
        (999.5, 0, "1,000"),
    ],
)
def test_rounding_follows_the_exact_value_half_to_even(value, decimals, text):
    assert render_numbers([value], decimals=decimals) == [text]


def test_values_beyond_exact_rounding_are_written_as_plain_floats_instead_of_failing():
    assert render_numbers([1e20, float("nan"), float("inf"), None]) == ["1e+20", "NaN", "inf", None]


def test_a_template_expands_columns_and_details_with_their_format_specs():
    deals = pl.DataFrame(
        {"stage": ["Proposal", None], "amount": [1234567.5, None], "entered": [dt.date(2026, 3, 1), dt.date(2026, 2, 1)]}
    )
    template = "{stage}: {amount:,} at {probability:.1f}% since {entered} ({days} days)"
    details = {"probability": pl.lit(62.25), "days": (pl.lit(dt.date(2026, 3, 31)) - pl.col("entered")).dt.total_days()}
    messages = deals.select(expand_template(template, details)).to_series().to_list()
    assert messages == [
        "Proposal: 1,234,568 at 62.2% since 2026-03-01 (30 days)",
        f"{MISSING}: {MISSING} at 62.2% since 2026-02-01 (58 days)",
    ]


@pytest.mark.parametrize("template", ["{amount:>10}", "{amount!r}", "{amount:%}"])
def test_a_template_with_an_unsupported_spec_is_refused_when_compiled(template):
    with pytest.raises(ValueError, match="not supported|unsupported"):
        expand_template(template)
