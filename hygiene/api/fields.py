"""The canonical deal fields every source is mapped onto: defined here, and only here.

:class:`hygiene.Deal` takes its attributes from :data:`CANONICAL_FIELDS`,
the configuration schema its ``[source.fields]`` keys, normalisation its
types.
"""

from __future__ import annotations

import re
from typing import Literal

FieldType = Literal["str", "float", "int", "date"]

#: canonical name -> type. ``id`` and ``stage`` are required, the rest optional.
CANONICAL_FIELDS: dict[str, FieldType] = {
    "id": "str",
    "name": "str",
    "account": "str",
    "owner": "str",
    "team": "str",
    "stage": "str",
    "amount": "float",
    "currency": "str",
    "probability": "float",
    "forecast_category": "str",
    "created_date": "date",
    "close_date": "date",
    "stage_entered_date": "date",
    "last_activity_date": "date",
    "close_date_pushes": "int",
    "contacts": "int",
    "next_step": "str",
}

REQUIRED_FIELDS = ("id", "stage")

#: Internal column holding the row number a deal came from (header = row 1).
ROW_COLUMN = "__row__"


def polars_dtype(kind: FieldType):
    """The polars type of a field of ``kind`` in the deal table."""
    import polars as pl

    return {"str": pl.String, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}[kind]


def column_key(name: str) -> str:
    """How export columns are compared with field and column names: ignoring case, spaces and punctuation.

    ``Close Date``, ``close-date``, ``CloseDate`` and ``close_date`` all read ``closedate``.
    """
    return re.sub(r"[\W_]", "", name.casefold())
