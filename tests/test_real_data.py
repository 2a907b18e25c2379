"""Public CRM exports, audited through a configuration that maps their columns.

The exports sit beside the repository, in ``shared/data/real/`` (see its
PROVENANCE.md); they are never copied into the repository. Each test skips
when they are absent. The figures asserted here are the ones PROVENANCE.md
predicts for those exact bytes (their SHA-256 is checked before and after).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from _cli_audit import audit_report, findings_of, run_audit, sha256_of, source_config, write_config

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"

MAVEN_PIPELINE = "maven_crm_sales_opportunities/sales_pipeline.csv"
MAVEN_TEAMS = "maven_crm_sales_opportunities/sales_teams.csv"
SALESFORCE_OPPORTUNITIES = "salesforce_dev_edition_sample/Opportunity.csv"
APEX_FUZZ_OPPORTUNITIES = "salesforce_apex_recipes_fuzz/Opportunities.csv"

#: From PROVENANCE.md: the predictions below hold for these bytes only.
SHA256 = {
    MAVEN_PIPELINE: "825ce8f6c32d4009548b468df3173d55a46fd73f2531f532c5459371dc52adf2",
    MAVEN_TEAMS: "aeff1272ebe196f5a27e3fc0578aa27abf48ed9ae461aa344fb95990e5ad8bd1",
    SALESFORCE_OPPORTUNITIES: "61360f39ccf5e81fe90ee65b7609780e05c8ea15152f4c3de50cb443bfac4458",
    APEX_FUZZ_OPPORTUNITIES: "64299cbcf43ba20a0962fdc095b8c4ec5676212f938691c1bcbf908dbaddc9eb",
}

pytestmark = pytest.mark.realdata


def real_export(relative: str) -> Path:
    path = REAL_DATA / relative
    if not path.is_file():
        pytest.skip(f"real CRM exports not found at {path}: they live beside the repository in shared/data/real/")
    assert sha256_of(path) == SHA256[relative], f"{relative} is not the file PROVENANCE.md describes"
    return path


def audit_real_export(config: Path, relative: str, as_of: str) -> dict:
    """Audit a real export (validating the JSON report) and check the audit left it untouched."""
    report = audit_report(config, as_of=as_of)
    assert sha256_of(REAL_DATA / relative) == SHA256[relative], f"the audit changed {relative}"
    return report


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Each record with the line it starts on, read independently of hygiene."""
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        assert reader.fieldnames
        rows, start = [], reader.line_num + 1
        for record in reader:
            rows.append((start, record))
            start = reader.line_num + 1
    return rows


# --- Maven Analytics CRM sales opportunities --------------------------------------------

MAVEN_STAGES = [
    {"name": "Prospecting", "probability": 10},
    {"name": "Engaging", "probability": 50, "max_days": 90},
    {"name": "Won", "probability": 100, "closed": True, "won": True},
    {"name": "Lost", "probability": 0, "closed": True},
]
MAVEN_AS_OF = "2017-12-31"  # the latest date in the data
#: PROVENANCE.md §1, quirk 8.
MAVEN_WON_BY_QUARTER = {"2017-03-31": 1_134_672, "2017-06-30": 3_086_111, "2017-09-30": 2_982_255, "2017-12-31": 2_802_496}
MAVEN_AGENTS_WITHOUT_DEALS = {"Carl Lin", "Carol Thompson", "Elizabeth Anderson", "Mei-Mei Johns", "Natalya Ivanova"}
MAVEN_QUOTA = 10_000_000  # out of reach for every agent: each gets a gap-to-quota finding


@pytest.fixture(scope="module")
def maven_audit(tmp_path_factory):
    """The audit of the Maven pipeline as of a date (each date audited once per module)."""
    pipeline = real_export(MAVEN_PIPELINE)
    agents = [row["sales_agent"] for _, row in read_rows(real_export(MAVEN_TEAMS))]
    config = source_config(
        pipeline,
        {
            "id": "opportunity_id",
            "owner": "sales_agent",
            "account": "account",
            "stage": "deal_stage",
            "stage_entered_date": "engage_date",
            "close_date": "close_date",
            "amount": "close_value",
        },
    ) | {"pipeline": {"stages": MAVEN_STAGES}, "quotas": dict.fromkeys(agents, MAVEN_QUOTA)}
    reports: dict[str, dict] = {}

    def audit(as_of: str) -> dict:
        if as_of not in reports:
            reports[as_of] = audit_real_export(write_config(tmp_path_factory.mktemp("maven"), config), MAVEN_PIPELINE, as_of)
        return reports[as_of]

    return audit


def test_maven_every_open_deal_lacks_a_close_date(maven_audit):
    report = maven_audit(MAVEN_AS_OF)

    open_ids = {row["opportunity_id"] for _, row in read_rows(REAL_DATA / MAVEN_PIPELINE) if row["deal_stage"] in ("Prospecting", "Engaging")}
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (8800, 2089)
    assert {f["deal_id"] for f in findings_of(report, "HY002")} == open_ids
    assert len(findings_of(report, "HY002")) == 2089
    assert "HY003" not in report["summary"]["by_rule"]  # without a close date, nothing is past due


def test_maven_engaging_deals_over_90_days_are_stale_and_prospecting_ones_not_evaluable(maven_audit):
    report = maven_audit(MAVEN_AS_OF)

    as_of = dt.date.fromisoformat(MAVEN_AS_OF)
    stale = {
        row["opportunity_id"]
        for _, row in read_rows(REAL_DATA / MAVEN_PIPELINE)
        if row["deal_stage"] == "Engaging" and (as_of - dt.date.fromisoformat(row["engage_date"])).days > 90
    }
    assert len(stale) == 1479
    assert {f["deal_id"] for f in findings_of(report, "HY001")} == stale
    assert report["summary"]["not_evaluable"]["HY001"] == 500  # Prospecting rows have no engage_date


def test_maven_export_reads_cleanly(maven_audit):
    report = maven_audit(MAVEN_AS_OF)

    # CRLF line endings, blank accounts and close values: nothing unreadable, unknown or repeated.
    assert not {"HY900", "HY901", "HY902"} & set(report["summary"]["by_rule"])


@pytest.mark.parametrize(("as_of", "won"), MAVEN_WON_BY_QUARTER.items(), ids=["Q1", "Q2", "Q3", "Q4"])
def test_maven_won_revenue_per_quarter_matches_the_provenance(maven_audit, as_of, won):
    gaps = findings_of(maven_audit(as_of), "HY004")

    assert len(gaps) == 35
    assert sum(f["details"]["won"] for f in gaps) == won
    assert {f["owner"] for f in gaps if f["details"]["gap"] == MAVEN_QUOTA} == MAVEN_AGENTS_WITHOUT_DEALS


# --- Salesforce Developer Edition sample org --------------------------------------------

#: The standard Salesforce stages and probabilities (PROVENANCE.md §2).
SALESFORCE_STAGES = [
    {"name": "Prospecting", "probability": 10},
    {"name": "Qualification", "probability": 10},
    {"name": "Needs Analysis", "probability": 20},
    {"name": "Value Proposition", "probability": 50},
    {"name": "Id. Decision Makers", "probability": 60},
    {"name": "Perception Analysis", "probability": 70},
    {"name": "Proposal/Price Quote", "probability": 75},
    {"name": "Negotiation/Review", "probability": 90},
    {"name": "Closed Won", "probability": 100, "closed": True, "won": True},
    {"name": "Closed Lost", "probability": 0, "closed": True},
]
SALESFORCE_FIELDS = {
    "id": "Id",
    "name": "Name",
    "stage": "StageName",
    "amount": "Amount",
    "probability": "Probability",
    "close_date": "CloseDate",
    "created_date": "CreatedDate",
    "owner": "OwnerId",
    "next_step": "NextStep",
    "last_activity_date": "LastActivityDate",
    "stage_entered_date": "LastStageChangeDate",
}


@pytest.mark.parametrize(
    ("as_of", "past_due"),
    [("2018-10-13", 12), ("2018-10-15", 12), ("2018-10-16", 13)],
    ids=["created", "last-close-date", "day-after"],
)
def test_salesforce_open_deals_are_all_past_due_from_2018_10_16(tmp_path, as_of, past_due):
    export = real_export(SALESFORCE_OPPORTUNITIES)
    config = source_config(export, SALESFORCE_FIELDS) | {"pipeline": {"stages": SALESFORCE_STAGES}}

    report = audit_real_export(write_config(tmp_path, config), SALESFORCE_OPPORTUNITIES, as_of)

    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (31, 13)
    assert len(findings_of(report, "HY003")) == past_due
    assert report["summary"]["not_evaluable"]["HY001"] == 13  # LastStageChangeDate is blank on every row


def test_salesforce_midnight_datetimes_read_as_dates(tmp_path):
    export = real_export(SALESFORCE_OPPORTUNITIES)
    config = source_config(export, SALESFORCE_FIELDS) | {"pipeline": {"stages": SALESFORCE_STAGES}}

    report = audit_real_export(write_config(tmp_path, config), SALESFORCE_OPPORTUNITIES, "2018-10-16")

    close_dates = {row["Id"]: row["CloseDate"] for _, row in read_rows(export)}
    assert "HY900" not in report["summary"]["by_rule"]
    for finding in findings_of(report, "HY003"):
        assert close_dates[finding["deal_id"]] == finding["details"]["close_date"] + " 00:00:00"
    assert "2018-07-01" in {f["details"]["close_date"] for f in findings_of(report, "HY003")}


# --- Trailhead apex-recipes: hostile strings --------------------------------------------

#: Non-numeric hostile descriptions listed in PROVENANCE.md §3.
HOSTILE_TEXT = {
    "<img src=x onerror=alert('hi') />",
    "1;DROP TABLE users",
    "../../../../../../../../../../../etc/passwd%00",
    "/dev/null; touch /tmp/blns.fail ; echo",
    "１２３",
    "\u180e",
    "\u200b",
    "␡",
    "␣",
    "\u202a\u202atest\u202a",
    "(╯°□°）╯︵ ┻━┻)  ",
}
#: Descriptions that look like spreadsheet numbers, and are read as numbers.
NUMBER_LIKE_TEXT = {"-1E02", "1E02", "-1E+02", "0.00"}


@pytest.fixture
def fuzz_config(tmp_path):
    # No id column: the (non-unique) deal name stands in. The description feeds the deal name
    # (shown trimmed, like every text field) and the amount, so invalid-value findings quote it raw.
    export = real_export(APEX_FUZZ_OPPORTUNITIES)
    fields = {"id": "name", "name": "description", "amount": "description", "stage": "StageName", "close_date": "closedate"}
    return write_config(tmp_path, source_config(export, fields) | {"pipeline": {"stages": SALESFORCE_STAGES}})


def test_fuzz_export_audits_and_its_hostile_strings_reach_the_json_report_unaltered(fuzz_config):
    report = audit_real_export(fuzz_config, APEX_FUZZ_OPPORTUNITIES, "2021-12-31")

    rows = dict(read_rows(REAL_DATA / APEX_FUZZ_OPPORTUNITIES))
    raw_values = {f["details"]["value"] for f in findings_of(report, "HY900")}
    assert HOSTILE_TEXT <= raw_values
    assert not NUMBER_LIKE_TEXT & raw_values
    for finding in findings_of(report, "HY900"):
        assert finding["details"]["value"] == rows[finding["row"]]["description"]
    for finding in report["findings"]:
        if finding["row"] is not None:
            assert finding["deal_name"] == rows[finding["row"]]["description"].strip()


def test_fuzz_export_repeated_names_and_unknown_stages_are_findings(fuzz_config):
    report = audit_real_export(fuzz_config, APEX_FUZZ_OPPORTUNITIES, "2021-12-31")

    rows = read_rows(REAL_DATA / APEX_FUZZ_OPPORTUNITIES)
    first_rows = {}
    for line, row in rows:
        first_rows.setdefault(row["name"], (line, row))
    [duplicate] = findings_of(report, "HY902")
    assert duplicate["deal_id"] == "Dove, emerald-spotted wood"
    assert duplicate["details"]["first_row"] == first_rows["Dove, emerald-spotted wood"][0]
    unknown = {line for line, row in first_rows.values() if row["StageName"] in ("Assigned dynamically", "Closed/Won")}
    assert {f["row"] for f in findings_of(report, "HY901")} == unknown
    assert report["summary"]["deals"] == len(first_rows) == 49


def test_fuzz_export_console_report_is_written(fuzz_config):
    result = run_audit(fuzz_config, as_of="2021-12-31")

    assert result.exit_code == 1, result.stderr
    assert "Dove, emerald-spotted wood" in result.stdout
    assert "\x1b" not in result.stdout


# --- The whole rule catalogue on the real exports -------------------------------------------
#
# Every built-in rule runs; the expected findings and not-evaluable counts are derived below
# from the files with plain Python, independently of the rules.


def findings_by_rule(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["code"], set()).add(finding["deal_id"])
    return found


def test_every_rule_on_the_maven_pipeline(tmp_path):
    export = real_export(MAVEN_PIPELINE)
    fields = {
        "id": "opportunity_id",
        "owner": "sales_agent",
        "account": "account",
        "stage": "deal_stage",
        "stage_entered_date": "engage_date",
        "close_date": "close_date",
        "amount": "close_value",
        "product": "product",
    }
    config = source_config(export, fields) | {"pipeline": {"stages": MAVEN_STAGES}}

    report = audit_real_export(write_config(tmp_path, config), MAVEN_PIPELINE, MAVEN_AS_OF)

    rows = [row for _, row in read_rows(export)]
    as_of = dt.date.fromisoformat(MAVEN_AS_OF)
    open_rows = [row for row in rows if row["deal_stage"] in ("Prospecting", "Engaging")]
    stale = {r["opportunity_id"] for r in open_rows if r["engage_date"] and (as_of - dt.date.fromisoformat(r["engage_date"])).days > 90}
    # Open deals carry neither a close date nor a value (PROVENANCE.md §1, quirks 1 and 6): both are missing.
    assert all(r["close_date"] == "" and r["close_value"] == "" for r in open_rows)
    expected = {"HY001": stale, "HY002": {r["opportunity_id"] for r in open_rows}, "HY050": {r["opportunity_id"] for r in open_rows}}
    assert findings_by_rule(report) == expected
    assert (len(stale), len(open_rows)) == (1479, 2089)

    by_field = report["summary"]["not_evaluable_by_field"]
    # No names, probabilities, created dates, activities or next steps in the export: never evidence.
    assert by_field["HY054"] == {"account": sum(r["account"] == "" for r in open_rows), "name": 2089}
    assert by_field["HY054"]["account"] == 337 + 1088  # PROVENANCE.md §1, quirk 3
    assert by_field["HY061"] == {"created_date": sum(bool(r["close_date"] or r["engage_date"]) for r in rows)} == {"created_date": 8300}
    assert by_field["HY060"] == {"probability": 8800}
    assert by_field["HY020"] == {"next_step": sum(r["deal_stage"] == "Engaging" for r in rows), "stage": 0} == {"next_step": 1589, "stage": 0}
    assert by_field["HY070"] == {"roster": 2089}
    # Every open deal is at risk (no close date) and none has an amount: the overall amount at risk
    # is not evaluable (null, with a reason), never a guessed 0.
    risk = report["summary"]["amount_at_risk"]
    assert (risk["overall"], risk["deals"], risk["deals_without_amount"]) == (None, 2089, 2089)
    assert risk["reason"]
    assert risk["by_owner"] == dict.fromkeys(sorted({r["sales_agent"] for r in open_rows}), 0)


def test_every_rule_on_the_salesforce_sample_org(tmp_path):
    export = real_export(SALESFORCE_OPPORTUNITIES)
    fields = SALESFORCE_FIELDS | {"account": "AccountId", "deal_type": "Type", "lead_source": "LeadSource", "forecast_category": "ForecastCategoryName"}
    config = source_config(export, fields) | {"pipeline": {"stages": SALESFORCE_STAGES}}

    report = audit_real_export(write_config(tmp_path, config), SALESFORCE_OPPORTUNITIES, "2018-10-16")

    rows = [row for _, row in read_rows(export)]
    open_rows = [row for row in rows if row["IsClosed"] == "0"]
    expected = {
        # Every open deal closed before 2018-10-16 (PROVENANCE.md §2, quirk 1).
        "HY003": {r["Id"] for r in open_rows if r["CloseDate"][:10] < "2018-10-16"},
        # NextStep is empty on every open deal; the first stage (Prospecting) does not require one.
        "HY020": {r["Id"] for r in open_rows if r["NextStep"] == "" and r["StageName"] != "Prospecting"},
        # All 31 were created 2018-10-13, most of them with an earlier close date.
        "HY061": {r["Id"] for r in rows if r["CloseDate"][:10] < r["CreatedDate"][:10]},
    }
    assert findings_by_rule(report) == expected
    assert {code: len(ids) for code, ids in expected.items()} == {"HY003": 13, "HY020": 12, "HY061": 30}

    by_field = report["summary"]["not_evaluable_by_field"]
    # No contact counts: the 8 open deals of 100,000 or more cannot be judged single-threaded.
    assert by_field["HY040"] == {"amount": 0, "contacts": sum(float(r["Amount"]) >= 100_000 for r in open_rows)} == {"amount": 0, "contacts": 8}
    # LastActivityDate is blank on every row (quirk 3); there is no roster.
    assert by_field["HY010"] == {"last_activity_date": 13}
    assert by_field["HY070"] == {"roster": 13}
    risk = report["summary"]["amount_at_risk"]
    assert (risk["deals"], risk["overall"]) == (13, sum(float(r["Amount"]) for r in open_rows)) == (13, 2_115_000)
