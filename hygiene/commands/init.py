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
from hygiene.api.fields import CANONICAL_FIELDS, CLOSED_FLAG_COLUMN, REQUIRED_FIELDS, WON_FLAG_COLUMN, column_key
from hygiene.api.models import DEFAULT_STAGES, Stage
from hygiene.api.source import RawTable
from hygiene.api.stages import StageTable, stage_key
from hygiene.audit.export_mapping import prepare_export, read_side_table
from hygiene.audit.normalise import ReadOptions, list_columns, normalise, resolve_columns
from hygiene.audit.read import check_export_path, choose_source
from hygiene.audit.roster import guess_roster_fields
from hygiene.config.presets import detect_preset
from hygiene.config.settings import Config, SourceSettings
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
    "team": ("Owner Role", "Sales Team", "HubSpot Team", "Team"),
    "manager": ("Manager", "Sales Manager", "Owner Manager"),
    "region": ("Region", "Regional Office", "Sales Region", "Territory"),
    "segment": ("Segment", "Market Segment"),
    "stage": ("Stage", "StageName", "Deal Stage", "Opportunity Stage", "Sales Stage", "Pipeline Stage"),
    "amount": ("Amount", "Deal Amount", "Opportunity Amount", "Amount in company currency", "Deal Value", "Close Value", "Value"),
    "currency": ("Opportunity Currency", "CurrencyIsoCode", "Deal currency code", "Currency", "Currency Code"),
    "probability": ("Probability (%)", "Probability", "Deal probability", "Win Probability", "hs_deal_stage_probability"),
    "forecast_category": ("ForecastCategoryName", "Forecast Category", "hs_manual_forecast_category"),
    "created_date": ("Created Date", "Create Date", "Date Created", "Created On", "Created"),
    "close_date": ("Close Date", "Expected Close Date", "Estimated Close Date", "Closing Date"),
    "stage_entered_date": (
        "Last Stage Change Date",
        "Date entered current stage",
        "Stage Entered Date",
        "Stage Change Date",
        "Stage Date",
        "Engage Date",
    ),
    "last_activity_date": ("Last Activity", "Last Activity Date", "Last Contacted", "Last Engagement Date", "notes_last_updated"),
    "close_date_pushes": ("Push Count", "Push_Count__c", "Close Date Pushes", "Close Date Push Count", "Times Pushed", "Pushes"),
    "contacts": ("Contact Roles", "Number of Contact Roles", "Number of Associated Contacts", "num_associated_contacts", "Contact Count", "Number of Contacts", "Contacts"),
    "next_step": ("Next Step", "hs_next_step"),
    "next_step_date": ("Next Step Date", "Next_Step_Date__c", "Next Step Due Date"),
    "next_activity_date": ("Next Activity", "Next Activity Date", "NextActivityDate", "notes_next_activity_date"),
    "lead_source": ("Lead Source", "LeadSource", "Original Source", "hs_analytics_source"),
    "deal_type": ("Type", "Opportunity Type", "Deal Type", "dealtype"),
    "product": ("Product", "Product Name", "Primary Product", "Product Family"),
    "lost_reason": ("Loss Reason", "Closed Lost Reason", "Lost Reason", "Loss_Reason__c", "closed_lost_reason"),
    "owner_active": ("Owner Active", "Opportunity Owner: Active", "Owner.IsActive", "Owner Is Active", "Active"),
    "owner_end_date": ("Owner End Date", "End Date", "Termination Date", "Leaving Date"),
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
        # Spelled out: a default derived from the stage's place would move when stages are added.
        if (inactive := StageTable().max_inactive_days(default.name)) is not None:
            entry["max_inactive_days"] = inactive
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
    check_export_path(export, str(export))
    note_input(export, str(export), "the export")
    source_cls = choose_source(Config(), registry, str(export))
    return source_cls().read(export, options={}, display_name=str(export))


def describe_fields(fields: dict[str, str], columns: list[str]) -> list[str]:
    missing = [field for field in CANONICAL_FIELDS if field not in fields]
    lines = [f"[source.fields]: {len(fields)} of {len(CANONICAL_FIELDS)} fields mapped from the export's header; check them"]
    if missing:
        lines[0] += f" (no column found for {', '.join(missing)})"
    return lines


@attrs.define(kw_only=True)
class Guess:
    """What ``init`` (and ``audit`` without a configuration) guessed from an export."""

    head: dict[str, Any]
    stages: list[dict[str, Any]]
    tail: dict[str, Any]
    #: What the user should check, in the order the file has it.
    next_steps: list[str]
    #: What could not be decided (also written as comments at the top of the file).
    undecided: list[str]
    #: Comments for stage tables, by stage name (the deal count, how it was placed).
    stage_notes: dict[str, str]
    preset: str | None = None

    @property
    def guessed_anything(self) -> bool:
        """Whether anything was guessed beyond what an audit without a configuration reads anyway:
        a preset, a date format, or a column that does not carry its field's name."""
        source = self.head.get("source", {})
        renamed = [field for field, column in source.get("fields", {}).items() if column_key(column) != column_key(field)]
        return bool(self.preset or renamed or "date_format" in source)

    @property
    def document(self) -> dict[str, Any]:
        return {**self.head, "pipeline": {**self.head["pipeline"], "stages": self.stages}, **self.tail}


def _no_id(export: Path, columns: list[str]) -> SourceError:
    looked = ", ".join(repr(name) for name in COLUMN_NAMES["id"])
    return SourceError(
        f"{export}: no id column found (looked for {looked} and the presets' id columns); its columns are: {list_columns(columns)}; "
        'write a hygiene.toml with [source.fields] id = "Column Name"'
    )


def guess_config(
    export: Path,
    registry: Registry,
    *,
    config_path: Path,
    roster: Path | None = None,
    lookups: Iterable[Path] = (),
) -> Guess:
    """Guess a configuration that audits ``export`` as it is: its preset, fields, date format, stages, roster and lookups.

    Raises :class:`SourceError` when no column can be the deal id: a
    configuration of defaults would only fail later, less clearly.
    """

    raw = read_export(export, registry)
    columns = list(raw.frame.columns)
    match = detect_preset(columns, [entry.cls for entry in registry.presets.values()])
    preset = match.preset if match is not None else None
    next_steps: list[str] = []
    undecided: list[str] = []
    fields = guess_fields(columns)
    if preset is not None:
        try:
            from_preset = resolve_columns(columns, {}, str(export), preset.fields)
        except SourceError:
            from_preset = {}
        fields = {field: from_preset.get(field, fields.get(field)) for field in CANONICAL_FIELDS if field in from_preset or field in fields}
        next_steps.append(f'[source] preset = "{preset.name}": recognised from the header, {match.describe()}; check it')
    elif registry.presets:
        next_steps.append("no CRM preset matched the header (known: " + ", ".join(registry.presets) + "); the columns were guessed by name")
    if "id" not in fields:
        raise _no_id(export, columns)
    source: dict[str, Any] = {"path": path_from_config(export, config_path)}
    if preset is not None:
        source["preset"] = preset.name
    next_steps += describe_fields(fields, columns)
    if "stage" not in fields:
        undecided.append("no stage column: every deal is audited as open in an unknown stage")
    settings = SourceSettings(fields=fields)
    if preset is not None:
        settings = attrs.evolve(
            settings,
            status=preset.status,
            status_optional=True,
            stage_entered_columns=preset.stage_entered_columns,
            pipeline_column=preset.pipeline_column,
        )
    prepared = prepare_export(raw, settings, base_dir=config_path.resolve().parent, registry=registry, config_file=None)
    date_format = guess_date_format(prepared, fields)
    preset_format = preset.date_format if preset is not None else None
    if date_format is not None:
        source["date_format"] = date_format
        next_steps.append(f"[source] date_format = {date_format!r} reads the export's dates best; check it")
    stages = [stage_entry(stage.name, None) for stage in (preset.stages if preset is not None else DEFAULT_STAGES)]
    stage_notes: dict[str, str] = {}
    owner_example = "Ada Lovelace"
    if "stage" in fields:
        normalised = normalise(prepared, fields, ReadOptions(date_format=source.get("date_format", preset_format)))
        deals = normalised.frame
        for field in ("owner", "amount", "close_date", "stage_entered_date"):
            if field not in normalised.column_for_field:
                undecided.append(f"no column for {field}: the rules that need it count its deals as not evaluable")
        if deals.height:
            # Flags that say "closed" deal by deal (IsClosed) mark the stages they close; a status column
            # (Pipedrive, Dynamics) closes deals in any stage, so it marks none.
            flags_close_stages = preset is not None and preset.status is not None and preset.status.closed_flag is not None
            stages, stage_notes, unplaced = stages_from_export(
                deals if flags_close_stages else deals.drop(CLOSED_FLAG_COLUMN, strict=False),
                preset.stages if preset is not None else DEFAULT_STAGES,
                whole_table=preset is not None,
            )
            undecided += unplaced
            owners = deals.get_column("owner").drop_nulls()
            owner_example = owners[0] if len(owners) else owner_example
            if CLOSED_FLAG_COLUMN in deals.columns:
                next_steps.append("open, won and lost come from the export's own status columns; the stage table's closed and won mark the stages the export closes")
    source["fields"] = fields
    head: dict[str, Any] = {"fail_on": "error", "source": source, "pipeline": {"fiscal_year_start_month": 1}}
    tail: dict[str, Any] = {"quotas": {}, "rules": rule_option_defaults(registry)}
    if roster is not None:
        head["roster"] = guess_roster(roster, registry, config_path, next_steps, undecided)
    if lookups:
        source["lookups"] = [guess_lookup(lookup, raw, registry, config_path, next_steps) for lookup in lookups]
    next_steps += [
        f"[[pipeline.stages]]: {len(stages)} stages; check each one's probability, max_days, closed and won",
        f'[quotas]: add one line per owner with a quota for the period, e.g. "{owner_example}" = 150000'
        + (" (or a quota column in the roster)" if roster is not None else ""),
        "then run: hygiene audit   (the audit date is today; pin it with --as-of YYYY-MM-DD or as_of = \"YYYY-MM-DD\")",
    ]
    return Guess(head=head, stages=stages, tail=tail, next_steps=next_steps, undecided=undecided, stage_notes=stage_notes, preset=preset.name if preset else None)


def stages_from_export(
    deals: pl.DataFrame, known: Iterable[Stage], *, whole_table: bool = False
) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
    """The stage table for the stages the export holds, their deal counts, and the stages that could not be placed.

    A stage in ``known`` (the preset's, or the default table) takes its
    row; the export's own most common probability for it wins over the
    table's. Where the export says deals are closed and won (status
    columns), a stage all of whose deals are closed is closed, and won when
    they are all won. Any other stage is placed by its name.
    """
    import polars as pl


    table = {stage_key(stage.name): stage for stage in known}
    has_flags = CLOSED_FLAG_COLUMN in deals.columns
    aggregations = [pl.len().alias("deals"), pl.col("position").min(), pl.col("probability").drop_nulls().mode().min().alias("usual_probability")]
    if has_flags:
        aggregations += [
            pl.col(CLOSED_FLAG_COLUMN).drop_nulls().len().alias("flagged"),
            pl.col(CLOSED_FLAG_COLUMN).drop_nulls().all().alias("all_closed"),
            (~pl.col(CLOSED_FLAG_COLUMN).drop_nulls()).all().alias("all_open"),
            pl.col(WON_FLAG_COLUMN).drop_nulls().all().alias("all_won"),
        ]
    found = (
        deals.lazy()
        .with_row_index("position")
        .filter(pl.col("stage").is_not_null())
        .with_columns(pl.col("stage").str.strip_chars())
        .group_by(pl.col("stage").str.to_lowercase().alias("key"))
        .agg(pl.col("stage").first().alias("stage"), *aggregations)
        .sort("position")
        .collect()
    )
    entries: list[dict[str, Any]] = []
    notes: dict[str, str] = {}
    unplaced: list[str] = []
    for row in found.iter_rows(named=True):
        name = row["stage"]
        count = f"{row['deals']:,} deal{'s' if row['deals'] != 1 else ''} in the export"
        known_stage = table.get(stage_key(name))
        if known_stage is not None:
            entry: dict[str, Any] = {"name": name}
            probability = row["usual_probability"] if row["usual_probability"] is not None else known_stage.probability
            if probability is not None:
                entry["probability"] = _number(probability)
            if known_stage.max_days is not None:
                entry["max_days"] = known_stage.max_days
            if known_stage.closed:
                entry["closed"] = True
            if known_stage.won:
                entry["won"] = True
            how = "from the preset's stage table"
        else:
            entry = stage_entry(name, row["usual_probability"])
            how = "placed by its name"
        if has_flags and row["flagged"]:
            if row["all_closed"]:
                entry["closed"] = True
                entry["probability"] = 100 if row["all_won"] else 0
                entry.pop("max_days", None)
                if row["all_won"]:
                    entry["won"] = True
                else:
                    entry.pop("won", None)
                how = "closed by the export's status columns" + (" (all won)" if row["all_won"] else "")
            elif row["all_open"]:
                entry.pop("closed", None)
                entry.pop("won", None)
                how = "open by the export's status columns"
            else:
                how = "the export closes some of its deals and not others: the status columns decide deal by deal"
        elif known_stage is None:
            words = set(re.findall(r"[a-z]+", name.casefold()))
            if not words & CLOSED_WORDS:
                unplaced.append(f"stage {name!r} is in no stage table: written as open" + ("" if "probability" in entry else ", with no probability"))
        notes[name] = f"{count}; {how}"
        entries.append(entry)
    found_keys = {stage_key(entry["name"]) for entry in entries}
    for stage in known if whole_table else ():
        # The rest of the CRM's table: the next export may hold them.
        if stage_key(stage.name) not in found_keys:
            entry = {"name": stage.name}
            if stage.probability is not None:
                entry["probability"] = _number(stage.probability)
            if stage.max_days is not None:
                entry["max_days"] = stage.max_days
            if stage.closed:
                entry["closed"] = True
            if stage.won:
                entry["won"] = True
            entries.append(entry)
            notes[stage.name] = "no deal in the export; from the " + ("preset's" if tuple(known) != DEFAULT_STAGES else "default") + " stage table"

    return in_process_order(entries, known), notes, unplaced


def in_process_order(entries: list[dict[str, Any]], known: Iterable[Stage]) -> list[dict[str, Any]]:
    """Stage table rows with the open stages in the sales process's order, then the won ones, then the other closed ones.

    The order of the open stages is the process (it decides "an earlier
    stage", the days a stage may go without activity and whether it needs a
    next step), so the stages of ``known`` keep that table's order, the
    CRM's own, rather than one guessed from probabilities: Pipedrive and
    Dynamics stages carry none, and Salesforce gives Prospecting and
    Qualification the same 10%. A stage ``known`` does not hold goes before
    the first stage with a higher probability, or last when it has none.
    """
    places = {stage_key(stage.name): place for place, stage in enumerate(known)}

    def probability(entry: dict[str, Any]) -> float | None:
        return entry.get("probability")

    open_entries = [entry for entry in entries if not entry.get("closed")]
    ordered = sorted((e for e in open_entries if stage_key(e["name"]) in places), key=lambda e: places[stage_key(e["name"])])
    unknown = [e for e in open_entries if stage_key(e["name"]) not in places]
    for entry in sorted(unknown, key=lambda e: (probability(e) is None, probability(e) or 0)):
        mine = probability(entry)
        later = (i for i, other in enumerate(ordered) if mine is not None and probability(other) is not None and probability(other) > mine)
        ordered.insert(next(later, len(ordered)), entry)
    closed = sorted((e for e in entries if e.get("closed")), key=lambda e: (not e.get("won", False), probability(e) is None, probability(e) or 0))
    return ordered + closed


def guess_roster(roster: Path, registry: Registry, config_path: Path, next_steps: list[str], undecided: list[str]) -> dict[str, Any]:

    frame = read_side_table(roster, str(roster), registry)
    fields = guess_roster_fields(frame.columns, {})
    if "owner" not in fields:
        raise SourceError(f"{roster}: no owner column found in the roster; its columns are: {list_columns(frame.columns)}")
    unused = [column for column in frame.columns if column not in fields.values()]
    next_steps.append(f"[roster]: {frame.height} owners; {', '.join(f'{f} = {c!r}' for f, c in fields.items())}; check them")
    if unused:
        undecided.append(f"roster columns not used: {', '.join(repr(c) for c in unused)} (map them in [roster.fields])")
    return {"path": path_from_config(roster, config_path), "fields": fields}


def guess_lookup(lookup: Path, raw: RawTable, registry: Registry, config_path: Path, next_steps: list[str]) -> dict[str, Any]:
    """A ``[[source.lookups]]`` entry: the export column whose values the file's id column holds most of."""
    import polars as pl


    table = read_side_table(lookup, str(lookup), registry)
    best: tuple[int, str, str] | None = None
    export = raw.frame
    for key in table.columns:
        ids = set(table.get_column(key).cast(pl.String).drop_nulls().to_list())
        if len(ids) < table.height * 0.9 or not ids:
            continue  # an id column is (nearly) unique
        for column in export.columns:
            overlap = export.get_column(column).cast(pl.String).is_in(list(ids)).sum()
            if overlap and (best is None or overlap > best[0]):
                best = (int(overlap), column, key)
    if best is None:
        raise SourceError(f"{lookup}: none of its columns holds values of the export's columns; write [[source.lookups]] by hand")
    _, column, key = best
    names = [c for c in table.columns if c.casefold() == "name"] or [c for c in table.columns if c != key and table.schema[c] == pl.String]
    if not names:
        raise SourceError(f"{lookup}: no name column to replace {column!r} with")
    next_steps.append(f"[[source.lookups]]: {column!r} replaced by {lookup.name}'s {names[0]!r} (joined on its {key!r}); check it")
    return {"column": column, "path": path_from_config(lookup, config_path), "key": key, "value": names[0]}


def render_commented(guess: Guess) -> str:
    """The configuration as TOML, with what could not be decided and each stage's deal count as comments."""
    lines = ["# Written by hygiene init" + (f" (preset {guess.preset})" if guess.preset else "") + "."]
    if guess.undecided:
        lines.append("# Not decided, check these:")
        lines += [f"#   - {item}" for item in guess.undecided]
    blocks = ["\n".join(lines) + "\n", tomli_w.dumps(guess.head)]
    for stage in guess.stages:
        note = guess.stage_notes.get(stage["name"])
        comment = f"# {note}\n" if note else ""
        blocks.append(comment + "[[pipeline.stages]]\n" + tomli_w.dumps(stage))
    blocks.append(tomli_w.dumps(guess.tail))
    return "\n".join(blocks)


def write_starter_config(
    path: Path,
    export: Path | None,
    *,
    force: bool = False,
    blocked: Iterable[str] = (),
    roster: Path | None = None,
    lookups: Iterable[Path] = (),
) -> StarterConfig:
    """Write a starter configuration to ``path``, guessed from ``export`` (and its roster and lookups) when given."""
    lookups = list(lookups)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory")
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists; pass --force to overwrite it")
    if export is not None:
        # Before reading the export, so that `init EXPORT -o EXPORT` is refused without a word of guessing.
        note_input(export, str(export), "the export")
        if roster is not None:
            note_input(roster, str(roster), "the roster")
        for lookup in lookups:
            note_input(lookup, str(lookup), "the lookup")
        claim_output(path, str(path), "the configuration")
    registry = load_registry(blocked=blocked)
    if export is None:
        head: dict[str, Any] = {"fail_on": "error", "pipeline": {"fiscal_year_start_month": 1}}
        guess = Guess(
            head=head,
            stages=default_stages(),
            tail={"quotas": {}, "rules": rule_option_defaults(registry)},
            next_steps=[
                "set [source] path to your export and map its columns in [source.fields] (or run: hygiene init EXPORT)",
                "[[pipeline.stages]]: 7 stages; check each one's probability, max_days, closed and won",
                '[quotas]: add one line per owner with a quota for the period, e.g. "Ada Lovelace" = 150000',
                "then run: hygiene audit   (the audit date is today; pin it with --as-of YYYY-MM-DD or as_of = \"YYYY-MM-DD\")",
            ],
            undecided=[],
            stage_notes={},
        )
    else:
        guess = guess_config(export, registry, config_path=path, roster=roster, lookups=lookups)
    try:
        with atomic_text_writer(path, what="the configuration", claimed=export is not None) as stream:
            stream.write(render_commented(guess))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the configuration: {exc.strerror or exc}") from None
    next_steps = list(guess.next_steps)
    if guess.stage_notes:
        counted = [(name, note.split(";")[0].replace(" in the export", "")) for name, note in guess.stage_notes.items()]
        # Most deals first; the preset's stages the export does not hold last.
        counted.sort(key=lambda item: -int(item[1].split(" ")[0].replace(",", "")) if item[1][0].isdigit() else 1)
        next_steps.insert(-3, "stages found: " + "; ".join(f"{name} ({count})" for name, count in counted))
    next_steps += [f"not decided: {item}" for item in guess.undecided]
    return StarterConfig(path=path, document=guess.document, next_steps=next_steps)
