"""CRM exports audited with no hand-editing: ``hygiene init EXPORT`` then ``hygiene audit``.

Each fixture is a small export in the shape its CRM's documentation gives
(headers as the CRM writes them, its default stages, its status values),
with deals chosen so that each rule's verdict is known: a past-due open
deal, a stale one, a closed deal that must not be flagged, a clean one.
"""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import pytest
from _cli_audit import AUDIT_ENV, assert_valid_report
from click.testing import CliRunner

from hygiene.cli import cli

AS_OF = "2026-03-31"


def write_export(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows([header, *rows])
    return path


def init_then_audit(tmp_path: Path, export: Path, *extra: str) -> tuple[dict, dict, str]:
    """``hygiene init EXPORT`` and ``hygiene audit`` with what it wrote: the config, the JSON report and init's output."""
    config = tmp_path / "hygiene.toml"
    runner = CliRunner()
    init = runner.invoke(cli, ["init", str(export), "--output", str(config), *extra], env=AUDIT_ENV)
    assert init.exit_code == 0, init.output
    report_path = tmp_path / "report.json"
    audit = runner.invoke(cli, ["audit", "--config", str(config), "--as-of", AS_OF, "--format", f"json:{report_path}"], env=AUDIT_ENV)
    assert audit.exit_code in (0, 1), audit.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert_valid_report(report)
    return tomllib.loads(config.read_text(encoding="utf-8")), report, init.output


def ids(report: dict, code: str) -> set[str]:
    return {f["deal_id"] for f in report["findings"] if f["code"] == code}


# HubSpot: "Export view" of the deals index; one "Date entered" column per stage of each pipeline.
HUBSPOT_HEADER = [
    "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date", "Deal owner",
    "Last Activity Date", "Deal probability", "Forecast category", "Associated Company", "HubSpot Team",
    'Date entered "Appointment Scheduled (Sales Pipeline)"', 'Date entered "Contract Sent (Sales Pipeline)"',
    'Date entered "Closed Won (Sales Pipeline)"', 'Date entered "Closed Lost (Sales Pipeline)"',
    "Next step", "Next Activity Date", "Deal Type", "Closed Lost Reason", "Original Source Type", "Number of Associated Contacts",
]
HUBSPOT_ROWS = [
    # Past due (2026-03-15), in Contract Sent since 2026-01-02 (88 days > 21): HY003 and HY001.
    # A call is booked for 2026-04-02 and the next step is written down: HY011 and HY020 have nothing to say.
    ["9001", "Birch renewal", "Contract Sent", "Sales Pipeline", "48000", "2026-03-15", "2025-10-11 14:40", "Ben Cole", "2026-03-28", "90", "Commit", "Birch", "East", "2025-10-11", "2026-01-02", "", "",
     "Send the redlined order form to their legal team", "2026-04-02 15:00", "Existing Business", "", "Offline Sources", "3"],
    # Entered Appointment Scheduled on 2026-03-20: 11 days, within 30; closes later: clean.
    ["9002", "Acme pilot", "Appointment Scheduled", "Sales Pipeline", "12000", "2026-06-30", "2026-03-20 09:12", "Ana Ortiz", "2026-03-25", "20", "Pipeline", "Acme", "West", "2026-03-20", "", "", "",
     "", "", "New Business", "", "Organic Search", "1"],
    # Closed: never past due, never stale.
    ["9003", "Cobalt expansion", "Closed Won", "Sales Pipeline", "30000", "2026-02-27", "2025-12-01 10:00", "Ana Ortiz", "2026-02-27", "100", "Closed won", "Cobalt", "West", "2025-12-01", "2026-01-15", "2026-02-27", "",
     "", "", "Existing Business", "", "Offline Sources", "4"],
    ["9004", "Delta platform", "Closed Lost", "Sales Pipeline", "25000", "2026-01-20", "2025-09-09 08:30", "Ben Cole", "2026-01-18", "0", "Not forecasted", "Delta", "East", "2025-09-09", "", "", "2026-01-20",
     "", "", "New Business", "Went with a competitor", "Paid Search", "2"],
    # Presentation Scheduled since 2026-03-02, quiet since 2026-02-20 (39 days > 21) and nothing booked or written down:
    # HY010, HY011 and HY020, now that the export says when the last and the next activity are; 120,000 with one
    # contact: HY040.
    ["9005", "Elm analytics", "Presentation Scheduled", "Sales Pipeline", "120000", "2026-05-29", "2026-02-02 11:00", "Ana Ortiz", "2026-02-20", "60", "Best case", "Elm", "West", "2026-02-02", "", "", "",
     "", "", "New Business", "", "Organic Search", "1"],
]


def test_hubspot_export_audits_with_no_edits(tmp_path):
    export = write_export(tmp_path / "hubspot-crm-exports-all-deals.csv", HUBSPOT_HEADER, HUBSPOT_ROWS)

    config, report, output = init_then_audit(tmp_path, export)

    assert config["source"]["preset"] == "hubspot"
    assert "recognised from the header, hubspot (" in output and ": sure)" in output
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (5, 3)
    assert ids(report, "HY003") == {"9001"}
    # The stage-entered date is the deal's own stage's "Date entered" column.
    [stale] = [f for f in report["findings"] if f["code"] == "HY001"]
    assert (stale["deal_id"], stale["details"]["stage_entered_date"], stale["details"]["days_in_stage"]) == ("9001", "2026-01-02", 88)
    assert "HY901" not in report["summary"]["by_rule"]
    assert {row["name"] for row in report["groups"]["team"]} == {"East", "West"}
    # Its next step, next activity and last activity: only the quiet deal with nothing planned is flagged.
    assert ids(report, "HY010") == ids(report, "HY011") == ids(report, "HY020") == ids(report, "HY040") == {"9005"}


# Pipedrive: deals list export; won and lost are a status, not a stage.
PIPEDRIVE_HEADER = [
    "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage", "Deal - Status", "Deal - Owner",
    "Deal - Expected close date", "Deal - Deal created", "Deal - Last stage change", "Deal - Last activity date",
    "Deal - Next activity date", "Deal - Probability", "Deal - Organization", "Deal - Pipeline",
    "Deal - Lost reason", "Deal - Source channel", "Deal - Product name",
]
PIPEDRIVE_ROWS = [
    # Quiet since 2026-03-02 (29 days > 14 in the fourth of five open stages), with nothing scheduled: HY010 and HY011.
    ["101", "Acme deal", "5000", "EUR", "Proposal Made", "open", "Ana Ortiz", "2026-03-01", "2025-12-01 10:00:00", "2026-01-10 10:00:00", "2026-03-02", "", "60", "Acme", "Pipeline",
     "", "Referral", "Fleet tracker"],
    # Won in Negotiations Started, with a close date long past: closed by its status, so not past due.
    ["102", "Birch deal", "8000", "EUR", "Negotiations Started", "won", "Ben Cole", "2026-02-01", "2025-11-01 10:00:00", "2026-01-05 10:00:00", "2026-02-01", "", "", "Birch", "Pipeline",
     "", "Paid search", "Fleet tracker"],
    ["103", "Cobalt deal", "3000", "EUR", "Demo Scheduled", "lost", "Ana Ortiz", "2026-01-15", "2025-10-01 10:00:00", "2025-12-01 10:00:00", "2026-01-15", "", "", "Cobalt", "Pipeline",
     "Price too high", "Paid search", "Route planner"],
    ["104", "Delta deal", "4000", "EUR", "Qualified", "open", "Ben Cole", "2026-05-30", "2026-03-01 10:00:00", "2026-03-20 10:00:00", "2026-03-25", "2026-04-02", "", "Delta", "Pipeline",
     "", "Event", "Route planner"],
]


def test_pipedrive_export_takes_open_won_and_lost_from_its_status(tmp_path):
    export = write_export(tmp_path / "deals-export.csv", PIPEDRIVE_HEADER, PIPEDRIVE_ROWS)

    config, report, _ = init_then_audit(tmp_path, export)

    assert config["source"]["preset"] == "pipedrive"
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (4, 2)
    assert ids(report, "HY003") == {"101"}
    assert ids(report, "HY001") == {"101"}  # in Proposal Made since 2026-01-10: 80 days > 30
    # The status decides: no stage was marked closed because its deals happened to be won.
    assert not any(stage.get("closed") for stage in config["pipeline"]["stages"])
    assert report["currency"] == "EUR"
    # Quiet for 29 days in Proposal Made (14 allowed in the fourth of five stages), nothing scheduled.
    assert ids(report, "HY010") == ids(report, "HY011") == {"101"}


# Zoho CRM: Deals module export.
ZOHO_HEADER = [
    "Record Id", "Deal Owner", "Deal Name", "Account Name", "Stage", "Closing Date", "Amount", "Probability (%)", "Expected Revenue", "Created Time", "Modified Time",
    "Lead Source", "Next Step", "Type", "Reason For Loss", "Last Activity Time",
]
ZOHO_ROWS = [
    # The last of seven open stages, quiet since 2026-03-01 (30 days > 7) and without a next step: HY010 and HY020.
    ["zcrm_5001", "Ana Ortiz", "Acme upgrade", "Acme", "Negotiation/Review", "2026-03-20", "20000", "90", "18000", "2026-01-05 10:00:00", "2026-03-01 10:00:00", "Web Download", "", "New Business", "", "2026-03-01 10:00:00"],
    # The first stage: 29 days without activity are within its 45, and it needs no next step, but "Call" says nothing (HY021).
    ["zcrm_5002", "Ben Cole", "Birch pilot", "Birch", "Qualification", "", "5000", "10", "500", "2026-03-01 10:00:00", "2026-03-02 10:00:00", "Partner", "Call", "New Business", "", "2026-03-02 10:00:00"],
    ["zcrm_5003", "Ben Cole", "Cobalt loss", "Cobalt", "Closed Lost to Competition", "2026-02-01", "7000", "0", "0", "2025-12-01 10:00:00", "2026-02-01 10:00:00", "Web Download", "", "Existing Business", "Price", "2026-01-28 10:00:00"],
    ["zcrm_5004", "Ana Ortiz", "Delta win", "Delta", "Closed Won", "2026-02-10", "9000", "100", "9000", "2025-11-01 10:00:00", "2026-02-10 10:00:00", "Partner", "", "Existing Business", "", "2026-02-10 10:00:00"],
]


def test_zoho_export_audits_with_no_edits(tmp_path):
    export = write_export(tmp_path / "Deals_2026_03_31.csv", ZOHO_HEADER, ZOHO_ROWS)

    config, report, _ = init_then_audit(tmp_path, export)

    assert config["source"]["preset"] == "zoho"
    stages = {stage["name"]: stage for stage in config["pipeline"]["stages"]}
    assert stages["Closed Lost to Competition"] == {"name": "Closed Lost to Competition", "probability": 0, "closed": True}
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (4, 2)
    assert ids(report, "HY003") == {"zcrm_5001"}
    assert ids(report, "HY002") == {"zcrm_5002"}
    assert "HY901" not in report["summary"]["by_rule"]
    assert ids(report, "HY010") == ids(report, "HY020") == {"zcrm_5001"}
    assert ids(report, "HY021") == {"zcrm_5002"}  # "Call"


# Dynamics 365 Sales: "Export to Excel" of My Open Opportunities, saved as CSV (US locale).
DYNAMICS_HEADER = [
    "(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic", "Potential Customer",
    "Est. Close Date", "Est. Revenue", "Probability", "Sales Stage", "Status", "Status Reason", "Owner", "Created On", "Rating", "Source Campaign",
]
DYNAMICS_ROWS = [
    ["3f2c1d9e-0001-ef11-8409-000d3a5a1a01", "x1", "3/1/2026 10:00 AM", "Acme licences", "Acme", "3/10/2026", "15000", "70", "Propose", "Open", "In Progress", "Ana Ortiz", "1/5/2026", "Warm", "Spring Webinar 2026"],
    ["3f2c1d9e-0002-ef11-8409-000d3a5a1a01", "x2", "3/1/2026 10:00 AM", "Birch services", "Birch", "2/15/2026", "9000", "100", "Close", "Won", "Won", "Ben Cole", "11/5/2025", "Hot", "Partner Summit"],
    ["3f2c1d9e-0003-ef11-8409-000d3a5a1a01", "x3", "3/1/2026 10:00 AM", "Cobalt rollout", "Cobalt", "1/20/2026", "22000", "0", "Develop", "Lost", "Out-Sold", "Ana Ortiz", "10/5/2025", "Cold", "Spring Webinar 2026"],
    ["3f2c1d9e-0004-ef11-8409-000d3a5a1a01", "x4", "3/1/2026 10:00 AM", "Delta pilot", "Delta", "6/30/2026", "4000", "20", "Qualify", "Open", "In Progress", "Ben Cole", "3/15/2026", "Warm", ""],
]


def test_dynamics_export_reads_us_dates_and_its_status(tmp_path):
    export = write_export(tmp_path / "My Open Opportunities.csv", DYNAMICS_HEADER, DYNAMICS_ROWS)

    config, report, _ = init_then_audit(tmp_path, export)

    assert config["source"]["preset"] == "dynamics"
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (4, 2)
    [past_due] = [f for f in report["findings"] if f["code"] == "HY003"]
    assert (past_due["deal_id"], past_due["details"]["close_date"]) == ("3f2c1d9e-0001-ef11-8409-000d3a5a1a01", "2026-03-10")
    assert "HY900" not in report["summary"]["by_rule"]


#: The columns each fixture gained for the catalogue's fields, and the rules that need them.
NEW_FIELDS = {
    "hubspot": (
        HUBSPOT_HEADER, HUBSPOT_ROWS, "hubspot-crm-exports-all-deals.csv",
        {
            "next_step": "Next step", "next_activity_date": "Next Activity Date", "deal_type": "Deal Type",
            "lost_reason": "Closed Lost Reason", "lead_source": "Original Source Type", "contacts": "Number of Associated Contacts",
        },
        {"HY011": "next_activity_date", "HY020": "next_step", "HY021": "next_step", "HY040": "contacts"},
    ),
    "pipedrive": (
        PIPEDRIVE_HEADER, PIPEDRIVE_ROWS, "deals-export.csv",
        {"lost_reason": "Deal - Lost reason", "lead_source": "Deal - Source channel", "product": "Deal - Product name"},
        {},
    ),
    "zoho": (
        ZOHO_HEADER, ZOHO_ROWS, "Deals_2026_03_31.csv",
        {"lost_reason": "Reason For Loss", "last_activity_date": "Last Activity Time"},
        {"HY010": "last_activity_date"},
    ),
    "dynamics": (DYNAMICS_HEADER, DYNAMICS_ROWS, "My Open Opportunities.csv", {"lead_source": "Source Campaign"}, {}),
}


def without_columns(header: list[str], rows: list[list[object]], columns) -> tuple[list[str], list[list[object]]]:
    keep = [index for index, column in enumerate(header) if column not in set(columns)]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in rows]


@pytest.mark.parametrize("crm", sorted(NEW_FIELDS))
def test_each_preset_maps_the_crms_own_columns_for_the_new_fields(tmp_path, crm):
    header, rows, name, fields, _ = NEW_FIELDS[crm]

    config, _, _ = init_then_audit(tmp_path, write_export(tmp_path / name, header, rows))

    assert config["source"]["preset"] == crm
    assert {field: config["source"]["fields"].get(field) for field in fields} == fields


@pytest.mark.parametrize("crm", sorted(code for code, entry in NEW_FIELDS.items() if entry[4]))
def test_the_rules_that_need_the_new_fields_become_evaluable_on_each_crms_export(tmp_path, crm):
    header, rows, name, fields, rules = NEW_FIELDS[crm]
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()

    _, report, _ = init_then_audit(tmp_path / "with", write_export(tmp_path / "with" / name, header, rows))
    _, before, _ = init_then_audit(tmp_path / "without", write_export(tmp_path / "without" / name, *without_columns(header, rows, fields.values())))

    for rule, field in rules.items():
        # Without the column every open deal the rule looks at lacks the field; with it, none does.
        assert before["summary"]["not_evaluable_by_field"][rule][field] > 0, (rule, field)
        assert report["summary"]["not_evaluable_by_field"].get(rule, {}).get(field, 0) == 0, (rule, field)


@pytest.mark.parametrize(
    ("crm", "expected"),
    [
        ("hubspot", {"lead_source": {"Offline Sources": (1, 1), "Paid Search": (0, 1)}, "deal_type": {"Existing Business": (1, 1), "New Business": (0, 1)}}),
        ("zoho", {"lead_source": {"Partner": (1, 1), "Web Download": (0, 1)}, "deal_type": {"Existing Business": (1, 2)}}),
        # Won and lost by the export's status column, not by a stage.
        ("pipedrive", {"lead_source": {"Paid search": (1, 2)}, "product": {"Fleet tracker": (1, 1), "Route planner": (0, 1)}}),
        ("dynamics", {"lead_source": {"Partner Summit": (1, 1), "Spring Webinar 2026": (0, 1)}}),
    ],
)
def test_the_forecast_gives_win_rates_per_lead_source_deal_type_and_product_from_the_presets_columns(tmp_path, crm, expected):
    header, rows, name, _, _ = NEW_FIELDS[crm]
    init_then_audit(tmp_path, write_export(tmp_path / name, header, rows))

    result = CliRunner().invoke(cli, ["forecast", "--config", str(tmp_path / "hygiene.toml"), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)

    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)["win_rates"]["segments"]
    # (won, closed) of the deals closed in the trailing window, per value of the export's column.
    assert {field: {g["key"]: (g["won"], g["closed"]) for g in segments[field]["groups"]} for field in expected} == expected


def test_the_forecast_reads_an_export_through_its_preset_alone(tmp_path):
    # No [source.fields] and no stage table: the preset's columns and stages, and its status column, apply.
    write_export(tmp_path / "deals-export.csv", PIPEDRIVE_HEADER, PIPEDRIVE_ROWS)
    (tmp_path / "hygiene.toml").write_text('[source]\npath = "deals-export.csv"\npreset = "pipedrive"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["forecast", "--config", str(tmp_path / "hygiene.toml"), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["deals"]["total"], document["deals"]["open"], document["deals"]["closed_in_window"]) == (4, 2, 2)
    assert {g["key"]: (g["won"], g["closed"]) for g in document["win_rates"]["segments"]["lead_source"]["groups"]} == {"Paid search": (1, 2)}


def stage_names(config: dict) -> list[str]:
    return [stage["name"] for stage in config["pipeline"]["stages"]]


@pytest.mark.parametrize(
    ("header", "rows", "name", "expected"),
    [
        # Won and lost are statuses and the stages carry no probability: only the CRM's order places them.
        (PIPEDRIVE_HEADER, PIPEDRIVE_ROWS, "deals-export.csv", ["Qualified", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started"]),
        (DYNAMICS_HEADER, DYNAMICS_ROWS, "My Open Opportunities.csv", ["Qualify", "Develop", "Propose", "Close"]),
    ],
    ids=["pipedrive", "dynamics"],
)
def test_init_writes_the_presets_stages_in_the_crms_process_order(tmp_path, header, rows, name, expected):
    config, _, _ = init_then_audit(tmp_path, write_export(tmp_path / name, header, rows))

    assert stage_names(config) == expected


def test_stages_of_equal_probability_keep_the_crms_order_and_an_unknown_one_goes_by_its_probability(tmp_path):
    header = ["Opportunity Owner", "Opportunity Name", "Account Name", "Stage", "Close Date", "Probability (%)", "Opportunity ID", "Amount"]
    # Qualification comes first in the export; Salesforce gives it and Prospecting both 10%.
    rows = [
        ["Ana Ortiz", "Acme", "Acme", "Qualification", "6/30/2026", "10", "006A", "1000"],
        ["Ana Ortiz", "Birch", "Birch", "Security Review", "6/30/2026", "55", "006B", "1000"],
        ["Ben Cole", "Cobalt", "Cobalt", "Prospecting", "6/30/2026", "10", "006C", "1000"],
        ["Ben Cole", "Delta", "Delta", "Negotiation/Review", "6/30/2026", "90", "006D", "1000"],
    ]

    config, _, _ = init_then_audit(tmp_path, write_export(tmp_path / "report.csv", header, rows))

    assert config["source"]["preset"] == "salesforce-report"
    open_stages = [stage["name"] for stage in config["pipeline"]["stages"] if not stage.get("closed")]
    assert open_stages == [
        "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Security Review",
        "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
    ]


# Salesforce report export (the committed sample is one).
def test_salesforce_report_sample_is_recognised_and_audits_like_the_sample_config(tmp_path):
    export = Path(__file__).resolve().parent.parent / "examples" / "pipeline.csv"

    config, report, output = init_then_audit(tmp_path, export)

    assert config["source"]["preset"] == "salesforce-report"
    assert config["source"]["fields"]["owner"] == "Opportunity Owner"
    # The catalogue's sample: 209 rows, 3 of them repeating an id (HY902), as with the sample configuration.
    assert report["summary"]["deals"] == 206


def test_audit_without_a_configuration_guesses_the_preset_and_says_so_in_one_line(tmp_path, monkeypatch):
    export = write_export(tmp_path / "deals.csv", PIPEDRIVE_HEADER, PIPEDRIVE_ROWS)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["audit", str(export), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == "hygiene: no hygiene.toml: guessed preset pipedrive; run hygiene init to keep and edit these settings"
    report = json.loads(result.stdout)
    assert ids(report, "HY003") == {"101"}
    assert report["summary"]["open_deals"] == 2


def test_a_configured_preset_is_overridden_by_the_configurations_own_keys(tmp_path):
    export = write_export(tmp_path / "deals.csv", PIPEDRIVE_HEADER, PIPEDRIVE_ROWS)
    config = tmp_path / "hygiene.toml"
    # The owner column of the configuration wins; the preset's other columns still apply.
    config.write_text('[source]\npath = "deals.csv"\npreset = "pipedrive"\n\n[source.fields]\nowner = "Deal - Organization"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["audit", "--config", str(config), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)

    report = json.loads(result.stdout)
    assert {f["owner"] for f in report["findings"] if f["code"] == "HY003"} == {"Acme"}


def test_an_unknown_preset_is_one_line_naming_the_known_ones(tmp_path):
    (tmp_path / "deals.csv").write_text("id,stage\nD1,Proposal\n", encoding="utf-8")
    config = tmp_path / "hygiene.toml"
    config.write_text('[source]\npath = "deals.csv"\npreset = "salesforce"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["audit", "--config", str(config)], env=AUDIT_ENV)

    assert result.exit_code == 2
    assert result.stderr == (
        f"hygiene: error: {config}: source.preset: unknown preset 'salesforce' "
        "(known: dynamics, hubspot, pipedrive, salesforce-export, salesforce-report, zoho)\n"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (HUBSPOT_HEADER, "hubspot"),
        (PIPEDRIVE_HEADER, "pipedrive"),
        (ZOHO_HEADER, "zoho"),
        (DYNAMICS_HEADER, "dynamics"),
        (["Id", "Name", "StageName", "CloseDate", "IsClosed", "IsWon", "OwnerId", "AccountId", "Probability", "ForecastCategoryName"], "salesforce-export"),
        (["Opportunity Owner", "Opportunity Name", "Account Name", "Stage", "Close Date", "Probability (%)", "Opportunity ID", "Amount"], "salesforce-report"),
        (["opportunity_id", "sales_agent", "deal_stage", "close_value"], None),
    ],
)
def test_each_crm_header_is_recognised_as_its_own_preset(header, expected):
    from hygiene.config.presets import detect_preset
    from hygiene.plugin.registry import load_registry

    match = detect_preset(header, [entry.cls for entry in load_registry().presets.values()])

    assert (match.preset.name if match else None) == expected
