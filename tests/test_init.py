"""``hygiene init [EXPORT]``: a starter hygiene.toml guessed from an export."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from _cli_audit import AUDIT_ENV, assert_valid_report
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.commands.session import load_session
from hygiene.commands.init import guess_fields, guess_stages, stage_entry

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO.parent / "shared" / "data" / "real"

SALESFORCE_API_HEADER = [
    "Id", "AccountId", "Name", "StageName", "Amount", "Probability", "CloseDate", "Type", "NextStep",
    "ForecastCategory", "ForecastCategoryName", "CurrencyIsoCode", "OwnerId", "Owner.Name", "CreatedDate",
    "LastActivityDate", "LastStageChangeDate", "FiscalQuarter",
]
HUBSPOT_HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date", "Deal owner",
    "Last Activity Date", "Date entered current stage", "Deal probability", "Forecast category",
    "Number of Associated Contacts", "Next step", "Associated Company", "Deal Type",
]
HUBSPOT_ROWS = [
    ["901", "Acme - Pilot", "Appointment Scheduled", "Sales Pipeline", "12000", "2026-04-30", "2026-01-05 09:12", "Ana Ortiz", "2026-03-20", "2026-03-01", "20", "Pipeline", "2", "", "Acme", "newbusiness"],
    ["902", "Birch - Renewal", "Contract Sent", "Sales Pipeline", "48000", "2026-03-15", "2025-10-11 14:40", "Ben Cole", "2026-03-28", "2026-02-02", "90", "Commit", "5", "Legal review", "Birch", "existingbusiness"],
    ["903", "Cobalt - Expansion", "Closed won", "Sales Pipeline", "30000", "2026-02-27", "2025-12-01 10:00", "Ana Ortiz", "2026-02-27", "2026-02-27", "100", "Closed won", "4", "", "Cobalt", "existingbusiness"],
    ["904", "Delta - Platform", "Closed lost", "Sales Pipeline", "25000", "2026-01-20", "2025-09-09 08:30", "Ben Cole", "2026-01-18", "2026-01-20", "0", "Omitted", "1", "", "Delta", "newbusiness"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    return path


def run_init(*args: str):
    return CliRunner().invoke(cli, ["init", *args], env=AUDIT_ENV)


def init_config(export: Path | None, config: Path) -> dict:
    """Run ``hygiene init`` and return the configuration it wrote, after checking it validates."""
    result = run_init(*([str(export)] if export else []), "--output", str(config))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {config}\nnext steps:\n")
    load_session(str(config))
    return tomllib.loads(config.read_text(encoding="utf-8"))


def audit_with(config: Path, as_of: str, report_path: Path) -> dict:
    result = CliRunner().invoke(cli, ["audit", "-c", str(config), "--as-of", as_of, "--format", f"json:{report_path}"], env=AUDIT_ENV)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert_valid_report(report)
    return report


# Guessing [source.fields] from a header.


def test_salesforce_report_header_maps_what_the_sample_config_maps():
    header = (REPO / "examples" / "pipeline.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    sample_fields = tomllib.loads((REPO / "hygiene.toml").read_text(encoding="utf-8"))["source"]["fields"]
    assert len(sample_fields) == 24  # every canonical field the sample export has
    assert guess_fields(header) == sample_fields


def test_salesforce_api_header_prefers_names_over_ids_and_labels_over_codes():
    assert guess_fields(SALESFORCE_API_HEADER) == {
        "id": "Id",
        "name": "Name",
        "account": "AccountId",
        "owner": "Owner.Name",
        "stage": "StageName",
        "amount": "Amount",
        "currency": "CurrencyIsoCode",
        "probability": "Probability",
        "forecast_category": "ForecastCategoryName",
        "created_date": "CreatedDate",
        "close_date": "CloseDate",
        "stage_entered_date": "LastStageChangeDate",
        "last_activity_date": "LastActivityDate",
        "next_step": "NextStep",
        "deal_type": "Type",
    }


def test_hubspot_header():
    assert guess_fields(HUBSPOT_HEADER) == {
        "id": "Record ID",
        "name": "Deal Name",
        "account": "Associated Company",
        "owner": "Deal owner",
        "stage": "Deal Stage",
        "amount": "Amount",
        "probability": "Deal probability",
        "forecast_category": "Forecast category",
        "created_date": "Create Date",
        "close_date": "Close Date",
        "stage_entered_date": "Date entered current stage",
        "last_activity_date": "Last Activity Date",
        "contacts": "Number of Associated Contacts",
        "next_step": "Next step",
        "deal_type": "Deal Type",
    }


def test_older_hubspot_deal_id_and_canonical_names_are_recognised():
    fields = guess_fields(["Deal ID", "dealstage", "close_date_pushes", "OWNER", "Unrelated"])
    assert fields == {"id": "Deal ID", "stage": "dealstage", "close_date_pushes": "close_date_pushes", "owner": "OWNER"}


# Guessing the stage table.


@pytest.mark.parametrize(
    ("name", "usual_probability", "expected"),
    [
        ("Proposal", 55.0, {"name": "Proposal", "probability": 60, "max_days": 30, "max_inactive_days": 14}),
        ("closed won", None, {"name": "closed won", "probability": 100, "closed": True, "won": True}),
        ("Closed/Won", None, {"name": "Closed/Won", "probability": 100, "closed": True, "won": True}),
        ("Won", 100.0, {"name": "Won", "probability": 100, "closed": True, "won": True}),
        ("Lost", None, {"name": "Lost", "probability": 0, "closed": True}),
        ("Closed - Disqualified", 10.0, {"name": "Closed - Disqualified", "probability": 0, "closed": True}),
        ("Value Proposition", 50.0, {"name": "Value Proposition", "probability": 50}),
        ("Contract Sent", 62.5, {"name": "Contract Sent", "probability": 62.5}),
        ("Engaging", None, {"name": "Engaging"}),
    ],
)
def test_stage_entry_takes_the_default_table_else_guesses(name, usual_probability, expected):
    assert stage_entry(name, usual_probability) == expected


def test_stages_are_listed_open_by_probability_then_won_then_closed():
    deals = pl.DataFrame(
        {
            "stage": ["Closed Lost", "Negotiation", "Closed Won", "Discovery", "Discovery", "negotiation ", None, "Discovery"],
            "probability": [0.0, 80.0, 100.0, 15.0, 15.0, 85.0, None, 25.0],
        }
    )
    assert [stage["name"] for stage in guess_stages(deals)] == ["Discovery", "Negotiation", "Closed Won", "Closed Lost"]
    assert guess_stages(deals)[0] == {"name": "Discovery", "probability": 15}


def test_an_export_of_closed_deals_only_gets_the_default_open_stages():
    deals = pl.DataFrame({"stage": ["Won", "Lost"], "probability": [None, None]}, schema={"stage": pl.String, "probability": pl.Float64})
    names = [stage["name"] for stage in guess_stages(deals)]
    assert names == ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Won", "Lost"]


# The written file.


def test_salesforce_style_export_gives_a_config_that_validates_and_audits(tmp_path):
    export = REPO / "examples" / "pipeline.csv"
    config = tmp_path / "audit" / "hygiene.toml"
    written = init_config(export, config)
    source = written["source"]
    assert (config.parent / source["path"]).resolve() == export.resolve()
    assert not Path(source["path"]).is_absolute()
    assert source["date_format"] == "%m/%d/%Y"
    assert written["quotas"] == {}
    assert written["rules"]["ruthless-drop"] == {"min_age_days": 180, "inactive_days": 60, "max_pushes": 3, "max_probability": 20}
    stage_names = [stage["name"] for stage in written["pipeline"]["stages"]]
    assert {"Discovery", "Verbal Commit", "On Hold", "Closed Won", "Closed Lost"} <= set(stage_names)

    report = audit_with(config, "2026-11-16", tmp_path / "starter.json")
    sample = audit_with(REPO / "hygiene.toml", "2026-11-16", tmp_path / "sample.json")

    # The starter knows every stage of the export (so rules that read a stage judge deals the
    # sample calls unknown), has no quotas and the default options (the sample also looks for
    # near-equal names, HY054 similarity = 0.85); the rest must agree.
    unknown_to_the_sample = {f["deal_id"] for f in sample["findings"] if f["code"] == "HY901"}

    def deal_findings(report: dict) -> set[str]:
        return {f["fingerprint"] for f in report["findings"] if f["code"] not in ("HY004", "HY054", "HY901") and f["deal_id"] not in unknown_to_the_sample}

    assert deal_findings(report) == deal_findings(sample)
    assert not [f for f in report["findings"] if f["code"] in ("HY004", "HY901")]


def test_hubspot_style_export_gives_a_config_that_validates_and_audits(tmp_path):
    export = write_csv(tmp_path / "exports" / "hubspot-deals.csv", HUBSPOT_HEADER, HUBSPOT_ROWS)
    written = init_config(export, tmp_path / "hygiene.toml")
    assert written["source"]["path"] == "exports/hubspot-deals.csv"
    assert "date_format" not in written["source"]
    assert written["source"]["preset"] == "hubspot"
    stages = {stage["name"]: stage for stage in written["pipeline"]["stages"]}
    # The export's stages, spelled as it spells them, on HubSpot's default pipeline; then the rest of that pipeline.
    assert stages["Appointment Scheduled"] == {"name": "Appointment Scheduled", "probability": 20, "max_days": 30}
    assert stages["Contract Sent"] == {"name": "Contract Sent", "probability": 90, "max_days": 21}
    assert stages["Closed won"] == {"name": "Closed won", "probability": 100, "closed": True, "won": True}
    assert stages["Closed lost"] == {"name": "Closed lost", "probability": 0, "closed": True}
    assert {"Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In"} <= set(stages)
    assert "Closed Won" not in stages  # already there as "Closed won"
    report = audit_with(tmp_path / "hygiene.toml", "2026-04-01", tmp_path / "report.json")
    assert {f["deal_id"] for f in report["findings"] if f["code"] == "HY003"} == {"902"}


def test_the_written_text_is_the_reported_document_with_stages_as_tables(tmp_path):
    from hygiene.commands.init import write_starter_config

    export = write_csv(tmp_path / "deals.csv", HUBSPOT_HEADER, HUBSPOT_ROWS)
    starter = write_starter_config(tmp_path / "hygiene.toml", export)
    text = starter.path.read_text(encoding="utf-8")
    assert tomllib.loads(text) == starter.document
    assert text.count("[[pipeline.stages]]") == len(starter.document["pipeline"]["stages"])


def test_day_first_dates_are_recognised(tmp_path):
    rows = [["1", "Proposal", "13/01/2026", "28/02/2026"], ["2", "Closed Won", "02/01/2026", "05/03/2026"]]
    export = write_csv(tmp_path / "deals.csv", ["Id", "Stage", "Created Date", "Close Date"], rows)
    assert init_config(export, tmp_path / "hygiene.toml")["source"]["date_format"] == "%d/%m/%Y"


def test_json_exports_are_read_through_their_source_plugin(tmp_path):
    export = tmp_path / "deals.json"
    export.write_text(json.dumps([{"Deal ID": "1", "Deal Stage": "Proposal", "Amount": 100}]), encoding="utf-8")
    written = init_config(export, tmp_path / "hygiene.toml")
    assert written["source"] == {"path": "deals.json", "fields": {"id": "Deal ID", "stage": "Deal Stage", "amount": "Amount"}}
    assert "Proposal" in [stage["name"] for stage in written["pipeline"]["stages"]]


def test_header_only_export_gets_the_default_stage_table(tmp_path):
    export = write_csv(tmp_path / "deals.csv", ["Opportunity ID", "Stage"], [])
    written = init_config(export, tmp_path / "hygiene.toml")
    assert [stage["name"] for stage in written["pipeline"]["stages"]][0] == "Prospecting"
    assert len(written["pipeline"]["stages"]) == 7


def test_an_export_without_an_id_column_stops_with_exit_2_and_writes_nothing(tmp_path):
    export = write_csv(tmp_path / "deals.csv", ["Opportunity", "Stage"], [["Acme", "Proposal"]])
    result = run_init(str(export), "--output", str(tmp_path / "hygiene.toml"))
    assert result.exit_code == 2, result.output
    assert "no id column found" in result.output
    assert "its columns are: 'Opportunity', 'Stage'" in result.output
    assert not (tmp_path / "hygiene.toml").exists()


def test_without_an_export_the_starter_has_the_default_stages_and_no_source(tmp_path):
    written = init_config(None, tmp_path / "hygiene.toml")
    assert "source" not in written
    assert len(written["pipeline"]["stages"]) == 7
    assert written["quotas"] == {}


def test_init_writes_hygiene_toml_in_the_current_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_init()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "hygiene.toml").is_file()


# Never overwrite without --force.


def test_init_refuses_to_overwrite_an_existing_file(tmp_path):
    config = tmp_path / "hygiene.toml"
    config.write_text("# mine\n", encoding="utf-8")
    result = run_init("--output", str(config))
    assert result.exit_code == 2
    assert result.output.strip() == f"hygiene: error: {config}: already exists; pass --force to overwrite it"
    assert config.read_text(encoding="utf-8") == "# mine\n"


def test_force_overwrites_an_existing_file(tmp_path):
    config = tmp_path / "hygiene.toml"
    config.write_text("# mine\n", encoding="utf-8")
    result = run_init("--output", str(config), "--force")
    assert result.exit_code == 0, result.output
    assert "[[pipeline.stages]]" in config.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hygiene.toml"]  # written in place, no temporary left


def test_a_missing_export_exits_2_and_writes_nothing(tmp_path):
    result = run_init(str(tmp_path / "nope.csv"), "--output", str(tmp_path / "hygiene.toml"))
    assert result.exit_code == 2
    assert result.output.strip() == f"hygiene: error: {tmp_path / 'nope.csv'}: no such file"
    assert not (tmp_path / "hygiene.toml").exists()


# Real exports.


@pytest.mark.realdata
def test_real_salesforce_export_gives_a_config_that_audits(tmp_path):
    export = REAL_DATA / "salesforce_dev_edition_sample" / "Opportunity.csv"
    if not export.is_file():
        pytest.skip(f"real data not found: {export}")
    written = init_config(export, tmp_path / "hygiene.toml")
    fields = written["source"]["fields"]
    assert (fields["id"], fields["stage"], fields["close_date"], fields["owner"]) == ("Id", "StageName", "CloseDate", "OwnerId")
    assert "Negotiation/Review" in [stage["name"] for stage in written["pipeline"]["stages"]]
    report = audit_with(tmp_path / "hygiene.toml", "2018-11-01", tmp_path / "report.json")
    assert report["summary"]["by_rule"].get("HY003", 0) == 13
    assert "HY901" not in report["summary"]["by_rule"]
