"""Each figure of ``hygiene forecast`` as a pure function of the prepared deals.

Every function returns plain JSON values: the report is assembled from them
as they are, and the console and Markdown renderings read only the report.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from hygiene.api.models import Period
from hygiene.api.stages import stage_key
from hygiene.forecast.deals import BAND, CENTS, GROUP_FIELDS, NO_VALUE, OPEN, STAGE_PROBABILITY, WON, PreparedDeals, group_column
from hygiene.forecast.settings import ForecastSettings
from hygiene.forecast.simulation import EXACT_LIMIT, simulate
from hygiene.forecast.stats import amount_rate, money, not_enough, rate

HISTORY_REASON = "needs a history store (deal snapshots over time); an export holds only each deal's current state"
CALIBRATED_PROBABILITY = "__calibrated__"
CATEGORIES = ("commit", "best_case", "pipeline", "omitted")
#: The fields ``--by`` can group the cycle, velocity and forecast by.
BY_FIELDS = ("owner", "team", "manager", "region")


# --- win rates ---------------------------------------------------------------------------


def _win_rate_aggregates() -> list[pl.Expr]:
    return [
        pl.len().alias("closed"),
        pl.col(WON).sum().alias("won"),
        pl.col(CENTS).sum().alias("closed_cents"),
        pl.col(CENTS).filter(pl.col(WON)).sum().alias("won_cents"),
        # Squares of whole units stay inside a 64-bit integer: an exact sum, whatever the order.
        (pl.col(CENTS) // 100).pow(2).cast(pl.Int64).sum().alias("squares"),
        pl.col(CENTS).is_not_null().sum().alias("with_amount"),
    ]


def _win_rate_row(row: Mapping[str, Any], min_deals: int) -> dict[str, Any]:
    return {
        "closed": int(row["closed"]),
        "won": int(row["won"]),
        "won_amount": money(row["won_cents"] or 0),
        "closed_amount": money(row["closed_cents"] or 0),
        "by_count": rate(int(row["won"]), int(row["closed"]), min_deals),
        "by_amount": amount_rate(int(row["won_cents"] or 0), int(row["closed_cents"] or 0), int(row["with_amount"]), float(row["squares"] or 0), min_deals),
    }


def _grouped_rows(closed: pl.DataFrame, field: str, aggregates: list[pl.Expr]) -> list[dict[str, Any]]:
    """One row per group, by name; size bands from the smallest up (deals without an amount last)."""
    column = group_column(field)
    order = [pl.col(BAND).max().fill_null(1 << 30).alias("__order__")] if field == "size_band" else [pl.lit(0).alias("__order__")]
    table = closed.group_by(column).agg(*aggregates, *order).sort(["__order__", column]).drop("__order__")
    return [{"key": row.pop(column), **row} for row in table.iter_rows(named=True)]


def win_rates(deals: PreparedDeals, settings: ForecastSettings) -> dict[str, Any]:
    """Won / closed in the trailing window, by count and amount, for the whole and every grouping field."""
    closed = deals.closed_in_window()
    overall = closed.select(_win_rate_aggregates()).row(0, named=True)
    segments: dict[str, Any] = {}
    for field in GROUP_FIELDS:
        if not deals.has(field):
            segments[field] = {"reason": deals.reasons[field]}
            continue
        segments[field] = {
            "column": deals.sources[field],
            "groups": [{"key": row["key"], **_win_rate_row(row, settings.min_deals)} for row in _grouped_rows(closed, field, _win_rate_aggregates())],
        }
    return {
        "overall": _win_rate_row(overall, settings.min_deals),
        "segments": segments,
        "size_bands": list(deals.band_labels),
        "stage_conversion": {"reason": "needs stage-entry dates for every stage a deal passed through, or a history store; an export records only each deal's current stage"},
    }


# --- sales cycle ---------------------------------------------------------------------------


def _cycle_frame(deals: PreparedDeals) -> pl.DataFrame:
    days = (pl.col("close_date") - pl.col("created_date")).dt.total_days()
    return deals.closed_in_window().with_columns(days.alias("__days__"))


def _cycle_stats(row: Mapping[str, Any] | None, min_deals: int) -> dict[str, Any]:
    n = 0 if row is None else int(row["n"])
    if n < min_deals:
        return not_enough(n)
    return {"n": n, **{key: round(float(row[key]), 1) for key in ("median", "p25", "p75", "mean")}}


def _cycle_table(table: pl.DataFrame, keys: list[str], min_deals: int) -> dict[tuple, dict[str, Any]]:
    """Each group's won and lost cycle statistics and not-evaluable counts, in one pass over ``table``."""
    days = pl.col("__days__")
    usable = days >= 0
    stats = (
        table.filter(usable.fill_null(False))
        .group_by([*keys, WON])
        .agg(
            pl.len().alias("n"),
            days.median().alias("median"),
            days.quantile(0.25, interpolation="linear").alias("p25"),
            days.quantile(0.75, interpolation="linear").alias("p75"),
            days.mean().alias("mean"),
        )
    )
    skipped = table.group_by(keys or pl.lit(0).alias("__all__")).agg(
        pl.col("created_date").is_null().sum().alias("no created_date"),
        (days < 0).sum().alias("created after close"),
    )
    by_key: dict[tuple, dict[str, Any]] = {}
    for row in stats.iter_rows(named=True):
        by_key.setdefault(tuple(row[k] for k in keys), {})[row[WON]] = row
    result = {}
    for row in skipped.iter_rows(named=True):
        key = tuple(row[k] for k in keys)
        outcomes = by_key.get(key, {})
        result[key] = {
            "won": _cycle_stats(outcomes.get(True), min_deals),
            "lost": _cycle_stats(outcomes.get(False), min_deals),
            "not_evaluable": {"no created_date": int(row["no created_date"]), "created after close": int(row["created after close"] or 0)},
        }
    return result


def cycle(deals: PreparedDeals, settings: ForecastSettings, by: str) -> dict[str, Any]:
    """Days from created to close of the window's won and lost deals: median, quartiles, mean."""
    if not deals.has_created:
        return {"reason": "no created_date values: the cycle runs from created_date to close_date"}
    table = _cycle_frame(deals)
    empty = {"won": not_enough(0), "lost": not_enough(0), "not_evaluable": {"no created_date": 0, "created after close": 0}}
    result: dict[str, Any] = {"by": by, "overall": _cycle_table(table, [], settings.min_deals).get((), empty)}
    if not deals.has(by):
        result["groups_reason"] = deals.reasons[by]
        return result
    groups = _cycle_table(table, [group_column(by)], settings.min_deals)
    result["groups"] = [{"key": key[0], **groups[key]} for key in sorted(groups)]
    return result


# --- velocity ---------------------------------------------------------------------------


def _velocity_of(open_deals: int, won_rate: dict[str, Any], won: int, won_cents: int, won_cycle: dict[str, Any], period: Period) -> dict[str, Any]:
    base = {"open_deals": open_deals}
    if "rate" not in won_rate:
        return {**base, "reason": f"win rate: {won_rate['reason']}"}
    if won == 0:
        return {**base, "reason": "no won deal in the window: no average won amount"}
    if "median" not in won_cycle:
        return {**base, "reason": f"won cycle: {won_cycle['reason']}"}
    if won_cycle["median"] <= 0:
        return {**base, "reason": "the median won cycle is 0 days"}
    average = won_cents / won / 100
    per_day = open_deals * won_rate["rate"] * average / won_cycle["median"]
    days = (period.end - period.start).days + 1
    return {
        **base,
        "win_rate": won_rate["rate"],
        "average_won_amount": round(average, 2),
        "median_won_cycle_days": won_cycle["median"],
        "per_day": round(per_day, 2),
        "per_period": round(per_day * days, 2),
        "period_days": days,
    }


def velocity(deals: PreparedDeals, settings: ForecastSettings, by: str, period: Period, cycles: dict[str, Any], rates: dict[str, Any]) -> dict[str, Any]:
    """Open deals x win rate x average won amount / median won cycle: expected won amount per day and per period."""
    if "reason" in cycles:
        return {"reason": f"needs the won cycle: {cycles['reason']}"}
    frame = deals.frame
    overall_rate = rates["overall"]
    result: dict[str, Any] = {
        "by": by,
        "overall": _velocity_of(
            int(frame.get_column(OPEN).sum()),
            overall_rate["by_count"],
            overall_rate["won"],
            int(round(overall_rate["won_amount"] * 100)),
            cycles["overall"]["won"],
            period,
        ),
    }
    if "groups" not in cycles:
        result["groups_reason"] = cycles.get("groups_reason", deals.reasons.get(by, f"no {by} column"))
        return result
    column = group_column(by)
    opens = dict(frame.select(column, OPEN).filter(pl.col(OPEN)).group_by(column).len().iter_rows())
    group_rates = {g["key"]: g for g in rates["segments"][by]["groups"]}
    group_cycles = {g["key"]: g for g in cycles["groups"]}
    groups = []
    for key in sorted(set(opens) | set(group_rates)):
        rate_row = group_rates.get(key)
        if rate_row is None:
            groups.append({"key": key, "open_deals": int(opens.get(key, 0)), "reason": "no closed deal in the window"})
            continue
        won_cycle = group_cycles.get(key, {}).get("won", not_enough(0))
        groups.append({"key": key, **_velocity_of(int(opens.get(key, 0)), rate_row["by_count"], rate_row["won"], int(round(rate_row["won_amount"] * 100)), won_cycle, period)})
    result["groups"] = groups
    return result


# --- calibrated probabilities -------------------------------------------------------------


def _shrunk_factors(closed: pl.DataFrame, column: str, overall: float, weight: int) -> dict[str, dict[str, Any]]:
    """Each group's win rate shrunk toward the overall rate, as a multiple of it.

    shrunk = (won + weight x overall) / (closed + weight): a group with
    ``weight`` closed deals counts half its own rate and half the overall.
    """
    table = closed.group_by(column).agg(pl.len().alias("closed"), pl.col(WON).sum().alias("won")).sort(column)
    factors = {}
    for key, n, won in table.iter_rows():
        shrunk = (won + weight * overall) / (n + weight)
        factors[key] = {"closed": int(n), "won": int(won), "shrunk_rate": round(shrunk, 4), "factor": round(shrunk / overall, 4)}
    return factors


def calibrate(deals: PreparedDeals, settings: ForecastSettings, stage_conversion: Mapping[str, float] | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Each open deal's calibrated probability (column ``__calibrated__``, 0-1), and how it was made.

    probability = stage base x owner factor x size-band factor, capped at
    1. A factor is the group's trailing win rate shrunk toward the overall
    one, divided by the overall one (1 for a group with no closed deal).
    The stage's base is its conversion from history (``stage_conversion``:
    stage key -> share of the deals that reached it that were won) where
    history has enough deals for it, else the stage table's probability.
    """
    closed = deals.closed_in_window()
    n, won = closed.height, int(closed.get_column(WON).sum())
    if n < settings.min_deals:
        return deals.frame.with_columns(pl.lit(None, pl.Float64).alias(CALIBRATED_PROBABILITY)), not_enough(n)
    if won == 0:
        return deals.frame.with_columns(pl.lit(0.0).alias(CALIBRATED_PROBABILITY)), {"n": n, "overall_rate": 0.0, "note": "no won deal in the window: every calibrated probability is 0"}
    overall = won / n
    probability = pl.col(STAGE_PROBABILITY) / 100
    basis = "stage table probabilities (stage conversion needs stage history)"
    if stage_conversion:
        names = [name for name in deals.frame.get_column("stage").unique().to_list() if name is not None and stage_key(name) in stage_conversion]
        converted = pl.col("stage").replace_strict({name: stage_conversion[stage_key(name)] for name in names}, default=None, return_dtype=pl.Float64)
        probability = pl.coalesce(converted, probability)
        basis = "stage conversion from history (the stage table's probability for stages with too few deals)"
    method: dict[str, Any] = {"n": n, "overall_rate": round(overall, 4), "prior_weight": settings.min_deals, "stage_basis": basis}
    for field in ("owner", "size_band"):
        if not deals.has(field):
            method[field] = {"reason": deals.reasons[field]}
            continue
        factors = _shrunk_factors(closed, group_column(field), overall, settings.min_deals)
        method[field] = [{"key": key, **values} for key, values in factors.items()]
        lookup = {key: values["factor"] for key, values in factors.items() if key != NO_VALUE}
        probability = probability * pl.col(group_column(field)).replace_strict(lookup, default=1.0, return_dtype=pl.Float64)
    frame = deals.frame.with_columns(pl.min_horizontal(probability, pl.lit(1.0)).alias(CALIBRATED_PROBABILITY))
    return frame, method


# --- the period's forecast ---------------------------------------------------------------


def _category_key() -> pl.Expr:
    return pl.col("forecast_category").str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


#: The category key of each deal, a column of its own: the sums below read it once per category.
CATEGORY_KEY = "__category_key__"


def _period_aggregates(has_category: bool) -> list[pl.Expr]:
    """Sums over a group's open deals closing in the period (and its won ones), in whole cents."""
    cents = pl.col(CENTS)
    is_open = pl.col(OPEN)
    weighted = (cents.cast(pl.Float64) * pl.col(STAGE_PROBABILITY) / 100).round(0).cast(pl.Int64)
    expected = (cents.cast(pl.Float64) * pl.col(CALIBRATED_PROBABILITY)).round(0).cast(pl.Int64)
    aggregates = [
        cents.filter(pl.col(WON)).sum().alias("won"),
        is_open.sum().alias("open_deals"),
        cents.filter(is_open).sum().alias("open"),
        weighted.filter(is_open).sum().alias("weighted"),
        (is_open & pl.col(STAGE_PROBABILITY).is_null()).sum().alias("no_stage"),
        expected.filter(is_open).sum().alias("expected"),
        (is_open & pl.col(CALIBRATED_PROBABILITY).is_null()).sum().alias("no_calibrated"),
    ]
    if has_category:
        category = pl.col(CATEGORY_KEY)
        aggregates += [cents.filter(is_open & (category == c)).sum().alias(c) for c in CATEGORIES]
        aggregates.append(cents.filter(is_open & (~category.is_in(list(CATEGORIES))).fill_null(True)).sum().alias("other"))
    return aggregates


def _forecast_of(sums: Mapping[str, Any], has_category: bool, totals: Any) -> dict[str, Any]:
    """The period's forecast for one group, from its :func:`_period_aggregates`."""
    won_cents = int(sums["won"] or 0)
    result: dict[str, Any] = {"won": money(won_cents), "open_deals": int(sums["open_deals"] or 0), "open_amount": money(int(sums["open"] or 0))}
    if has_category:
        amounts = {c: int(sums[c] or 0) for c in CATEGORIES}
        commit = won_cents + amounts["commit"]
        result["by_category"] = {
            **{c: money(amounts[c]) for c in CATEGORIES},
            "other": money(int(sums["other"] or 0)),
            "commit_call": money(commit),
            "best_case_call": money(commit + amounts["best_case"]),
            "pipeline_call": money(commit + amounts["best_case"] + amounts["pipeline"]),
        }
    else:
        result["by_category"] = {"reason": "no forecast_category values"}
    result["stage_weighted"] = {
        "forecast": money(won_cents + int(sums["weighted"] or 0)),
        "not_evaluable": {"stage not in the stage table": int(sums["no_stage"] or 0)},
    }
    if totals is None:
        result["calibrated"] = {"reason": "needs a trailing win rate"}
    else:
        p10, p50, p90 = totals
        result["calibrated"] = {
            "forecast": money(won_cents + int(sums["expected"] or 0)),
            "p10": money(won_cents + p10),
            "p50": money(won_cents + p50),
            "p90": money(won_cents + p90),
            "not_evaluable": {"stage not in the stage table": int(sums["no_calibrated"] or 0)},
        }
    return result


def period_forecast(frame: pl.DataFrame, deals: PreparedDeals, settings: ForecastSettings, by: str, period: Period, method: dict[str, Any]) -> dict[str, Any]:
    """Won so far plus the open deals closing in the period, three ways, with the calibrated range."""
    close = pl.col("close_date").is_between(period.start, period.end).fill_null(False)
    # The period's won deals and its open deals with an amount: everything the forecast adds up.
    # Lazy, and collected together: each query copies only the columns it reads, and the filter is shared.
    in_period = frame.lazy().filter(close & (pl.col(WON) | (pl.col(OPEN) & pl.col(CENTS).is_not_null())))
    if deals.has_category:
        in_period = in_period.with_columns(_category_key().alias(CATEGORY_KEY))
    calibrated = "reason" not in method
    column = group_column(by) if deals.has(by) else None
    units = [group_column(field) for field in BY_FIELDS if deals.has(field)]
    simulated_columns = dict.fromkeys(["id", *units, *([column] if column else []), CENTS, CALIBRATED_PROBABILITY])
    aggregates = _period_aggregates(deals.has_category)
    queries = [
        in_period.filter(pl.col(OPEN)).select(list(simulated_columns)),
        in_period.select(aggregates),
        frame.lazy().select((pl.col(OPEN) & close & pl.col(CENTS).is_null()).sum()),
        *([in_period.group_by(column).agg(aggregates).sort(column)] if column is not None else []),
    ]
    open_in_period, overall, without_amount, *grouped = pl.collect_all(queries)
    simulated = simulate(open_in_period, CALIBRATED_PROBABILITY, units, column, settings.simulations, settings.seed) if calibrated else None
    result: dict[str, Any] = {
        "by": by,
        "period": {"name": period.name, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "method": method,
        "simulation": {"runs": settings.simulations, "seed": settings.seed, "exact_limit": EXACT_LIMIT},
        "not_evaluable": {"open in the period without an amount": int(without_amount.item())},
        "overall": _forecast_of(overall.row(0, named=True), deals.has_category, simulated.overall if simulated else None),
    }
    if column is None:
        result["groups_reason"] = deals.reasons[by]
        return result
    (table,) = grouped
    result["groups"] = [
        {"key": row[column], **_forecast_of(row, deals.has_category, (simulated.groups.get(row[column], (0, 0, 0)) if simulated else None))}
        for row in table.iter_rows(named=True)
    ]
    return result


# --- probability calibration -------------------------------------------------------------


def calibration(deals: PreparedDeals, settings: ForecastSettings, stated: pl.DataFrame | None = None) -> dict[str, Any]:
    """Stated against actual win rates of closed deals that kept a probability of their own.

    A closed deal whose probability is 0 or 100 says nothing about what was
    forecast before it closed (CRMs set it on closing); only the others count.
    With history, ``stated`` (``deal_id``, ``stated``) gives the probability
    each deal was open at when its closing period began, which then replaces
    the export's.
    """
    if "probability" not in deals.frame.columns:
        return {"reason": "no probability column"}
    closed = deals.closed_in_window()
    basis = "the closed deals' own probability in the export"
    if stated is not None and stated.height:
        closed = closed.join(stated.rename({"deal_id": "id"}), on="id", how="left").with_columns(pl.coalesce("stated", "probability").alias("probability"))
        basis = "the probability each deal was open at when the period it closed in began (history), else its own in the export"
    closed = closed.filter(pl.col("probability").is_between(0, 100, closed="none"))
    if closed.height == 0:
        return {"reason": "no closed deal in the window kept a forecast probability (only 0 or 100 once closed); " + HISTORY_REASON}
    if closed.height < settings.min_deals:
        return not_enough(closed.height)
    stated = pl.col("probability") / 100
    outcome = pl.col(WON).cast(pl.Float64)
    band = (pl.col("probability") // 10).clip(0, 9).cast(pl.Int64)
    table = closed.group_by(band.alias("band")).agg(pl.len().alias("n"), stated.mean().alias("stated"), outcome.mean().alias("actual")).sort("band")
    bands = []
    for index, n, mean_stated, actual in table.iter_rows():
        row: dict[str, Any] = {"band": f"{index * 10}-{index * 10 + 10}%", "n": int(n)}
        row.update({"stated": round(mean_stated, 4), "actual": round(actual, 4)} if n >= settings.min_deals else not_enough(int(n)))
        bands.append(row)
    brier = float(closed.select(((stated - outcome) ** 2).mean()).item())
    result: dict[str, Any] = {"n": closed.height, "brier_score": round(brier, 4), "bands": bands, "basis": basis}
    if deals.has("owner"):
        owners = closed.group_by(group_column("owner")).agg(pl.len().alias("n"), stated.mean().alias("stated"), outcome.mean().alias("actual")).sort(group_column("owner"))
        result["owners"] = [
            {"key": key, "n": int(n), **({"stated": round(s, 4), "actual": round(a, 4), "bias": round(s - a, 4)} if n >= settings.min_deals else not_enough(int(n)))}
            for key, n, s, a in owners.iter_rows()
        ]
    else:
        result["owners_reason"] = deals.reasons["owner"]
    return result


# --- lead-generation need -----------------------------------------------------------------


def _team_quotas(deals: PreparedDeals, quotas: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Each team's quota: the sum of its owners' quotas (an owner's team is the one most of their deals carry)."""
    owner, team = group_column("owner"), group_column("team")
    # Lazily: the filter then copies the two columns the counts read, not the whole table.
    counts = (
        deals.frame.lazy()
        .filter(pl.col(owner).is_in(list(quotas)))
        .group_by(owner, team)
        .len()
        .sort([owner, "len", team], descending=[False, True, False])
        .collect()
    )
    teams: dict[str, dict[str, Any]] = {}
    for name, members in counts.unique(subset=owner, keep="first", maintain_order=True).group_by(team, maintain_order=True).agg(pl.col(owner)).iter_rows():
        members = sorted(members)
        teams[name] = {"quota": sum(quotas[m] for m in members), "owners": members}
    return teams


def lead_generation(frame: pl.DataFrame, deals: PreparedDeals, settings: ForecastSettings, period: Period, quotas: Mapping[str, float], rates: dict[str, Any], cycles: dict[str, Any], method: dict[str, Any]) -> dict[str, Any]:
    """Per owner and team with a quota: the gap after the calibrated forecast and the new deals it takes."""
    if not quotas:
        return {"reason": "no [quotas] in the configuration"}
    if "reason" in method:
        return {"reason": f"needs the calibrated forecast: {method['reason']}"}
    if not deals.has("owner"):
        return {"reason": deals.reasons["owner"]}
    overall = {"rates": rates["overall"], "cycle": cycles.get("overall", {}).get("won", {"reason": cycles.get("reason", "no cycle")})}
    entities = [("owners", "owner", {name: {"quota": quota, "owners": [name]} for name, quota in sorted(quotas.items())})]
    result: dict[str, Any] = {"period": period.name}
    if deals.has("team"):
        entities.append(("teams", "team", _team_quotas(deals, quotas)))
    else:
        result["teams_reason"] = deals.reasons["team"]
    close = pl.col("close_date").is_between(period.start, period.end).fill_null(False)
    # Every entity's sums, candidate counts and ranked plan B candidates: lazy queries collected together, so
    # that each copies only the columns it reads (the ids of the ranked deals only) and the filters are shared.
    cents = pl.col(CENTS)
    now = pl.col(OPEN) & close & cents.is_not_null()
    expected = (cents.cast(pl.Float64) * pl.col(CALIBRATED_PROBABILITY).fill_null(0.0)).round(0).cast(pl.Int64)
    value = pl.col("__value__")
    queries = []
    for _, field, table in entities:
        column = group_column(field)
        needed = ["id", "close_date", column, OPEN, WON, CENTS, CALIBRATED_PROBABILITY]
        relevant = (
            frame.lazy()
            .select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row__"), *(c for c in needed if c in frame.columns))
            .filter(pl.col(column).is_in(list(table)) & (pl.col(OPEN) | (pl.col(WON) & close)))
        )
        candidates = relevant.filter(pl.col(OPEN) & ~close & cents.is_not_null() & pl.col(CALIBRATED_PROBABILITY).is_not_null())
        queries += [
            relevant.group_by(column).agg(cents.filter(pl.col(WON) & close).sum().alias("won"), expected.filter(now).sum().alias("expected"), cents.filter(now).sum().alias("open")),
            candidates.group_by(column).len(),
            candidates.with_columns((cents.cast(pl.Float64) * pl.col(CALIBRATED_PROBABILITY)).round(0).cast(pl.Int64).alias("__value__"))
            # Keep each group's top values (ties included) before sorting: most open deals are candidates.
            .filter(value >= value.top_k(settings.plan_b_limit).min().over(column))
            .sort([column, "__value__", "id"], descending=[False, True, False])
            .group_by(column, maintain_order=True)
            .head(settings.plan_b_limit),
        ]
    collected = pl.collect_all(queries)
    for index, (key, field, table) in enumerate(entities):
        column = group_column(field)
        sum_rows, count_rows, ranked = collected[3 * index : 3 * index + 3]
        sums = {row[column]: row for row in sum_rows.iter_rows(named=True)}
        counts = dict(count_rows.iter_rows())
        gaps = {name: _gap(sums.get(name), spec) for name, spec in table.items()}
        shown = [c for c in ("name", "stage", "forecast_category") if c in frame.columns]
        ranked = pl.concat([ranked, frame.select(pl.col(shown).gather(ranked.get_column("__row__")))], how="horizontal")
        plan_b = _plan_b_deals(ranked, column, gaps)
        group_rates = {g["key"]: g for g in rates["segments"][field].get("groups", [])}
        # A group's own median cycle is known when the cycle was grouped the same way (--by); else the overall one.
        group_cycles = {g["key"]: g["won"] for g in cycles.get("groups", [])} if cycles.get("by") == field else {}
        result[key] = [
            _need(sums.get(name), (plan_b.get(name, []), counts.get(name, 0)), field, name, spec, settings, period, group_rates.get(name), group_cycles.get(name), overall, deals.as_of)
            for name, spec in sorted(table.items())
        ]
    return result


def _basis(own: dict[str, Any] | None, overall: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The group's own win rates when it has enough closed deals and a won one, else the whole pipeline's."""
    if own is not None and "rate" in own["by_count"] and own["won"] > 0:
        return own, "own"
    return overall, "overall"


def _gap(sums: Mapping[str, Any] | None, spec: Mapping[str, Any]) -> int:
    """Quota - won - the calibrated expectation of the open deals closing in the period, in cents (0 when reached)."""
    won_cents = int((sums or {}).get("won") or 0)
    expected = int((sums or {}).get("expected") or 0)
    return max(0, int(round(spec["quota"] * 100)) - won_cents - expected)


def _plan_b_deals(ranked: pl.DataFrame, column: str, gaps: Mapping[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Each group's plan B: its ranked candidates until their cumulative amount reaches its gap (all of them when there is none).

    One pass in polars over every group's candidates: the running amount is
    a cumulative sum per group, and a deal is listed while the amount before
    it is still short of the gap.
    """
    gap = pl.col(column).replace_strict(dict(gaps), default=0, return_dtype=pl.Int64)
    cumulative = pl.col(CENTS).cum_sum().over(column)
    listed = ranked.with_columns(cumulative.alias("__cumulative__")).filter((gap == 0) | (pl.col("__cumulative__") - pl.col(CENTS) < gap))
    rows = listed.select(
        column,
        "id",
        pl.col("name") if "name" in listed.columns else pl.lit(None, pl.String).alias("name"),
        "stage",
        pl.col("close_date").cast(pl.String).alias("close_date") if "close_date" in listed.columns else pl.lit(None, pl.String).alias("close_date"),
        pl.col("forecast_category") if "forecast_category" in listed.columns else pl.lit(None, pl.String).alias("forecast_category"),
        CENTS,
        CALIBRATED_PROBABILITY,
        "__value__",
        "__cumulative__",
    ).rows()
    by_group: dict[str, list[dict[str, Any]]] = {}
    for key, deal_id, name, stage, close, category, cents, probability, value, running in rows:
        by_group.setdefault(key, []).append(
            {
                "id": deal_id,
                "name": name,
                "stage": stage,
                "close_date": close,
                "forecast_category": category,
                "amount": money(cents),
                "calibrated_probability": round(probability, 4),
                "calibrated_value": money(value),
                "cumulative_amount": money(running),
            }
        )
    return by_group


def _need(sums, plan_b, field, name, spec, settings, period, own_rates, own_cycle, overall, as_of) -> dict[str, Any]:
    won_cents = int((sums or {}).get("won") or 0)
    expected = int((sums or {}).get("expected") or 0)
    quota_cents = int(round(spec["quota"] * 100))
    gap = _gap(sums, spec)
    row: dict[str, Any] = {
        "key": name,
        "quota": money(quota_cents),
        "won": money(won_cents),
        "calibrated_forecast": money(won_cents + expected),
        "gap": money(gap),
    }
    if field == "team":
        row["owners"] = spec["owners"]
    rates, basis = _basis(own_rates, overall["rates"])
    row["basis"] = basis
    to_win = quota_cents - won_cents
    open_cents = int((sums or {}).get("open") or 0)
    amount_rate = rates["by_amount"]
    required = round(1 / amount_rate["rate"], 2) if "rate" in amount_rate and amount_rate["rate"] > 0 else 3.0
    row["coverage"] = {
        "current": round(open_cents / to_win, 2) if to_win > 0 else None,
        "required": required,
        "required_basis": "1 / win rate by amount" if "rate" in amount_rate and amount_rate["rate"] > 0 else "fallback 3x (not enough data)",
    }
    count_rate = rates["by_count"]
    cycle = own_cycle if own_cycle is not None and "median" in own_cycle else overall["cycle"]
    if gap == 0:
        row["deals_needed"] = 0
        row["message"] = "no gap: the calibrated forecast reaches quota"
    elif "rate" not in count_rate or count_rate["rate"] == 0 or rates["won"] == 0:
        row["reason"] = f"win rate: {count_rate.get('reason', 'no won deal in the window')}"
    else:
        average = rates["won_amount"] / rates["won"]
        needed = math.ceil(gap / 100 / (count_rate["rate"] * average))
        row.update({"win_rate": count_rate["rate"], "average_won_amount": round(average, 2), "deals_needed": needed})
        if "median" in cycle:
            create_by = period.end - dt.timedelta(days=math.ceil(cycle["median"]))
            row["median_won_cycle_days"] = cycle["median"]
            row["create_by"] = create_by.isoformat()
            row["late"] = create_by < as_of
            row["message"] = f"{needed} more qualified deal{'s' if needed != 1 else ''}, created by {create_by.isoformat()}" + (" (already past: pull in deals instead)" if create_by < as_of else "")
        else:
            row["message"] = f"{needed} more qualified deal{'s' if needed != 1 else ''} (no create-by date: won cycle {cycle.get('reason', 'unknown')})"
    row["plan_b"] = _plan_b(*plan_b, gap)
    return row


def _plan_b(deals: list[dict[str, Any]], candidates: int, gap: int) -> dict[str, Any]:
    """Open deals outside the period that could be pulled in, by calibrated value, until their amount covers the gap."""
    cumulative = deals[-1]["cumulative_amount"] if deals else 0.0
    return {"candidates": candidates, "deals": deals, "covers_gap": round(cumulative * 100) >= gap}
