"""The open-pipeline waterfall between two snapshots: how the pipeline at D1 became the pipeline at D2.

Definitions (count and amount; a null amount counts as 0), defined here
and nowhere else:

- ``beginning``: deals open at D1, at their D1 amount; ``ending``: open at
  D2, at their D2 amount;
- ``created``: open at D2 and not open at D1 (new, or reopened), at the D2
  amount;
- ``won`` / ``lost``: open at D1, closed won / lost at D2, at the D2
  amount; ``removed``: open at D1, absent at D2, at the D1 amount;
- ``increased`` / ``decreased``: open at D1 and present at D2 (open or
  just closed), the amount change D2 - D1 when positive / negative (the
  count is of deals);

so that ``beginning + created + increased - decreased - won - lost -
removed = ending`` holds exactly: amounts are summed in integer cents.
``pushed`` and ``pulled_in`` (open at both dates, close date later /
earlier) are annotations, not buckets.

Grouped (``by`` owner or team), a deal belongs to its group at D2 when it
is there, else at D1, so that the identity holds in every group as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from hygiene.api.errors import HygieneError
from hygiene.history.store import HistoryStore
from hygiene.api.stages import StageTable, stage_key

BUCKETS = ("beginning", "created", "increased", "decreased", "won", "lost", "removed", "ending")
ANNOTATIONS = ("pushed", "pulled_in")
GROUPINGS = ("owner", "team")
_COLUMNS = ["id", "stage", "amount", "close_date", "owner", "team"]
#: The version columns a waterfall reads.
FLOW_COLUMNS = tuple(_COLUMNS[1:])


def _state(frame: pl.DataFrame, stages: StageTable, suffix: str) -> pl.DataFrame:
    maps = stages.column_maps()
    names = [n for n in frame.get_column("stage").unique().to_list() if n is not None]
    closed = {n: bool(maps["closed"].get(stage_key(n), False)) for n in names}
    won = {n: bool(maps["won"].get(stage_key(n), False)) for n in names}
    stage = pl.col("stage")
    return frame.select(
        "id",
        (~stage.replace_strict(closed, default=False, return_dtype=pl.Boolean)).fill_null(True).alias(f"open{suffix}"),
        stage.replace_strict(won, default=False, return_dtype=pl.Boolean).fill_null(False).alias(f"won{suffix}"),
        (pl.col("amount").fill_null(0) * 100).round(0).cast(pl.Int64).alias(f"cents{suffix}"),
        pl.col("close_date").alias(f"close{suffix}"),
        pl.col("owner").alias(f"owner{suffix}"),
        pl.col("team").alias(f"team{suffix}"),
        pl.lit(True).alias(f"present{suffix}"),
    )


def state_at(versions: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """The deals of ``date`` from stored versions (``deal_id``, ``valid_from``, ``valid_to`` and the flow's fields): those valid then."""
    valid = (pl.col("valid_from") <= date) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > date))
    return versions.filter(valid).select(pl.col("deal_id").alias("id"), *_COLUMNS[1:])


def flow_table(store: HistoryStore, start: dt.date, end: dt.date, stages: StageTable, *, versions: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per deal present at either date: its part in each bucket (``<bucket>_count``, ``<bucket>_cents``).

    ``versions``: stored versions already read (every deal's, from before
    ``start`` to at least ``end``, with :data:`FLOW_COLUMNS`), so that the
    two states come from them rather than from two more reads of the store.
    """
    dates = store.snapshot_dates()
    for day, option in ((start, "--from"), (end, "--to")):
        if day not in dates:
            shown = ", ".join(d.isoformat() for d in dates[-8:]) or "none"
            raise HygieneError(f"{option} {day.isoformat()}: no snapshot of that date (latest snapshots: {shown})")
    if end <= start:
        raise HygieneError(f"--to {end.isoformat()}: must be after --from {start.isoformat()}")
    if versions is None:
        before = _state(store.deals_as_of(start).select(_COLUMNS), stages, "_1")
        after = _state(store.deals_as_of(end).select(_COLUMNS), stages, "_2")
    else:
        before = _state(state_at(versions, start), stages, "_1")
        after = _state(state_at(versions, end), stages, "_2")
    deals = before.join(after, on="id", how="full", coalesce=True).with_columns(
        pl.col("present_1").fill_null(False), pl.col("present_2").fill_null(False), pl.col("open_1").fill_null(False), pl.col("open_2").fill_null(False)
    )
    open_1, open_2, present_2 = pl.col("open_1"), pl.col("open_2"), pl.col("present_2")
    change = pl.col("cents_2") - pl.col("cents_1")
    continuing = open_1 & present_2
    parts = {
        "beginning": (open_1, pl.col("cents_1")),
        "created": (open_2 & ~open_1, pl.col("cents_2")),
        "increased": (continuing & (change > 0), change),
        "decreased": (continuing & (change < 0), -change),
        "won": (open_1 & present_2 & ~open_2 & pl.col("won_2"), pl.col("cents_2")),
        "lost": (open_1 & present_2 & ~open_2 & ~pl.col("won_2"), pl.col("cents_2")),
        "removed": (open_1 & ~present_2, pl.col("cents_1")),
        "ending": (open_2, pl.col("cents_2")),
        "pushed": (open_1 & open_2 & (pl.col("close_2") > pl.col("close_1")), pl.col("cents_2")),
        "pulled_in": (open_1 & open_2 & (pl.col("close_2") < pl.col("close_1")), pl.col("cents_2")),
    }
    return deals.select(
        "id",
        pl.coalesce("owner_2", "owner_1").alias("owner"),
        pl.coalesce("team_2", "team_1").alias("team"),
        *(pl.when(mask).then(1).otherwise(0).cast(pl.Int64).alias(f"{name}_count") for name, (mask, _) in parts.items()),
        *(pl.when(mask).then(value).otherwise(0).cast(pl.Int64).alias(f"{name}_cents") for name, (mask, value) in parts.items()),
    )


def _totals(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    sums = frame.select(pl.col(f"{n}_{kind}").sum() for n in (*BUCKETS, *ANNOTATIONS) for kind in ("count", "cents")).row(0, named=True)
    return {n: {"count": int(sums[f"{n}_count"]), "amount": _amount(int(sums[f"{n}_cents"]))} for n in (*BUCKETS, *ANNOTATIONS)}


def _amount(cents: int) -> int | float:
    """Cents as a currency amount: whole numbers stay integers in JSON."""
    return cents // 100 if cents % 100 == 0 else cents / 100


def _section(totals: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"buckets": {n: totals[n] for n in BUCKETS}, **{n: totals[n] for n in ANNOTATIONS}}


def pipeline_flow(
    store: HistoryStore, start: dt.date, end: dt.date, stages: StageTable, by: str | None = None, *, versions: pl.DataFrame | None = None
) -> dict[str, Any]:
    """The waterfall as plain data (the shape of ``flow.schema.json``), for the CLI and for reporters (``versions``: see :func:`flow_table`)."""
    table = flow_table(store, start, end, stages, versions=versions)
    result: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(), "by": by, **_section(_totals(table)), "groups": []}
    if by is not None:
        if by not in GROUPINGS:
            raise HygieneError(f"--by {by!r}: expected one of {', '.join(GROUPINGS)}")
        for key in sorted(table.get_column(by).unique().to_list(), key=lambda k: (k is None, k or "")):
            part = table.filter(pl.col(by).eq_missing(key))
            result["groups"].append({"key": key, **_section(_totals(part))})
    return result


def identity_holds(section: dict[str, Any]) -> bool:
    """beginning + created + increased - decreased - won - lost - removed == ending, in cents."""
    b = {n: round(v["amount"] * 100) for n, v in section["buckets"].items()}
    return b["beginning"] + b["created"] + b["increased"] - b["decreased"] - b["won"] - b["lost"] - b["removed"] == b["ending"]
