"""The export's unmapped columns ("extras"), typed from their values when a rule asks.

Extras arrive as the source read them: text, for CSV. A rule that compares
one with a number or a date (``discount > 20``) needs it typed. Typing
looks at every value of the column, so it happens only for the extras a
rule asks for, once per audit, and never for an audit that asks for none.

A text column is typed as

- ``integer`` (Int64) when every non-empty value is a whole number (``25``),
- ``number`` (Float64) when every one is a finite plain decimal (``12.5``, ``1e3``),
- ``date`` (Date) when every one is an ISO date (``2026-03-31``),
- ``empty`` (null everywhere) when it has no value at all,
- else ``text``, with surrounding spaces removed and empty cells null.

A column a source already typed (JSON numbers, say) keeps its type.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from hygiene.api.fields import ROW_COLUMN

#: What a typed text column may turn out to be, in the order they are tried.
PARSED_KINDS = ("integer", "number", "date")


def _text(name: str) -> pl.Expr:
    text = pl.col(name).str.strip_chars()
    return pl.when(text != "").then(text)


def _parsed(name: str, kind: str) -> pl.Expr:
    text = _text(name)
    if kind == "integer":
        return text.cast(pl.Int64, strict=False)
    if kind == "number":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number.is_finite()).then(number)
    return text.str.to_date("%Y-%m-%d", strict=False)


def _kind_of_dtype(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "number"
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return "date"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == pl.Null:
        return "empty"
    return "other"


class ExtraColumns:
    """The extras of one audited deal table; :meth:`expr` gives one typed."""

    def __init__(self, frame: pl.DataFrame, names: Iterable[str]) -> None:
        self.frame = frame
        self.names = tuple(names)
        self._kinds: dict[str, str] = {}

    def kind(self, name: str) -> str:
        """``integer``, ``number``, ``date``, ``text``, ``empty``; ``boolean`` or ``other`` for typed sources."""
        if name not in self._kinds:
            self._kinds[name] = self._infer(self._column(name))
        return self._kinds[name]

    def expr(self, name: str) -> pl.Expr:
        """The extra ``name`` as an expression of its :meth:`kind`'s type, named ``name``."""
        kind = self.kind(name)
        dtype = self.frame.schema[name]
        if kind == "empty":
            return pl.lit(None).alias(name)
        if dtype != pl.String:
            column = pl.col(name)
            return (column.dt.date() if isinstance(dtype, pl.Datetime) else column).alias(name)
        return (_text(name) if kind == "text" else _parsed(name, kind)).alias(name)

    def first_unparsed(self, name: str, kind: str) -> tuple[int | None, str] | None:
        """The row and value of the first non-empty cell of ``name`` that is not a ``kind`` (for error messages)."""
        if self.frame.schema[self._column(name)] != pl.String or kind not in PARSED_KINDS:
            return None
        row = pl.col(ROW_COLUMN) if ROW_COLUMN in self.frame.columns else pl.lit(None, pl.Int64)
        failing = self.frame.lazy().filter(_text(name).is_not_null() & _parsed(name, kind).is_null())
        first = failing.select(row, pl.col(name)).head(1).collect()
        return (first.item(0, 0), first.item(0, 1)) if first.height else None

    def _column(self, name: str) -> str:
        if name not in self.names:
            known = ", ".join(repr(n) for n in self.names) or "(none)"
            raise KeyError(f"the export has no extra column {name!r} (its extras: {known})")
        return name

    def _infer(self, name: str) -> str:
        dtype = self.frame.schema[name]
        if dtype != pl.String:
            return _kind_of_dtype(dtype)
        present = _text(name).is_not_null()
        counts = self.frame.select(
            present.sum().alias("present"),
            *((present & _parsed(name, kind).is_null()).sum().alias(kind) for kind in PARSED_KINDS),
        ).row(0, named=True)
        if not counts["present"]:
            return "empty"
        return next((kind for kind in PARSED_KINDS if counts[kind] == 0), "text")
