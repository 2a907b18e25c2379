"""What a custom rule's ``where`` may and may not do: an allow-list of expression syntax, checked before polars.

Each attempt to reach beyond one deal's fields (a table function, a subquery, a file) is refused
while the configuration loads, with one line naming the rule and the construct, and nothing is
opened: the attempts name files that do not exist, or whose content would show in an error.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.config.where import MAX_DEPTH, MAX_LENGTH, ConditionError, parse_condition

AS_OF = "2026-03-31"
RULE = "hygiene.toml: custom_rules[0] (ACME001 flagged)"
DEALS = [
    {"id": "D1", "name": "Acme", "stage": "Proposal", "amount": "250000", "contacts": "1"},
    {"id": "D2", "name": "Globex", "stage": "Proposal", "amount": "50", "contacts": "4"},
    {"id": "D3", "name": "Initech", "stage": "Closed Won", "amount": "400000", "contacts": ""},
]

#: An attempt -> the words its one-line error must contain.
ATTEMPTS = {
    "EXISTS (FROM read_csv('/nonexistent/zz.csv'))": "subqueries (SELECT) are not supported",
    "read_ndjson('/etc/hostname') = 'x'": "unknown function read_ndjson()",
    "read_csv('/etc/passwd') IS NULL": "unknown function read_csv()",
    "read_parquet('/etc/hostname') IS NULL": "unknown function read_parquet()",
    "read_json('/etc/hostname') IS NULL": "unknown function read_json()",
    "amount > (SELECT max(amount) FROM self)": "subqueries (SELECT) are not supported",
    "id IN (SELECT id FROM deals)": "subqueries (SELECT) are not supported",
    "id IN (FROM deals)": "subqueries (SELECT) are not supported",
    "SELECT 1": "subqueries (SELECT) are not supported",
    "FROM read_csv('/etc/passwd')": "subqueries (SELECT) are not supported",
    "amount > 1 UNION SELECT 1": "unexpected 'UNION'",
    "WITH t AS (SELECT 1) SELECT * FROM t": "subqueries (SELECT) are not supported",
    "frobnicate(amount) > 1": "unknown function frobnicate()",
    "CAST(amount AS STRUCT) IS NULL": "CAST to 'STRUCT' is not supported",
    "amount > 1 -- and a comment": "comments are not supported",
    "amount > 1 /* c */": "comments are not supported",
    "amount > 1; DROP TABLE deals": "unexpected character ';'",
    "close_date < now()": "now reads the clock",
    "close_date < current_timestamp": "current_timestamp reads the clock",
    "amount > $$1$$": "unexpected character '$'",
    "amount >": "invalid SQL",
}


@pytest.fixture
def configured(make_deals, hygiene_config):
    def write(where: str) -> None:
        make_deals(DEALS)
        rule = {"code": "ACME001", "name": "flagged", "summary": "A flagged deal", "where": where}
        hygiene_config({"custom_rules": [rule]})

    return write


@pytest.mark.parametrize("where", ATTEMPTS)
def test_what_reaches_beyond_a_deal_is_refused_when_the_configuration_loads(configured, hygiene_cli, where):
    configured(where)

    result = hygiene_cli("rules")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"hygiene: error: {RULE}: where: ")
    assert ATTEMPTS[where] in result.stderr
    assert "root:" not in result.stderr and "localhost" not in result.stderr, "nothing read from a file"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("amount > 100000 AND contacts < 3", ["D1"]),
        ("NOT (amount > 100) AND is_open", ["D2"]),
        ("(amount - 50) * 2 >= 0 AND contacts IS NOT NULL", ["D1", "D2"]),
        ("amount BETWEEN 40 AND 300000 AND stage = 'Proposal'", ["D1", "D2"]),
        ("id IN ('D1', 'D3')", ["D1", "D3"]),
        ("name NOT LIKE 'G%' AND name ILIKE '%e%'", ["D1", "D3"]),
        ("CASE WHEN contacts IS NULL THEN TRUE ELSE contacts > 3 END", ["D2", "D3"]),
        ("TRY_CAST(amount AS INTEGER) = 50 OR upper(name) = 'ACME'", ["D1", "D2"]),
        ("coalesce(contacts, 0) = 0", ["D3"]),
        ("\"amount\" > 300000", ["D3"]),
        ("name IS NOT DISTINCT FROM 'Acme'", ["D1"]),
        ("EXTRACT(YEAR FROM as_of) = 2026 AND amount::int = 50", ["D2"]),
        ("length(name) = 6 AND NOT is_won", ["D2"]),
    ],
)
def test_the_allowed_syntax_flags_what_it_says(configured, hygiene_cli, where, expected):
    configured(where)

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--select", "ACME001")

    assert result.exit_code in (0, 1), result.output
    assert [f["deal_id"] for f in json.loads(result.stdout)["findings"]] == expected


def test_a_condition_of_1600_and_terms_compiles_and_evaluates(configured, hygiene_cli):
    # polars' own SQL compiler takes about 46 s for this; the boolean structure is combined here instead.
    where = " AND ".join(f"amount > {i}" for i in range(1600))
    configured(where)

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--select", "ACME001")

    assert result.exit_code in (0, 1), result.output
    assert '"deal_id":"D1"' in result.stdout and '"deal_id":"D2"' not in result.stdout


def test_a_condition_past_the_size_cap_is_refused_with_one_line(configured, hygiene_cli):
    configured(" AND ".join(f"amount > {i}" for i in range(MAX_LENGTH // 10)))

    result = hygiene_cli("rules")

    assert result.exit_code == 2
    assert result.stderr.startswith(f"hygiene: error: {RULE}: where: the condition is ")
    assert f"at most {MAX_LENGTH:,} are allowed" in result.stderr and result.stderr.count("\n") == 1


def test_nesting_is_capped_before_python_runs_out_of_stack(configured, hygiene_cli):
    configured("(" * (MAX_DEPTH + 1) + "amount > 1" + ")" * (MAX_DEPTH + 1))

    result = hygiene_cli("rules")

    assert result.exit_code == 2
    assert f"the condition nests deeper than {MAX_DEPTH} levels" in result.stderr and result.stderr.count("\n") == 1


def test_deep_parentheses_parse_in_linear_time():
    # Telling a parenthesised condition from a parenthesised value must not re-parse each level.
    condition = parse_condition("(" * 30 + "amount" + ")" * 30 + " > 1")
    assert condition.op == "leaf"


def test_boolean_structure_is_kept_and_only_comparisons_go_to_polars():
    condition = parse_condition("a > 1 AND (b = 2 OR NOT c IS NULL) AND d BETWEEN 1 AND 2")
    assert condition.op == "and"
    assert [child.op for child in condition.children] == ["leaf", "or", "leaf"]
    assert condition.children[2].text == "d BETWEEN 1 AND 2"


# Properties of the parser: it never fails but with ConditionError, and splitting the boolean
# structure from the comparisons gives what polars gives for the whole condition.

_WORDS = ["amount", "contacts", "name", "AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "END", "SELECT", "FROM", "read_csv", "lower"]
_PIECES = st.one_of(st.sampled_from(_WORDS), st.sampled_from(list("()=<>+-*/,'\";$`")), st.from_regex(r"[0-9]{1,3}", fullmatch=True), st.text(max_size=3))


@settings(max_examples=300)
@given(st.lists(_PIECES, max_size=25).map(" ".join))
def test_any_text_is_parsed_or_refused_with_a_condition_error(where):
    try:
        parse_condition(where)
    except ConditionError:
        pass


_COMPARISONS = st.sampled_from(
    ["amount > 100", "amount <= 250000", "contacts IS NULL", "contacts IN (1, 4)", "name LIKE 'A%'", "amount BETWEEN 40 AND 1000", "(amount - 50) * 2 > 0"]
)


def _conditions(depth: int = 3):
    if depth == 0:
        return _COMPARISONS
    inner = _conditions(depth - 1)
    return st.one_of(
        _COMPARISONS,
        st.tuples(inner, inner).map(lambda pair: f"{pair[0]} AND {pair[1]}"),
        st.tuples(inner, inner).map(lambda pair: f"{pair[0]} OR {pair[1]}"),
        inner.map(lambda text: f"NOT ({text})"),
        inner.map(lambda text: f"({text})"),
    )


@settings(max_examples=150)
@given(_conditions())
def test_the_split_condition_means_what_polars_makes_of_the_whole(where):
    deals = pl.DataFrame({"amount": [50.0, 250000.0, None, 700.0], "contacts": [1, None, 4, 2], "name": ["Acme", "Beta", None, "Apex"]})
    ours = deals.select(parse_condition(where).to_expr().alias("flag"))["flag"].to_list()
    theirs = deals.select(pl.sql_expr(where).alias("flag"))["flag"].to_list()
    assert ours == theirs


def test_each_operand_of_and_or_not_must_be_true_or_false(configured, hygiene_cli):
    configured("is_open AND amount")

    result = hygiene_cli("rules")

    assert result.exit_code == 2
    assert result.stderr == f"hygiene: error: {RULE}: where: 'amount' gives Float64 values, not true/false; compare it with something\n"
