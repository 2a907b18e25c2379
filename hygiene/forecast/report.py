"""The forecast document: every figure, in the shape of ``hygiene/schemas/forecast.schema.json``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from hygiene.api.periods import period_containing
from hygiene.api.stages import StageTable
from hygiene.forecast import figures
from hygiene.forecast import history as past
from hygiene.forecast.deals import prepare
from hygiene.forecast.history import PipelineHistory, read_history
from hygiene.forecast.settings import ForecastSettings

SCHEMA_VERSION = 1


def configured_forecast(config, frame: pl.DataFrame, *, as_of: dt.date, quotas: Mapping[str, float], source: str | None, store=None, by: str = "owner", tool_version: str = "") -> dict[str, Any]:
    """The forecast document for a configuration's normalised deals, with the history of ``store`` when there is one.

    ``hygiene forecast`` and ``hygiene audit --forecast`` both call this, so
    the figures are the same wherever they are shown.
    """
    settings = ForecastSettings.from_config(config.forecast, f"{config.file or 'configuration'}: forecast")
    return build_forecast(
        frame,
        as_of=as_of,
        stages=StageTable.from_stages(config.stages) if config.stages else StageTable(),
        settings=settings,
        quotas=quotas,
        by=by,
        fiscal_year_start_month=config.fiscal_year_start_month,
        source=source,
        tool_version=tool_version,
        history=read_history(store, as_of) if store is not None else None,
    )


def build_forecast(
    frame: pl.DataFrame,
    *,
    as_of: dt.date,
    stages: StageTable,
    settings: ForecastSettings,
    quotas: Mapping[str, float],
    by: str = "owner",
    fiscal_year_start_month: int = 1,
    source: str | None = None,
    tool_version: str = "",
    history: PipelineHistory | None = None,
) -> dict[str, Any]:
    """All the figures for the normalised deal table ``frame`` as of ``as_of``: the JSON document.

    ``history`` (read from a store with :func:`hygiene.forecast.history.read_history`)
    adds stage conversion (which then is the calibrated forecast's stage
    base), the funnel, forecast accuracy and the rule backtest.
    """
    period = period_containing(as_of, settings.period, fiscal_year_start_month)
    deals = prepare(frame, stages, settings, as_of)
    rates = figures.win_rates(deals, settings)
    conversion = past.stage_conversion(history, stages, settings, as_of, deals.window_start)
    rates["stage_conversion"] = conversion
    cycles = figures.cycle(deals, settings, by)
    calibrated_frame, method = figures.calibrate(deals, settings, past.conversion_rates(conversion))
    forecast = figures.period_forecast(calibrated_frame, deals, settings, by, period, method)
    lead_generation = figures.lead_generation(calibrated_frame, deals, settings, period, quotas, rates, cycles, method)
    final = past.outcomes(history, stages) if history is not None and history.versions.height else None

    def forecast_at(snapshot: pl.DataFrame, date: dt.date, then: Any) -> dict[str, Any]:
        """The period forecast ``then`` as the report would have made it on ``date``, from what the store knew that day."""
        known = history.until(date)
        earlier = prepare(snapshot, stages, settings, date)
        start = settings.window.start(date)
        frame_then, method_then = figures.calibrate(earlier, settings, past.conversion_rates(past.stage_conversion(known, stages, settings, date, start)))
        return figures.period_forecast(frame_then, earlier, settings, "owner", then, method_then)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": tool_version,
        "source": source,
        "as_of": as_of.isoformat(),
        "period": {"name": period.name, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "window": {"text": str(settings.window), "start": deals.window_start.isoformat(), "end": as_of.isoformat()},
        "min_deals": settings.min_deals,
        "by": by,
        "deals": {
            "total": frame.height,
            "open": int(deals.frame.get_column(figures.OPEN).sum()),
            "closed_in_window": deals.closed_in_window().height,
        },
        "win_rates": rates,
        "cycle": cycles,
        "velocity": figures.velocity(deals, settings, by, period, cycles, rates),
        "forecast": forecast,
        "calibration": figures.calibration(deals, settings, past.stated_at_period_start(history, stages, settings.period, fiscal_year_start_month)),
        "lead_generation": lead_generation,
        "linearity": past.linearity(deals.frame, settings, as_of, fiscal_year_start_month),
        "creation_pace": past.creation_pace(deals.frame, settings, as_of, deals.window_start, lead_generation, fiscal_year_start_month),
        "accuracy": past.accuracy(history, forecast_at, settings, as_of, fiscal_year_start_month, final),
        "funnel": past.funnel(history, stages, settings, as_of, deals.window_start),
        "backtest": past.backtest(history, stages, settings, final),
        "history": {"store": history.location, "snapshots": len(history.snapshot_dates)} if history is not None else {"reason": past.no_store_reason()},
    }
