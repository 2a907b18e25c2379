"""Baselines: ``hygiene baseline`` records known findings; ``hygiene audit --baseline`` fails only on new ones."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _ci_gate import AS_OF, CLEAN, NO_CLOSE_DATE, PAST_DUE, STALE, deal, json_report, one_error_line, write_broken_rule_plugin
from hygiene.ci.baseline import Baseline, BaselineEntry, compare_with_baseline
from hygiene.api.models import fingerprint
from hygiene.testing import audit_deals

BASELINE = ".hygiene-baseline.json"
ALL_RULES = [
    "HY001", "HY002", "HY003", "HY004", "HY005",
    "HY010", "HY011", "HY020", "HY021", "HY030", "HY031", "HY032", "HY033", "HY040",
    "HY050", "HY051", "HY052", "HY053", "HY054", "HY060", "HY061", "HY070",
    "HY200", "HY201", "HY202", "HY203", "HY204", "HY205",
    "HY900", "HY901", "HY902", "HY910", "HY911",
]


@pytest.fixture
def baseline_of(tmp_path, make_deals, hygiene_cli):
    """Write the baseline of ``deals`` (as ``then.csv``) with ``hygiene baseline ARGS``; returns its text."""

    def write(deals, *args: str, as_of: str = AS_OF, output: str = BASELINE) -> str:
        make_deals(deals, name="then.csv")
        result = hygiene_cli("baseline", "then.csv", "--as-of", as_of, "--output", output, *args)
        assert result.exit_code == 0, result.output
        return (tmp_path / output).read_text(encoding="utf-8")

    return write


@pytest.fixture
def audit_against(make_deals, hygiene_cli):
    """Audit ``deals`` against the baseline; returns click's result (``--format json`` makes stdout the report)."""

    def audit(deals, *args: str):
        make_deals(deals)
        return hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", BASELINE, *args)

    return audit


def duplicates_of(deal_id: str, rows: int) -> list[dict]:
    """``rows`` rows with one id: the audit reports each row after the first as HY902 duplicate-deal-id."""
    return [deal(CLEAN, deal_id, name=f"row {i}") for i in range(rows)]


# The file.


def test_the_baseline_file_is_sorted_indented_json_ending_with_a_newline(baseline_of):
    text = baseline_of([STALE, NO_CLOSE_DATE, CLEAN], "--select", "HY001,HY002,HY004", as_of=AS_OF)

    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert document == {
        "schema_version": 1,
        "tool": {"name": "hygiene", "version": "0.1.0"},
        "rules": ["HY001", "HY002", "HY004"],
        "as_of": AS_OF,
        "source": "then.csv",
        "findings": {
            fingerprint("HY001", "D1"): {"code": "HY001", "count": 1, "deal_id": "D1"},
            fingerprint("HY002", "D2"): {"code": "HY002", "count": 1, "deal_id": "D2"},
        },
    }


def test_the_same_findings_give_the_same_bytes_whatever_the_row_order(tmp_path, baseline_of):
    deals = [STALE, NO_CLOSE_DATE, PAST_DUE, CLEAN, *duplicates_of("D7", 3)]
    first = baseline_of(deals)
    again = baseline_of(deals)
    reordered = baseline_of(list(reversed(deals)))

    assert first == again == reordered
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_owner_level_finding_is_recorded_with_its_owner(make_deals, hygiene_config, hygiene_cli, tmp_path):
    make_deals([CLEAN])
    hygiene_config({"quotas": {"Ada": 1_000_000}})
    assert hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--select", "gap-to-quota").exit_code == 0

    document = json.loads((tmp_path / BASELINE).read_text(encoding="utf-8"))

    assert document["findings"] == {fingerprint("HY004", None, "Ada", "2026-Q1"): {"code": "HY004", "count": 1, "owner": "Ada"}}


def test_output_names_another_file(baseline_of, tmp_path):
    assert json.loads(baseline_of([STALE], output="ci/baseline.json"))["rules"] == ALL_RULES
    assert not (tmp_path / BASELINE).exists()


def test_an_audit_a_rule_could_not_finish_writes_no_baseline(tmp_path, make_deals, hygiene_config, hygiene_cli):
    make_deals([STALE])
    hygiene_config({"plugins": [write_broken_rule_plugin(tmp_path)]})

    line = one_error_line(hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF))

    assert line.startswith(f"{BASELINE}: not written: 1 rule(s) failed, so the audit is incomplete: rule OOPS001 (crashes)")
    assert not (tmp_path / BASELINE).exists()


# Known, new and fixed.


def test_known_findings_are_reported_but_only_new_ones_fail(baseline_of, audit_against):
    baseline_of([STALE, NO_CLOSE_DATE])

    known_only = audit_against([STALE, NO_CLOSE_DATE, CLEAN], "--format", "json")
    with_new = audit_against([STALE, NO_CLOSE_DATE, PAST_DUE], "--format", "json")

    assert known_only.exit_code == 0
    assert {f["deal_id"]: f["baseline_status"] for f in json_report(known_only.stdout)["findings"]} == {"D1": "known", "D2": "known"}
    assert with_new.exit_code == 1
    assert {f["deal_id"]: f["baseline_status"] for f in json_report(with_new.stdout)["findings"]} == {"D1": "known", "D2": "known", "D4": "new"}
    assert with_new.stderr == "hygiene: 1 new finding at or above error (fail_on): HY003 D4\n"


def test_the_json_report_names_the_baseline_and_its_fixed_entries(baseline_of, audit_against):
    baseline_of([STALE, NO_CLOSE_DATE, PAST_DUE])

    report = json_report(audit_against([STALE, deal(NO_CLOSE_DATE, "D5")], "--format", "json").stdout)

    assert report["baseline"] == {
        "file": BASELINE,
        "new": 1,
        "known": 1,
        "fixed": 2,
        "fixed_entries": [
            {"fingerprint": fingerprint("HY002", "D2"), "code": "HY002", "deal_id": "D2", "owner": None, "count": 1},
            {"fingerprint": fingerprint("HY003", "D4"), "code": "HY003", "deal_id": "D4", "owner": None, "count": 1},
        ],
        "obsolete": 0,
        "obsolete_entries": [],
        "unadopted_rules": [],
    }


def test_without_a_baseline_the_report_says_so(make_deals, hygiene_cli):
    make_deals([STALE])
    report = json_report(hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json").stdout)
    assert (report["baseline"], [f["baseline_status"] for f in report["findings"]]) == (None, [None])


def test_the_console_tags_known_findings_and_counts_new_known_and_fixed(baseline_of, audit_against):
    baseline_of([STALE, PAST_DUE])

    text = audit_against([STALE, NO_CLOSE_DATE]).stdout

    assert "  warning HY001 stale-stage: D1 Alpha: in Negotiation for 89 days (limit 21) [row 2] [known]\n" in text
    assert "  error   HY002 missing-close-date: D2 Beta: open deal in Proposal has no close date [row 3]\n" in text
    assert text.endswith(f"  baseline {BASELINE}: 1 new, 1 known, 1 fixed\n    fixed: HY003 D4\n")


# Counting: a multiset of fingerprints.


def test_the_later_findings_of_a_fingerprint_beyond_its_count_are_new(baseline_of, audit_against):
    baseline_of(duplicates_of("D7", 3))  # two duplicate rows: HY902 about D7, twice

    report = json_report(audit_against(duplicates_of("D7", 4), "--format", "json").stdout)

    assert [(f["row"], f["baseline_status"]) for f in report["findings"]] == [(3, "known"), (4, "known"), (5, "new")]
    assert report["baseline"]["fixed_entries"] == []


def test_a_fingerprint_found_fewer_times_than_recorded_is_partly_fixed(baseline_of, audit_against):
    baseline_of(duplicates_of("D7", 4))

    report = json_report(audit_against(duplicates_of("D7", 2), "--format", "json").stdout)

    assert [f["baseline_status"] for f in report["findings"]] == ["known"]
    assert report["baseline"]["fixed_entries"] == [{"fingerprint": fingerprint("HY902", "D7"), "code": "HY902", "deal_id": "D7", "owner": None, "count": 2}]


@pytest.mark.parametrize(("recorded", "found", "statuses", "fixed"), [(0, 2, ["new", "new"], 0), (1, 2, ["known", "new"], 0), (2, 2, ["known", "known"], 0), (3, 1, ["known"], 2)])
def test_compare_with_baseline_counts_each_fingerprint(recorded, found, statuses, fixed):
    report = audit_deals(duplicates_of("D7", found + 1), rules=["HY902"], as_of=AS_OF)
    entries = {fingerprint("HY902", "D7"): BaselineEntry(code="HY902", count=recorded, deal_id="D7")} if recorded else {}

    compared = compare_with_baseline(report, Baseline.from_report(report, entries), "b.json")

    assert compared.findings["baseline_status"].to_list() == statuses
    assert sum(entry["count"] for entry in compared.fixed) == fixed


MULTISET_REPORT = audit_deals([STALE, NO_CLOSE_DATE, *duplicates_of("D7", 4), *duplicates_of("D8", 2)], as_of=AS_OF)
#: Each fingerprint of MULTISET_REPORT with how many findings have it, and one it does not have.
FOUND = {fingerprint("HY001", "D1"): 1, fingerprint("HY002", "D2"): 1, fingerprint("HY902", "D7"): 3, fingerprint("HY902", "D8"): 1, fingerprint("HY003", "D9"): 0}


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries({fp: st.integers(0, 4) for fp in FOUND}))
def test_known_is_the_smaller_count_new_the_rest_and_fixed_what_is_gone(recorded):
    entries = {fp: BaselineEntry(code="HY000", count=n) for fp, n in recorded.items() if n}

    compared = compare_with_baseline(MULTISET_REPORT, Baseline.from_report(MULTISET_REPORT, entries), "b.json")

    fixed = {entry["fingerprint"]: entry["count"] for entry in compared.fixed}
    for fp, found in FOUND.items():
        statuses = compared.findings.filter(pl.col("fingerprint") == fp)["baseline_status"].to_list()
        known = min(recorded[fp], found)
        assert statuses == ["known"] * known + ["new"] * (found - known)
        assert fixed.get(fp, 0) == recorded[fp] - known


# Baselines that cannot be used: exit 2, one line naming the file.


# Rules added and removed since the baseline was written: the baseline stays usable.


def test_a_rule_added_since_the_baseline_does_not_invalidate_it_its_findings_are_new(baseline_of, audit_against):
    baseline_of([STALE, PAST_DUE], "--select", "HY001,HY002")

    result = audit_against([STALE, PAST_DUE], "--format", "json")

    assert result.exit_code == 1, result.output
    report = json_report(result.stdout)
    assert [(f["code"], f["baseline_status"]) for f in report["findings"]] == [("HY003", "new"), ("HY001", "known")]
    assert report["baseline"]["unadopted_rules"] == ["HY003", "HY004", "HY005", "HY010", "HY011", "HY020", "HY021", "HY030", "HY031", "HY032", "HY033", "HY040", "HY050", "HY051", "HY052", "HY053", "HY054", "HY060", "HY061", "HY070", "HY200", "HY201", "HY202", "HY203", "HY204", "HY205", "HY900", "HY901", "HY902", "HY910", "HY911"]
    assert report["baseline"]["fixed"] == 0
    assert result.stderr == (
        "hygiene: 1 new finding at or above error (fail_on): HY003 D4; 1 of them from rules the baseline does not cover (HY003): "
        "fix them, or adopt them as known with `hygiene baseline --add HY003`\n"
    )


def test_baseline_add_adopts_one_rule_and_leaves_the_rest_as_it_was(tmp_path, baseline_of, audit_against, make_deals, hygiene_cli):
    before = json.loads(baseline_of([STALE, PAST_DUE], "--select", "HY001,HY002"))
    # Since then D1 was fixed (it is no longer stale), and HY003 joined the rule set.
    make_deals([CLEAN, PAST_DUE, deal(PAST_DUE, "D9")])

    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--add", "past-due-close-date")

    assert (result.exit_code, result.stdout) == (0, f"updated {BASELINE}: 2 findings of HY003 recorded as known, 3 in all\n")
    after = json.loads((tmp_path / BASELINE).read_text(encoding="utf-8"))
    assert after["rules"] == ["HY001", "HY002", "HY003"]
    assert after["findings"] == {
        **before["findings"],  # D1's stale-stage entry is kept: --add is no prune
        fingerprint("HY003", "D4"): {"code": "HY003", "count": 1, "deal_id": "D4"},
        fingerprint("HY003", "D9"): {"code": "HY003", "count": 1, "deal_id": "D9"},
    }
    assert {key: after[key] for key in ("as_of", "source", "tool")} == {key: before[key] for key in ("as_of", "source", "tool")}
    report = json_report(audit_against([PAST_DUE, deal(PAST_DUE, "D9"), deal(PAST_DUE, "D10")], "--format", "json", "--select", "HY001,HY002,HY003").stdout)
    assert [(f["deal_id"], f["baseline_status"]) for f in report["findings"]] == [("D10", "new"), ("D4", "known"), ("D9", "known")]


def test_baseline_add_of_a_rule_the_audit_does_not_run_is_one_line(baseline_of, make_deals, hygiene_cli):
    baseline_of([STALE], "--select", "HY001")
    make_deals([STALE])

    line = one_error_line(hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--select", "HY001", "--add", "HY003"))

    assert line == f"{BASELINE}: --add HY003: not a rule this audit runs (it runs: HY001)"


def test_a_removed_rules_entries_are_obsolete_not_fixed_and_prune_drops_them(tmp_path, baseline_of, audit_against, hygiene_cli):
    baseline_of([STALE, PAST_DUE], "--select", "HY001,HY003")

    result = audit_against([STALE, PAST_DUE], "--format", "json", "--select", "HY001", "--strict-baseline")

    assert result.exit_code == 0, result.output
    baseline = json_report(result.stdout)["baseline"]
    assert (baseline["fixed"], baseline["obsolete"]) == (0, 1)
    assert baseline["obsolete_entries"] == [{"fingerprint": fingerprint("HY003", "D4"), "code": "HY003", "deal_id": "D4", "owner": None, "count": 1}]
    console = audit_against([STALE, PAST_DUE], "--select", "HY001").stdout
    assert "    obsolete: 1 finding of rules this audit does not run (HY003); `hygiene baseline --prune` drops them\n" in console

    pruned = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--select", "HY001", "--prune")

    assert pruned.stdout == f"pruned {BASELINE}: removed 0 fixed findings and 1 finding of rules no longer run (HY003), 1 remain\n"
    document = json.loads((tmp_path / BASELINE).read_text(encoding="utf-8"))
    assert (document["rules"], list(document["findings"])) == (["HY001"], [fingerprint("HY001", "D1")])


def test_the_failure_line_names_a_handful_of_new_findings_then_counts_the_rest(baseline_of, audit_against):
    baseline_of([CLEAN], "--select", "HY002")
    new = [deal(NO_CLOSE_DATE, f"D{i}") for i in range(10, 18)]

    result = audit_against(new, "--select", "HY002")

    assert result.exit_code == 1
    assert result.stderr == "hygiene: 8 new findings at or above error (fail_on): HY002 D10, HY002 D11, HY002 D12, HY002 D13, HY002 D14 and 3 more\n"


def test_show_new_lists_only_the_new_findings_and_still_counts_all(baseline_of, audit_against, hygiene_cli):
    baseline_of([STALE, NO_CLOSE_DATE])

    shown = audit_against([STALE, NO_CLOSE_DATE, PAST_DUE], "--show", "new").stdout
    everything = audit_against([STALE, NO_CLOSE_DATE, PAST_DUE], "--show", "all").stdout

    assert "D4 Delta" in shown and "D1 Alpha" not in shown and "D2 Beta" not in shown
    assert "D1 Alpha" in everything and "D2 Beta" in everything
    assert "  findings: 3 (" in shown and f"  baseline {BASELINE}: 1 new, 2 known, 0 fixed\n" in shown
    assert "    2 known findings not listed (--show new)\n" in shown
    assert hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--show", "new").exit_code == 2, "--show new needs a baseline"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("", "not a hygiene baseline: invalid JSON at line 1 column 1: Expecting value"),
        ('{"schema_version": 1,', "not a hygiene baseline: invalid JSON at line 1 column 22: Expecting property name enclosed in double quotes"),
        ("[]", "not a hygiene baseline: top level: [] is not of type 'object'"),
    ],
)
def test_an_unreadable_baseline_is_one_line(tmp_path, audit_against, content, problem):
    if content is not None:
        (tmp_path / BASELINE).write_text(content, encoding="utf-8")
    assert one_error_line(audit_against([STALE])) == f"{BASELINE}: {problem}"


def test_a_baseline_that_is_not_utf8_is_one_line(tmp_path, audit_against):
    (tmp_path / BASELINE).write_bytes(b"\xff\xfe{")
    line = one_error_line(audit_against([STALE]))
    assert line == f"{BASELINE}: cannot read: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(schema_version=2), "schema_version: 1 was expected"),
        (lambda d: d.pop("rules"), "top level: 'rules' is a required property"),
        (lambda d: d["findings"].update({"abc": {"code": "HY001", "count": 1}}), "findings: 'abc' does not match '^[0-9a-f]{20}$'"),
        (lambda d: next(iter(d["findings"].values())).update(count=0), "findings.{fp}.count: 0 is less than the minimum of 1"),
        (lambda d: d.update(as_of="2026-02-30"), "as_of: '2026-02-30' is not a 'date'"),
    ],
)
def test_a_baseline_off_its_schema_is_one_line_naming_the_key(tmp_path, baseline_of, audit_against, change, problem):
    document = json.loads(baseline_of([STALE]))
    change(document)
    (tmp_path / BASELINE).write_text(json.dumps(document), encoding="utf-8")

    line = one_error_line(audit_against([STALE]))

    assert line == f"{BASELINE}: not a hygiene baseline: " + problem.replace("{fp}", fingerprint("HY001", "D1"))


# The ratchet: --strict-baseline and --prune.


def test_strict_baseline_fails_while_fixed_entries_remain_until_pruned(tmp_path, baseline_of, audit_against, hygiene_cli):
    baseline_of([STALE, NO_CLOSE_DATE, PAST_DUE])
    fixed = [STALE, CLEAN]

    lenient = audit_against(fixed)
    strict = audit_against(fixed, "--strict-baseline")
    pruned = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--prune")
    after = audit_against(fixed, "--strict-baseline")

    assert lenient.exit_code == 0
    assert (strict.exit_code, strict.stderr) == (1, f"hygiene: --strict-baseline: {BASELINE} still lists 2 fixed findings; remove them with `hygiene baseline --prune`\n")
    assert (pruned.exit_code, pruned.stdout) == (0, f"pruned {BASELINE}: removed 2 fixed findings, 1 remain\n")
    assert after.exit_code == 0
    assert list(json.loads((tmp_path / BASELINE).read_text(encoding="utf-8"))["findings"]) == [fingerprint("HY001", "D1")]


def test_the_prune_hint_names_a_baseline_that_is_not_the_default(baseline_of, make_deals, hygiene_cli):
    baseline_of([STALE, NO_CLOSE_DATE], output="ci/known.json")
    make_deals([STALE])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", "ci/known.json", "--strict-baseline")
    assert result.stderr.endswith("remove it with `hygiene baseline --prune --output ci/known.json`\n")


def test_prune_never_adds_a_finding_and_lowers_counts(tmp_path, baseline_of, make_deals, hygiene_cli):
    baseline_of([STALE, NO_CLOSE_DATE, *duplicates_of("D7", 4)])
    make_deals([STALE, PAST_DUE, *duplicates_of("D7", 2)])  # D2 fixed, D4 new, one D7 duplicate left

    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--prune")

    assert (result.exit_code, result.stdout) == (0, f"pruned {BASELINE}: removed 3 fixed findings, 2 remain\n")
    document = json.loads((tmp_path / BASELINE).read_text(encoding="utf-8"))
    assert document["findings"] == {
        fingerprint("HY001", "D1"): {"code": "HY001", "count": 1, "deal_id": "D1"},
        fingerprint("HY902", "D7"): {"code": "HY902", "count": 1, "deal_id": "D7"},
    }
    assert document["source"] == "deals.csv"


def test_prune_with_nothing_fixed_leaves_the_file_alone(tmp_path, baseline_of, make_deals, hygiene_cli):
    before = baseline_of([STALE, NO_CLOSE_DATE])
    make_deals([STALE, NO_CLOSE_DATE, PAST_DUE])

    result = hygiene_cli("baseline", "deals.csv", "--as-of", "2026-03-30", "--prune")

    assert (result.exit_code, result.stdout) == (0, f"{BASELINE}: nothing to prune (2 findings still found)\n")
    assert (tmp_path / BASELINE).read_text(encoding="utf-8") == before


def test_prune_needs_a_baseline_of_the_same_rule_set(baseline_of, make_deals, hygiene_cli):
    make_deals([STALE])
    assert one_error_line(hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--prune")) == f"{BASELINE}: no such file"
    baseline_of([STALE], "--select", "HY001")
    # A baseline of fewer rules prunes like any other: pruning never adds the rules it lacks.
    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "--prune")
    assert (result.exit_code, result.stdout) == (0, f"{BASELINE}: nothing to prune (1 finding still found)\n")
