"""The figures only pipeline history gives: stage conversion, the stage funnel, forecast accuracy and the rule backtest.

A history store (:mod:`hygiene.history`) keeps every deal as *versions*:
the stretch of snapshot dates over which none of its fields changed. The
command reads the versions, the snapshot dates and the recorded audit
runs' findings through the store's public reading methods
(:func:`read_history`); everything below is a pure function of that
:class:`PipelineHistory`, the stage table, the settings and ``as_of``.

Each deal's versions, oldest first, collapse into *stage runs*: unbroken
stretches in one stage. A run begins at the deal's ``stage_entered_date``
when the version records one, else at the snapshot date it was first seen
in the stage; a run the store's first snapshot already found under way
has no known beginning and gives no dwell. A deal's *outcome* is its
newest version: won, lost, still open, or removed (it vanished from the
exports: its outcome is unknown and it is counted as not evaluable).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from hygiene.api.models import Period
from hygiene.api.periods import period_containing
from hygiene.api.stages import StageTable, stage_key
from hygiene.forecast.deals import CENTS, WON, group_column
from hygiene.forecast.settings import ForecastSettings
from hygiene.forecast.stats import money, not_enough, rate

#: The version fields the history figures read.
VERSION_FIELDS = ("stage", "amount", "close_date", "created_date", "owner", "forecast_category", "probability", "stage_entered_date")
#: The suggested ``max_days`` of a stage: this percentile of the days won deals spent in it.
MAX_DAYS_PERCENTILE = 80
#: How many past periods the forecast-accuracy table goes back at most.
ACCURACY_PERIODS = 8

OUTCOMES = ("won", "lost", "open", "removed")


@attrs.define(frozen=True, kw_only=True)
class PipelineHistory:
    """What the forecast reads from a history store, up to ``as_of``."""

    #: ``deal_id``, ``valid_from``, ``valid_to`` (null: still valid) and :data:`VERSION_FIELDS`, by deal and date.
    versions: pl.DataFrame
    snapshot_dates: tuple[dt.date, ...]
    #: ``as_of``, ``code``, ``deal_id``: the findings of every recorded audit run.
    findings: pl.DataFrame
    #: The store, as messages name it (never with a password).
    location: str


    def until(self, date: dt.date) -> PipelineHistory:
        """What the store knew on ``date``: the versions begun by then, the snapshots and audit runs up to it."""
        versions = self.versions.filter(pl.col("valid_from") <= date).with_columns(
            pl.when(pl.col("valid_to") > date).then(None).otherwise(pl.col("valid_to")).alias("valid_to")
        )
        return attrs.evolve(self, versions=versions, snapshot_dates=tuple(d for d in self.snapshot_dates if d <= date), findings=self.findings.filter(pl.col("as_of") <= date))


_FINDING_SCHEMA = {"as_of": pl.Date, "code": pl.String, "deal_id": pl.String}


def read_history(store, as_of: dt.date) -> PipelineHistory:
    """The versions, snapshot dates and recorded findings of ``store`` known on ``as_of`` (later ones are ignored)."""
    after = as_of + dt.timedelta(days=1)
    versions = store.versions(VERSION_FIELDS, before=after)
    # A version that ended after as_of was still valid on as_of.
    versions = versions.with_columns(pl.when(pl.col("valid_to") > as_of).then(None).otherwise(pl.col("valid_to")).alias("valid_to"))
    parts = []
    for run in store.audit_runs(before=after):
        found = store.run_findings(run.as_of)
        parts.append(found.select(pl.lit(run.as_of).alias("as_of"), "code", "deal_id"))
    findings = pl.concat(parts) if parts else pl.DataFrame(schema=_FINDING_SCHEMA)
    dates = tuple(d for d in store.snapshot_dates() if d <= as_of)
    return PipelineHistory(versions=versions, snapshot_dates=dates, findings=findings.cast(_FINDING_SCHEMA), location=store.location.display)


def no_store_reason() -> str:
    return "needs a history store (deal snapshots over time: `hygiene snapshot add`); an export holds only each deal's current state"


def _usable(history: PipelineHistory | None) -> str | None:
    """Why ``history`` cannot give history figures, or None when it can."""
    if history is None:
        return no_store_reason()
    if len(history.snapshot_dates) < 2:
        return f"the history store {history.location} holds {len(history.snapshot_dates)} snapshot(s) up to as_of; history figures need two or more"
    return None


# --- stage runs and outcomes --------------------------------------------------------------


def _stage_columns(stages: StageTable, names: Sequence[str]) -> list[pl.Expr]:
    """Per version: the open stage's place in the process (null for closed or unknown stages), closed and won."""
    order = {name: stages.order_of(name) for name in names}
    closed = {name: bool(stages.get(name).closed) if stages.get(name) else False for name in names}
    won = {name: bool(stages.get(name).won) if stages.get(name) else False for name in names}
    stage = pl.col("stage")
    return [
        stage.replace_strict(order, default=None, return_dtype=pl.Int64).alias("order"),
        stage.replace_strict(closed, default=False, return_dtype=pl.Boolean).fill_null(False).alias("closed"),
        stage.replace_strict(won, default=False, return_dtype=pl.Boolean).fill_null(False).alias("won"),
    ]


def _known_stages(history: PipelineHistory) -> list[str]:
    return [name for name in history.versions.get_column("stage").unique().to_list() if name is not None]


def outcomes(history: PipelineHistory, stages: StageTable) -> pl.DataFrame:
    """One row per deal: its newest version's fields and ``outcome`` (won, lost, open or removed) and ``max_order`` reached."""
    versions = history.versions.with_columns(_stage_columns(stages, _known_stages(history)))
    newest = versions.group_by("deal_id").agg(pl.all().sort_by("valid_from").last(), pl.col("order").max().alias("max_order"))
    outcome = (
        pl.when(pl.col("valid_to").is_not_null()).then(pl.lit("removed"))
        .when(pl.col("won")).then(pl.lit("won"))
        .when(pl.col("closed")).then(pl.lit("lost"))
        .otherwise(pl.lit("open"))
    )
    # A closed deal's last open stage is the furthest it got; a won deal passed through every open stage before it.
    return newest.with_columns(outcome.alias("outcome")).sort("deal_id")


def stage_runs(history: PipelineHistory, stages: StageTable) -> pl.DataFrame:
    """One row per unbroken stretch of a deal in one stage: ``entered``, ``exited`` (null: still in it), what came next."""
    first_snapshot = history.snapshot_dates[0] if history.snapshot_dates else None
    versions = history.versions.sort("deal_id", "valid_from")
    changed = (pl.col("stage") != pl.col("stage").shift(1).over("deal_id")).fill_null(True)
    versions = versions.with_columns(changed.cast(pl.Int64).cum_sum().over("deal_id").alias("run"))
    runs = versions.group_by("deal_id", "run").agg(
        pl.col("stage").first(),
        pl.col("valid_from").first().alias("first_seen"),
        pl.col("stage_entered_date").drop_nulls().first().alias("recorded_entry"),
        pl.col("created_date").first(),
        pl.col("valid_to").last().alias("last_valid_to"),
    )
    # A recorded entry later than the first sighting is wrong: the snapshot saw the deal in the stage already.
    entered = pl.min_horizontal(pl.col("recorded_entry"), pl.col("first_seen"))
    # Found under way by the first snapshot, with no recorded entry and not created that day: the beginning is unknown.
    censored = (pl.col("first_seen") == first_snapshot) & pl.col("recorded_entry").is_null() & (pl.col("created_date").is_null() | (pl.col("created_date") < pl.col("first_seen")))
    runs = runs.with_columns(entered.alias("entered"), censored.fill_null(False).alias("censored")).sort("deal_id", "run")
    following = pl.col("entered").shift(-1).over("deal_id")
    runs = runs.with_columns(following.alias("exited"), pl.col("stage").shift(-1).over("deal_id").alias("next_stage"))
    runs = runs.with_columns(_stage_columns(stages, _known_stages(history)))
    runs = runs.with_columns(pl.col(c).shift(-1).over("deal_id").alias(f"next_{c}") for c in ("order", "closed", "won"))
    runs = runs.with_columns(pl.col("next_closed").fill_null(False), pl.col("next_won").fill_null(False))
    return runs.with_columns(
        pl.when(pl.col("censored") | pl.col("exited").is_null()).then(None).otherwise((pl.col("exited") - pl.col("entered")).dt.total_days()).alias("dwell")
    )


# --- stage conversion ----------------------------------------------------------------------------


def stage_conversion(history: PipelineHistory | None, stages: StageTable, settings: ForecastSettings, as_of: dt.date, window_start: dt.date) -> dict[str, Any]:
    """Of the deals that reached each open stage and closed in the trailing window, the share won."""
    if history is None:
        return {"reason": "needs stage-entry dates for every stage a deal passed through, or a history store; an export records only each deal's current stage"}
    reason = _usable(history)
    if reason is not None:
        return {"reason": f"needs each deal's stage path: {reason}"}
    final = outcomes(history, stages).filter(pl.col("outcome").is_in(["won", "lost"]) & pl.col("close_date").is_between(window_start, as_of).fill_null(False))
    rows = []
    for order, stage in enumerate(stages.open_stages):
        # Reached: seen in this stage or a later one (a deal passes through the earlier stages), or won.
        reached = final.filter((pl.col("max_order") >= order).fill_null(False) | pl.col("won"))
        won = int(reached.get_column("won").sum())
        rows.append(
            {
                "stage": stage.name,
                "stage_probability": None if stage.probability is None else float(stage.probability),
                "closed": reached.height,
                "won": won,
                "conversion": rate(won, reached.height, settings.min_deals),
            }
        )
    return {
        "basis": "history",
        "store": history.location,
        "stages": rows,
        "method": "deals that closed in the trailing window; a deal reached a stage when a snapshot saw it there or in a later open stage, or it was won",
    }


def conversion_rates(conversion: Mapping[str, Any]) -> dict[str, float]:
    """stage key -> the stage's conversion (0-1), for the stages with enough deals."""
    return {stage_key(row["stage"]): row["conversion"]["rate"] for row in conversion.get("stages", []) if "rate" in row["conversion"]}


# --- funnel ---------------------------------------------------------------------------------------------


def _dwell_stats(values: pl.Series, min_deals: int) -> dict[str, Any]:
    n = values.len()
    if n < min_deals:
        return not_enough(n)
    return {
        "n": n,
        "median": round(float(values.median()), 1),
        "p25": round(float(values.quantile(0.25, interpolation="linear")), 1),
        "p75": round(float(values.quantile(0.75, interpolation="linear")), 1),
    }


def funnel(history: PipelineHistory | None, stages: StageTable, settings: ForecastSettings, as_of: dt.date, window_start: dt.date) -> dict[str, Any]:
    """Per open stage: deals that entered it in the window, where they went next, the median dwell and a suggested ``max_days``."""
    reason = _usable(history)
    if reason is not None:
        return {"reason": reason}
    final = outcomes(history, stages).select("deal_id", pl.col("outcome").alias("deal_outcome"))
    runs = stage_runs(history, stages).join(final, on="deal_id", how="left").filter(pl.col("entered").is_between(window_start, as_of).fill_null(False))
    all_runs = stage_runs(history, stages)
    rows = []
    for order, stage in enumerate(stages.open_stages):
        in_stage = runs.filter(pl.col("order") == order)
        left = in_stage.filter(pl.col("exited").is_not_null())
        # Last seen in this stage, then gone from the exports: where it went is unknown.
        removed = in_stage.filter(pl.col("exited").is_null() & pl.col("last_valid_to").is_not_null()).height
        # Seen only in a later stage (snapshots further apart than its stay here): it passed through unseen.
        seen_here = all_runs.filter(pl.col("order") == order).select("deal_id").unique()
        later = runs.filter((pl.col("order") > order).fill_null(False) | pl.col("won")).select("deal_id").unique()
        unseen = later.join(seen_here, on="deal_id", how="anti").height
        advanced = unseen + left.filter((pl.col("next_order") > order).fill_null(False) | pl.col("next_won")).height
        lost = left.filter(pl.col("next_closed") & ~pl.col("next_won")).height
        moved_back = left.filter((pl.col("next_order") < order).fill_null(False)).height
        dwell = in_stage.get_column("dwell").drop_nulls()
        won_dwell = in_stage.filter(pl.col("deal_outcome") == "won").get_column("dwell").drop_nulls()
        row: dict[str, Any] = {
            "stage": stage.name,
            "entered": in_stage.height + unseen,
            "passed_unseen": unseen,
            "advanced": advanced,
            "lost": lost,
            "moved_back": moved_back,
            "still_in_stage": in_stage.height - left.height - removed,
            "removed": removed,
            "other_exits": left.height + unseen - advanced - lost - moved_back,
            "dwell_days": _dwell_stats(dwell, settings.min_deals),
            "won_dwell_days": _dwell_stats(won_dwell, settings.min_deals),
            "max_days": stage.max_days,
        }
        if won_dwell.len() >= settings.min_deals:
            row["suggested_max_days"] = math.ceil(float(won_dwell.quantile(MAX_DAYS_PERCENTILE / 100, interpolation="linear")))
        else:
            row["suggested_max_days_reason"] = f"not enough data ({won_dwell.len()} won deals left the stage)"
        rows.append(row)
    return {
        "store": history.location,
        "snapshots": len(history.snapshot_dates),
        "first_snapshot": history.snapshot_dates[0].isoformat(),
        "stages": rows,
        "suggested_max_days_percentile": MAX_DAYS_PERCENTILE,
        "method": (
            "stage runs that began in the trailing window (a deal first seen in a later stage passed through unseen: it entered and "
            "advanced, with no dwell); dwell is from entering the stage to entering the next one "
            f"(runs still under way, or found under way by the first snapshot, give none); suggested max_days is the "
            f"{MAX_DAYS_PERCENTILE}th percentile of the dwell of deals that were won, rounded up"
        ),
    }


# --- stated probabilities, for calibration ------------------------------------------------------


def stated_at_period_start(history: PipelineHistory | None, stages: StageTable, kind: str, fiscal_year_start_month: int) -> pl.DataFrame | None:
    """``deal_id`` -> the probability it was open at when the period it closed in began (the newest snapshot on or before that day).

    That is the probability the period's forecast was made with, chosen
    before the outcome was known. The last probability before closing would
    not do: a deal lost early was last seen at an early stage's low
    probability, a won one at the last stage's high one, so the outcome
    would pick the probability. Deals created during the period they closed
    in have none. None without usable history.
    """
    if _usable(history) is not None:
        return None
    final = outcomes(history, stages).filter(pl.col("outcome").is_in(["won", "lost"]) & pl.col("close_date").is_not_null())
    dates = sorted(set(final.get_column("close_date").to_list()))
    starts = {day: period_containing(day, kind, fiscal_year_start_month).start for day in dates}
    snapshots = list(history.snapshot_dates)

    def snapshot_for(start: dt.date) -> dt.date | None:
        index = bisect.bisect_right(snapshots, start) - 1
        return snapshots[index] if index >= 0 and (start - snapshots[index]).days <= 7 else None

    at = {day: snapshot_for(start) for day, start in starts.items()}
    wanted = final.select("deal_id", pl.col("close_date").replace_strict(at, default=None, return_dtype=pl.Date).alias("__at__")).drop_nulls("__at__")
    open_names = [s.name for s in stages.open_stages]
    versions = history.versions.select("deal_id", "valid_from", "valid_to", "stage", "probability").join(wanted, on="deal_id")
    valid = (pl.col("valid_from") <= pl.col("__at__")) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("__at__")))
    return versions.filter(valid & pl.col("stage").is_in(open_names) & pl.col("probability").is_not_null()).select("deal_id", pl.col("probability").alias("stated")).unique("deal_id").sort("deal_id")


# --- forecast accuracy ------------------------------------------------------------------------------


def deals_on(history: PipelineHistory, date: dt.date) -> pl.DataFrame:
    """The deal table as the snapshot of ``date`` saw it (canonical column names)."""
    valid = (pl.col("valid_from") <= date) & (pl.col("valid_to").is_null() | (pl.col("valid_to") > date))
    return history.versions.filter(valid).drop("valid_from", "valid_to").rename({"deal_id": "id"}).sort("id")


def past_periods(as_of: dt.date, kind: str, fiscal_year_start_month: int, count: int) -> list[Period]:
    """The ``count`` periods before the one containing ``as_of``, newest first."""
    periods, day = [], period_containing(as_of, kind, fiscal_year_start_month).start
    for _ in range(count):
        period = period_containing(day - dt.timedelta(days=1), kind, fiscal_year_start_month)
        periods.append(period)
        day = period.start
    return periods


def _error(forecast: int, actual: int) -> dict[str, Any]:
    return {"forecast": money(forecast), "error": money(forecast - actual), "error_share": round((forecast - actual) / actual, 4) if actual else None}


def _summary(rows: Sequence[Mapping[str, int]], keys: Sequence[str]) -> dict[str, Any]:
    """Bias (sum of errors / sum of actuals: above 0 over-forecasts) and weighted absolute error, per forecast kind."""
    actual = sum(r["actual"] for r in rows)
    result: dict[str, Any] = {"periods": len(rows), "actual": money(actual)}
    for key in keys:
        errors = [r[key] - r["actual"] for r in rows]
        result[key] = {
            "bias": round(sum(errors) / actual, 4) if actual else None,
            "absolute_error": round(sum(abs(e) for e in errors) / actual, 4) if actual else None,
            "mean_error": money(sum(errors) / len(rows)) if rows else None,
        }
    return result


def accuracy(history: PipelineHistory | None, forecast_at, settings: ForecastSettings, as_of: dt.date, fiscal_year_start_month: int, final: pl.DataFrame | None) -> dict[str, Any]:
    """For each past period: the commit call and the calibrated forecast as they stood at its start, against what was won in it.

    ``forecast_at(frame, date, period)`` is the period forecast of the
    deals ``frame`` as of ``date`` (the same computation as today's), so
    that a past forecast is exactly what the report would have said then.
    """
    reason = _usable(history)
    if reason is not None:
        return {"reason": f"forecast accuracy of past periods {reason}"}
    won = final.filter((pl.col("outcome") == "won") & pl.col("amount").is_not_null())
    kinds = ("commit_call", "stage_weighted", "calibrated")
    periods, per_owner = [], {}
    first = history.snapshot_dates[0]
    for period in past_periods(as_of, settings.period, fiscal_year_start_month, ACCURACY_PERIODS):
        on_or_before = [d for d in history.snapshot_dates if d <= period.start]
        # The forecast "as it stood at the start": the newest snapshot on or before the first day, at most a week old.
        if not on_or_before or (period.start - on_or_before[-1]).days > 7 or on_or_before[-1] < first:
            break
        date = on_or_before[-1]
        document = forecast_at(deals_on(history, date), date, period)
        in_period = won.filter(pl.col("close_date").is_between(period.start, period.end))
        actual_by_owner = {o: int(c) for o, c in in_period.group_by("owner").agg((pl.col("amount") * 100).round(0).sum()).iter_rows()}
        actual = int(round(float(in_period.get_column("amount").sum()) * 100))
        row = {"period": period.name, "start": period.start.isoformat(), "end": period.end.isoformat(), "snapshot": date.isoformat(), "actual": money(actual)}
        cents = _forecast_cents(document["overall"])
        reasons = _forecast_reasons(document["overall"])
        row.update({k: _error(v, actual) if v is not None else {"reason": reasons[k]} for k, v in cents.items()})
        periods.append((row, {"actual": actual, **cents}))
        owners = {g["key"]: g for g in document.get("groups", [])}
        for owner in sorted(set(owners) | set(actual_by_owner)):
            figures = _forecast_cents(owners[owner]) if owner in owners else dict.fromkeys(kinds, 0)
            per_owner.setdefault(owner, []).append({"actual": actual_by_owner.get(owner, 0), **figures})
    if not periods:
        return {"reason": f"no past {settings.period} began after the store's first snapshot ({first.isoformat()}) with a snapshot within a week before its start"}
    usable = [cents for _, cents in periods if all(cents[k] is not None for k in kinds)]
    return {
        "store": history.location,
        "periods": [row for row, _ in periods],
        "overall": _summary(usable, kinds),
        "owners": [{"key": owner, **_summary([r for r in rows if all(r[k] is not None for k in kinds)], kinds)} for owner, rows in sorted(per_owner.items())],
        "method": (
            "each period's forecast is recomputed from the newest snapshot on or before its first day, as of that day; actual is the amount "
            "won with a close date in the period, as the newest snapshot records it; bias = sum of (forecast - actual) / sum of actual "
            "(above 0: over-forecast), absolute_error = sum of |forecast - actual| / sum of actual"
        ),
    }


def _forecast_reasons(figure: Mapping[str, Any]) -> dict[str, str]:
    return {
        "commit_call": figure["by_category"].get("reason", ""),
        "stage_weighted": figure["stage_weighted"].get("reason", ""),
        "calibrated": figure["calibrated"].get("reason", ""),
    }


def _forecast_cents(figure: Mapping[str, Any]) -> dict[str, int | None]:
    def cents(value: float | None) -> int | None:
        return None if value is None else int(round(value * 100))

    calibrated = figure["calibrated"]
    return {
        "commit_call": cents(figure["by_category"].get("commit_call")),
        "stage_weighted": cents(figure["stage_weighted"].get("forecast")),
        "calibrated": cents(calibrated.get("forecast")),
    }


# --- rule backtest ---------------------------------------------------------------------------------


def _tally(frame: pl.DataFrame) -> dict[str, int]:
    counts = dict(frame.group_by("outcome").len().iter_rows())
    return {outcome: int(counts.get(outcome, 0)) for outcome in OUTCOMES}


def _loss_rate(tally: Mapping[str, int], min_deals: int) -> dict[str, Any]:
    return rate(tally["lost"], tally["won"] + tally["lost"], min_deals)


def backtest(history: PipelineHistory | None, stages: StageTable, settings: ForecastSettings, final: pl.DataFrame | None) -> dict[str, Any]:
    """For each rule: how the deals it flagged in recorded audit runs ended, against the deals open then that it did not flag."""
    reason = _usable(history)
    if reason is not None:
        return {"reason": f"the rule backtest {reason}"}
    run_dates = sorted(set(history.findings.get_column("as_of").to_list()))
    if not run_dates:
        return {"reason": f"no audit run recorded in {history.location}: `hygiene audit` records one per as_of when a store is configured"}
    open_names = [s.name for s in stages.open_stages]
    population_parts = []
    for date in run_dates:
        on = deals_on(history, date)
        population_parts.append(on.filter(pl.col("stage").is_in(open_names)).select(pl.col("id").alias("deal_id")))
    population = pl.concat(population_parts).unique().join(final.select("deal_id", "outcome"), on="deal_id", how="left")
    population = population.with_columns(pl.col("outcome").fill_null("removed"))
    flagged_all = history.findings.filter(pl.col("deal_id").is_not_null()).select("code", "deal_id").unique()
    rules = []
    for code in sorted(flagged_all.get_column("code").unique().to_list()):
        ids = flagged_all.filter(pl.col("code") == code).select("deal_id")
        flagged = population.join(ids, on="deal_id", how="semi")
        others = population.join(ids, on="deal_id", how="anti")
        flagged_tally, others_tally = _tally(flagged), _tally(others)
        flagged_loss, others_loss = _loss_rate(flagged_tally, settings.min_deals), _loss_rate(others_tally, settings.min_deals)
        row: dict[str, Any] = {
            "code": code,
            "flagged": {"deals": flagged.height, **flagged_tally, "loss_rate": flagged_loss},
            "not_flagged": {"deals": others.height, **others_tally, "loss_rate": others_loss},
        }
        if "rate" in flagged_loss and "rate" in others_loss and others_loss["rate"] > 0:
            row["lift"] = round(flagged_loss["rate"] / others_loss["rate"], 2)
        else:
            row["lift_reason"] = "not enough closed deals on one side" if "rate" not in flagged_loss or "rate" not in others_loss else "no loss among the deals not flagged"
        rules.append(row)
    # The strongest predictors of loss first; rules without a lift last, by code.
    rules.sort(key=lambda r: (-(r.get("lift") or 0.0), r["code"]))
    return {
        "store": history.location,
        "audit_runs": len(run_dates),
        "first_run": run_dates[0].isoformat(),
        "last_run": run_dates[-1].isoformat(),
        "deals": population.height,
        "rules": rules,
        "method": (
            "the deals open at any recorded audit run; a deal is flagged by a rule when any run's findings name it; its outcome is "
            "its newest version (removed from the exports: unknown, not counted); loss rate = lost / (won + lost); lift = the flagged "
            "deals' loss rate / the other deals' (above 1: the rule predicts loss)"
        ),
    }


# --- linearity and creation pace (from the deal table itself) ---------------------------------------


def _week_index(day: pl.Expr, start: dt.date) -> pl.Expr:
    return ((day - pl.lit(start)).dt.total_days() // 7).cast(pl.Int64)


def linearity(frame: pl.DataFrame, settings: ForecastSettings, as_of: dt.date, fiscal_year_start_month: int, past: int = 4) -> dict[str, Any]:
    """Won amount by week of the period, this period against the ``past`` ones before it, and where this period stands."""
    if "close_date" not in frame.columns or frame.get_column("close_date").null_count() == frame.height:
        return {"reason": "no close_date values"}
    current = period_containing(as_of, settings.period, fiscal_year_start_month)
    periods = [current, *past_periods(as_of, settings.period, fiscal_year_start_month, past)]
    # One pass over the deals: only the won ones closing in the periods shown are kept.
    in_span = pl.col(WON) & pl.col(CENTS).is_not_null() & pl.col("close_date").is_between(periods[-1].start, as_of).fill_null(False)
    wons = frame.select("close_date", pl.col(CENTS).alias("cents"), in_span.alias("__in_span__")).filter("__in_span__").drop("__in_span__")
    rows = []
    for period in periods:
        weeks = (period.end - period.start).days // 7 + 1
        end = min(period.end, as_of)
        in_period = wons.filter(pl.col("close_date").is_between(period.start, end))
        by_week = dict(in_period.group_by(_week_index(pl.col("close_date"), period.start).alias("week")).agg(pl.col("cents").sum()).iter_rows())
        amounts = [int(by_week.get(w, 0)) for w in range(weeks)]
        elapsed = weeks if period is not current else (as_of - period.start).days // 7 + 1
        cumulative, total = [], 0
        for value in amounts[:elapsed]:
            total += value
            cumulative.append(money(total))
        rows.append({"period": period.name, "start": period.start.isoformat(), "end": period.end.isoformat(), "won_by_week": [money(a) for a in amounts[:elapsed]], "cumulative": cumulative, "won": money(total)})
    current_row, past_rows = rows[0], rows[1:]
    week = len(current_row["won_by_week"])
    shares = []
    for row in past_rows:
        if row["won"]:
            shares.append(row["cumulative"][min(week, len(row["cumulative"])) - 1] / row["won"])
    result: dict[str, Any] = {"week": week, "periods": rows}
    if shares and sum(shares) > 0:
        share = sum(shares) / len(shares)
        result["past_share_by_this_week"] = round(share, 4)
        result["projected"] = money(current_row["won"] / share * 100) if share else None
        result["method"] = f"past periods had won {share * 100:.1f}% of their total by week {week}; projected = won so far / that share"
    else:
        result["projected_reason"] = "no won amount in the past periods"
    return result


def creation_pace(frame: pl.DataFrame, settings: ForecastSettings, as_of: dt.date, window_start: dt.date, lead_generation: Mapping[str, Any], fiscal_year_start_month: int) -> dict[str, Any]:
    """New pipeline created per week (count and amount) against the pace the lead-generation need requires.

    A deal counts when it was created, whatever it became: the win rate the
    need is computed with is over every closed deal, so the deals it asks for
    are deals as the CRM counts them on creation.
    """
    if "created_date" not in frame.columns or frame.get_column("created_date").null_count() == frame.height:
        return {"reason": "no created_date values"}
    current = period_containing(as_of, settings.period, fiscal_year_start_month)
    # The three columns read, not the whole table, are filtered.
    owner = [group_column("owner")] if group_column("owner") in frame.columns else []
    created = frame.select("created_date", "amount", *owner).filter(pl.col("created_date").is_between(window_start, as_of).fill_null(False))
    weeks_in_window = max(1, ((as_of - window_start).days + 1) / 7)
    trailing = {"deals_per_week": round(created.height / weeks_in_window, 2), "amount_per_week": money(float(created.get_column("amount").fill_null(0).sum()) * 100 / weeks_in_window)}
    this = created.filter(pl.col("created_date") >= current.start)
    weeks_so_far = max(1, ((as_of - current.start).days + 1) / 7)
    result: dict[str, Any] = {
        "trailing": trailing,
        "this_period": {"deals": this.height, "deals_per_week": round(this.height / weeks_so_far, 2), "amount_per_week": money(float(this.get_column("amount").fill_null(0).sum()) * 100 / weeks_so_far)},
    }
    if owner:
        by_owner = dict(this.group_by(owner[0]).len().iter_rows())
    else:
        by_owner = {}
    if "reason" in lead_generation:
        result["required_reason"] = f"lead-generation need: {lead_generation['reason']}"
        return result
    owners = []
    for need in lead_generation.get("owners", []):
        created_count = int(by_owner.get(need["key"], 0))
        row: dict[str, Any] = {"key": need["key"], "created_this_period": created_count, "created_per_week": round(created_count / weeks_so_far, 2), "deals_needed": need.get("deals_needed")}
        if need.get("deals_needed") == 0:
            row["required_per_week"] = 0.0
        elif "create_by" in need and not need.get("late"):
            weeks = max(1, ((dt.date.fromisoformat(need["create_by"]) - as_of).days + 1) / 7)
            row["required_per_week"] = round(need["deals_needed"] / weeks, 2)
            row["create_by"] = need["create_by"]
        else:
            row["required_reason"] = "create-by date already past" if need.get("late") else need.get("reason", need.get("message", "no create-by date"))
        owners.append(row)
    result["owners"] = owners
    required = [r["required_per_week"] for r in owners if "required_per_week" in r]
    result["owners_past_create_by"] = sum(1 for need in lead_generation.get("owners", []) if need.get("late"))
    if any(required):
        result["required_per_week"] = round(sum(required), 2)
    return result
