"""``hygiene forecast``: read and normalise the export as the audit does, then compute and render the figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hygiene.api.periods import period_containing
from hygiene.audit.run import read_deals, with_roster_and_currency
from hygiene.commands.session import Session
from hygiene.config.presets import apply_preset
from hygiene.forecast.deals import READ_FIELDS
from hygiene.forecast.html import render_html
from hygiene.forecast.json_text import document_json
from hygiene.forecast.render import render_console, render_markdown
from hygiene.forecast.report import configured_forecast
from hygiene.forecast.settings import ForecastSettings
from hygiene.history.store import open_configured_store


def forecast_document(session: Session, source_path: str | None, as_of: dt.date, by: str) -> dict[str, Any]:
    """The forecast JSON document for the configured (or given) export."""
    from hygiene import __version__

    # The export is read as the audit reads it: the preset's columns and stages, and the export's own
    # status columns (Pipedrive's status, Salesforce's IsClosed / IsWon), which say which deals are won and lost;
    # then the roster's teams and quotas, and every amount in one currency.
    config = apply_preset(session.config, session.registry)
    settings = ForecastSettings.from_config(config.forecast, f"{config.file or 'configuration'}: forecast")
    # Only the fields the figures read are typed, and no invalid cells are listed: the audit reports those.
    deals = read_deals(config, session.registry, source_path, only_fields=READ_FIELDS)
    frame, roster, _ = with_roster_and_currency(config, session.registry, deals.frame, deals.location)
    period = period_containing(as_of, settings.period, config.fiscal_year_start_month)
    # [quotas] beats the roster, owner by owner, as in the audit.
    quotas = {**(roster.quotas(period, settings.period) if roster is not None else {}), **config.quotas}
    # The history figures need a store; without one (nothing configured, no default file) they carry the reason.
    store = open_configured_store(config)
    try:
        return configured_forecast(config, frame, as_of=as_of, quotas=quotas, source=deals.location, store=store, by=by, tool_version=__version__)
    finally:
        if store is not None:
            store.close()


def render(document: dict[str, Any], output_format: str) -> str:
    """The document as JSON (sorted keys, two-space indent) or rendered from it."""
    if output_format == "json":
        return document_json(document)
    if output_format == "markdown":
        return render_markdown(document)
    if output_format == "html":
        return render_html(document)
    return render_console(document)
