"""The report order of findings: most severe first, then owner, deal id, code, row and message."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.api.models import SEVERITY_RANK
from hygiene.api.report import FINDING_SCHEMA
from hygiene.audit.findings import UNFINGERPRINTED, finish, sort_findings

SCHEMA = dict(FINDING_SCHEMA)

# Few distinct values, so that findings tie on every key but the message (and on the message too) often.
finding = st.fixed_dictionaries(
    {
        "code": st.sampled_from(["HY001", "HY900", "HY004"]),
        "severity": st.sampled_from(["error", "warning", "info"]),
        "deal_id": st.sampled_from(["D1", "D2", None]),
        "owner": st.sampled_from(["Ada", "Bo", None]),
        "row": st.sampled_from([2, 3, None]),
        "message": st.sampled_from(["a", "b", "c", None]),
    }
)


def by_every_key(findings: pl.DataFrame) -> pl.DataFrame:
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=len(SEVERITY_RANK), return_dtype=pl.Int8)
    return findings.sort([rank, "owner", "deal_id", "code", "row", "message"], nulls_last=True, maintain_order=True)


def table(rows: list[dict]) -> pl.DataFrame:
    numbered = [{**row, "rule": "r", "details": f'{{"n":{n}}}'} for n, row in enumerate(rows)]
    return pl.DataFrame(numbered, schema={c: SCHEMA[c] for c in ("code", "rule", "severity", "deal_id", "owner", "row", "message", "details")})


@settings(max_examples=200, deadline=None)
@given(st.lists(finding, max_size=40))
def test_the_order_is_a_stable_sort_by_all_six_keys(rows):
    # details numbers each finding, so a change of order among complete ties would show too.
    findings = table(rows)
    assert sort_findings(findings).equals(by_every_key(findings))


def test_findings_equal_but_for_the_message_are_ordered_by_message_with_none_last():
    findings = table(
        [
            {"code": "HY900", "severity": "error", "deal_id": "D1", "owner": "Ada", "row": 7, "message": "close_date"},
            {"code": "HY900", "severity": "error", "deal_id": "D1", "owner": "Ada", "row": 7, "message": None},
            {"code": "HY001", "severity": "warning", "deal_id": "D0", "owner": "Ada", "row": 2, "message": "z"},
            {"code": "HY900", "severity": "error", "deal_id": "D1", "owner": "Ada", "row": 7, "message": "amount"},
        ]
    )
    assert sort_findings(findings).get_column("message").to_list() == ["amount", "close_date", None, "z"]


@settings(max_examples=100, deadline=None)
@given(st.lists(finding, max_size=40), st.integers(min_value=0, max_value=40))
def test_the_audit_s_findings_from_several_rules_come_out_in_the_same_order_and_the_parts_are_let_go(rows, cut):
    # The audit's table is put in order a column at a time; it must be the order sort_findings gives.
    whole = table(rows).with_columns(pl.lit(None, pl.String).alias("deal_name"), pl.lit(None, pl.Float64).alias("amount"))
    parts = [whole.head(cut), whole.slice(cut)]
    findings = finish(parts, {}, "2026-Q1")
    assert parts == []
    assert findings.drop("fingerprint").equals(by_every_key(whole.select(list(UNFINGERPRINTED))))
    assert findings.columns == list(FINDING_SCHEMA)
