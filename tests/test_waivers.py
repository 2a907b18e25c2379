"""``[[waivers]]``: findings suppressed until a date, and the unused and expired waivers reported."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from _ci_gate import AS_OF, CLEAN, NO_CLOSE_DATE, STALE, deal, json_report, one_error_line, subjects, waiver
from hygiene.api.models import fingerprint, waiver_fingerprint

#: Stale (HY001) and without a close date (HY002).
STALE_WITHOUT_CLOSE_DATE = deal(STALE, "D5", close_date=None)


@pytest.fixture
def audit_json(make_deals, hygiene_config, hygiene_cli):
    """Audit ``deals`` with ``waivers`` in hygiene.toml; returns the exit code and the checked JSON report."""

    def audit(deals, waivers, *args, as_of=AS_OF, config=None):
        make_deals(deals)
        hygiene_config({"source": {"path": "deals.csv"}, "waivers": waivers, **(config or {})})
        result = hygiene_cli("audit", "--as-of", as_of, "--format", "json", *args)
        assert result.exit_code in (0, 1), result.output
        return result.exit_code, json_report(result.stdout)

    return audit


# Until a date, and not after it.


@pytest.mark.parametrize(
    ("as_of", "waived"),
    [("2026-03-30", True), ("2026-03-31", True), ("2026-04-01", False)],
    ids=["before-until", "on-until", "the-day-after"],
)
def test_a_waiver_holds_through_its_until_day_and_expires_the_day_after(audit_json, as_of, waived):
    exit_code, report = audit_json([NO_CLOSE_DATE, CLEAN], [waiver("D2", "missing-close-date", until=dt.date(2026, 3, 31))], as_of=as_of)

    if waived:
        assert (exit_code, report["waived"], subjects(report)) == (0, 1, [])
    else:
        assert (exit_code, report["waived"], subjects(report)) == (1, 0, [("HY002", "D2"), ("HY911", None)])


def test_an_expired_waiver_is_a_warning_naming_the_waiver(audit_json):
    waivers = [waiver("D9", "HY001"), waiver("D2", "HY002", until="2026-03-01", reason="Customer signs in Q1")]
    exit_code, report = audit_json([NO_CLOSE_DATE], waivers, "--fail-on", "never")

    [expired] = [f for f in report["findings"] if f["code"] == "HY911"]
    assert expired["rule"] == "expired-waiver"
    assert expired["severity"] == "warning"
    assert expired["message"] == (
        "waivers[1] in hygiene.toml (deal 'D2', rule 'HY002', until 2026-03-01, reason 'Customer signs in Q1') has expired; "
        "the findings it waived are reported again"
    )
    assert expired["details"] == {"waiver": 1, "deal": "D2", "rule": "HY002", "until": "2026-03-01", "reason": "Customer signs in Q1"}
    assert expired["fingerprint"] == waiver_fingerprint("HY911", "D2", "HY002")


def test_a_string_date_and_a_toml_date_mean_the_same(audit_json):
    for until in ("2026-04-30", dt.date(2026, 4, 30)):
        _, report = audit_json([NO_CLOSE_DATE], [waiver("D2", "HY002", until=until)])
        assert (report["waived"], subjects(report)) == (1, [])


# Which deals and which rules.


@pytest.mark.parametrize(
    ("pattern", "waived"),
    [
        ("D1", {"D1"}),
        ("D1*", {"D1", "D10"}),
        ("D?", {"D1"}),
        ("[DX]1", {"D1", "X1"}),
        ("d1*", {"d1x"}),  # case-sensitive: a CRM id's case is part of it
        ("*", {"D1", "D10", "X1", "d1x"}),
    ],
)
def test_deal_is_an_id_or_a_case_sensitive_glob(audit_json, pattern, waived):
    ids = ["D1", "D10", "X1", "d1x"]
    _, report = audit_json([deal(STALE, i) for i in ids], [waiver(pattern, "stale-stage")])

    assert {f["deal_id"] for f in report["findings"] if f["code"] == "HY001"} == set(ids) - waived
    assert report["waived"] == len(waived)


@pytest.mark.parametrize(
    ("rule", "left"),
    [
        ("HY001", ["HY002"]),
        ("stale-stage", ["HY002"]),
        ("HY002", ["HY001"]),
        ("HY00", []),
        ("ALL", []),
    ],
)
def test_rule_is_a_code_a_prefix_or_a_name(audit_json, rule, left):
    _, report = audit_json([STALE_WITHOUT_CLOSE_DATE], [waiver("D5", rule)])
    assert sorted(code for code, _ in subjects(report)) == left


def test_owner_level_findings_are_never_waived(audit_json):
    _, report = audit_json([CLEAN], [waiver("*", "ALL")], config={"quotas": {"Ada": 1_000_000}})
    assert subjects(report) == [("HY004", None), ("HY910", None)]


def test_a_waiver_covers_only_its_deals_and_rules(audit_json):
    _, report = audit_json([STALE, deal(STALE, "D6"), NO_CLOSE_DATE], [waiver("D1", "HY002"), waiver("D2", "HY002")])
    assert sorted(subjects(report)) == [("HY001", "D1"), ("HY001", "D6"), ("HY910", None)]


def test_a_waiver_naming_no_rule_is_a_configuration_error(make_deals, hygiene_config, hygiene_cli):
    make_deals([CLEAN])
    hygiene_config({"waivers": [waiver("D1", "HY001"), waiver("D1", "stale-stages")]})

    line = one_error_line(hygiene_cli("audit", "deals.csv", "--as-of", AS_OF))

    assert line == "hygiene.toml: waivers[1].rule: 'stale-stages' matches no rule code, prefix, name or group (`hygiene rules` lists them)"


# Unused waivers.


def test_a_waiver_matching_nothing_is_reported_as_unused(audit_json):
    exit_code, report = audit_json([STALE], [waiver("D1", "HY001"), waiver("D9*", "stale-stage", reason="Renewal")])

    [unused] = [f for f in report["findings"] if f["code"] == "HY910"]
    assert exit_code == 0  # info: it does not fail the default fail_on
    assert (unused["rule"], unused["severity"], unused["deal_id"], unused["owner"]) == ("unused-waiver", "info", None, None)
    assert unused["message"] == (
        "waivers[1] in hygiene.toml (deal 'D9*', rule 'stale-stage', until 2026-04-30, reason 'Renewal') matches no finding; "
        "remove it, or correct its deal or rule"
    )


def test_a_waivers_findings_keep_their_fingerprint_when_waivers_are_reordered(audit_json):
    unused = waiver("D9", "stale-stage")
    _, first = audit_json([STALE], [unused])
    _, second = audit_json([STALE], [waiver("D8", "HY002", reason="Other"), unused])

    about_d9 = [(f["details"]["waiver"], f["fingerprint"]) for report in (first, second) for f in report["findings"] if f["details"].get("deal") == "D9"]
    assert about_d9 == [(0, waiver_fingerprint("HY910", "D9", "stale-stage")), (1, waiver_fingerprint("HY910", "D9", "stale-stage"))]


def test_a_waiver_is_not_called_unused_when_its_rules_did_not_run(audit_json):
    _, report = audit_json([NO_CLOSE_DATE], [waiver("D9", "stale-stage")], "--select", "HY002,HY910")
    assert subjects(report) == [("HY002", "D2")]


def test_unused_and_expired_waivers_are_rules_that_can_be_ignored_or_made_severe(audit_json):
    waivers = [waiver("D9", "HY001"), waiver("D2", "HY002", until="2026-03-01")]

    _, ignored = audit_json([NO_CLOSE_DATE], waivers, "--ignore", "unused-waiver,HY911")
    exit_code, severe = audit_json([CLEAN], waivers, config={"rules": {"expired-waiver": {"severity": "error"}}})

    assert subjects(ignored) == [("HY002", "D2")]
    assert exit_code == 1
    assert [(f["code"], f["severity"]) for f in severe["findings"]] == [("HY911", "error"), ("HY910", "info")]


def test_unused_and_expired_waivers_are_listed_and_explained(hygiene_cli):
    rules = hygiene_cli("rules").stdout.splitlines()
    assert [line.split()[:4] for line in rules if line.startswith(("HY910", "HY911"))] == [
        ["HY910", "unused-waiver", "info", "builtin-rules"],
        ["HY911", "expired-waiver", "warning", "builtin-rules"],
    ]
    text = hygiene_cli("explain", "expired-waiver").stdout
    assert text.startswith("HY911 expired-waiver (warning, from plugin builtin-rules)")
    assert text.index("**Why**") < text.index("**Example**") < text.index("**Fix**")


# Waived findings count nowhere, and come back.


def test_waived_findings_are_in_no_count_and_no_score(audit_json):
    _, report = audit_json([NO_CLOSE_DATE, CLEAN], [waiver("D2", "HY002")])

    assert report["waived"] == 1
    assert report["summary"]["findings"] == 0
    assert report["summary"]["score"] == {"overall": 1.0, "by_owner": {"Ada": 1.0}}


def test_the_console_report_counts_waived_findings(make_deals, hygiene_config, hygiene_cli):
    make_deals([NO_CLOSE_DATE, deal(NO_CLOSE_DATE, "D5")])
    hygiene_config({"waivers": [waiver("D*", "HY002")]})

    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)

    assert result.exit_code == 0
    assert "  waived: 2 findings (by [[waivers]] in the configuration)\n" in result.stdout


def test_a_baseline_does_not_record_waived_findings_so_they_fail_once_the_waiver_expires(tmp_path, make_deals, hygiene_config, hygiene_cli):
    make_deals([NO_CLOSE_DATE, STALE])
    hygiene_config({"waivers": [waiver("D2", "HY002", until="2026-03-31")]})
    assert hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF).exit_code == 0
    recorded = json.loads((tmp_path / ".hygiene-baseline.json").read_text(encoding="utf-8"))["findings"]
    assert list(recorded) == [fingerprint("HY001", "D1")]

    on_time = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", ".hygiene-baseline.json", "--format", "json")
    late = hygiene_cli("audit", "deals.csv", "--as-of", "2026-04-01", "--baseline", ".hygiene-baseline.json", "--format", "json")

    assert on_time.exit_code == 0
    assert late.exit_code == 1
    statuses = {(f["code"], f["deal_id"]): f["baseline_status"] for f in json_report(late.stdout)["findings"]}
    assert statuses == {("HY001", "D1"): "known", ("HY002", "D2"): "new", ("HY911", None): "new"}


# Validation: one line naming the waiver and the key.


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({**waiver("D1", "HY001"), "owner": "Ada"}, "waivers[0].owner: unknown key in waivers[0] (expected one of: deal, reason, rule, until)"),
        ({"deal": "D1", "rule": "HY001", "until": "2026-04-30"}, "waivers[0]: 'reason' is a required property"),
        ({"deal": "D1", "rule": "HY001", "reason": "Holiday"}, "waivers[0]: 'until' is a required property"),
        (waiver("D1", "HY001", reason=""), "waivers[0].reason: '' should be non-empty"),
        (waiver("D1", "HY001", reason="   "), "waivers[0].reason: say why the findings are waived"),
        (waiver("D1", "HY001", until="2026-02-30"), "waivers[0].until: '2026-02-30' is not a date in YYYY-MM-DD form"),
        (waiver("D1", "HY001", until="30/04/2026"), "waivers[0].until: '30/04/2026' is not a date in YYYY-MM-DD form"),
        (waiver("D1", "HY001", until="20260430"), "waivers[0].until: '20260430' is not a date in YYYY-MM-DD form"),
        (waiver("D1", "HY001", until=dt.datetime(2026, 4, 30, 12)), "waivers[0].until: '2026-04-30T12:00:00' is not a date in YYYY-MM-DD form"),
        (waiver("D1", "HY001", until=20260430), "waivers[0].until: 20260430 is not of type 'string'"),
        (waiver("", "HY001"), "waivers[0].deal: '' should be non-empty"),
    ],
)
def test_an_invalid_waiver_is_one_line_naming_it(make_deals, hygiene_config, hygiene_cli, entry, problem):
    make_deals([CLEAN])
    hygiene_config({"waivers": [entry]})

    assert one_error_line(hygiene_cli("audit", "deals.csv", "--as-of", AS_OF)) == f"hygiene.toml: {problem}"
