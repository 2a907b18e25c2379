"""What ``[source]`` says about an export beyond which column feeds which field.

Applied to the export as read, before it is normalised: ids replaced by
names from other files (``[[source.lookups]]``), the date the current stage
was entered picked from one column per stage (HubSpot's ``Date entered
"<stage> (<pipeline>)"``), and whether the export itself says a deal is
closed and won (``[source.status]``). After normalising, forecast
categories are mapped onto hygiene's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import polars as pl

from hygiene.api.errors import SourceError
from hygiene.api.fields import CLOSED_FLAG_COLUMN, STAGE_ENTERED_COLUMN, WON_FLAG_COLUMN
from hygiene.api.preset import DealStatus
from hygiene.api.source import RawTable
from hygiene.audit.normalise import list_columns, resolve_columns
from hygiene.audit.read import check_export_path, choose_source
from hygiene.config.settings import Config, Lookup, SourceSettings
from hygiene.files import note_input
from hygiene.plugin.registry import Registry

TRUE_WORDS = ("1", "true", "yes", "y", "t", "x")
FALSE_WORDS = ("0", "false", "no", "n", "f")

Table = TypeVar("Table", pl.DataFrame, pl.LazyFrame)


def transform(raw: RawTable, change: Callable[[Table], Table]) -> RawTable:
    """``raw`` with ``change`` applied to its table, lazily when it is lazy."""
    if raw.is_lazy:
        read_eagerly = raw.read_eagerly
        return RawTable(
            lazy=change(raw.lazy),
            location=raw.location,
            read_eagerly=(lambda: transform(read_eagerly(), change)) if read_eagerly is not None else None,
            date_serials=raw.date_serials,
            suspect_rows=raw.suspect_rows,
            check_rows=raw.check_rows,
        )
    return RawTable(frame=change(raw.frame), location=raw.location, first_row=raw.first_row, rows=raw.rows, date_serials=raw.date_serials)


def raw_columns(raw: RawTable) -> list[str]:
    return raw.lazy.collect_schema().names() if raw.is_lazy else list(raw.frame.columns)


def read_side_raw(path: Path, display: str, registry: Registry, sheet: str | int | None = None) -> RawTable:
    """A lookup or roster file, read through the source plugin its extension chooses (CSV, xlsx ...)."""
    check_export_path(path, display)
    # An input of the run like the export: no report may be written over it.
    note_input(path, display, "an input")
    source_cls = choose_source(Config(), registry, display)
    options = {"sheet": sheet} if sheet is not None and "sheet" in source_cls.options_schema.get("properties", {}) else {}
    return source_cls().read(path, options=options, display_name=display)


def read_side_table(path: Path, display: str, registry: Registry, sheet: str | int | None = None) -> pl.DataFrame:
    return read_side_raw(path, display, registry, sheet).frame


def _column(columns: Iterable[str], wanted: str) -> str | None:
    columns = list(columns)
    if wanted in columns:
        return wanted
    return next((c for c in columns if c.casefold() == wanted.casefold()), None)


def apply_lookups(raw: RawTable, lookups: list[Lookup], base_dir: Path, registry: Registry, config_file: str | None) -> RawTable:
    """Replace ids by names, one ``[[source.lookups]]`` entry at a time (an id not found is kept)."""
    columns = raw_columns(raw)
    for index, lookup in enumerate(lookups):
        where = f"{config_file or 'configuration'}: source.lookups[{index}]"
        column = _column(columns, lookup.column)
        if column is None:
            raise SourceError(f"{where}.column: {lookup.column!r} is not a column of {raw.location}")
        table = read_side_table(base_dir / lookup.path, lookup.path, registry)
        key, value = _column(table.columns, lookup.key), _column(table.columns, lookup.value)
        for name, found in (("key", key), ("value", value)):
            if found is None:
                raise SourceError(f"{lookup.path}: no column {getattr(lookup, name)!r} (source.lookups[{index}].{name}); its columns are: {list_columns(table.columns)}")
        pairs = (
            table.select(pl.col(key).cast(pl.String).str.strip_chars(), pl.col(value).cast(pl.String).str.strip_chars())
            .drop_nulls()
            .unique(subset=[key], keep="first", maintain_order=True)
        )
        names = dict(pairs.iter_rows())
        text = pl.col(column).cast(pl.String)
        raw = transform(raw, lambda t, text=text, names=names, column=column: t.with_columns(text.str.strip_chars().replace(names).fill_null(text).alias(column)))
    return raw


def add_stage_entered(raw: RawTable, pattern: str | None, pipeline_column: str | None, stage_column: str | None) -> RawTable:
    """A column holding, for each deal, the date its own stage was entered, from one column per stage."""
    if pattern is None or stage_column is None:
        return raw
    columns = raw_columns(raw)
    regex = re.compile(
        "^" + re.escape(pattern).replace(re.escape("{stage}"), "(?P<stage>.+)").replace(re.escape("{pipeline}"), "(?P<pipeline>.+)") + "$"
    )
    pipeline = _column(columns, pipeline_column) if pipeline_column else None
    choices = []
    for column in columns:
        match = regex.match(column)
        if match is None:
            continue
        condition = pl.col(stage_column).cast(pl.String).str.strip_chars().str.to_lowercase() == match["stage"].strip().lower()
        if "pipeline" in match.groupdict():
            if pipeline is None:
                continue
            condition &= pl.col(pipeline).cast(pl.String).str.strip_chars().str.to_lowercase() == match["pipeline"].strip().lower()
        choices.append(pl.when(condition).then(pl.col(column).cast(pl.String)))
    if not choices:
        return raw
    return transform(raw, lambda t: t.with_columns(pl.coalesce(choices).alias(STAGE_ENTERED_COLUMN)))


def _flag(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(TRUE_WORDS)).then(True).when(text.is_in(FALSE_WORDS)).then(False).otherwise(None)


def add_status(raw: RawTable, status: DealStatus | None, optional: bool, where: str) -> RawTable:
    """Columns saying, where the export says so, whether each deal is closed and whether it is won (null: not said)."""
    if status is None:
        return raw
    columns = raw_columns(raw)
    found = {name: _column(columns, name) for name in status.columns}
    missing = [name for name, column in found.items() if column is None]
    if missing:
        if optional:
            return raw
        raise SourceError(f"{raw.location}: no column {missing[0]!r} ({where}: source.status); its columns are: {list_columns(columns)}")
    if status.column is not None:
        word = pl.col(found[status.column]).cast(pl.String).str.strip_chars().str.to_lowercase()
        won, lost, open_ = ([w.lower() for w in words] for words in (status.won, status.lost, status.open))
        closed = pl.when(word.is_in(won + lost)).then(True).when(word.is_in(open_)).then(False).otherwise(None)
        is_won = pl.when(word.is_in(won)).then(True).when(word.is_in(lost + open_)).then(False).otherwise(None)
    else:
        closed = _flag(found[status.closed_flag])
        is_won = _flag(found[status.won_flag]) if status.won_flag else pl.when(closed.not_()).then(False)
        # A won deal is closed, whatever a stray IsClosed says.
        closed = pl.when(is_won.fill_null(False)).then(True).otherwise(closed)
    return transform(raw, lambda t: t.with_columns(closed.alias(CLOSED_FLAG_COLUMN), is_won.alias(WON_FLAG_COLUMN)))


def map_forecast_categories(frame: pl.DataFrame, mapping: Mapping[str, str]) -> pl.DataFrame:
    """Forecast categories in hygiene's words; a value the mapping does not name is kept as it is."""
    if not mapping or "forecast_category" not in frame.columns:
        return frame
    by_key = {value.strip().lower(): category for value, category in mapping.items()}
    category = pl.col("forecast_category")
    return frame.with_columns(category.str.strip_chars().str.to_lowercase().replace_strict(by_key, default=category).alias("forecast_category"))


def prepare_export(raw: RawTable, settings: SourceSettings, *, base_dir: Path, registry: Registry, config_file: str | None) -> RawTable:
    """Every ``[source]`` step that runs on the export as read, in order."""
    if settings.lookups:
        raw = apply_lookups(raw, settings.lookups, base_dir, registry, config_file)
    if settings.stage_entered_columns:
        try:
            stage_column = resolve_columns(raw_columns(raw), settings.fields, raw.location, settings.field_candidates).get("stage")
        except SourceError:
            stage_column = None  # normalising names the missing column
        raw = add_stage_entered(raw, settings.stage_entered_columns, settings.pipeline_column, stage_column)
    return add_status(raw, settings.status, settings.status_optional, config_file or "configuration")
