"""Text as several rules compare it, and text tests computed once per distinct value rather than once per deal."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def per_distinct_value(column: str, test: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """``test(pl.col(column))`` for every deal, computed on the column's distinct values and looked up.

    Exports repeat their text: a few thousand account names for a million
    deals, a few dozen next steps that reps copy from deal to deal. A
    regular expression run on each distinct value and a hash lookup per
    deal costs a fraction of the same expression run on every deal, and
    gives the same values. ``test`` must work value by value (no
    aggregation, no other column); deals without a value (null) get null.
    """
    # maintain_order: both uses below must list the distinct values in one order.
    values = pl.col(column).drop_nulls().unique(maintain_order=True)
    return pl.col(column).replace_strict(values, test(values), default=None)


#: Runs of anything but letters and digits that comparing turns into one space. A lone space is
#: already one: leaving it out of the pattern (a run of two or more, or one other character) gives
#: the same text as ``[^\p{L}\p{N}]+`` with far fewer replacements, names being mostly words and spaces.
_NOT_ONE_SPACE = r"[^\p{L}\p{N}]{2,}|[^\p{L}\p{N} ]"


def comparable_text(text: pl.Expr) -> pl.Expr:
    """Text for comparing: lower case, each run of anything but letters and digits (whitespace too) one space, stripped."""
    return text.str.to_lowercase().str.replace_all(_NOT_ONE_SPACE, " ").str.strip_chars()
