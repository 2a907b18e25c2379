"""Money in one currency: amounts converted to ``[currency] base`` before anything adds them up.

A gap to quota, a coverage ratio or an amount at risk over deals in
several currencies means nothing unless the amounts are converted first,
so hygiene never sums them silently. An audit where one group that is
summed (an owner, a team, a manager, a region, a segment) has deals in
more than one currency stops with one line naming the group and the
currencies, unless ``[currency]`` gives a ``base`` and the rates to it
(``[currency.rates]`` or a ``rates_path`` file with ``currency`` and
``rate`` columns), or says ``on_mixed = "per-currency"``: amounts then stay
as they are and the report's groups give each currency's sums separately
(quotas, which need one currency, are then refused). A team selling in
euros beside one selling in dollars mixes nothing and needs neither.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import polars as pl

from hygiene.api.errors import ConfigError, SourceError
from hygiene.api.fields import GROUP_LEVELS
from hygiene.audit.export_mapping import read_side_raw
from hygiene.audit.normalise import list_columns
from hygiene.config.settings import CurrencySettings
from hygiene.plugin.registry import Registry

#: The deal table's column holding the amount as the export gave it, when it was converted.
ORIGINAL_AMOUNT_COLUMN = "amount_in_deal_currency"


@attrs.define(frozen=True, kw_only=True)
class Money:
    """How the audit's amounts are expressed: ``base`` (None: the export's one currency, unnamed), or per currency."""

    base: str | None = None
    per_currency: bool = False
    currencies: tuple[str, ...] = ()


def _codes(frame: pl.DataFrame) -> list[str]:
    if "currency" not in frame.columns:
        return []
    values = frame.get_column("currency").drop_nulls().str.strip_chars().str.to_uppercase().unique().sort()
    return [code for code in values.to_list() if code]


def _mixed_group(frame: pl.DataFrame) -> tuple[str, str | None, list[str]] | None:
    """The first group (owner, team, manager, region, segment) whose amounts are in several currencies."""
    priced = frame.filter(pl.col("amount").is_not_null() & pl.col("currency").is_not_null()).with_columns(
        pl.col("currency").str.strip_chars().str.to_uppercase()
    )
    for level in GROUP_LEVELS:
        if level not in priced.columns or frame.get_column(level).null_count() == frame.height:
            continue  # a level the audit has no data for is not reported, so not summed
        mixed = (
            priced.group_by(level)
            .agg(pl.col("currency").unique().sort().alias("found"))
            .filter(pl.col("found").list.len() > 1)
            .sort(level, nulls_last=True)
        )
        if mixed.height:
            name, found = mixed.row(0)
            return level, name, list(found)
    return None


def read_rates(path: Path, display: str, registry: Registry) -> dict[str, float]:
    raw = read_side_raw(path, display, registry)
    frame = raw.frame
    columns = {c.strip().lower(): c for c in frame.columns}
    if "currency" not in columns or "rate" not in columns:
        raise SourceError(f"{display}: a rates file needs the columns currency and rate; its columns are: {list_columns(frame.columns)}")
    rows = list(raw.rows) if raw.rows is not None else list(range(raw.first_row, raw.first_row + frame.height))
    rates = {}
    for row, code, rate in zip(rows, frame.get_column(columns["currency"]).to_list(), frame.get_column(columns["rate"]).to_list(), strict=True):
        try:
            value = float(str(rate).strip())
        except ValueError:
            value = -1.0
        if code is None or not str(code).strip() or not value > 0:
            raise SourceError(f"{display}: row {row}: {code!r} at {rate!r} is not a currency code with a rate above 0")
        rates[str(code).strip().upper()] = value
    return rates


def convert_amounts(
    frame: pl.DataFrame, settings: CurrencySettings | None, *, base_dir: Path, registry: Registry, location: str, config_file: str | None
) -> tuple[pl.DataFrame, Money]:
    """The deal table with every amount in the base currency, and how amounts are expressed."""
    codes = _codes(frame)
    where = config_file or "configuration"
    if settings is None or (settings.base is None and settings.on_mixed == "error"):
        if len(codes) > 1 and (mixed := _mixed_group(frame)) is not None:
            level, name, found = mixed
            group = f"{level} {name!r}" if name is not None else f"the deals with no {level}"
            raise SourceError(
                f"{location}: {group} has deals in {', '.join(found)}: amounts in different currencies are never "
                'added up; set [currency] base = "..." with [currency.rates] (or rates_path), or on_mixed = "per-currency"'
            )
        return frame, Money(base=codes[0] if len(codes) == 1 else None, currencies=tuple(codes))
    base = settings.base.upper() if settings.base else None
    rates = dict(settings.rates)
    if settings.rates_path:
        rates = {**read_rates(base_dir / settings.rates_path, settings.rates_path, registry), **rates}
    if base is not None:
        rates[base] = 1.0
    missing = [code for code in codes if code not in rates]
    if missing and not (settings.on_mixed == "per-currency"):
        if base is None:
            raise ConfigError(f"{where}: currency: rates are given but no base currency (set [currency] base)")
        raise SourceError(
            f"{location}: no rate to {base} for {', '.join(missing)} (deals in {', '.join(codes)}); add them to [currency.rates]"
        )
    if missing or base is None:
        # per-currency: amounts stay as the export gave them; sums are per currency.
        return frame, Money(base=base, per_currency=True, currencies=tuple(codes))
    code = pl.col("currency").str.strip_chars().str.to_uppercase().fill_null(base)
    rate = code.replace_strict(rates, default=None, return_dtype=pl.Float64)
    converted = frame.with_columns(
        pl.col("amount").alias(ORIGINAL_AMOUNT_COLUMN),
        (pl.col("amount") * rate).round(2).alias("amount"),
    )
    return converted, Money(base=base, currencies=tuple(codes))
