"""The public CRM exports beside the repository, audited after ``hygiene init`` with no hand-editing.

Maven's pipeline with its sales_teams.csv as the roster (per manager and per
region, with no script), the same pipeline saved as .xlsx, as Parquet and as
a SQLite table (written here from the CSV, never committed), and the
Salesforce org export with its Account.csv as a lookup. Skipped when the
exports are absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import tomllib
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import tomli_w
import xlsxwriter
from _cli_audit import AUDIT_ENV, assert_valid_report, sha256_of
from click.testing import CliRunner
from test_real_data import MAVEN_PIPELINE, MAVEN_TEAMS, REAL_DATA, SALESFORCE_OPPORTUNITIES, SHA256, real_export

from hygiene.cli import cli

pytestmark = pytest.mark.realdata

SALESFORCE_ACCOUNTS = "salesforce_dev_edition_sample/Account.csv"
MAVEN_AS_OF = "2017-12-31"


def init(folder: Path, export: Path | str, *args: str) -> tuple[dict, str]:
    result = CliRunner().invoke(cli, ["init", str(export), "--output", str(folder / "hygiene.toml"), *args], env=AUDIT_ENV)
    assert result.exit_code == 0, result.output
    return tomllib.loads((folder / "hygiene.toml").read_text(encoding="utf-8")), result.output


def audit(folder: Path, as_of: str, *args: str) -> dict:
    path = folder / "report.json"
    result = CliRunner().invoke(cli, ["audit", "--config", str(folder / "hygiene.toml"), "--as-of", as_of, "--format", f"json:{path}", *args], env=AUDIT_ENV)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(path.read_text(encoding="utf-8"))
    assert_valid_report(report)
    return report


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def verdicts(report: dict) -> set[tuple[str, str | None]]:
    return {(f["code"], f["deal_id"]) for f in report["findings"]}


@pytest.fixture(scope="module")
def maven(tmp_path_factory):
    """``hygiene init sales_pipeline.csv --roster sales_teams.csv``, then the audit as of the data's last day."""
    pipeline, teams = real_export(MAVEN_PIPELINE), real_export(MAVEN_TEAMS)
    folder = tmp_path_factory.mktemp("maven")
    config, output = init(folder, pipeline, "--roster", str(teams))
    report = audit(folder, MAVEN_AS_OF)
    assert sha256_of(pipeline) == SHA256[MAVEN_PIPELINE] and sha256_of(teams) == SHA256[MAVEN_TEAMS]
    return config, output, report


def test_maven_init_maps_every_column_and_the_roster_with_no_edits(maven):
    config, output, _ = maven

    fields = config["source"]["fields"]
    assert {k: fields[k] for k in ("id", "owner", "stage", "close_date", "amount", "account", "stage_entered_date")} == {
        "id": "opportunity_id", "owner": "sales_agent", "stage": "deal_stage", "close_date": "close_date",
        "amount": "close_value", "account": "account", "stage_entered_date": "engage_date",
    }
    assert config["roster"]["fields"] == {"owner": "sales_agent", "manager": "manager", "region": "regional_office"}
    stages = {stage["name"]: stage for stage in config["pipeline"]["stages"]}
    assert stages["Won"] == {"name": "Won", "probability": 100, "closed": True, "won": True}
    assert stages["Lost"] == {"name": "Lost", "probability": 0, "closed": True}
    assert not stages["Engaging"].get("closed")
    # Engaging follows Prospecting in Maven's process (PROVENANCE.md §1): the order the rules read.
    assert [stage["name"] for stage in config["pipeline"]["stages"] if not stage.get("closed")] == ["Prospecting", "Engaging"]
    # Its product column feeds the product field by its name (the forecast's win rate per product).
    assert fields["product"] == "product"
    # The stages it found, with their counts (PROVENANCE.md: Won 4,238, Lost 2,473, Engaging 1,589, Prospecting 500).
    assert "Won (4,238 deals); Lost (2,473 deals); Engaging (1,589 deals); Prospecting (500 deals)" in output.replace("stages found: ", "")
    assert "no CRM preset matched the header" in output
    assert "stage 'Engaging' is in no stage table: written as open, with no probability" in output


def test_maven_audit_per_manager_and_per_region(maven):
    _, _, report = maven

    teams = {row["sales_agent"]: row for row in rows_of(REAL_DATA / MAVEN_TEAMS)}
    pipeline = rows_of(REAL_DATA / MAVEN_PIPELINE)
    open_by_manager = Counter(teams[r["sales_agent"]]["manager"] for r in pipeline if r["deal_stage"] in ("Prospecting", "Engaging"))
    open_by_region = Counter(teams[r["sales_agent"]]["regional_office"] for r in pipeline if r["deal_stage"] in ("Prospecting", "Engaging"))

    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (8800, 2089)
    by_manager = {row["name"]: row for row in report["groups"]["manager"]}
    assert {name: row["open_deals"] for name, row in by_manager.items()} == dict(open_by_manager)
    assert len(by_manager) == 6
    # Every open deal lacks a close date (HY002, an error), so no manager's open deals are clean.
    assert all(row["by_severity"]["error"] >= row["open_deals"] and row["score"] == 0.0 for row in by_manager.values())
    by_region = {row["name"]: row for row in report["groups"]["region"]}
    assert {name: row["open_deals"] for name, row in by_region.items()} == dict(open_by_region)
    assert set(by_region) == {"Central", "East", "West"}
    assert len(report["findings"]) == sum(row["findings"] for row in report["groups"]["region"])


def test_maven_console_and_markdown_show_the_manager_and_region_tables(maven, tmp_path):
    console = CliRunner().invoke(
        cli, ["audit", "--config", str(_maven_config(tmp_path, maven[0])), "--as-of", MAVEN_AS_OF, "--format", "console", "--format", f"markdown:{tmp_path / 'r.md'}"], env=AUDIT_ENV
    )
    assert "  by manager:\n    manager " in console.output
    assert "  by region:\n    region " in console.output
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "### By manager\n\n| Manager | Score | Findings | Amount at risk | Open deals |" in markdown
    assert "### By region\n\n| Region | Score | Findings | Amount at risk | Open deals |" in markdown
    assert console.output.count("  by manager:") == 1 and console.output.count("  by region:") == 1


def _maven_config(folder: Path, config: dict) -> Path:
    """The config ``init`` wrote, with its paths made absolute for another folder."""
    source = {**config["source"], "path": str(REAL_DATA / MAVEN_PIPELINE)}
    roster = {**config["roster"], "path": str(REAL_DATA / MAVEN_TEAMS)}
    path = folder / "maven.toml"
    path.write_text(tomli_w.dumps({**config, "source": source, "roster": roster}), encoding="utf-8")
    return path


def test_maven_roster_quotas_flag_the_agents_without_deals(maven, tmp_path):
    teams = rows_of(real_export(MAVEN_TEAMS))
    roster = tmp_path / "team.csv"
    with roster.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["sales_agent", "manager", "regional_office", "quota", "quota_period"])
        writer.writerows([[r["sales_agent"], r["manager"], r["regional_office"], "4000000", "year"] for r in teams])
    config = tomllib.loads(_maven_config(tmp_path, maven[0]).read_text(encoding="utf-8"))
    config["roster"] = {"path": str(roster)}
    (tmp_path / "hygiene.toml").write_text(tomli_w.dumps(config), encoding="utf-8")

    report = audit(tmp_path, MAVEN_AS_OF)

    gaps = {f["owner"]: f for f in report["findings"] if f["code"] == "HY004"}
    no_deals = {owner for owner, f in gaps.items() if f["message"].startswith("no deals in this export: ")}
    assert no_deals == {"Carl Lin", "Carol Thompson", "Elizabeth Anderson", "Mei-Mei Johns", "Natalya Ivanova"}
    assert {gaps[owner]["details"]["quota"] for owner in no_deals} == {1_000_000.0}  # a yearly 4,000,000 for the quarter
    quota_by_region = {row["name"]: row["quota"] for row in report["groups"]["region"]}
    assert sum(quota_by_region.values()) == 35 * 1_000_000


@pytest.mark.parametrize("form", ["xlsx", "parquet", "sqlite"])
def test_maven_saved_as_xlsx_parquet_or_sqlite_gives_the_csv_audit(maven, tmp_path, form):
    csv_report = maven[2]
    frame = pl.read_csv(real_export(MAVEN_PIPELINE), infer_schema=False)
    if form == "xlsx":
        export = tmp_path / "sales_pipeline.xlsx"
        book = xlsxwriter.Workbook(str(export))
        sheet = book.add_worksheet("sales_pipeline")
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write(0, 0, "Maven CRM sales pipeline")  # a title block above the table
        for column, name in enumerate(frame.columns):
            sheet.write(2, column, name)
        for row, record in enumerate(frame.iter_rows(), start=3):
            for column, (name, value) in enumerate(zip(frame.columns, record, strict=True)):
                if value is None:
                    continue
                if name.endswith("_date"):
                    sheet.write_datetime(row, column, dt.datetime.fromisoformat(value), date_format)
                elif name == "close_value":
                    sheet.write_number(row, column, float(value))
                else:
                    sheet.write_string(row, column, value)
        book.close()
        config, _ = init(tmp_path, export, "--roster", str(REAL_DATA / MAVEN_TEAMS))
    elif form == "parquet":
        export = tmp_path / "sales_pipeline.parquet"
        frame.with_columns(pl.col("engage_date", "close_date").str.to_date(), pl.col("close_value").cast(pl.Int64)).write_parquet(export)
        config, _ = init(tmp_path, export, "--roster", str(REAL_DATA / MAVEN_TEAMS))
    else:
        database = tmp_path / "crm.db"
        with sqlite3.connect(database) as connection:
            connection.execute(f"CREATE TABLE sales_pipeline ({', '.join(f'{c} TEXT' for c in frame.columns)})")
            connection.executemany(f"INSERT INTO sales_pipeline VALUES ({', '.join('?' for _ in frame.columns)})", frame.rows())
        # init reads files; for a database the CSV's own configuration is pointed at the table.
        config = {**maven[0], "source": {**maven[0]["source"], "type": "sql", "url": "sqlite:///crm.db", "table": "sales_pipeline"}}
        del config["source"]["path"]
        config["roster"] = {**config["roster"], "path": str(REAL_DATA / MAVEN_TEAMS)}
        (tmp_path / "hygiene.toml").write_text(tomli_w.dumps(config), encoding="utf-8")

    report = audit(tmp_path, MAVEN_AS_OF)

    assert verdicts(report) == verdicts(csv_report)
    assert report["summary"]["not_evaluable"] == csv_report["summary"]["not_evaluable"]
    assert report["groups"] == csv_report["groups"]


@pytest.fixture
def salesforce(tmp_path):
    export, accounts = real_export(SALESFORCE_OPPORTUNITIES), REAL_DATA / SALESFORCE_ACCOUNTS
    if not accounts.is_file():
        pytest.skip(f"real CRM exports not found at {accounts}")
    return export, accounts


def test_salesforce_org_export_with_its_accounts_as_lookup(salesforce, tmp_path):
    export, accounts = salesforce

    config, output = init(tmp_path, export, "--lookup", str(accounts))
    report = audit(tmp_path, "2018-10-16")

    assert config["source"]["preset"] == "salesforce-export"
    assert "salesforce-export (" in output and ": sure)" in output
    [lookup] = config["source"]["lookups"]
    assert (lookup["column"], lookup["key"], lookup["value"]) == ("AccountId", "Id", "Name")
    stages = {stage["name"]: stage for stage in config["pipeline"]["stages"]}
    # Probabilities as the export carries them, not hygiene's defaults.
    assert (stages["Qualification"]["probability"], stages["Needs Analysis"]["probability"]) == (10, 20)
    assert stages["Closed Won"] == {"name": "Closed Won", "probability": 100, "closed": True, "won": True}
    assert stages["Closed Lost"] == {"name": "Closed Lost", "probability": 0, "closed": True}
    assert (report["summary"]["deals"], report["summary"]["open_deals"]) == (31, 13)
    assert len([f for f in report["findings"] if f["code"] == "HY003"]) == 13
    assert "HY901" not in report["summary"]["by_rule"]
    # Accounts are names, joined from Account.csv.
    from hygiene.audit.export_mapping import prepare_export
    from hygiene.audit.normalise import normalise
    from hygiene.audit.read import read_source
    from hygiene.commands.session import load_session
    from hygiene.config.presets import apply_preset

    session = load_session(str(tmp_path / "hygiene.toml"))
    settings = apply_preset(session.config, session.registry)
    raw = prepare_export(read_source(settings, session.registry, None), settings.source, base_dir=settings.base_dir, registry=session.registry, config_file=None)
    names = {row["Id"]: row["Name"] for row in rows_of(accounts)}
    opportunities = {row["Id"]: names[row["AccountId"]] for row in rows_of(export)}
    deals = normalise(raw, settings.source.fields, candidates=settings.source.field_candidates).frame
    assert dict(deals.select("id", "account").iter_rows()) == opportunities
    assert "Burlington Textiles Corp of America" in set(opportunities.values())


def test_the_salesforce_preset_maps_next_step_lead_source_and_type_of_the_org_export(salesforce, tmp_path):
    export, _ = salesforce

    config, _ = init(tmp_path, export)
    report = audit(tmp_path, "2018-10-16")
    forecast = CliRunner().invoke(cli, ["forecast", "--config", str(tmp_path / "hygiene.toml"), "--as-of", "2018-10-16", "--format", "json"], env=AUDIT_ENV)

    fields = config["source"]["fields"]
    assert (fields["next_step"], fields["lead_source"], fields["deal_type"]) == ("NextStep", "LeadSource", "Type")
    # The open stages in Salesforce's order (StageSortOrder), not in the order the export first shows them.
    rows = rows_of(export)
    sort_orders = {row["StageName"]: int(row["StageSortOrder"]) for row in rows if row["IsClosed"] == "0"}
    written = [stage["name"] for stage in config["pipeline"]["stages"] if stage["name"] in sort_orders]
    assert written == sorted(sort_orders, key=sort_orders.get)
    # NextStep is empty on every row; every open stage after Prospecting requires one (PROVENANCE.md §2).
    open_rows = [row for row in rows if row["IsClosed"] == "0"]
    assert {f["deal_id"] for f in report["findings"] if f["code"] == "HY020"} == {r["Id"] for r in open_rows if r["NextStep"] == "" and r["StageName"] != "Prospecting"}
    assert len([f for f in report["findings"] if f["code"] == "HY020"]) == 12
    assert "next_step" not in report["summary"]["not_evaluable_by_field"]["HY020"]
    # The 18 Closed Won deals, all inside the trailing four quarters, per lead source and per type (blank: "(none)").
    assert forecast.exit_code == 0, forecast.output
    segments = json.loads(forecast.stdout)["win_rates"]["segments"]
    won = [row for row in rows if row["IsWon"] == "1"]
    for field, column in (("lead_source", "LeadSource"), ("deal_type", "Type")):
        expected = Counter(row[column] or "(none)" for row in won)
        assert {g["key"]: (g["won"], g["closed"]) for g in segments[field]["groups"]} == {key: (n, n) for key, n in expected.items()}
    assert Counter(row["LeadSource"] for row in won) == {"External Referral": 6, "Partner": 5, "Word of mouth": 3, "Public Relations": 2, "Trade Show": 1, "Web": 1}
    assert sha256_of(export) == SHA256[SALESFORCE_OPPORTUNITIES]


def test_a_salesforce_deal_set_to_closed_lost_is_closed_not_unknown_or_past_due(salesforce, tmp_path):
    export, _ = salesforce
    rows = rows_of(export)
    lost = next(row for row in rows if row["IsClosed"] == "0")
    lost.update(StageName="Closed Lost", IsClosed="1", IsWon="0", Probability="0")
    copy = tmp_path / "Opportunity.csv"
    with copy.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)

    init(tmp_path, copy)
    report = audit(tmp_path, "2018-10-16")

    assert report["summary"]["open_deals"] == 12
    # Closed: neither an unknown stage (HY901) nor past due (HY003). What remains is the sample's own
    # fault, shared by every deal of this export: created after its close date (HY061, PROVENANCE.md §2).
    about_lost = sorted(f["code"] for f in report["findings"] if f["deal_id"] == lost["Id"])
    assert about_lost == ["HY061"]


def test_maven_as_a_postgresql_table_gives_the_csv_audit(maven, tmp_path, postgres_database):
    from test_spreadsheet_columnar_sql_sources import postgres_table

    frame = pl.read_csv(real_export(MAVEN_PIPELINE), infer_schema=False)
    postgres_table(postgres_database, frame.rows(), frame.columns, name="sales_pipeline")
    config = {**maven[0], "source": {**maven[0]["source"], "type": "sql", "table": "sales_pipeline"}}
    del config["source"]["path"]
    config["roster"] = {**config["roster"], "path": str(REAL_DATA / MAVEN_TEAMS)}
    (tmp_path / "hygiene.toml").write_text(tomli_w.dumps(config), encoding="utf-8")

    path = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli,
        ["audit", "--config", str(tmp_path / "hygiene.toml"), "--as-of", MAVEN_AS_OF, "--format", f"json:{path}"],
        env={**AUDIT_ENV, "HYGIENE_SOURCE_URL": postgres_database},
    )
    assert result.exit_code == 1, result.output
    report = json.loads(path.read_text(encoding="utf-8"))

    assert verdicts(report) == verdicts(maven[2])
    assert report["groups"] == maven[2]["groups"]


def test_the_hostile_strings_export_has_no_id_column_so_init_stops_with_exit_2(tmp_path):
    from test_real_data import APEX_FUZZ_OPPORTUNITIES

    export = real_export(APEX_FUZZ_OPPORTUNITIES)

    result = CliRunner().invoke(cli, ["init", str(export), "--output", str(tmp_path / "hygiene.toml")], env=AUDIT_ENV)

    assert result.exit_code == 2
    assert "no id column found" in result.stderr
    assert "its columns are: 'amount', 'closedate', 'description', 'name', 'StageName', 'accountId'" in result.stderr
    assert not (tmp_path / "hygiene.toml").exists()
