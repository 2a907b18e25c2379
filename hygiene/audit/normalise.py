"""Map a raw export onto the canonical deal fields and coerce their types.

This is the one place that knows how text in an export becomes a date, a
number or a count. Cells that cannot be read are kept (as null) and listed,
so that the data checks can name their row, column and value; a repeated
deal id keeps its first row and lists the others.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence

import attrs
import polars as pl

from hygiene.api.errors import SourceError
from hygiene.api.escaping import terminal_text
from hygiene.api.fields import (
    CANONICAL_FIELDS,
    DERIVED_COLUMNS,
    REQUIRED_FIELDS,
    ROW_COLUMN,
    STAGE_ENTERED_COLUMN,
    column_key,
    polars_dtype,
)
from hygiene.api.source import RawTable

#: Years outside these are typing slips (0000-01-01, 20260-03-31), not deals' dates: ``[source] date_window`` widens them.
DEFAULT_DATE_WINDOW = (1900, 2200)

_TIME_DIRECTIVES = re.compile(r"%[HIMSpfzTXcR]")
#: A spreadsheet day serial from 1927 to 2173 (five digits, maybe a time of day as a fraction).
_DATE_SERIAL = r"^[1-9]\d{4}(?:\.\d+)?$"
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
    """How to read text values: ``[source] date_format``, ``decimal`` and ``date_window``."""

    date_format: str | None = None
    decimal: str = "."
    #: The years a date may fall in (both included); outside them a date is an invalid value, not a date.
    date_window: tuple[int, int] = DEFAULT_DATE_WINDOW


@attrs.define(kw_only=True)
class NormalisedDeals:
    """The deal table every rule sees, and what normalisation had to set aside."""

    frame: pl.DataFrame
    invalid_values: pl.DataFrame
    duplicate_rows: pl.DataFrame
    column_for_field: dict[str, str]
    extra_columns: tuple[str, ...]
    location: str


def resolve_columns(
    columns: list[str], mapping: Mapping[str, str], location: str, candidates: Mapping[str, Sequence[str]] | None = None
) -> dict[str, str]:
    """Decide which export column feeds each canonical field.

    An explicit ``[source.fields]`` entry wins (matched exactly, else
    case-insensitively); then the first of a preset's ``candidates`` the
    export has; an unmapped field takes a column of the same name. Names
    are compared as :func:`hygiene.api.fields.column_key` compares them
    (ignoring case, spaces and punctuation).
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    by_casefold = {column.casefold(): column for column in reversed(columns)}

    resolved: dict[str, str] = {}
    for field in CANONICAL_FIELDS:
        wanted = mapping.get(field)
        if wanted is not None:
            column = wanted if wanted in columns else by_casefold.get(wanted.casefold())
            if column is None:
                raise SourceError(
                    f"{location}: column {wanted!r} (source.fields.{field}) is not in the file; "
                    f"its columns are: {list_columns(columns)}"
                )
            resolved[field] = column
        elif (column := _first_candidate(candidates, field, columns, by_key)) is not None:
            resolved[field] = column
        elif (column := by_key.get(column_key(field))) is not None:
            resolved[field] = column
    for field in REQUIRED_FIELDS:
        if field not in resolved:
            raise SourceError(
                f"{location}: no column for required field {field!r} (looked for {mapping.get(field, field)!r}; "
                f"map it with [source.fields] {field} = \"Column Name\"); its columns are: {list_columns(columns)}"
            )
    return resolved


#: An error quotes at most this many of a file's column names, each cut to this length: the
#: "header" of a file that is not an export (``/etc/passwd``) must not be echoed whole.
MAX_COLUMNS_SHOWN = 12
MAX_COLUMN_CHARS = 24


def _first_candidate(candidates, field: str, columns: list[str], by_key: dict[str, str]) -> str | None:
    for name in (candidates or {}).get(field, ()):
        if name in columns:
            return name
        if (column := by_key.get(column_key(name))) is not None:
            return column
    return None


def list_columns(columns: list[str]) -> str:
    """A file's column names for an error line: at most :data:`MAX_COLUMNS_SHOWN`, each cut and escaped."""
    def shown(column: str) -> str:
        cut = column if len(column) <= MAX_COLUMN_CHARS else column[: MAX_COLUMN_CHARS - 1] + "…"
        return "'" + terminal_text(cut) + "'"

    listed = ", ".join(shown(c) for c in columns[:MAX_COLUMNS_SHOWN])
    return listed + (f", ... ({len(columns)} in all)" if len(columns) > MAX_COLUMNS_SHOWN else "") if columns else "(none)"


def _stripped_text(column: str) -> pl.Expr:
    """A text column without its surrounding whitespace; :func:`_empty_as_null` then makes a cell left empty null."""
    return pl.col(column).cast(pl.String).str.strip_chars().alias(_text_column(column))


def _empty_as_null(column: str) -> pl.Expr:
    # A stage of its own: in one expression with the strip, polars strips each cell twice
    # (once for the test, once for the value), which was a third of normalising.
    text = pl.col(_text_column(column))
    return pl.when(text != "").then(text).alias(_text_column(column))


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


def _parse_date(text: pl.Expr, dtype: pl.DataType, date_format: str | None, serials: bool = False) -> pl.Expr:
    if dtype == pl.Date:
        return text
    if isinstance(dtype, pl.Datetime):
        return text.dt.date()
    iso = pl.when(text.str.contains(_ISO_DATE_PREFIX)).then(text.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False))
    if serials:
        # A spreadsheet date whose cell is not formatted as one: days since 1899-12-30 (Excel's day 0,
        # which absorbs its 1900 leap-year bug for every date after February 1900).
        days = pl.when(text.str.contains(_DATE_SERIAL)).then(text.cast(pl.Float64, strict=False).floor().cast(pl.Int64))
        iso = pl.coalesce(iso, pl.lit(dt.date(1899, 12, 30)) + pl.duration(days=days))
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


def _parse(field: str, text: pl.Expr, dtype: pl.DataType, options: ReadOptions, serials: bool = False) -> pl.Expr:
    """The value of a date or number ``field`` read from ``text`` (null where it cannot be read)."""
    if CANONICAL_FIELDS[field] == "date":
        return _parse_date(text, dtype, options.date_format, serials)
    return _parse_float(text, dtype, options.decimal)


def _valid(field: str, value: pl.Expr, options: ReadOptions) -> tuple[pl.Expr, str]:
    """Where the parsed ``value`` of ``field`` is valid, and what a valid value looks like."""
    kind = CANONICAL_FIELDS[field]
    if kind == "date":
        return value.is_not_null(), EXPECTED["date"] + (f" ({options.date_format})" if options.date_format else " (YYYY-MM-DD)")
    if kind == "int":
        return value.is_not_null() & (value == value.round(0)) & (value >= 0) & (value < 2**53), EXPECTED["int"]
    if field == "probability":
        return value.is_not_null() & value.is_between(0, 100), EXPECTED["probability"]
    return value.is_not_null(), EXPECTED["float"]


def _text_column(column: str) -> str:
    return f"__text__{column}"


def _value_column(field: str) -> str:
    return f"__value__{field}"


def normalise(
    raw: RawTable,
    fields: Mapping[str, str],
    options: ReadOptions | None = None,
    candidates: Mapping[str, Sequence[str]] | None = None,
    *,
    only_fields: Collection[str] | None = None,
) -> NormalisedDeals:
    """Turn a source's raw table into the canonical deal table.

    One lazy query, collected by polars' streaming engine: each used column
    is cleaned once and each date or number parsed once, into columns of
    their own, and validity and the typed values are cheap expressions over
    those. Streaming keeps only a slice of the raw text in memory at a time
    when the source is lazy (a CSV export). Cells that cannot be read are
    listed by a second pass, run only when there are any; so are the records
    a lazy source marks for a second look (``RawTable.suspect_rows``).

    ``only_fields`` is for a caller that reads a few canonical fields and
    reports no data checks (``hygiene forecast``): only those fields (and
    the required ``id`` and ``stage``) are cleaned and typed, the others
    come out null as for an export without them, and the cells that cannot
    be read are not listed (``invalid_values`` is empty). Columns are still
    resolved in full, so a mapping that names a missing column fails alike;
    rows, ids and repeated ids are as without it.
    """
    options = options or ReadOptions()
    lazy, schema, columns = _numbered_rows(raw)
    derived = [c for c in schema if c in DERIVED_COLUMNS]
    column_for_field = resolve_columns(columns, fields, raw.location, candidates)
    if "stage_entered_date" not in column_for_field and STAGE_ENTERED_COLUMN in derived:
        column_for_field["stage_entered_date"] = STAGE_ENTERED_COLUMN
    used = set(column_for_field.values())
    # Columns that only feed the grouping fields (a "Region" column feeding region) stay extras
    # too: rules written before those fields existed read them under their own names.
    group_only = {c for f, c in column_for_field.items() if f in _GROUP_FIELDS} - {c for f, c in column_for_field.items() if f not in _GROUP_FIELDS}
    extra_columns = tuple(c for c in columns if c not in used or c in group_only)
    if only_fields is not None:
        column_for_field = {f: c for f, c in column_for_field.items() if f in only_fields or f in REQUIRED_FIELDS}
    query = _TypingQuery(lazy, schema, column_for_field, options, raw.date_serials)
    extras = [pl.col(c).alias(_extra_name(c)) for c in extra_columns]
    flags = [pl.col(c) for c in derived if c != STAGE_ENTERED_COLUMN]
    # Finding the cells that cannot be read is only for a caller that lists them.
    checks = [query.any_invalid()] if only_fields is None else []
    try:
        suspect = [raw.suspect_rows.fill_null(False).alias(_SUSPECT_COLUMN)] if raw.is_lazy and raw.suspect_rows is not None else []
        deals = query.plan.select(*query.typed, *extras, *flags, pl.col(ROW_COLUMN), *checks, *suspect).collect(engine="streaming")
    except pl.exceptions.PolarsError:
        if not raw.is_lazy:
            raise
        return normalise(raw.read_eagerly(), fields, options, candidates, only_fields=only_fields)  # the eager read names what is wrong
    if suspect:
        _check_suspect_rows(raw, deals)
        deals = deals.drop(_SUSPECT_COLUMN)
    if checks and deals.get_column(_INVALID_COLUMN).any():
        invalid_values = query.invalid_values()  # a second pass over the export, run only when there are any
    else:
        invalid_values = pl.DataFrame(schema=INVALID_SCHEMA)
    deals = deals.drop(_INVALID_COLUMN, strict=False)
    if deals.get_column("id").null_count():
        deals = deals.filter(pl.col("id").is_not_null())
    deals, duplicate_rows = _set_aside_duplicates(deals)
    return NormalisedDeals(
        frame=deals,
        invalid_values=invalid_values,
        duplicate_rows=duplicate_rows,
        column_for_field=column_for_field,
        extra_columns=tuple(_extra_name(c) for c in extra_columns),
        location=raw.location,
    )


def _numbered_rows(raw: RawTable) -> tuple[pl.LazyFrame, Mapping[str, pl.DataType], list[str]]:
    """The raw table as a lazy frame with its row numbers, its schema, and its columns."""
    if raw.is_lazy:
        schema = raw.lazy.collect_schema()
        columns = [c for c in schema.names() if c != ROW_COLUMN and c not in DERIVED_COLUMNS]
        return raw.lazy.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64)), schema, columns
    frame = raw.frame
    if isinstance(raw.rows, range) and raw.rows.step == 1:
        rows = pl.int_range(raw.rows.start, raw.rows.stop, dtype=pl.Int64, eager=True).alias(ROW_COLUMN)
    elif raw.rows is not None:
        rows = pl.Series(ROW_COLUMN, list(raw.rows), dtype=pl.Int64)
    else:
        rows = pl.int_range(raw.first_row, raw.first_row + frame.height, dtype=pl.Int64, eager=True).alias(ROW_COLUMN)
    return frame.with_columns(rows).lazy(), frame.schema, [c for c in frame.columns if c not in DERIVED_COLUMNS]


class _TypingQuery:
    """The expressions that type the mapped columns, and those that find the cells that cannot be read."""

    def __init__(
        self, lazy: pl.LazyFrame, schema: Mapping[str, pl.DataType], column_for_field: dict[str, str], options: ReadOptions, serials: bool = False
    ) -> None:
        self.schema = schema
        self.column_for_field = column_for_field
        used = set(column_for_field.values())
        typed_fields = [f for f, kind in CANONICAL_FIELDS.items() if kind != "str" and f in column_for_field]
        text_columns = [c for c in schema if c in used and self._is_text(c)]
        self.plan = lazy.with_columns(
            _stripped_text(c) for c in text_columns
        ).with_columns(
            _empty_as_null(c) for c in text_columns
        ).with_columns(
            _parse(f, self.source(column_for_field[f]), schema[column_for_field[f]], options, serials).alias(_value_column(f)) for f in typed_fields
        )
        self.typed: list[pl.Expr] = []
        self.invalid_masks: list[tuple[str, str, pl.Expr, str]] = []
        for field, kind in CANONICAL_FIELDS.items():
            self._type_field(field, kind, options)
        self.raw_id = self.source(column_for_field["id"])
        self.invalid_masks.append(("id", column_for_field["id"], self.raw_id.is_null(), EXPECTED["id"]))

    def _is_text(self, column: str) -> bool:
        return not (self.schema[column].is_numeric() or self.schema[column].is_temporal())

    def source(self, column: str) -> pl.Expr:
        """A used column as rules read it: cleaned text, or the value a typed source gave."""
        return pl.col(_text_column(column)) if self._is_text(column) else pl.col(column)

    def _type_field(self, field: str, kind: str, options: ReadOptions) -> None:
        column = self.column_for_field.get(field)
        if column is None:
            self.typed.append(pl.lit(None, dtype=polars_dtype(kind)).alias(field))
            return
        text = self.source(column)
        if kind == "str":
            self.typed.append(text.cast(pl.String).alias(field))
            return
        value = pl.col(_value_column(field))
        valid, expected = _valid(field, value, options)
        if kind == "date":
            first, last = options.date_window
            in_window = value.dt.year().is_between(first, last)
            self.invalid_masks.append((field, column, text.is_not_null() & ~valid, expected))
            self.invalid_masks.append((field, column, valid & ~in_window, f"a date from the year {first} to {last} ([source] date_window)"))
            valid = valid & in_window
        else:
            self.invalid_masks.append((field, column, text.is_not_null() & ~valid, expected))
        self.typed.append(pl.when(valid).then(value.cast(polars_dtype(kind), strict=False)).alias(field))

    def any_invalid(self) -> pl.Expr:
        return pl.any_horizontal(*(mask for _, _, mask, _ in self.invalid_masks)).alias(_INVALID_COLUMN)

    def invalid_values(self) -> pl.DataFrame:
        """Every cell that cannot be read, with its row, the deal it belongs to, its column and value."""
        subject = [
            self.raw_id.cast(pl.String).alias("deal_id"),
            *(
                (self.source(self.column_for_field[f]).cast(pl.String) if f in self.column_for_field else pl.lit(None, pl.String)).alias(label)
                for f, label in (("name", "deal_name"), ("owner", "owner"))
            ),
        ]
        return _collect_invalid(self.plan, subject, self.invalid_masks)


def _set_aside_duplicates(deals: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The deals with each id's first row only, and the rows that repeated an id."""
    # Distinct hashes prove distinct ids, and counting 64-bit hashes is several times cheaper than
    # counting the id strings; only when two hashes meet (a repeated id, or a collision) are the ids compared.
    if deals.select(pl.col("id").hash().n_unique()).item() == deals.height:
        return deals, pl.DataFrame(schema=DUPLICATE_SCHEMA)
    first = deals.select("id", pl.col(ROW_COLUMN).alias("first_row")).unique("id", keep="first", maintain_order=True)
    is_first = pl.col("id").is_first_distinct()
    duplicate_rows = (
        deals.filter(~is_first)
        .select(pl.col(ROW_COLUMN).alias("row"), pl.col("id").alias("deal_id"), pl.col("name").alias("deal_name"), "owner")
        .join(first.rename({"id": "deal_id"}), on="deal_id", how="left")
        .cast(DUPLICATE_SCHEMA)
    )
    return deals.filter(is_first), duplicate_rows


_INVALID_COLUMN = "__invalid__"
_SUSPECT_COLUMN = "__suspect__"


def _check_suspect_rows(raw: RawTable, deals: pl.DataFrame) -> None:
    """Let the source look again at the records its ``suspect_rows`` marked (it raises for an unusable one)."""
    marked = deals.get_column(_SUSPECT_COLUMN)
    if raw.check_rows is not None and marked.any():
        raw.check_rows(deals.get_column(ROW_COLUMN).filter(marked).to_list())
_GROUP_FIELDS = frozenset({"manager", "region", "segment"})


def _extra_name(column: str) -> str:
    # An unmapped column that happens to carry a canonical name keeps it with a suffix,
    # so the canonical column (fed from elsewhere) is never shadowed.
    return f"{column}_raw" if column in CANONICAL_FIELDS or column == ROW_COLUMN else column


def _collect_invalid(frame: pl.DataFrame | pl.LazyFrame, subject: list[pl.Expr], masks: list[tuple[str, str, pl.Expr, str]]) -> pl.DataFrame:
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

