"""``hygiene init``: a starter ``hygiene.toml``, guessed from an export when one is given.

The export is read through the source plugins, like an audit reads it.
From its header come ``[source.fields]`` (common Salesforce and HubSpot
column names), from its cells the ``date_format`` its dates need and the
stage table (every stage value it holds). The starter also spells out each
rule's options with their defaults, since a file written by tomli-w cannot
carry comments; what to check next is printed instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import tomli_w

from hygiene.api.errors import ConfigError, SourceError
from hygiene.api.fields import CANONICAL_FIELDS, REQUIRED_FIELDS, column_key
from hygiene.api.models import DEFAULT_STAGES
from hygiene.api.source import RawTable
from hygiene.api.stages import stage_key
from hygiene.audit.normalise import ReadOptions, normalise
from hygiene.audit.read import choose_source
from hygiene.config.settings import Config
from hygiene.files import atomic_text_writer, claim_output, note_input
from hygiene.plugin.registry import Registry, load_registry

if TYPE_CHECKING:
    import polars as pl

#: Export column names for each canonical field, preferred first. They match
#: ignoring case, spaces and punctuation, so ``CloseDate`` matches ``Close Date``;
#: the field's own name is tried last.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("Opportunity ID", "Id", "Record ID", "Deal ID", "hs_object_id"),
    "name": ("Opportunity Name", "Deal Name", "Name"),
    "account": ("Account Name", "Account.Name", "Associated Company", "Company Name", "Company", "Account", "AccountId"),
    "owner": (
        "Opportunity Owner",
        "Owner.Name",
        "Deal owner",
        "Owner",
        "Sales Agent",
        "Sales Rep",
        "Account Executive",
        "OwnerId",
        "hubspot_owner_id",
    ),
    "team": ("Owner Role", "Sales Team", "HubSpot Team", "Team", "Regional Office", "Region", "Territory"),
    "stage": ("Stage", "StageName", "Deal Stage", "Opportunity Stage", "Sales Stage", "Pipeline Stage"),
    "amount": ("Amount", "Deal Amount", "Opportunity Amount", "Amount in company currency", "Deal Value", "Close Value", "Value"),
    "currency": ("Opportunity Currency", "CurrencyIsoCode", "Deal currency code", "Currency", "Currency Code"),
    "probability": ("Probability (%)", "Deal probability", "Win Probability", "hs_deal_stage_probability"),
    "forecast_category": ("ForecastCategoryName", "Forecast Category", "hs_manual_forecast_category"),
    "created_date": ("Created Date", "Create Date", "Date Created", "Created On", "Created"),
    "close_date": ("Close Date", "Expected Close Date", "Estimated Close Date", "Closing Date"),
    "stage_entered_date": ("Last Stage Change Date", "Date entered current stage", "Stage Entered Date", "Stage Change Date", "Stage Date"),
    "last_activity_date": ("Last Activity", "Last Activity Date", "Last Contacted", "Last Engagement Date", "notes_last_updated"),
    "close_date_pushes": ("Push Count", "Push_Count__c", "Close Date Pushes", "Close Date Push Count", "Times Pushed", "Pushes"),
    "contacts": ("Contact Roles", "Number of Contact Roles", "Number of Associated Contacts", "num_associated_contacts", "Contact Count", "Number of Contacts", "Contacts"),
    "next_step": ("Next Step", "hs_next_step"),
}

#: ``date_format`` candidates for dates that are not ISO, in order of preference when several read every date.
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m/%d/%y", "%d/%m/%y")
#: Rows read to choose a date format: enough to meet a day above 12 in any real export.
DATE_SAMPLE_ROWS = 5000
#: Words that make an unknown stage name closed (and "won" also won).
CLOSED_WORDS = frozenset({"closed", "lost", "won", "dead", "disqualified", "cancelled", "canceled", "churned"})


@attrs.define(kw_only=True)
class StarterConfig:
    """A written starter configuration: where, what it holds, and what its author should check."""

    path: Path
    document: dict[str, Any]
    next_steps: list[str]


def guess_fields(columns: Iterable[str]) -> dict[str, str]:
    """``[source.fields]`` for an export with these columns: canonical field -> column."""
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(column_key(column), column)
    guessed = {}
    for field in CANONICAL_FIELDS:
        for name in (*COLUMN_NAMES.get(field, ()), field):
            if (column := by_key.get(column_key(name))) is not None:
                guessed[field] = column
                break
    return guessed


def guess_date_format(raw: RawTable, fields: dict[str, str]) -> str | None:
    """The ``date_format`` under which the fewest date cells are unreadable (None: ISO reads them best)."""
    sample = RawTable(frame=raw.frame.head(DATE_SAMPLE_ROWS), location=raw.location)
    date_fields = [field for field, kind in CANONICAL_FIELDS.items() if kind == "date"]

    def unreadable(date_format: str | None) -> int:
        invalid = normalise(sample, fields, ReadOptions(date_format=date_format)).invalid_values
        return invalid.filter(invalid["field"].is_in(date_fields)).height

    return min((None, *DATE_FORMATS), key=unreadable)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def stage_entry(name: str, usual_probability: float | None) -> dict[str, Any]:
    """A ``[[pipeline.stages]]`` table: the default table's row when the name is in it, else a guess.

    A guessed stage is closed when its name says so ("Closed Won", "Lost",
    "Disqualified" ...), won when it says "won"; an open one takes the
    probability its deals most often carry.
    """
    default = {stage_key(stage.name): stage for stage in DEFAULT_STAGES}.get(stage_key(name))
    if default is not None:
        entry: dict[str, Any] = {"name": name, "probability": default.probability}
        if default.max_days is not None:
            entry["max_days"] = default.max_days
        closed, won = default.closed, default.won
    else:
        words = set(re.findall(r"[a-z]+", name.casefold()))
        won = "won" in words
        closed = bool(words & CLOSED_WORDS)
        probability = 100 if won else 0 if closed else usual_probability
        entry = {"name": name} if probability is None else {"name": name, "probability": _number(probability)}
    if closed:
        entry["closed"] = True
    if won:
        entry["won"] = True
    return entry


def guess_stages(deals: pl.DataFrame) -> list[dict[str, Any]]:
    """One stage table row per distinct stage in the export: open stages by probability, then won, then other closed."""
    import polars as pl

    found = (
        deals.lazy()
        .with_row_index("position")
        .filter(pl.col("stage").is_not_null())
        .group_by("stage")
        .agg(pl.col("position").min(), pl.col("probability").drop_nulls().mode().min().alias("usual_probability"))
        .sort("position")
        .collect()
    )
    entries: dict[str, dict[str, Any]] = {}
    for row in found.iter_rows(named=True):
        entries.setdefault(stage_key(row["stage"]), stage_entry(row["stage"].strip(), row["usual_probability"]))
    stages = list(entries.values())
    if not any(not stage.get("closed") for stage in stages):
        # A configuration needs an open stage; an export of closed deals only gets the default ones.
        stages = [stage_entry(stage.name, None) for stage in DEFAULT_STAGES if not stage.closed] + stages

    def order(stage: dict[str, Any]) -> tuple:
        probability = stage.get("probability")
        return (stage.get("closed", False), not stage.get("won", False), probability is None, probability or 0)

    return sorted(stages, key=order)


def default_stages() -> list[dict[str, Any]]:
    return [stage_entry(stage.name, None) for stage in DEFAULT_STAGES]


def rule_option_defaults(registry: Registry) -> dict[str, dict[str, Any]]:
    """``[rules.NAME]`` tables spelling out every rule option's default."""
    tables = {}
    for entry in registry.rules.values():
        properties = entry.cls.options_schema.get("properties", {})
        defaults = {option: spec["default"] for option, spec in properties.items() if "default" in spec}
        if defaults:
            tables[entry.cls.name] = defaults
    return tables


def path_from_config(export: Path, config_path: Path) -> str:
    """The export's path as ``[source] path`` holds it: relative to the configuration's folder."""
    try:
        return Path(os.path.relpath(export.resolve(), config_path.resolve().parent)).as_posix()
    except ValueError:  # on another drive than the configuration
        return export.resolve().as_posix()


def render(head: dict[str, Any], stages: list[dict[str, Any]], tail: dict[str, Any]) -> str:
    """TOML text for the configuration ``head``, ``[[pipeline.stages]]`` and ``tail``, in that order."""
    # tomli-w writes short tables of an array inline; the [[pipeline.stages]] form is the
    # one the documentation shows and the easier one to edit, so the stages are written as tables.
    blocks = [tomli_w.dumps(head)]
    blocks += ["[[pipeline.stages]]\n" + tomli_w.dumps(stage) for stage in stages]
    blocks.append(tomli_w.dumps(tail))
    return "\n".join(blocks)


def read_export(export: Path, registry: Registry) -> RawTable:
    if not export.is_file():
        raise SourceError(f"{export}: no such file")
    note_input(export, str(export), "the export")
    source_cls = choose_source(Config(), registry, str(export))
    return source_cls().read(export, options={}, display_name=str(export))


def describe_fields(fields: dict[str, str], columns: list[str]) -> list[str]:
    missing = [field for field in CANONICAL_FIELDS if field not in fields]
    lines = [f"[source.fields]: {len(fields)} of {len(CANONICAL_FIELDS)} fields mapped from the export's header; check them"]
    if missing:
        lines[0] += f" (no column found for {', '.join(missing)})"
    required = [field for field in REQUIRED_FIELDS if field not in fields]
    if required:
        shown = ", ".join(repr(column) for column in columns[:20]) + (", ..." if len(columns) > 20 else "")
        lines.append(f"map {' and '.join(required)} in [source.fields] before auditing; the export's columns are: {shown or '(none)'}")
    return lines


def write_starter_config(path: Path, export: Path | None, *, force: bool = False, blocked: Iterable[str] = ()) -> StarterConfig:
    """Write a starter configuration to ``path``, guessed from ``export`` when given."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory")
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists; pass --force to overwrite it")
    if export is not None:
        # Before reading the export, so that `init EXPORT -o EXPORT` is refused without a word of guessing.
        note_input(export, str(export), "the export")
        claim_output(path, str(path), "the configuration")
    registry = load_registry(blocked=blocked)
    head: dict[str, Any] = {"fail_on": "error"}
    stages = default_stages()
    next_steps = []
    owner_example = "Ada Lovelace"
    if export is None:
        next_steps.append("set [source] path to your export and map its columns in [source.fields] (or run: hygiene init EXPORT)")
    else:
        raw = read_export(export, registry)
        fields = guess_fields(raw.frame.columns)
        source: dict[str, Any] = {"path": path_from_config(export, path)}
        next_steps += describe_fields(fields, raw.frame.columns)
        if all(field in fields for field in REQUIRED_FIELDS):
            date_format = guess_date_format(raw, fields)
            if date_format is not None:
                source["date_format"] = date_format
                next_steps.append(f"[source] date_format = {date_format!r} reads the export's dates best; check it")
            deals = normalise(raw, fields, ReadOptions(date_format=date_format)).frame
            if deals.height:
                stages = guess_stages(deals)
                owners = deals.get_column("owner").drop_nulls()
                owner_example = owners[0] if len(owners) else owner_example
        source["fields"] = fields
        head["source"] = source
    head["pipeline"] = {"fiscal_year_start_month": 1}
    next_steps += [
        f"[[pipeline.stages]]: {len(stages)} stages; check each one's probability, max_days, closed and won",
        f'[quotas]: add one line per owner with a quota for the period, e.g. "{owner_example}" = 150000',
        "then run: hygiene audit   (the audit date is today; pin it with --as-of YYYY-MM-DD or as_of = \"YYYY-MM-DD\")",
    ]
    tail = {"quotas": {}, "rules": rule_option_defaults(registry)}
    try:
        with atomic_text_writer(path, what="the configuration", claimed=export is not None) as stream:
            stream.write(render(head, stages, tail))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the configuration: {exc.strerror or exc}") from None
    document = {**head, "pipeline": {**head["pipeline"], "stages": stages}, **tail}
    return StarterConfig(path=path, document=document, next_steps=next_steps)
