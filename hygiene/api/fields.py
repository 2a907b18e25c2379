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
    "manager": "str",
    "region": "str",
    "segment": "str",
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
    "next_step_date": "date",
    "next_activity_date": "date",
    "lead_source": "str",
    "deal_type": "str",
    "product": "str",
    "lost_reason": "str",
    # The owner's roster entry, joined onto each deal (or exported with it): whether the owner is
    # active (true/false, yes/no, 1/0) and their last day.
    "owner_active": "str",
    "owner_end_date": "date",
    # What history derives (hygiene.history fills them where the export has none; an export column always wins).
    "push_days_total": "int",
    "max_push_days": "int",
    "pull_ins": "int",
    "last_push_from": "date",
    "last_push_to": "date",
    "close_date_previous": "date",
    "amount_previous": "float",
    "amount_first": "float",
    "amount_at_commit": "float",
    "stage_previous": "str",
    "stage_regressions": "int",
    "last_change_date": "date",
    "first_seen_date": "date",
    "owner_changes": "int",
}

#: Fields a snapshot store can fill from history, in the order ``hygiene deals`` shows their ``<field>_source``.
DERIVABLE_FIELDS: tuple[str, ...] = (
    "stage_entered_date",
    "close_date_pushes",
    "push_days_total",
    "max_push_days",
    "pull_ins",
    "last_push_from",
    "last_push_to",
    "close_date_previous",
    "amount_previous",
    "amount_first",
    "amount_at_commit",
    "stage_previous",
    "stage_regressions",
    "last_change_date",
    "first_seen_date",
    "owner_changes",
)

#: Per deal: how many snapshots of history it was seen in (null without a store).
SNAPSHOTS_SEEN_COLUMN = "__snapshots_seen__"
#: How many snapshots the store holds up to the audit date (null without a store).
HISTORY_SNAPSHOTS_COLUMN = "__history_snapshots__"
#: True where ``stage_entered_date`` is a lower bound: the stage run began at the store's first snapshot.
STAGE_ENTERED_LOWER_BOUND_COLUMN = "__stage_entered_lower_bound__"

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
#: hygiene's forecast categories; a preset or ``[source.forecast_categories]`` maps a CRM's values onto them.
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "omitted", "closed")

#: What a ``[roster]`` row may say about an owner. ``owner`` (a name) or ``owner_id`` is required.
ROSTER_ROW_FIELDS: dict[str, FieldType] = {
    "owner": "str",
    "owner_id": "str",
    "team": "str",
    "manager": "str",
    "region": "str",
    "segment": "str",
    "quota": "float",
    "quota_period": "str",
    "active": "str",
    "start_date": "date",
    "end_date": "date",
}
#: The deal table's columns a roster fills, and the levels reports group by.
GROUP_LEVELS = ("owner", "team", "manager", "region", "segment")

#: Columns the core derives from an export before normalising it (see ``hygiene.export_mapping``):
#: whether the export says a deal is closed and won, and the date its current stage was entered.
CLOSED_FLAG_COLUMN = "__export_closed__"
WON_FLAG_COLUMN = "__export_won__"
STAGE_ENTERED_COLUMN = "__export_stage_entered__"
DERIVED_COLUMNS = (CLOSED_FLAG_COLUMN, WON_FLAG_COLUMN, STAGE_ENTERED_COLUMN)
