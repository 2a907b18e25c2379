"""A finding's fingerprint is what it is about (rule code + deal id, or code + owner + period), nothing else.

Baselines and ticket syncs key on it, so it must survive re-sorted exports,
edits to other deals and reworded messages.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hygiene import Finding, PipelineRule
from hygiene.audit.run import AuditOptions, run_audit
from hygiene.config.settings import Config
from hygiene.audit.engine import AuditInputs, evaluate_rules
from hygiene.config.selection import ConfiguredRule
from hygiene.api.models import fingerprint, hash_fingerprint_key
from hygiene.api.periods import period_containing
from hygiene.plugin.registry import load_registry
from hygiene.api.stages import StageTable

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

AUDIT_DATE = dt.date.fromisoformat(AS_OF)
COLUMNS = ["Id", "Name", "Owner", "Stage", "Amount", "Probability", "Close Date", "Stage Entered Date", "Created Date", "Close Date Pushes"]
OWNERS = ["Ada Lovelace", "Grace Hopper", "Alan Turing"]
# Every default stage, and one the stage table does not know.
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost", "Legal Review"]
# Text without surrogates, which no export can hold.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


# The fingerprint function itself.


@given(st.sampled_from(["HY001", "HY900", "ACME042"]), TEXT, st.none() | TEXT, st.none() | TEXT, TEXT, TEXT)
def test_a_deal_findings_fingerprint_ignores_owner_and_period(code, deal_id, owner, other_owner, period, other_period):
    assert fingerprint(code, deal_id, owner, period) == fingerprint(code, deal_id, other_owner, other_period)
    assert re.fullmatch(r"[0-9a-f]{20}", fingerprint(code, deal_id))


@given(st.sampled_from(["HY001", "HY002"]), TEXT, TEXT)
def test_different_deals_or_rules_have_different_fingerprints(code, deal_id, other_id):
    if deal_id != other_id:
        assert fingerprint(code, deal_id) != fingerprint(code, other_id)
    other_code = "HY002" if code == "HY001" else "HY001"
    assert fingerprint(code, deal_id) != fingerprint(other_code, deal_id)
    # An owner-level finding about an owner named like a deal is a different finding.
    assert fingerprint(code, deal_id) != fingerprint(code, None, deal_id, "2026-Q1")


def test_an_owner_findings_fingerprint_is_code_owner_and_period():
    ada_q1 = fingerprint("HY004", None, "Ada Lovelace", "2026-Q1")
    assert ada_q1 == fingerprint("HY004", None, "Ada Lovelace", "2026-Q1")
    assert ada_q1 != fingerprint("HY004", None, "Ada Lovelace", "2026-Q2")
    assert ada_q1 != fingerprint("HY004", None, "Grace Hopper", "2026-Q1")


# The engine computes fingerprints for a whole table at once; it must agree with the function.


class FindingsAsGiven(PipelineRule):
    """Returns the findings it was built with."""

    code = "TEST001"
    name = "findings-as-given"
    summary = "Findings as given"

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings

    def check(self, deals, ctx):
        return self.findings


FINDINGS = st.lists(st.builds(Finding, message=TEXT, deal_id=st.none() | TEXT, owner=st.none() | TEXT), max_size=20)


@given(FINDINGS, st.sampled_from(["month", "quarter", "year"]))
def test_the_engines_fingerprints_are_the_fingerprint_functions(findings, period_kind):
    period = period_containing(AUDIT_DATE, period_kind)
    rule = ConfiguredRule(rule=FindingsAsGiven(findings), severity="warning", options={}, plugin="tests")
    deals = pl.DataFrame(schema={"id": pl.String, "stage": pl.String, "name": pl.String, "owner": pl.String, "amount": pl.Float64, "__row__": pl.Int64})
    run = evaluate_rules(deals, [rule], AuditInputs(as_of=AUDIT_DATE, period=period, stages=StageTable(), quotas={}))
    expected = Counter(fingerprint("TEST001", f.deal_id, f.owner, period.name) for f in findings)
    assert Counter(run.findings["fingerprint"].to_list()) == expected


@given(st.lists(st.text(), max_size=20))
def test_the_native_hash_is_the_sha256_of_hashlib(keys):
    # Fingerprints are hashed in polars (polars-hash): any text, emoji, NUL and lone
    # combining marks included, must hash as hashlib does, or users' baselines stop matching.
    from hygiene.audit.findings import fingerprint_hash

    hashed = pl.DataFrame({"key": keys}, schema={"key": pl.String}).select(fingerprint_hash("key")).to_series().to_list()
    assert hashed == [hash_fingerprint_key(key) for key in keys]


@given(FINDINGS)
def test_the_engines_fingerprints_follow_report_order(findings):
    period = period_containing(AUDIT_DATE, "quarter")
    rule = ConfiguredRule(rule=FindingsAsGiven(findings), severity="warning", options={}, plugin="tests")
    deals = pl.DataFrame(schema={"id": pl.String, "stage": pl.String, "name": pl.String, "owner": pl.String, "amount": pl.Float64, "__row__": pl.Int64})
    whole = evaluate_rules(deals, [rule], AuditInputs(as_of=AUDIT_DATE, period=period, stages=StageTable(), quotas={})).findings
    assert whole["fingerprint"].to_list() == [fingerprint("TEST001", f.deal_id, f.owner, period.name) for f in _in_report_order(findings, whole)]


def _in_report_order(findings, table):
    """``findings`` as the engine ordered them (by the table's deal ids, owners and messages)."""
    remaining = list(findings)
    ordered = []
    for deal_id, owner, message in table.select("deal_id", "owner", "message").iter_rows():
        match = next(f for f in remaining if (f.deal_id, f.owner, f.message) == (deal_id, owner, message))
        remaining.remove(match)
        ordered.append(match)
    return ordered


# Real audits of CSV exports.


@st.composite
def deal_rows(draw, ids):
    """One export row per id, with dates around the audit date so that every rule has something to flag."""

    def day(low: int, high: int) -> str:
        offset = draw(st.none() | st.integers(low, high))
        return "" if offset is None else (AUDIT_DATE + dt.timedelta(days=offset)).isoformat()

    return [
        {
            "Id": deal_id,
            "Name": draw(TEXT),
            "Owner": draw(st.sampled_from(OWNERS)),
            "Stage": draw(st.sampled_from(STAGES)),
            "Amount": str(draw(st.integers(0, 500_000))),
            "Probability": draw(st.sampled_from(["", "10", "50", "150"])),
            "Close Date": draw(st.sampled_from([day(-60, 120), "soon"])),
            "Stage Entered Date": day(-120, 0),
            "Created Date": day(-400, -1),
            "Close Date Pushes": str(draw(st.integers(0, 5))),
        }
        for deal_id in ids
    ]


UNIQUE_IDS = st.lists(st.from_regex(r"006[A-Z0-9]{4}", fullmatch=True), min_size=1, max_size=12, unique=True)
QUOTAS = {owner: 400_000.0 for owner in OWNERS}


@pytest.fixture(scope="module")
def audit_export(tmp_path_factory):
    registry = load_registry()
    folder = tmp_path_factory.mktemp("exports")

    def audit(rows: list[dict[str, str]], as_of: dt.date = AUDIT_DATE, rule_tables: dict | None = None):
        path = folder / "deals.csv"
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        config = Config(base_dir=folder, quotas=QUOTAS, rule_tables=rule_tables or {})
        report = run_audit(config, registry, AuditOptions(as_of=as_of, source_path=str(path)))
        return list(report.iter_findings()), report.period.name

    return audit


def identities(findings: list[Finding]) -> Counter:
    """What each finding is about, with its fingerprint."""
    return Counter((f.code, f.deal_id, f.owner if f.deal_id is None else None, f.fingerprint) for f in findings)


AUDIT_SETTINGS = settings(max_examples=25, deadline=None)


@AUDIT_SETTINGS
@given(UNIQUE_IDS.flatmap(deal_rows).flatmap(lambda rows: st.tuples(st.just(rows), st.permutations(rows))))
def test_reordering_an_export_changes_rows_but_no_fingerprint(audit_export, rows_and_reordered):
    rows, reordered = rows_and_reordered
    findings, period = audit_export(rows)
    reordered_findings, _ = audit_export(reordered)
    assert identities(reordered_findings) == identities(findings)
    for finding in findings:
        assert finding.fingerprint == fingerprint(finding.code, finding.deal_id, finding.owner, period)


@AUDIT_SETTINGS
@given(UNIQUE_IDS.flatmap(lambda ids: st.tuples(deal_rows(ids), deal_rows([f"other-{i}" for i in ids]))))
def test_changing_or_adding_other_deals_leaves_a_deals_fingerprints_alone(audit_export, rows_and_others):
    rows, others = rows_and_others
    kept = rows[0]
    alone, _ = audit_export([kept])
    # The kept deal moves down the export, behind deals that differ in every way.
    crowded, _ = audit_export([*others, *rows[1:], kept])
    # Rules that judge a deal against its owner's or account's other deals may flag it only in company.
    about_kept = [f for f in crowded if f.deal_id == kept["Id"] and f.code not in RULES_COMPARING_DEALS]
    assert identities(about_kept) == identities([f for f in alone if f.deal_id is not None and f.code not in RULES_COMPARING_DEALS])


#: amount-outlier, placeholder-deal (a round amount repeated), close-date-clumping, possible-duplicate.
RULES_COMPARING_DEALS = ("HY051", "HY052", "HY053", "HY054")


STALE_AND_PAST_DUE = {
    "Id": "006STALE",
    "Owner": "Ada Lovelace",
    "Stage": "Proposal",
    "Close Date": "2026-01-15",
    "Stage Entered Date": "2025-12-01",
}


@AUDIT_SETTINGS
@given(UNIQUE_IDS.flatmap(deal_rows), st.integers(1, 20))
@example(rows=[STALE_AND_PAST_DUE], days_earlier=10)
def test_reworded_messages_and_other_severities_keep_fingerprints(audit_export, rows, days_earlier):
    findings, period = audit_export(rows)
    # Earlier in the same quarter, messages count fewer days; severities are overridden.
    overrides = {"stale-stage": {"severity": "info"}, "HY003": {"severity": "warning"}, "gap-to-quota": {"severity": "error"}}
    earlier, earlier_period = audit_export(rows, as_of=AUDIT_DATE - dt.timedelta(days=days_earlier), rule_tables=overrides)
    assert earlier_period == period
    by_subject = {(f.code, f.deal_id, f.owner if f.deal_id is None else None): f for f in findings}
    for finding in earlier:
        same = by_subject.get((finding.code, finding.deal_id, finding.owner if finding.deal_id is None else None))
        if same is not None:
            assert finding.fingerprint == same.fingerprint
            if finding.code in ("HY001", "HY003", "HY004"):
                assert finding.severity != same.severity


def test_an_owners_quota_finding_is_renewed_each_period(audit_export):
    quarter_end = [{"Id": "006A", "Owner": "Ada Lovelace", "Stage": "Proposal", "Close Date": AS_OF, "Amount": "1000"}]
    this_quarter, period = audit_export(quarter_end)
    next_quarter, next_period = audit_export(quarter_end, as_of=AUDIT_DATE + dt.timedelta(days=1))

    def quota_fingerprint(findings: list[Finding]) -> str:
        [finding] = [f for f in findings if f.code == "HY004" and f.owner == "Ada Lovelace"]
        return finding.fingerprint

    assert (period, next_period) == ("2026-Q1", "2026-Q2")
    assert quota_fingerprint(this_quarter) == fingerprint("HY004", None, "Ada Lovelace", "2026-Q1")
    assert quota_fingerprint(next_quarter) == fingerprint("HY004", None, "Ada Lovelace", "2026-Q2")


def test_a_repeated_ids_finding_keeps_its_fingerprint_whichever_row_comes_first(audit_export):
    first = {"Id": "006DUP", "Owner": "Ada Lovelace", "Stage": "Proposal", "Close Date": "2026-06-30"}
    second = {**first, "Owner": "Grace Hopper", "Stage": "Negotiation"}
    other = {"Id": "006OTHER", "Stage": "Proposal", "Close Date": "2026-06-30"}

    def duplicate_findings(rows):
        findings, _ = audit_export(rows)
        return [(f.row, f.fingerprint) for f in findings if f.code == "HY902"]

    assert duplicate_findings([first, other, second]) == [(4, fingerprint("HY902", "006DUP"))]
    assert duplicate_findings([second, first, other]) == [(3, fingerprint("HY902", "006DUP"))]
