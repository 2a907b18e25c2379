"""Cells a spreadsheet must show as text: formula injection neutralised, the same way in every spreadsheet report."""

from __future__ import annotations

import re

import polars as pl

#: A spreadsheet takes a cell starting with one of these for a formula (or, for tab and CR, may
#: drop them and read what follows as one): an export's ``=HYPERLINK(...)`` must stay text.
FORMULA_TRIGGERS = r"^[=+\-@\t\r]"
_TRIGGER = re.compile(FORMULA_TRIGGERS)


def neutralise_formulas(column: str) -> pl.Expr:
    """A text column with a ``'`` before every cell a spreadsheet would evaluate."""
    text = pl.col(column)
    return pl.when(text.str.contains(FORMULA_TRIGGERS)).then(pl.lit("'") + text).otherwise(text).alias(column)


def neutralise_formula(text: str | None) -> str | None:
    """One cell's text with a ``'`` before it when a spreadsheet would evaluate it (as :func:`neutralise_formulas`)."""
    if text is None or not _TRIGGER.match(text):
        return text
    return "'" + text
