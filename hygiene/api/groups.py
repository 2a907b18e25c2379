"""Findings, hygiene score and gap to quota per owner, team, manager, region and segment.

One computation that every reporter shares (``AuditReport.groups()``): the
JSON report writes it as its ``groups`` section, the Markdown and console
reports as a table per level. The levels are the ones the audit has data
for: ``owner`` always, then each of ``team``, ``manager``, ``region`` and
``segment`` that a roster or the export fills for some deal.

Per group: deals and open deals, findings by severity (deal findings by the
deal's group, owner findings such as gap to quota by the owner's), the
hygiene score over its open deals, the open amount, and the quota and gap
to quota of its owners (the sum of the gaps of the owners short of quota).
Deals with no value at a level form the group ``null`` ("(none)").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import polars as pl

from hygiene.api.fields import GROUP_LEVELS
from hygiene.api.models import SEVERITIES

GAP_TO_QUOTA_CODE = "HY004"


@attrs.define(kw_only=True)
class Grouping:
    """What the groups are computed from: each deal's groups, each owner's, the quotas."""

    #: ``id``, ``open``, ``amount``, ``currency`` and a column per level, one row per audited deal.
    deals: pl.DataFrame
    #: ``owner`` and a column per level above it, one row per owner (the roster's, then the export's).
    owners: pl.DataFrame
    levels: tuple[str, ...]
    quotas: Mapping[str, float] = attrs.field(factory=dict)
    #: Sums are per currency (``[currency] on_mixed = "per-currency"``).
    per_currency: bool = False

    def summarise(self, findings: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
        """Level -> one row per group, sorted by name (the group without a name last)."""
        flagged_ids = (
            findings.lazy()
            .filter(pl.col("severity").is_in(["error", "warning"]) & pl.col("deal_id").is_not_null())
            .select(pl.col("deal_id").unique())
            .collect()
            .to_series()
        )
        return self.from_collected(findings, pl.collect_all(self.plans(findings, flagged_ids)))

    def plans(self, findings: pl.DataFrame, flagged_ids: pl.Series) -> list[pl.LazyFrame]:
        """The lazy frames :meth:`from_collected` reads, for the caller to collect with others in one pass.

        ``flagged_ids``: the ids of the deals with an error or warning
        finding. The findings are joined to their deals' groups once for
        every level; only the deals with a finding are looked up.
        """
        levels = list(self.levels)
        deals = self.deals.lazy().select("id", "open", "amount", "currency", *levels)
        marked = deals.with_columns((pl.col("open") & ~pl.col("id").is_in(flagged_ids.implode())).alias("clean")).cache()
        with_deal = findings.lazy().filter(pl.col("deal_id").is_not_null()).select("deal_id", "severity")
        finding_ids = findings.filter(pl.col("deal_id").is_not_null()).get_column("deal_id").unique()
        # A deal listed twice gives its findings the groups of its first row; a finding of a deal not in the
        # table counts in the groups without a name.
        # Eager: a first-distinct filter in a lazy plan could be merged into the is_in filter before it.
        found = self.deals.filter(pl.col("id").is_in(finding_ids.implode())).select(pl.col("id").alias("deal_id"), *levels)
        found = found.filter(pl.col("deal_id").is_first_distinct())
        deal_findings = with_deal.group_by("deal_id", "severity").len().join(found.lazy(), on="deal_id", how="left").cache()
        owner_findings = findings.lazy().filter(pl.col("deal_id").is_null() & pl.col("owner").is_not_null()).select("owner", "severity")
        open_sum = _exact_sum(pl.col("amount").filter(pl.col("open")).fill_null(0.0)).alias("open_amount")
        plans: list[pl.LazyFrame] = []
        for level in levels:
            if level == "owner":
                of_owners = owner_findings.select(pl.col("owner").alias("group"), "severity")
            else:
                of_owners = owner_findings.join(self.owners.lazy().select("owner", pl.col(level).alias("group")), on="owner", how="left").select("group", "severity")
            counted = pl.concat(
                [
                    deal_findings.select(pl.col(level).alias("group"), "severity", pl.col("len").cast(pl.UInt32)),
                    of_owners.group_by("group", "severity").len(),
                ]
            )
            opened = pl.col("open").sum()
            per_group = marked.group_by(pl.col(level).alias("group")).agg(
                pl.len().alias("deals"),
                opened.alias("open_deals"),
                # The share of its open deals with no error or warning: null for a group without open deals.
                pl.when(opened > 0).then(pl.col("clean").sum() / opened).alias("score"),
                *([] if self.per_currency else [open_sum]),
            )
            plans += [counted.group_by("group", "severity").agg(pl.col("len").sum()), per_group]
            if self.per_currency:
                plans.append(marked.filter(pl.col("open")).group_by(pl.col(level).alias("group"), "currency").agg(open_sum))
        return plans

    def from_collected(self, findings: pl.DataFrame, collected: list[pl.DataFrame]) -> dict[str, list[dict[str, Any]]]:
        """The groups from the collected :meth:`plans`: level -> one row per group, sorted by name (the group without a name last)."""
        levels = list(self.levels)
        gaps = {
            owner: float(json.loads(details).get("gap") or 0.0)
            for owner, details in findings.filter((pl.col("code") == GAP_TO_QUOTA_CODE) & pl.col("deal_id").is_null()).select("owner", "details").iter_rows()
        }
        width = 3 if self.per_currency else 2
        return {level: self._level(level, gaps, *collected[width * index : width * index + width]) for index, level in enumerate(levels)}

    def _level(self, level: str, gaps: Mapping[str, float], counted: pl.DataFrame, per_group: pl.DataFrame, amounts: pl.DataFrame | None = None) -> list[dict[str, Any]]:
        owners = self.owners.select("owner", pl.col(level).alias("group")) if level != "owner" else self.owners.select("owner", pl.col("owner").alias("group"))
        owner_group = dict(owners.iter_rows()) if level != "owner" else {o: o for o in self.owners.get_column("owner").to_list()}
        quota_by_group: dict[Any, float] = {}
        gap_by_group: dict[Any, float] = {}
        for owner, quota in self.quotas.items():
            group = owner_group.get(owner, owner if level == "owner" else None)
            quota_by_group[group] = quota_by_group.get(group, 0.0) + float(quota)
            gap_by_group[group] = gap_by_group.get(group, 0.0) + gaps.get(owner, 0.0)
        severity_counts: dict[Any, dict[str, int]] = {}
        for group, severity, n in counted.iter_rows():
            severity_counts.setdefault(group, {})[severity] = int(n)
        names = set(per_group.get_column("group").to_list()) | set(quota_by_group) | set(counted.get_column("group").to_list())
        deal_counts = {group: (int(n), int(o)) for group, n, o in per_group.select("group", "deals", "open_deals").iter_rows()}
        score_by = {group: value for group, value in per_group.select("group", "score").iter_rows()}
        if amounts is not None:
            amount_by: dict[Any, Any] = {}
            for group, currency, value in amounts.iter_rows():
                amount_by.setdefault(group, {})[currency or ""] = round(float(value), 2)
        else:
            amount_by = {group: round(float(value), 2) for group, value in per_group.select("group", "open_amount").iter_rows()}
        rows = []
        for name in sorted(names, key=lambda n: (n is None, n or "")):
            counts = {severity: severity_counts.get(name, {}).get(severity, 0) for severity in SEVERITIES}
            deals_n, open_n = deal_counts.get(name, (0, 0))
            score = score_by.get(name)
            rows.append(
                {
                    "name": name,
                    "deals": deals_n,
                    "open_deals": open_n,
                    "findings": sum(counts.values()),
                    "by_severity": counts,
                    "score": None if score is None else round(float(score), 4),
                    "open_amount": amount_by.get(name, {} if self.per_currency else 0.0),
                    "quota": round(quota_by_group[name], 2) if name in quota_by_group else None,
                    "gap": round(gap_by_group[name], 2) if name in gap_by_group else None,
                }
            )
        return rows


#: Amounts are summed in units of 1/10,000, as integers, so that a sum never depends on row order.
_SCALE = 10_000


def _exact_sum(values: pl.Expr) -> pl.Expr:
    return (values * _SCALE).round(0).cast(pl.Int64).sum() / _SCALE


def grouping_for(deal_groups: pl.DataFrame, *, roster_owners: pl.DataFrame | None, quotas: Mapping[str, float], per_currency: bool = False) -> Grouping:
    """The :class:`Grouping` of an audit: ``deal_groups`` has ``id``, ``open``, ``amount``, ``currency`` and the level columns."""
    upper = GROUP_LEVELS[1:]
    table = deal_groups.with_columns(pl.col("currency").str.strip_chars().str.to_uppercase())
    from_export = (
        table.filter(pl.col("owner").is_not_null())
        .group_by("owner", maintain_order=True)
        .agg(pl.col(level).drop_nulls().mode().sort().first() for level in upper)
    )
    owners = from_export
    if roster_owners is not None and roster_owners.height:
        roster = roster_owners.filter(pl.col("owner").is_not_null()).select("owner", *upper).unique("owner", keep="first", maintain_order=True)
        owners = pl.concat([roster, from_export.join(roster.select("owner"), on="owner", how="anti")], how="vertical_relaxed")
    levels = ("owner", *(level for level in upper if table.get_column(level).drop_nulls().len() or owners.get_column(level).drop_nulls().len()))
    return Grouping(deals=table, owners=owners.sort("owner"), levels=levels, quotas=dict(quotas), per_currency=per_currency)
