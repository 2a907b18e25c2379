"""Reporting periods in a fiscal calendar: which quarter, month or year an audit date falls in."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygiene.api.periods import period_containing

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("as_of", "kind", "fiscal_year_start_month", "name", "start", "end"),
    [
        # Calendar years: a January fiscal year is the calendar year.
        ("2026-01-01", "quarter", 1, "2026-Q1", "2026-01-01", "2026-03-31"),
        ("2026-03-31", "quarter", 1, "2026-Q1", "2026-01-01", "2026-03-31"),
        ("2026-04-01", "quarter", 1, "2026-Q2", "2026-04-01", "2026-06-30"),
        ("2026-12-31", "quarter", 1, "2026-Q4", "2026-10-01", "2026-12-31"),
        ("2026-07-15", "year", 1, "2026", "2026-01-01", "2026-12-31"),
        ("2026-02-14", "month", 1, "2026-02", "2026-02-01", "2026-02-28"),
        # Leap years: February ends on the 29th, and so does a quarter or year ending with it.
        ("2024-02-29", "month", 1, "2024-02", "2024-02-01", "2024-02-29"),
        ("2024-02-29", "quarter", 12, "FY2024-Q1", "2023-12-01", "2024-02-29"),
        ("2024-01-10", "year", 3, "FY2024", "2023-03-01", "2024-02-29"),
        ("2100-02-10", "month", 1, "2100-02", "2100-02-01", "2100-02-28"),  # 2100 is not a leap year
        # A fiscal year starting in February is named after the calendar year it ends in.
        ("2026-01-31", "quarter", 2, "FY2026-Q4", "2025-11-01", "2026-01-31"),
        ("2026-02-01", "quarter", 2, "FY2027-Q1", "2026-02-01", "2026-04-30"),
        ("2026-04-30", "quarter", 2, "FY2027-Q1", "2026-02-01", "2026-04-30"),
        ("2026-05-01", "quarter", 2, "FY2027-Q2", "2026-05-01", "2026-07-31"),
        ("2026-12-31", "quarter", 2, "FY2027-Q4", "2026-11-01", "2027-01-31"),
        ("2026-01-31", "year", 2, "FY2026", "2025-02-01", "2026-01-31"),
        ("2026-02-01", "year", 2, "FY2027", "2026-02-01", "2027-01-31"),
        # A fiscal year starting in July: FY2027 runs from July 2026 to June 2027.
        ("2026-06-30", "quarter", 7, "FY2026-Q4", "2026-04-01", "2026-06-30"),
        ("2026-07-01", "quarter", 7, "FY2027-Q1", "2026-07-01", "2026-09-30"),
        ("2026-12-31", "quarter", 7, "FY2027-Q2", "2026-10-01", "2026-12-31"),
        ("2027-01-01", "quarter", 7, "FY2027-Q3", "2027-01-01", "2027-03-31"),
        ("2026-07-01", "year", 7, "FY2027", "2026-07-01", "2027-06-30"),
        # Months are calendar months whatever the fiscal year.
        ("2026-07-31", "month", 7, "2026-07", "2026-07-01", "2026-07-31"),
    ],
)
def test_the_period_containing_an_audit_date(as_of, kind, fiscal_year_start_month, name, start, end):
    period = period_containing(D(as_of), kind, fiscal_year_start_month)
    assert (period.name, period.start, period.end) == (name, D(start), D(end))


MONTHS_IN = {"month": 1, "quarter": 3, "year": 12}


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    st.sampled_from(sorted(MONTHS_IN)),
    st.integers(1, 12),
)
def test_periods_tile_the_calendar_in_whole_months_aligned_on_the_fiscal_year(as_of, kind, fiscal_year_start_month):
    period = period_containing(as_of, kind, fiscal_year_start_month)
    assert period.start <= as_of <= period.end
    assert period.start.day == 1 and (period.end + dt.timedelta(days=1)).day == 1
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    assert months == MONTHS_IN[kind]
    if kind != "month":
        assert (period.start.month - fiscal_year_start_month) % 3 == 0
    # The day after a period starts the next one: no gaps, no overlaps.
    following = period_containing(period.end + dt.timedelta(days=1), kind, fiscal_year_start_month)
    assert following.start == period.end + dt.timedelta(days=1)
    assert following.name != period.name
    assert period_containing(period.start, kind, fiscal_year_start_month) == period
    assert period_containing(period.end, kind, fiscal_year_start_month) == period


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)), st.integers(1, 12))
def test_a_fiscal_year_is_its_four_quarters(as_of, fiscal_year_start_month):
    year = period_containing(as_of, "year", fiscal_year_start_month)
    assert year.start.month == fiscal_year_start_month
    quarters = [period_containing(year.start, "quarter", fiscal_year_start_month)]
    while quarters[-1].end < year.end:
        quarters.append(period_containing(quarters[-1].end + dt.timedelta(days=1), "quarter", fiscal_year_start_month))
    assert [q.name for q in quarters] == [f"{year.name}-Q{n}" for n in (1, 2, 3, 4)]
    assert quarters[-1].end == year.end


@pytest.mark.parametrize(("kind", "fiscal_year_start_month"), [("week", 1), ("quarter", 0), ("quarter", 13)])
def test_an_unknown_period_kind_or_fiscal_month_is_refused(kind, fiscal_year_start_month):
    with pytest.raises(ValueError):
        period_containing(D("2026-03-31"), kind, fiscal_year_start_month)
