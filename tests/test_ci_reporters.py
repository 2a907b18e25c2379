"""The CI reporters: JUnit, GitHub annotations and job summary, GitLab Code Quality, Markdown, CSV.

Third-party formats are validated against their consumers' schemas (``tests/schemas/``, with
their origin and licence in its README). Every report here is built from an audit with an
explicit ``as_of``; a baseline is simulated by marking findings ``known`` on the report.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import jsonschema
import polars as pl
import pytest
import xmlschema

from _cli_audit import AUDIT_ENV, run_audit, run_cli, sha256_of, source_config, write_config
from hygiene.plugin.registry import load_registry
from hygiene.testing import audit_deals
from hygiene_plugins.reporters.csv_report import CsvReporter
from hygiene_plugins.reporters.github import STEP_SUMMARY_LIMIT_BYTES, GithubReporter, escape_data, escape_property
from hygiene_plugins.reporters.gitlab import GitlabReporter
from hygiene_plugins.reporters.junit import JunitReporter
from hygiene_plugins.reporters.markdown import COMMENT_LIMIT_BYTES, MarkdownReporter, cell

AS_OF = "2026-03-31"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
JUNIT_SCHEMAS = {name: xmlschema.XMLSchema(SCHEMAS / f"junit-{name}.xsd") for name in ("ant", "jenkins")}
GITLAB_VALIDATOR = jsonschema.Draft202012Validator(json.loads((SCHEMAS / "gitlab-codequality.schema.json").read_text(encoding="utf-8")))
CI_REPORTERS = [JunitReporter, GithubReporter, GitlabReporter, MarkdownReporter, CsvReporter]

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
APEX_FUZZ_OPPORTUNITIES = REAL_DATA / "salesforce_apex_recipes_fuzz" / "Opportunities.csv"
APEX_FUZZ_SHA256 = "64299cbcf43ba20a0962fdc095b8c4ec5676212f938691c1bcbf908dbaddc9eb"

# As of 2026-03-31: D1 is past due (error), D2 lacks a close date (error), Ada is far from her
# quota (owner-level warning), D4 is stale (warning), D3's stage is unknown (info here), D5 is clean.
SAMPLE_DEALS = [
    {"id": "D1", "name": "Acme", "owner": "Ada", "stage": "Proposal", "amount": 50_000, "close_date": "2026-01-15"},
    {"id": "D2", "name": "Beta", "owner": "Ada", "stage": "Proposal", "amount": 2_000},
    {"id": "D3", "name": "Gamma", "owner": "Zoe", "stage": "Mystery", "amount": 700, "close_date": "2026-06-30"},
    {"id": "D4", "name": "Delta", "owner": "Zoe", "stage": "Negotiation", "amount": 300, "close_date": "2026-06-30", "stage_entered_date": "2025-10-01"},
    {"id": "D5", "name": "Epsilon", "owner": "Zoe", "stage": "Proposal", "amount": 100, "close_date": "2026-06-30", "stage_entered_date": "2026-03-20"},
]
SAMPLE_SETTINGS = {"options": {"HY901": {"severity": "info"}}, "quotas": {"Ada": 1_000_000}}
#: Three invalid values in one deal: three invalid-value findings with one fingerprint.
INVALID_DEAL = {"id": "D7", "owner": "Ada", "stage": "Proposal", "amount": "lots", "close_date": "soon", "probability": "high"}
INVALID_DEAL_MESSAGES = [
    "row 2, column 'amount': 'lots' is not a number",
    "row 2, column 'close_date': 'soon' is not a date (YYYY-MM-DD)",
    "row 2, column 'probability': 'high' is not a percentage from 0 to 100",
]
BASELINE_FILE = ".hygiene-baseline.json"
#: A baseline entry no longer found.
FIXED_ENTRY = {"fingerprint": "0123456789abcdef0123", "code": "HY002", "deal_id": "D9", "owner": "Zoe", "count": 1}


@pytest.fixture(autouse=True)
def builtin_plugins_only(monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def sample_report():
    return audit_deals(SAMPLE_DEALS, as_of=AS_OF, **SAMPLE_SETTINGS)


def with_baseline(report, known: list[tuple[str, str | None]], fixed=(FIXED_ENTRY,)):
    """``report`` as if audited against a baseline that records the (code, deal id) pairs ``known``."""
    is_known = pl.any_horizontal(
        [(pl.col("code") == code) & pl.col("deal_id").eq_missing(pl.lit(deal, pl.String)) for code, deal in known]
    )
    findings = report.findings.with_columns(pl.when(is_known).then(pl.lit("known")).otherwise(pl.lit("new")).alias("baseline_status"))
    return attrs.evolve(report, findings=findings, baseline_file=BASELINE_FILE, fixed=[dict(entry) for entry in fixed])


def render(reporter: type, report) -> str:
    stream = io.StringIO()
    reporter().write(report, stream)
    return stream.getvalue()


def deals_without_close_date(count: int, **fields) -> list[dict]:
    """Open deals that each get one missing-close-date error; deal ``i`` has amount ``i``."""
    return [{"id": f"D{i:04d}", "owner": "Ada", "stage": "Proposal", "amount": i, **fields} for i in range(1, count + 1)]


def csv_rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


# --- Registration -----------------------------------------------------------------------


def test_ci_reporters_are_registered_with_a_summary_and_documentation():
    reporters = load_registry().reporters

    for reporter in CI_REPORTERS:
        assert reporters[reporter.name].cls is reporter
        assert reporter.summary and reporter.__doc__


# --- JUnit ------------------------------------------------------------------------------


def junit_document(report) -> ET.Element:
    text = render(JunitReporter, report)
    for schema in JUNIT_SCHEMAS.values():
        schema.validate(text)
    return ET.fromstring(text)


@pytest.mark.parametrize(
    ("damage", "rejected_by"),
    [
        (lambda text: text.replace(' hostname="localhost"', ""), {"ant"}),
        (lambda text: text.replace(' tests="1"', "", 1), {"ant", "jenkins"}),
        (lambda text: text.replace("<failure ", "<failed ", 1).replace("</failure>", "</failed>", 1), {"ant", "jenkins"}),
        (lambda text: text.replace('failure type="error"', "failure", 1), {"ant"}),
    ],
    ids=["no-hostname", "no-test-count", "unknown-element", "untyped-failure"],
)
def test_junit_schemas_reject_a_damaged_report(damage, rejected_by):
    text = damage(render(JunitReporter, audit_deals([{"id": "D1", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF)))

    assert {name for name, schema in JUNIT_SCHEMAS.items() if not schema.is_valid(text)} == rejected_by


def test_junit_has_one_suite_per_rule_and_one_failed_case_per_flagged_deal():
    root = junit_document(sample_report())

    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites)[:5] == ["HY001 stale-stage", "HY002 missing-close-date", "HY003 past-due-close-date", "HY004 gap-to-quota", "HY005 ruthless-drop"]
    [stale] = suites["HY001 stale-stage"].iter("testcase")
    assert (stale.get("classname"), stale.get("name")) == ("hygiene.HY001.Zoe", "D4")
    failure = stale.find("failure")
    assert failure.get("type") == "warning"
    assert failure.get("message") == failure.text == "in Negotiation for 181 days (limit 21)"
    [quota] = suites["HY004 gap-to-quota"].iter("testcase")
    assert (quota.get("classname"), quota.get("name"), quota.find("failure").get("type")) == ("hygiene.HY004.Ada", "Ada", "warning")


def test_junit_suite_counts_agree_with_its_test_cases():
    root = junit_document(with_baseline(sample_report(), known=[("HY002", "D2")]))

    for suite in root.iter("testsuite"):
        cases = list(suite.iter("testcase"))
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(case.find("failure") is not None for case in cases)
        assert int(suite.get("skipped")) == sum(case.find("skipped") is not None for case in cases)
        assert suite.get("errors") == "0"


def test_junit_rule_without_findings_has_one_passing_case():
    root = junit_document(sample_report())

    [suite] = [s for s in root.iter("testsuite") if s.get("name") == "HY005 ruthless-drop"]
    [case] = suite.iter("testcase")
    assert (case.get("name"), list(case)) == ("no findings", [])
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("1", "0", "0")


def test_junit_info_and_known_findings_are_skipped_not_failed():
    root = junit_document(with_baseline(sample_report(), known=[("HY003", "D1")]))

    cases = {case.get("name") + " " + case.get("classname"): case for case in root.iter("testcase")}
    known, info, new = cases["D1 hygiene.HY003.Ada"], cases["D3 hygiene.HY901.Zoe"], cases["D2 hygiene.HY002.Ada"]
    assert known.find("failure") is None and known.find("skipped").get("message") == "known (in the baseline): close date 2026-01-15 is 75 days past due"
    assert info.find("failure") is None and info.find("skipped").get("message").startswith("info: stage 'Mystery'")
    assert new.find("failure").get("type") == "error"


def test_junit_findings_of_one_rule_about_one_deal_share_a_test_case():
    root = junit_document(audit_deals([INVALID_DEAL], rules=["HY900"], as_of=AS_OF))

    [case] = root.iter("testcase")
    failure = case.find("failure")
    assert failure.text.split("\n") == INVALID_DEAL_MESSAGES
    assert failure.get("message") == failure.text


def test_junit_replaces_characters_xml_forbids_and_escapes_markup():
    hostile = 'A\x00c\x1bm\x0be\ufffe <b>&"\'</b>\nline'
    report = audit_deals([{"id": "D1", "name": hostile, "owner": "O\x07wner.Name", "stage": hostile}], rules=["HY901"], as_of=AS_OF)
    root = junit_document(report)

    [case] = root.iter("testcase")
    assert case.get("classname") == "hygiene.HY901.O\ufffdwner_Name"
    assert case.find("failure").text == "stage 'A\ufffdc\ufffdm\ufffde\ufffd <b>&\"'</b>\nline' is not in the stage table"


# --- GitHub -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data", "property_value"),
    [
        ("100%", "100%25", "100%25"),
        ("a\rb", "a%0Db", "a%0Db"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("C:\\deals.csv", "C:\\deals.csv", "C%3A\\deals.csv"),
        ("Q1,2026", "Q1,2026", "Q1%2C2026"),
        ("%0A stays text", "%250A stays text", "%250A stays text"),
        ("::error::forged, 50%", "::error::forged, 50%25", "%3A%3Aerror%3A%3Aforged%2C 50%25"),
    ],
)
def test_github_escapes_messages_and_properties_as_the_toolkit_does(text, data, property_value):
    assert escape_data(text) == data
    assert escape_property(text) == property_value


def test_github_annotation_carries_file_line_and_title_escaped():
    report = audit_deals([{"id": "D1", "name": "50% off,\r\nnext::x", "stage": "Mystery"}], rules=["HY901"], as_of=AS_OF)
    report = attrs.evolve(report, source="exports/q1,2026:final.csv")

    assert render(GithubReporter, report) == (
        "::warning file=exports/q1%2C2026%3Afinal.csv,line=2,title=HY901 unknown-stage"
        "::D1 50%25 off,%0D%0Anext::x: stage 'Mystery' is not in the stage table\n"
    )


def annotations(text: str) -> list[tuple[str, str]]:
    """(command, message) of each workflow command line."""
    lines = [line for line in text.splitlines() if line.startswith("::")]
    return [(line[2:].split(" ", 1)[0].split("::")[0], line.rsplit("::", 1)[1]) for line in lines]


def test_github_annotates_ten_per_level_largest_amounts_first_then_says_how_many_more():
    report = audit_deals(deals_without_close_date(25), rules=["HY002"], as_of=AS_OF)

    found = annotations(render(GithubReporter, report))

    assert [message.split(":")[0] for _, message in found[:10]] == [f"D{i:04d} (owner Ada)" for i in range(25, 15, -1)]
    assert {kind for kind, _ in found[:10]} == {"error"}
    assert found[10:] == [("notice", "15 more findings not annotated (15 errors); see the job summary or the full report")]


def test_github_closing_line_leaves_room_under_the_notice_cap():
    report = audit_deals(deals_without_close_date(12), rules=["HY002"], options={"HY002": {"severity": "info"}}, as_of=AS_OF)

    found = annotations(render(GithubReporter, report))

    assert [kind for kind, _ in found] == ["notice"] * 10
    assert found[-1][1] == "3 more findings not annotated (3 infos); see the job summary or the full report"


def test_github_annotates_only_new_findings_when_a_baseline_is_used():
    report = with_baseline(sample_report(), known=[("HY003", "D1"), ("HY001", "D4")])

    found = annotations(render(GithubReporter, report))

    assert [(kind, message.split(":")[0]) for kind, message in found[:-1]] == [("error", "D2 Beta (owner Ada)"), ("warning", "Ada"), ("notice", "D3 Gamma (owner Zoe)")]
    assert found[-1] == ("notice", "2 known findings from the baseline not annotated; see the job summary or the full report")


def test_github_appends_a_markdown_job_summary(tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("## Tests\n\nall passed", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    annotations_text = render(GithubReporter, with_baseline(sample_report(), known=[("HY003", "D1")]))

    text = summary.read_text(encoding="utf-8")
    assert text.startswith("## Tests\n\nall passed\n\n## Pipeline hygiene: 4 new findings (1 known, 1 fixed)\n")
    assert "| Hygiene score | 40.0% of open deals have no error or warning |" in text
    assert "| Zoe | 66.7% |" in text
    assert f"| Baseline | {cell(BASELINE_FILE)}: 4 new, 1 known, 1 fixed |" in text
    assert "Pipeline hygiene" not in annotations_text


def test_github_job_summary_of_many_findings_stays_under_one_mebibyte(tmp_path, monkeypatch):
    # Long CJK names: the first thousand rows take more than 1 MiB when untruncated.
    deals = deals_without_close_date(1200, name="部落格" * 100, owner="사회과학원" * 50)
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    render(GithubReporter, audit_deals(deals, rules=["HY002"], as_of=AS_OF))

    size = summary.stat().st_size
    assert STEP_SUMMARY_LIMIT_BYTES * 0.9 < size <= STEP_SUMMARY_LIMIT_BYTES
    assert summary.read_text(encoding="utf-8").rstrip().endswith("more findings._")


def test_github_job_summary_fits_in_what_earlier_steps_left(tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    earlier = "x" * (STEP_SUMMARY_LIMIT_BYTES - 4000) + "\n"
    summary.write_text(earlier, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    render(GithubReporter, audit_deals(deals_without_close_date(300), rules=["HY002"], as_of=AS_OF))

    text = summary.read_text(encoding="utf-8")
    assert text.startswith(earlier) and "## Pipeline hygiene" in text
    assert len(text.encode("utf-8")) <= STEP_SUMMARY_LIMIT_BYTES


def test_github_writes_no_job_summary_when_the_file_is_already_full(tmp_path, monkeypatch):
    summary = tmp_path / "step_summary.md"
    summary.write_text("x" * (STEP_SUMMARY_LIMIT_BYTES - 100), encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))

    output = render(GithubReporter, sample_report())

    assert summary.stat().st_size == STEP_SUMMARY_LIMIT_BYTES - 100
    assert "no job summary written" in output


# --- GitLab -----------------------------------------------------------------------------


def gitlab_issues(report) -> list[dict]:
    text = render(GitlabReporter, report)
    assert not text.startswith("\ufeff"), "GitLab's parser refuses a byte order mark"
    issues = json.loads(text)
    GITLAB_VALIDATOR.validate(issues)
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints), "GitLab requires unique fingerprints"
    return issues


def test_gitlab_report_matches_the_code_quality_schema_with_mapped_severities():
    issues = gitlab_issues(sample_report())

    by_check = {issue["check_name"]: issue for issue in issues}
    assert {check: issue["severity"] for check, issue in by_check.items()} == {
        "HY003 past-due-close-date": "major",
        "HY002 missing-close-date": "major",
        "HY004 gap-to-quota": "minor",
        "HY001 stale-stage": "minor",
        "HY901 unknown-stage": "info",
    }
    assert by_check["HY001 stale-stage"]["location"] == {"path": "deals", "lines": {"begin": 5}}
    assert by_check["HY001 stale-stage"]["description"] == "D4 Delta (owner Zoe): in Negotiation for 181 days (limit 21)"
    assert by_check["HY004 gap-to-quota"]["location"]["lines"] == {"begin": 1}


def test_gitlab_names_a_finding_about_neither_a_deal_nor_an_owner_as_about_the_audit():
    report = audit_deals([{"id": "D1", "owner": "Ada", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF)
    about_the_audit = report.findings.with_columns(pl.lit(None, pl.String).alias(column) for column in ("deal_id", "deal_name", "owner"))
    about_the_audit = about_the_audit.with_columns(pl.lit(None, pl.Int64).alias("row"))

    [issue] = gitlab_issues(attrs.evolve(report, findings=about_the_audit))

    assert issue["description"] == "(audit): open deal in Proposal has no close date"
    assert issue["location"]["lines"] == {"begin": 1}


def test_gitlab_new_errors_against_a_baseline_are_critical_and_known_ones_stay_listed():
    issues = gitlab_issues(with_baseline(sample_report(), known=[("HY003", "D1")]))

    severities = {issue["check_name"]: issue["severity"] for issue in issues}
    assert severities["HY003 past-due-close-date"] == "major"
    assert severities["HY002 missing-close-date"] == "critical"
    assert len(issues) == 5


def test_gitlab_repeated_fingerprints_get_an_occurrence_suffix():
    report = audit_deals([INVALID_DEAL], rules=["HY900"], as_of=AS_OF)
    fingerprint = report.findings["fingerprint"][0]

    assert [issue["fingerprint"] for issue in gitlab_issues(report)] == [fingerprint, f"{fingerprint}-2", f"{fingerprint}-3"]


def test_gitlab_path_is_relative_without_a_leading_dot_slash():
    report = attrs.evolve(sample_report(), source="./exports/pipeline.csv")

    assert {issue["location"]["path"] for issue in gitlab_issues(report)} == {"exports/pipeline.csv"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda issue: issue.pop("fingerprint"),
        lambda issue: issue.update(severity="error"),
        lambda issue: issue["location"].update(lines={"begin": 0}),
        lambda issue: issue["location"].pop("lines"),
        lambda issue: issue["location"].update(path="./deals.csv"),
        lambda issue: issue.update(description=""),
    ],
    ids=["no-fingerprint", "unknown-severity", "line-0", "no-line", "dot-slash-path", "empty-description"],
)
def test_gitlab_schema_rejects_a_damaged_issue(damage):
    [issue] = gitlab_issues(audit_deals([{"id": "D1", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF))

    damage(issue)

    with pytest.raises(jsonschema.ValidationError):
        GITLAB_VALIDATOR.validate([issue])


# --- Markdown ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b", "a\\|b"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("`code`", "\\`code\\`"),
        ("line\nbreak\r\nand\rmore", "line break and more"),
        ("*bold* _it_ [link](x) ~~s~~", "\\*bold\\* \\_it\\_ \\[link\\](x) \\~\\~s\\~\\~"),
        ("a\\|b", "a\\\\\\|b"),
        ("AT&T &lt;", "AT&amp;T &amp;lt;"),
        ("@octocat and a@b", "@\u2060octocat and a@\u2060b"),
        ("bell\x07", "bell\ufffd"),
        ("x" * 300, "x" * 199 + "…"),
    ],
    ids=["pipe", "html", "backticks", "newlines", "markup", "backslash", "entities", "mentions", "control", "long"],
)
def test_markdown_cell_escaping(value, expected):
    assert cell(value) == expected


def test_markdown_summary_shows_score_counts_and_tables():
    text = render(MarkdownReporter, sample_report())

    assert text.startswith("## Pipeline hygiene: 5 findings (2 errors, 2 warnings, 1 info)\n")
    for line in [
        "| Source | deals |",
        "| As of | 2026-03-31 (period 2026-Q1: 2026-01-01 to 2026-03-31) |",
        "| Deals | 5 audited, 5 open |",
        "| Findings | 5: 2 errors, 2 warnings, 1 info |",
        "| Hygiene score | 40.0% of open deals have no error or warning |",
        "| Ada | 0.0% | 3 | 52,000 | 2 | 0 | 1,000,000 | 970,000 | 0.05x |",
        "| Zoe | 66.7% | 2 | 300 | 3 |  |  |  |  |",
        "| HY002 missing-close-date | 1 | 1 | 0 | 0 |",
        "| Ada | 3 | 2 | 1 | 0 |",
        "| error | HY003 past-due-close-date | D1 Acme | Ada | close date 2026-01-15 is 75 days past due | 2 |",
    ]:
        assert line in text.splitlines(), line
    assert "Baseline" not in text


def test_markdown_with_a_baseline_lists_new_findings_first_and_marks_known_ones():
    text = render(MarkdownReporter, with_baseline(sample_report(), known=[("HY003", "D1")]))

    lines = text.splitlines()
    assert lines[0] == "## Pipeline hygiene: 4 new findings (1 known, 1 fixed)"
    assert f"| Baseline | {cell(BASELINE_FILE)}: 4 new, 1 known, 1 fixed |" in lines
    rows = [line for line in lines if line.startswith(("| error", "| warning", "| info"))]
    assert [row.rsplit("|", 2)[1].strip() for row in rows] == ["new", "new", "new", "new", "known"]
    assert "| HY002 | D9 | Zoe | 1 |" in lines


def test_markdown_caps_the_findings_table_and_says_how_many_more():
    text = render(MarkdownReporter, audit_deals(deals_without_close_date(130), rules=["HY002"], as_of=AS_OF))

    assert sum(line.startswith("| error |") for line in text.splitlines()) == 100
    assert "_… and 30 more findings._" in text


def test_markdown_of_many_long_findings_fits_a_pull_request_comment():
    deals = deals_without_close_date(150, name="<b>" * 100, owner="|" * 300)

    text = render(MarkdownReporter, audit_deals(deals, rules=["HY002"], as_of=AS_OF))

    assert len(text.encode("utf-8")) <= COMMENT_LIMIT_BYTES
    assert "more findings._" in text and "<b>" not in text


# --- CSV --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell_text"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("1+1", "1+1"),
        ("a=b", "a=b"),
    ],
)
def test_csv_neutralises_cells_a_spreadsheet_would_evaluate(value, cell_text):
    # Sources trim text, so a leading tab or CR never comes from an export: the cells are set on the report itself.
    report = audit_deals([{"id": "D1", "name": "x", "owner": "Ada", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF)
    report = attrs.evolve(report, findings=report.findings.with_columns(pl.lit(value).alias("deal_name"), pl.lit(value).alias("owner")))

    [row] = csv_rows(render(CsvReporter, report))

    assert row["deal_name"] == row["owner"] == cell_text


def test_csv_has_a_byte_order_mark_the_documented_columns_and_one_row_per_finding():
    report = with_baseline(sample_report(), known=[("HY003", "D1")])

    rows = csv_rows(render(CsvReporter, report))

    assert list(rows[0]) == ["severity", "code", "rule", "owner", "deal_id", "deal_name", "message", "row", "fingerprint", "baseline_status", "details"]
    assert [(r["code"], r["deal_id"], r["baseline_status"]) for r in rows] == [
        (code, deal or "", status) for code, deal, status in report.findings.select("code", "deal_id", "baseline_status").iter_rows()
    ]
    assert json.loads(rows[0]["details"]) == {"close_date": "2026-01-15", "days_past_due": 75}
    assert rows[2]["row"] == ""  # the owner-level finding


def test_csv_of_200k_findings_is_written_whole():
    report = audit_deals([{"id": "D1", "owner": "Ada", "stage": "Proposal"}], rules=["HY002"], as_of=AS_OF)
    many = report.findings.select(pl.all().repeat_by(200_000).explode()).with_columns(pl.lit("-1E02").alias("deal_name"))

    text = render(CsvReporter, attrs.evolve(report, findings=many))

    assert text.count("\n") == 200_001
    assert text.count(",'-1E02,") == 200_000


# --- Real hostile strings ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_audit(tmp_path_factory):
    """The hostile-strings export audited through the command line into every CI format, and JSON."""
    if not APEX_FUZZ_OPPORTUNITIES.is_file():
        pytest.skip(f"real CRM exports not found at {APEX_FUZZ_OPPORTUNITIES}: they live beside the repository in shared/data/real/")
    assert sha256_of(APEX_FUZZ_OPPORTUNITIES) == APEX_FUZZ_SHA256, "not the file PROVENANCE.md describes"
    # No id column: the deal name stands in; descriptions (the hostile strings) become deal names,
    # account references (``@AccountRef32``) owners.
    fields = {"id": "name", "name": "description", "owner": "accountId", "amount": "amount", "stage": "StageName", "close_date": "closedate"}
    tmp_path = tmp_path_factory.mktemp("fuzz")
    config = write_config(tmp_path, source_config(APEX_FUZZ_OPPORTUNITIES, fields))
    formats = {"json": "report.json", "csv": "report.csv", "junit": "junit.xml", "gitlab": "gitlab.json", "markdown": "report.md"}
    result = run_audit(config, *(f"--format={name}:{tmp_path / path}" for name, path in formats.items()), as_of="2021-12-31")
    assert result.exit_code == 1, result.output
    return {name: (tmp_path / path).read_text(encoding="utf-8") for name, path in formats.items()}


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.realdata
def test_csv_of_the_hostile_export_has_no_cell_a_spreadsheet_would_evaluate(fuzz_audit):
    rows = csv_rows(fuzz_audit["csv"])
    findings = json.loads(fuzz_audit["json"])["findings"]

    assert len(rows) == len(findings)
    for row, finding in zip(rows, findings, strict=True):
        for column, text in row.items():
            assert not text.startswith(TRIGGERS), (column, text)
            original = text[1:] if text.startswith("'") and text[1:].startswith(TRIGGERS) else text
            if column == "details":
                assert json.loads(original) == finding["details"]
            else:
                assert original == ("" if finding.get(column) is None else str(finding[column])), column
    deal_names = {row["deal_name"] for row in rows}
    assert {"'-1E02", "'-1E+02", "<img src=x onerror=alert('hi') />"} <= deal_names
    assert "'@AccountRef32" in {row["owner"] for row in rows}


@pytest.mark.realdata
def test_other_reports_of_the_hostile_export_are_valid(fuzz_audit):
    for schema in JUNIT_SCHEMAS.values():
        schema.validate(fuzz_audit["junit"])
    GITLAB_VALIDATOR.validate(json.loads(fuzz_audit["gitlab"]))
    markdown = fuzz_audit["markdown"]
    assert "<img" not in markdown and "&lt;img src=x onerror=alert('hi') /&gt;" in markdown
    assert "@AccountRef" not in markdown and "@\u2060AccountRef32" in markdown


# --- Every reporter: empty reports, determinism, several outputs in one run -------------


def test_every_reporter_renders_an_empty_report():
    report = audit_deals([], as_of=AS_OF)
    outputs = {reporter.name: render(reporter, report) for reporter in CI_REPORTERS}

    root = junit_document(report)
    assert {case.get("name") for case in root.iter("testcase")} == {"no findings"}
    assert outputs["github"] == ""
    assert gitlab_issues(report) == []
    assert outputs["markdown"].startswith("## Pipeline hygiene: no findings\n")
    assert "| Hygiene score | no open deals |" in outputs["markdown"]
    assert csv_rows(outputs["csv"]) == []
    assert outputs["csv"] == "\ufeffseverity,code,rule,owner,deal_id,deal_name,message,row,fingerprint,baseline_status,details\n"


@pytest.mark.parametrize("reporter", CI_REPORTERS, ids=lambda r: r.name)
def test_every_reporter_gives_byte_identical_output_for_the_same_audit(reporter):
    first = render(reporter, with_baseline(sample_report(), known=[("HY003", "D1")]))
    second = render(reporter, with_baseline(sample_report(), known=[("HY003", "D1")]))

    assert first == second


ALL_FORMATS = {"console": "console.txt", "junit": "reports/hygiene.xml", "gitlab": "gl-code-quality.json", "markdown": "summary.md", "csv": "findings.csv"}


@pytest.fixture
def pipeline_config(tmp_path, make_deals):
    return write_config(tmp_path, source_config(make_deals(SAMPLE_DEALS)) | {"quotas": SAMPLE_SETTINGS["quotas"]})


def audit_to_files(config: Path, directory: Path, run) -> dict[str, bytes]:
    """Audit into every CI format at once (GitHub on standard output) and return each output's bytes."""
    summary = directory / "step_summary.md"
    formats = [f"--format={name}:{directory / path}" for name, path in ALL_FORMATS.items()]
    stdout = run(["audit", "--config", str(config), "--as-of", AS_OF, *formats, "--format=github"], {"GITHUB_STEP_SUMMARY": str(summary)})
    return {"github": stdout.encode("utf-8"), "step_summary": summary.read_bytes()} | {name: (directory / path).read_bytes() for name, path in ALL_FORMATS.items()}


def in_process(args: list[str], env: dict[str, str]) -> str:
    result = run_cli(args, env)
    assert result.exit_code == 1, result.output
    return result.stdout


def in_subprocess(args: list[str], env: dict[str, str]) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"} | {k: v for k, v in AUDIT_ENV.items() if v} | env
    environment["PYTHONHASHSEED"] = "4242"
    command = [sys.executable, "-c", "from hygiene.cli import main; main()", *args]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert completed.returncode == 1, completed.stderr
    return completed.stdout


def test_one_run_writes_every_ci_format_identically_in_any_process(tmp_path, pipeline_config):
    first = audit_to_files(pipeline_config, tmp_path / "first", in_process)
    again = audit_to_files(pipeline_config, tmp_path / "again", in_process)
    elsewhere = audit_to_files(pipeline_config, tmp_path / "subprocess", in_subprocess)

    assert first == again == elsewhere
    assert first["github"].startswith(b"::error file=")
    assert first["step_summary"].startswith(b"## Pipeline hygiene: 5 findings")
    for schema in JUNIT_SCHEMAS.values():
        schema.validate(first["junit"].decode("utf-8"))


def test_console_and_github_annotations_share_standard_output(tmp_path, pipeline_config):
    junit = tmp_path / "reports" / "hygiene.xml"

    result = run_audit(pipeline_config, "--format", "console", "--format", f"junit:{junit}", "--format", "github", as_of=AS_OF)

    assert result.exit_code == 1, result.output
    assert "::error file=" in result.stdout and "Summary" in result.stdout and junit.is_file()
