"""Apply ``[[waivers]]`` to an audit's findings: remove what they cover, report unused and expired ones.

See :mod:`hygiene.config.waivers` for what a waiver is. HY910
``unused-waiver`` and HY911 ``expired-waiver`` are rules like any other
(so they can be ignored or given another severity); their findings are
made here, from the configuration, once the other rules have run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import attrs
import polars as pl

from hygiene.api.errors import ConfigError
from hygiene.api.models import waiver_fingerprint
from hygiene.api.report import FINDING_SCHEMA
from hygiene.audit.findings import sort_findings
from hygiene.config.selection import ConfiguredRule, matches
from hygiene.config.waivers import EXPIRED_WAIVER_CODE, UNUSED_WAIVER_CODE, Waiver
from hygiene.plugin.registry import Registered


@attrs.define(frozen=True, kw_only=True)
class WaivedFindings:
    """Findings left after the waivers, with the waivers' own findings added, and how many were waived."""

    findings: pl.DataFrame
    waived: int


def apply_waivers(
    findings: pl.DataFrame,
    waivers: list[Waiver],
    *,
    as_of: dt.date,
    configured: list[ConfiguredRule],
    registered: Mapping[str, Registered],
    config_file: str | None,
) -> WaivedFindings:
    """Remove the findings waivers in force cover, and report unused and expired waivers.

    ``findings`` are the engine's (sorted, fingerprinted); ``configured`` are
    the rules that ran and ``registered`` every rule the plugins provide
    (a waiver naming no rule at all is a configuration error).
    """
    if not waivers:
        return WaivedFindings(findings=findings, waived=0)
    ran = {rule.code: rule for rule in configured}
    deal_ids = findings.get_column("deal_id").drop_nulls().unique().to_list()
    waived = pl.repeat(False, findings.height, eager=True)
    reports: list[tuple[str, Waiver]] = []
    for waiver in waivers:
        codes = [code for code, entry in registered.items() if matches(waiver.rule, entry.cls)]
        if not codes:
            raise ConfigError(f"{config_file}: waivers[{waiver.index}].rule: {waiver.rule!r} matches no rule code, prefix, name or group (`hygiene rules` lists them)")
        if not waiver.is_active(as_of):
            reports.append((EXPIRED_WAIVER_CODE, waiver))
            continue
        # Owner-level findings have no deal id: null must read as "not covered", not drop the row.
        covered = findings.select((pl.col("code").is_in(codes) & pl.col("deal_id").is_in(waiver.deal_ids(deal_ids))).fill_null(False)).to_series()
        if covered.any():
            waived = waived | covered
        elif ran.keys() & set(codes):
            reports.append((UNUSED_WAIVER_CODE, waiver))
    kept = findings.filter(~waived)
    own = _waiver_findings([(ran[code], waiver) for code, waiver in reports if code in ran], config_file)
    if own.height:
        kept = sort_findings(pl.concat([kept, own.select(kept.columns)]))
    return WaivedFindings(findings=kept, waived=int(waived.sum()))


def _waiver_findings(reports: list[tuple[ConfiguredRule, Waiver]], config_file: str | None) -> pl.DataFrame:
    # Messages do not count days since expiry: a message that changes daily would show as changed in every diff.
    def message(rule: ConfiguredRule, waiver: Waiver) -> str:
        if rule.code == EXPIRED_WAIVER_CODE:
            return f"{waiver.describe(config_file)} has expired; the findings it waived are reported again"
        return f"{waiver.describe(config_file)} matches no finding; remove it, or correct its deal or rule"

    return pl.DataFrame(
        {
            "code": [rule.code for rule, _ in reports],
            "rule": [rule.name for rule, _ in reports],
            "severity": [rule.severity for rule, _ in reports],
            "deal_id": [None] * len(reports),
            "deal_name": [None] * len(reports),
            "owner": [None] * len(reports),
            "message": [message(rule, waiver) for rule, waiver in reports],
            "details": [json.dumps(waiver.details(), ensure_ascii=False, separators=(",", ":")) for _, waiver in reports],
            "row": [None] * len(reports),
            "amount": [None] * len(reports),
            "fingerprint": [waiver_fingerprint(rule.code, waiver.deal, waiver.rule) for rule, waiver in reports],
        },
        schema=FINDING_SCHEMA,
    )
