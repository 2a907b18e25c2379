"""Reporting periods (month, quarter, year) in a fiscal calendar."""

from __future__ import annotations

import datetime as dt

from hygiene.api.models import Period

PERIOD_KINDS = ("month", "quarter", "year")


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> dt.date:
    next_year, next_month = _add_months(year, month, 1)
    return dt.date(next_year, next_month, 1) - dt.timedelta(days=1)


def period_containing(as_of: dt.date, kind: str = "quarter", fiscal_year_start_month: int = 1) -> Period:
    """The period of ``kind`` that contains ``as_of``.

    Fiscal years start on the first day of ``fiscal_year_start_month``. A
    fiscal year that does not start in January is named after the calendar
    year in which it ends (FY2027 runs from July 2026 to June 2027 when it
    starts in July); a January fiscal year is simply the calendar year.
    """
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period kind {kind!r}; expected one of {', '.join(PERIOD_KINDS)}")
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError("fiscal_year_start_month must be between 1 and 12")
    months_into_year = (as_of.month - fiscal_year_start_month) % 12
    fy_start_year, fy_start_month = _add_months(as_of.year, as_of.month, -months_into_year)
    fy_end_year, _ = _add_months(fy_start_year, fy_start_month, 11)
    fy_label = str(fy_end_year) if fiscal_year_start_month == 1 else f"FY{fy_end_year}"

    if kind == "month":
        start = dt.date(as_of.year, as_of.month, 1)
        return Period(f"{as_of.year:04d}-{as_of.month:02d}", start, _month_end(as_of.year, as_of.month))
    if kind == "quarter":
        quarter = months_into_year // 3
        start_year, start_month = _add_months(fy_start_year, fy_start_month, quarter * 3)
        end_year, end_month = _add_months(start_year, start_month, 2)
        return Period(f"{fy_label}-Q{quarter + 1}", dt.date(start_year, start_month, 1), _month_end(end_year, end_month))
    end_year, end_month = _add_months(fy_start_year, fy_start_month, 11)
    return Period(fy_label, dt.date(fy_start_year, fy_start_month, 1), _month_end(end_year, end_month))
