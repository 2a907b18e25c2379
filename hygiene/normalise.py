"""Map a raw export onto the canonical deal fields and coerce their types.

This is the one place that knows how text in an export becomes a date, a
number or a count. Cells that cannot be read are kept (as null) and listed,
so that the data checks can name their row, column and value; a repeated
deal id keeps its first row and lists the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs
import polars as pl

from hygiene.errors import SourceError
from hygiene.fields import CANONICAL_FIELDS, REQUIRED_FIELDS, ROW_COLUMN
from hygiene.source import RawTable

_TIME_DIRECTIVES = re.compile(r"%[HIMSpfzTXcR]")
_ISO_DATE_PREFIX = r"^\d{4}-\d{2}-\d{2}(?:$|[T ])"
_TRAILING_OFFSET_DIRECTIVE = re.compile(r"\s*%[:#]?z$")
_TRAILING_OFFSET = r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_DECIMAL_COMMA_NUMBER = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"

#: What a field's values must look like, for the invalid-value messages.
EXPECTED = {
    "float": "a number",
    "int": "a whole number of at least 0",
    "date": "a date",
    "probability": "a percentage from 0 to 100",
    "id": "a non-empty id",
}

INVALID_SCHEMA = {
    "row": pl.Int64,
    "deal_id": pl.String,
    "deal_name": pl.String,
    "owner": pl.String,
    "field": pl.String,
    "column": pl.String,
    "value": pl.String,
    "expected": pl.String,
}
DUPLICATE_SCHEMA = {
    "row": pl.Int64,
    "deal_id": pl.String,
    "deal_name": pl.String,
    "owner": pl.String,
    "first_row": pl.Int64,
}


@attrs.define(frozen=True, kw_only=True)
class ReadOptions:
    """How to read text values: ``[source] date_format`` and ``decimal``."""

    date_format: str | None = None
    decimal: str = "."


@attrs.define(kw_only=True)
class NormalisedDeals:
    """The deal table every rule sees, and what normalisation had to set aside."""

    frame: pl.DataFrame
    invalid_values: pl.DataFrame
    duplicate_rows: pl.DataFrame
    column_for_field: dict[str, str]
    extra_columns: tuple[str, ...]
    location: str


def _column_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).casefold()


def resolve_columns(columns: list[str], mapping: Mapping[str, str], location: str) -> dict[str, str]:
    """Decide which export column feeds each canonical field.

    An explicit ``[source.fields]`` entry wins (matched exactly, else
    case-insensitively); an unmapped field takes a column of the same name,
    compared case-insensitively with spaces and hyphens read as underscores.
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(_column_key(column), column)
    by_casefold = {column.casefold(): column for column in reversed(columns)}

    resolved: dict[str, str] = {}
    for field in CANONICAL_FIELDS:
        wanted = mapping.get(field)
        if wanted is not None:
            column = wanted if wanted in columns else by_casefold.get(wanted.casefold())
            if column is None:
                raise SourceError(
                    f"{location}: column {wanted!r} (source.fields.{field}) is not in the file; "
                    f"its columns are: {_list_columns(columns)}"
                )
            resolved[field] = column
        elif (column := by_key.get(field)) is not None:
            resolved[field] = column
    for field in REQUIRED_FIELDS:
        if field not in resolved:
            raise SourceError(
                f"{location}: no column for required field {field!r} (looked for {mapping.get(field, field)!r}; "
                f"map it with [source.fields] {field} = \"Column Name\"); its columns are: {_list_columns(columns)}"
            )
    return resolved


def _list_columns(columns: list[str]) -> str:
    shown = ", ".join(repr(c) for c in columns[:40])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > 40 else "") if columns else "(none)"


def _clean_text(expr: pl.Expr) -> pl.Expr:
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _parse_float(text: pl.Expr, dtype: pl.DataType, decimal: str) -> pl.Expr:
    if dtype.is_numeric():
        value = text.cast(pl.Float64)
    else:
        if decimal == ",":
            # Dots may only group thousands: "1.5" or "1,234.56" would otherwise be read as 15 or 1.23456.
            text = (
                pl.when(text.str.contains(_DECIMAL_COMMA_NUMBER))
                .then(text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
            )
        value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def _parse_date(text: pl.Expr, dtype: pl.DataType, date_format: str | None) -> pl.Expr:
    if dtype == pl.Date:
        return text
    if isinstance(dtype, pl.Datetime):
        return text.dt.date()
    iso = pl.when(text.str.contains(_ISO_DATE_PREFIX)).then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    if date_format is None:
        return iso
    if _TRAILING_OFFSET_DIRECTIVE.search(date_format):
        # Polars would convert to UTC and move late-evening dates; the date written is the deal's date,
        # as the ISO reading of "2026-03-31T23:30:00-08:00" takes it.
        date_format = _TRAILING_OFFSET_DIRECTIVE.sub("", date_format)
        text = text.str.replace(_TRAILING_OFFSET, "")
    # strptime's ".%f" (a fraction after a dot) is polars' "%.f"; polars warns about the former.
    date_format = date_format.replace(".%f", "%.f")
    if _TIME_DIRECTIVES.search(date_format):
        custom = text.str.strptime(pl.Datetime, date_format, strict=False).dt.date()
    else:
        custom = text.str.to_date(date_format, strict=False)
    if "%Y" in date_format:
        # strptime's %Y takes four digits; polars would read "31/01/26" as the year 26.
        custom = pl.when(custom.dt.year() >= 1000).then(custom)
    return pl.coalesce(custom, iso)


def _typed(field: str, raw: pl.Expr, dtype: pl.DataType, options: ReadOptions) -> tuple[pl.Expr, pl.Expr | None, str]:
    """The typed value of ``field``, where it is valid, and what a valid value looks like."""
    kind = CANONICAL_FIELDS[field]
    if kind == "str":
        return _clean_text(raw), None, ""
    text = raw if dtype.is_numeric() or dtype.is_temporal() else _clean_text(raw)
    if kind == "date":
        value = _parse_date(text, dtype, options.date_format)
        return value, value.is_not_null(), EXPECTED["date"] + (f" ({options.date_format})" if options.date_format else " (YYYY-MM-DD)")
    number = _parse_float(text, dtype, options.decimal)
    if kind == "int":
        valid = number.is_not_null() & (number == number.round(0)) & (number >= 0) & (number < 2**53)
        return number.cast(pl.Int64, strict=False), valid, EXPECTED["int"]
    if field == "probability":
        valid = number.is_not_null() & number.is_between(0, 100)
        return number, valid, EXPECTED["probability"]
    return number, number.is_not_null(), EXPECTED["float"]


def normalise(raw: RawTable, fields: Mapping[str, str], options: ReadOptions | None = None) -> NormalisedDeals:
    """Turn a source's raw table into the canonical deal table."""
    options = options or ReadOptions()
    frame = raw.frame
    columns = list(frame.columns)
    column_for_field = resolve_columns(columns, fields, raw.location)
    used = set(column_for_field.values())
    extra_columns = tuple(c for c in columns if c not in used)

    if raw.rows is not None:
        rows = pl.Series(ROW_COLUMN, list(raw.rows), dtype=pl.Int64)
    else:
        rows = pl.int_range(raw.first_row, raw.first_row + frame.height, dtype=pl.Int64, eager=True).alias(ROW_COLUMN)
    frame = frame.with_columns(rows)

    typed: list[pl.Expr] = []
    invalid_masks: list[tuple[str, str, pl.Expr, str]] = []
    raw_id = _clean_text(pl.col(column_for_field["id"]))
    for field, kind in CANONICAL_FIELDS.items():
        column = column_for_field.get(field)
        if column is None:
            typed.append(pl.lit(None, dtype=_POLARS_TYPES[kind]).alias(field))
            continue
        raw_value = pl.col(column)
        value, valid, expected = _typed(field, raw_value, frame.schema[column], options)
        if valid is not None:
            present = _clean_text(raw_value).is_not_null()
            invalid_masks.append((field, column, present & ~valid, expected))
            value = pl.when(valid).then(value)
        typed.append(value.cast(_POLARS_TYPES[kind]).alias(field))
    invalid_masks.append(("id", column_for_field["id"], raw_id.is_null(), EXPECTED["id"]))

    subject = [
        raw_id.alias("deal_id"),
        *(
            (_clean_text(pl.col(column_for_field[f])) if f in column_for_field else pl.lit(None, pl.String)).alias(label)
            for f, label in (("name", "deal_name"), ("owner", "owner"))
        ),
    ]
    invalid_values = _collect_invalid(frame, subject, invalid_masks)
    extras = [pl.col(c).alias(_extra_name(c)) for c in extra_columns]
    deals = frame.select(*typed, *extras, pl.col(ROW_COLUMN)).filter(pl.col("id").is_not_null())

    first = deals.select("id", pl.col(ROW_COLUMN).alias("first_row")).unique("id", keep="first", maintain_order=True)
    is_first = pl.col("id").is_first_distinct()
    duplicate_rows = (
        deals.filter(~is_first)
        .select(pl.col(ROW_COLUMN).alias("row"), pl.col("id").alias("deal_id"), pl.col("name").alias("deal_name"), "owner")
        .join(first.rename({"id": "deal_id"}), on="deal_id", how="left")
        .cast(DUPLICATE_SCHEMA)
    )
    deals = deals.filter(is_first)
    return NormalisedDeals(
        frame=deals,
        invalid_values=invalid_values,
        duplicate_rows=duplicate_rows,
        column_for_field=column_for_field,
        extra_columns=tuple(_extra_name(c) for c in extra_columns),
        location=raw.location,
    )


def _extra_name(column: str) -> str:
    # An unmapped column that happens to carry a canonical name keeps it with a suffix,
    # so the canonical column (fed from elsewhere) is never shadowed.
    return f"{column}_raw" if column in CANONICAL_FIELDS or column == ROW_COLUMN else column


def _collect_invalid(frame: pl.DataFrame, subject: list[pl.Expr], masks: list[tuple[str, str, pl.Expr, str]]) -> pl.DataFrame:
    lazy = frame.lazy()
    parts = [
        lazy.filter(mask).select(
            pl.col(ROW_COLUMN).alias("row"),
            *subject,
            pl.lit(field).alias("field"),
            pl.lit(column).alias("column"),
            pl.col(column).cast(pl.String).alias("value"),
            pl.lit(expected).alias("expected"),
        )
        for field, column, mask, expected in masks
    ]
    collected = [part.cast(INVALID_SCHEMA) for part in pl.collect_all(parts)]
    return pl.concat(collected).sort("row", "field") if collected else pl.DataFrame(schema=INVALID_SCHEMA)


_POLARS_TYPES = {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
