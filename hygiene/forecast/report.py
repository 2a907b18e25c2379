"""The forecast document: every figure, in the shape of ``hygiene/schemas/forecast.schema.json``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from hygiene.api.periods import period_containing
from hygiene.api.stages import StageTable
from hygiene.forecast import figures
from hygiene.forecast.deals import prepare
from hygiene.forecast.settings import ForecastSettings

SCHEMA_VERSION = 1


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
) -> dict[str, Any]:
    """All the figures for the normalised deal table ``frame`` as of ``as_of``: the JSON document."""
    period = period_containing(as_of, settings.period, fiscal_year_start_month)
    deals = prepare(frame, stages, settings, as_of)
    rates = figures.win_rates(deals, settings)
    cycles = figures.cycle(deals, settings, by)
    calibrated_frame, method = figures.calibrate(deals, settings)
    forecast = figures.period_forecast(calibrated_frame, deals, settings, by, period, method)
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
        "calibration": figures.calibration(deals, settings),
        "lead_generation": figures.lead_generation(calibrated_frame, deals, settings, period, quotas, rates, cycles, method),
        "accuracy": {"reason": f"forecast accuracy of past periods {figures.HISTORY_REASON}"},
        "funnel": {"reason": f"the stage funnel with dwell per stage {figures.HISTORY_REASON}"},
        "backtest": {"reason": f"the rule backtest {figures.HISTORY_REASON}"},
    }
