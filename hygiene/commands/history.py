"""What only the history commands need: ``hygiene snapshot add`` and ``hygiene deals``.

They read an export exactly as an audit does (:mod:`hygiene.audit.run`),
then hand it to the history store or show it as the rules would see it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from hygiene.api.fields import ROW_COLUMN
from hygiene.api.stages import StageTable
from hygiene.audit.run import AuditOptions, export_sha256, read_deals, stage_table, with_history, with_roster_and_currency
from hygiene.config.presets import apply_preset
from hygiene.config.settings import Config
from hygiene.history.derive import export_sources
from hygiene.history.snapshots import add_deals, snapshot_date
from hygiene.history.store import SnapshotChanges, open_configured_store
from hygiene.plugin.registry import Registry


def add_snapshot(config: Config, registry: Registry, source_path: str | None, date: dt.date | None, *, added_at: str, today: dt.date) -> tuple[SnapshotChanges, str]:
    """Read the export as an audit does and store it; the changes, and the store's name for messages."""
    from hygiene import __version__

    config = apply_preset(config, registry)
    deals = read_deals(config, registry, source_path)
    display = source_path or config.source.path
    path = Path(source_path) if source_path else config.base_dir / display
    day = snapshot_date(date, path, config.as_of, today)
    with open_configured_store(config, create=True) as store:
        changes = add_deals(store, deals, day, path=path, source=display, hygiene_version=__version__, added_at=added_at, open_stage=_open_stage(stage_table(config)))
        return changes, store.location.display


def _open_stage(stages: StageTable) -> pl.Expr:
    closed = [key for key, is_closed in stages.column_maps()["closed"].items() if is_closed]
    return ~pl.col("stage").str.strip_chars().str.to_lowercase().is_in(closed).fill_null(False)


def deal_table(config: Config, registry: Registry, options: AuditOptions) -> pl.DataFrame:
    """The deal table as the rules see it, with a ``<field>_source`` column per derivable field and the export's row."""
    config = apply_preset(config, registry)
    deals = read_deals(config, registry, options.source_path)
    store = open_configured_store(config)
    try:
        frame, derived = with_history(deals, options.as_of, stage_table(config), store, export_sha256(config, options.source_path))
        frame, _, _ = with_roster_and_currency(config, registry, frame, deals.location)
    finally:
        if store is not None:
            store.close()
    sources = derived.sources if derived is not None else export_sources(frame)
    internal = [c for c in frame.columns if c.startswith("__") and c != ROW_COLUMN]
    table = frame.drop(internal).rename({ROW_COLUMN: "row"}).join(sources, on="id", how="left", maintain_order="left")
    return table.select("row", pl.exclude("row"))
