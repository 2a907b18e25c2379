"""The canonical deal fields every source is mapped onto."""

from __future__ import annotations

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
