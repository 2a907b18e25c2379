"""Read and validate ``hygiene.toml``.

Every problem becomes one line: the file, the TOML path of the offending
key, and what is wrong with it, e.g.
``hygiene.toml: rules.stale-stage.max_days: 'abc' is not of type 'integer'``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hygiene.api.errors import ConfigError
from hygiene.api.models import Stage
from hygiene.api.preset import DealStatus
from hygiene.api.stages import stage_key
from hygiene.config.waivers import Waiver, dates_as_text, parse_waivers
from hygiene.files import json_path, json_value_problem, read_user_text

DEFAULT_CONFIG_NAME = "hygiene.toml"


@attrs.define(kw_only=True)
class SourceSettings:
    path: str | None = None
    type: str | None = None
    date_format: str | None = None
    decimal: str = "."
    #: The years a date may fall in, both included (``[source] date_window = [1900, 2200]``).
    date_window: tuple[int, int] = (1900, 2200)
    fields: dict[str, str] = attrs.field(factory=dict)
    #: Keys a source plugin declares (``delimiter``, ``encoding`` ...).
    options: dict[str, Any] = attrs.field(factory=dict)
    #: ``[source] preset``: the CRM preset the other keys start from.
    preset: str | None = None
    #: Columns that may feed each field, preferred first, used only when the export has them (a preset's).
    field_candidates: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    #: ``[source.status]``: where the export says a deal is open, won or lost.
    status: DealStatus | None = None
    #: True when ``status`` came from a preset: an export without its columns then decides by stage alone.
    status_optional: bool = False
    #: ``[source.forecast_categories]``: the export's value -> hygiene's category.
    forecast_categories: dict[str, str] = attrs.field(factory=dict)
    #: ``[source] stage_entered_columns``: one column per stage holding the date it was entered.
    stage_entered_columns: str | None = None
    pipeline_column: str | None = None
    #: ``[[source.lookups]]``: id-to-name joins from other files.
    lookups: list[Lookup] = attrs.field(factory=list)


@attrs.define(frozen=True, kw_only=True)
class Lookup:
    """``[[source.lookups]]``: replace the ids in an export ``column`` by names from another file.

    ``key`` is the other file's id column and ``value`` its name column; an
    id the file does not hold is kept as it is.
    """

    column: str
    path: str
    key: str = "Id"
    value: str = "Name"


@attrs.define(frozen=True, kw_only=True)
class RosterSettings:
    """``[roster]``: one row per owner, with the team, manager, region, segment and quota they belong to."""

    path: str
    #: roster field -> column, as ``[source.fields]`` maps deal fields.
    fields: dict[str, str] = attrs.field(factory=dict)
    sheet: str | int | None = None


@attrs.define(frozen=True, kw_only=True)
class CurrencySettings:
    """``[currency]``: the currency every sum is in, and how to get there."""

    base: str | None = None
    #: currency -> how many ``base`` one unit of it is worth.
    rates: dict[str, float] = attrs.field(factory=dict)
    rates_path: str | None = None
    #: ``error`` (exit 2 on a sum over several currencies without rates) or ``per-currency``.
    on_mixed: str = "error"


@attrs.define(kw_only=True)
class HistorySettings:
    """``[history]``: where the snapshot store is, and whether audits record their runs in it."""

    #: A SQLAlchemy URL without a password (``HYGIENE_HISTORY_URL`` carries one); None for the default SQLite file.
    url: str | None = None
    record_runs: bool = True


@attrs.define(frozen=True, kw_only=True)
class ReportSettings:
    """``[report]``: how human-facing reports look; the command line's ``--color`` and ``--rows-per-view`` beat them."""

    #: ``auto``, ``always`` or ``never``; None when the file does not say.
    color: str | None = None
    #: Rows per table in the HTML report; None when the file does not say.
    rows_per_view: int | None = None


@attrs.define(kw_only=True)
class Config:
    """A validated configuration. ``base_dir`` anchors relative paths."""

    file: str | None = None
    base_dir: Path = attrs.field(factory=Path.cwd)
    #: The audit date pinned by the configuration; ``--as-of`` beats it, today replaces it when absent.
    as_of: dt.date | None = None
    select: list[str] | None = None
    ignore: list[str] = attrs.field(factory=list)
    fail_on: str = "error"
    #: The CI gates besides ``fail_on`` (see :mod:`hygiene.ci.gates`); the command line beats them.
    max_findings: int = 0
    min_score: str | None = None
    strict_baseline: bool = False
    source: SourceSettings = attrs.field(factory=SourceSettings)
    fiscal_year_start_month: int = 1
    stages: tuple[Stage, ...] | None = None
    quotas: dict[str, float] = attrs.field(factory=dict)
    #: ``[rules.X]`` tables as written, keyed by what the user wrote (a code or a name).
    rule_tables: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    waivers: list[Waiver] = attrs.field(factory=list)
    #: ``[forecast]`` as validated; :class:`hygiene.forecast.settings.ForecastSettings` reads it.
    forecast: dict[str, Any] = attrs.field(factory=dict)
    #: ``[history]`` as written; None when the file has no such table.
    history: HistorySettings | None = None
    roster: RosterSettings | None = None
    currency: CurrencySettings | None = None
    report: ReportSettings = attrs.field(factory=ReportSettings)


@attrs.define(kw_only=True)
class RawConfig:
    """A parsed but not yet validated configuration file."""

    data: dict[str, Any]
    file: str | None
    base_dir: Path


def read_config(path: Path | None, display_name: str | None = None) -> RawConfig:
    """Parse a TOML file, or return an empty configuration for ``None``."""
    if path is None:
        return RawConfig(data={}, file=None, base_dir=Path.cwd())
    name = display_name or str(path)
    # Windows editors may save UTF-8 with a byte-order mark, which TOML parsers refuse.
    text = read_user_text(path, name, ConfigError, encoding="utf-8-sig", role="the configuration")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{name}: invalid TOML: arrays or tables nested too deeply to be a configuration") from None
    except ValueError as exc:  # an integer longer than Python converts
        raise ConfigError(f"{name}: invalid TOML: {json_value_problem(exc)}") from None
    return RawConfig(data=data, file=name, base_dir=path.resolve().parent)


def _describe(error) -> str:
    """One line for a jsonschema error, phrased for someone editing TOML."""
    where = json_path(error.absolute_path)  # TOML keys read the same way: rules.stale-stage.max_days
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in allowed)
        parent = where or "top level"
        if where == "rules":
            return f"rules: unknown rule {unknown[0]!r} (`hygiene rules` lists them)"
        key = f"{where}.{unknown[0]}" if where else unknown[0]
        hint = ", ".join(sorted(allowed))
        return f"{key}: unknown key in {parent} (expected one of: {hint})"
    if error.validator == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return f"{where}: {error.instance!r} is not one of {options}"
    return f"{where or 'top level'}: {error.message}"


def validate(raw: RawConfig, schema: dict[str, Any]) -> Config:
    """Check ``raw`` against ``schema`` and build a :class:`Config`."""
    import jsonschema

    data = dict(raw.data)
    # TOML has a date type of its own: `as_of = 2026-03-31` means what the quoted form means.
    if type(data.get("as_of")) is dt.date:
        data["as_of"] = data["as_of"].isoformat()
    if "waivers" in data:
        data["waivers"] = dates_as_text(data["waivers"])
    name = raw.file or "configuration"
    _refuse_non_finite(data, name)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(f"{name}: {_describe(best)}")
    source = dict(data.get("source", {}))
    core_keys = {
        "path", "type", "date_format", "decimal", "fields", "date_window", "preset", "status",
        "forecast_categories", "stage_entered_columns", "pipeline_column", "lookups",
    }
    status = source.get("status")
    if status is not None and ("column" in status) == ("closed_flag" in status):
        raise ConfigError(f"{name}: source.status: give either column (a status column) or closed_flag (and won_flag)")
    settings = SourceSettings(
        path=source.get("path"),
        type=source.get("type"),
        date_format=check_date_format(source["date_format"], name) if "date_format" in source else None,
        decimal=source.get("decimal", "."),
        date_window=_date_window(source.get("date_window", [1900, 2200]), name),
        fields=dict(source.get("fields", {})),
        options={k: v for k, v in source.items() if k not in core_keys},
        preset=source.get("preset"),
        status=DealStatus.from_table(status) if status is not None else None,
        forecast_categories=dict(source.get("forecast_categories", {})),
        stage_entered_columns=source.get("stage_entered_columns"),
        pipeline_column=source.get("pipeline_column"),
        lookups=[Lookup(**table) for table in source.get("lookups", [])],
    )
    roster = data.get("roster")
    currency = data.get("currency")
    pipeline = data.get("pipeline", {})
    stages = None
    if "stages" in pipeline:
        stages = _stages(pipeline["stages"], name)
    return Config(
        file=raw.file,
        base_dir=raw.base_dir,
        as_of=_as_of(data.get("as_of"), name),
        select=list(data["select"]) if "select" in data else None,
        ignore=list(data.get("ignore", [])),
        fail_on=data.get("fail_on", "error"),
        max_findings=data.get("max_findings", 0),
        min_score=None if data.get("min_score") is None else str(data["min_score"]),
        strict_baseline=data.get("strict_baseline", False),
        source=settings,
        fiscal_year_start_month=pipeline.get("fiscal_year_start_month", 1),
        stages=stages,
        quotas={owner: float(quota) for owner, quota in data.get("quotas", {}).items()},
        rule_tables={key: dict(table) for key, table in data.get("rules", {}).items()},
        waivers=parse_waivers(data.get("waivers", []), name),
        forecast=dict(data.get("forecast", {})),
        history=_history(data.get("history"), name),
        roster=RosterSettings(path=roster["path"], fields=dict(roster.get("fields", {})), sheet=roster.get("sheet")) if roster else None,
        currency=_currency(currency) if currency else None,
        report=ReportSettings(**data.get("report", {})),
    )


def _currency(table: dict[str, Any]) -> CurrencySettings:
    return CurrencySettings(
        base=table.get("base"),
        rates={code.upper(): float(rate) for code, rate in table.get("rates", {}).items()},
        rates_path=table.get("rates_path"),
        on_mixed=table.get("on_mixed", "error"),
    )


def _refuse_non_finite(value: Any, name: str, where: tuple = ()) -> None:
    """NaN and infinity are not numbers a quota or a threshold can be: every comparison with them is false."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name}: {json_path(where) or 'top level'}: {value!r} is not a number (use a finite value)")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_non_finite(item, name, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_non_finite(item, name, (*where, index))


#: Directives that write a year, a month and a day; %F (%Y-%m-%d), %D (%m/%d/%y) and %x write all three.
_DATE_DIRECTIVE = re.compile(r"%[-_0^#]?[:.]?\d?([A-Za-z%])")
_WHOLE_DATE = {"F", "D", "x", "c"}


def check_date_format(date_format: str, name: str) -> str:
    """``date_format`` when it reads dates (a year, a month and a day), else a :class:`ConfigError` saying why."""
    letters = set(_DATE_DIRECTIVE.findall(date_format))
    where = f"{name}: source.date_format: {date_format!r}"
    if letters & {"s", "Q"}:
        raise ConfigError(f"{where}: %s reads a Unix timestamp, not a date written as text; write the export's dates with %Y, %m and %d")
    if not letters & _WHOLE_DATE:
        missing = [part for part, found in (("a year (%Y or %y)", "Yy"), ("a month (%m, %b or %B)", "mbBh"), ("a day (%d or %e)", "dej")) if not letters & set(found)]
        if "j" in letters and letters & set("Yy"):
            missing = []  # a year and its day number are a date
        if missing:
            raise ConfigError(f"{where}: cannot read a date: it has no {' and no '.join(missing)}")
    import polars as pl
    from polars.exceptions import PanicException

    try:
        pl.select(pl.lit("2026-01-02").str.strptime(pl.Datetime, date_format.replace(".%f", "%.f"), strict=False))
    except (pl.exceptions.PolarsError, PanicException) as exc:
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise ConfigError(f"{where}: not a format polars can read: {reason}") from None
    return date_format


def _date_window(value: list[int], name: str) -> tuple[int, int]:
    first, last = value
    if first > last:
        raise ConfigError(f"{name}: source.date_window: [{first}, {last}]: the first year must not be after the last")
    return first, last


def _history(table: dict[str, Any] | None, name: str) -> HistorySettings | None:
    if table is None:
        return None
    url = table.get("url")
    if url is not None and _has_password(url):
        raise ConfigError(f"{name}: history.url: holds a password; keep it out of the file and set HYGIENE_HISTORY_URL instead")
    return HistorySettings(url=url, record_runs=table.get("record_runs", True))


def _has_password(url: str) -> bool:
    credentials = url.partition("://")[2].rpartition("@")[0]
    return ":" in credentials


def _as_of(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{name}: as_of: {value!r} is not a date in YYYY-MM-DD form") from None


def _stages(tables: list[dict[str, Any]], name: str) -> tuple[Stage, ...]:
    seen: dict[str, int] = {}
    stages = []
    for index, table in enumerate(tables):
        key = stage_key(table["name"])
        if key in seen:
            raise ConfigError(f"{name}: pipeline.stages[{index}].name: stage {table['name']!r} is listed twice (first at pipeline.stages[{seen[key]}])")
        seen[key] = index
        won = table.get("won", False)
        closed = table.get("closed", False)
        if won and not closed:
            raise ConfigError(f"{name}: pipeline.stages[{index}]: a won stage must also be closed (add closed = true)")
        stages.append(
            Stage(
                table["name"],
                table.get("probability"),
                table.get("max_days"),
                closed=closed,
                won=won,
                order=table.get("order"),
                max_inactive_days=table.get("max_inactive_days"),
                requires_next_step=table.get("requires_next_step"),
            )
        )
    if all(stage.closed for stage in stages):
        raise ConfigError(f"{name}: pipeline.stages: every stage is closed; at least one must be open")
    return tuple(stages)
