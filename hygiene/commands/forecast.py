"""``hygiene forecast``: read and normalise the export as the audit does, then compute and render the figures."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hygiene.audit.run import read_deals, stage_table
from hygiene.commands.session import Session
from hygiene.config.presets import apply_preset
from hygiene.forecast.render import render_console, render_markdown
from hygiene.forecast.report import build_forecast
from hygiene.forecast.settings import ForecastSettings

def forecast_document(session: Session, source_path: str | None, as_of: dt.date, by: str) -> dict[str, Any]:
    """The forecast JSON document for the configured (or given) export."""
    from hygiene import __version__

    # The export is read as the audit reads it: the preset's columns and stages, and the export's own
    # status columns (Pipedrive's status, Salesforce's IsClosed / IsWon), which say which deals are won and lost.
    config = apply_preset(session.config, session.registry)
    settings = ForecastSettings.from_config(config.forecast, f"{config.file or 'configuration'}: forecast")
    deals = read_deals(config, session.registry, source_path)
    return build_forecast(
        deals.frame,
        as_of=as_of,
        stages=stage_table(config),
        settings=settings,
        quotas=config.quotas,
        by=by,
        fiscal_year_start_month=config.fiscal_year_start_month,
        source=deals.location,
        tool_version=__version__,
    )


def render(document: dict[str, Any], output_format: str) -> str:
    """The document as JSON (sorted keys, two-space indent) or rendered from it."""
    if output_format == "json":
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if output_format == "markdown":
        return render_markdown(document)
    return render_console(document)
