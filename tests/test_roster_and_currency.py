"""The roster (owners' teams, managers, regions, quotas) and money in one currency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli_audit import AUDIT_ENV, assert_valid_report
from click.testing import CliRunner

from hygiene.cli import cli

AS_OF = "2026-03-31"
DEALS = """id,stage,owner,amount,currency,close_date,OwnerId
D1,Proposal,Ada Lovelace,1000,EUR,2026-03-20,005A
D2,Negotiation,,2000,EUR,2026-03-25,005B
D3,Closed Won,Grace Hopper,5000,USD,2026-02-10,005C
D4,Proposal,Ada Lovelace,3000,EUR,2026-06-30,005A
"""


def run(tmp_path: Path, config: str, deals: str = DEALS, roster: str | None = None) -> tuple[int, dict | None, str]:
    (tmp_path / "deals.csv").write_text(deals, encoding="utf-8")
    if roster is not None:
        (tmp_path / "team.csv").write_text(roster, encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('[source]\npath = "deals.csv"\n' + config, encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", "--config", str(tmp_path / "hygiene.toml"), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)
    report = json.loads(result.stdout) if result.stdout.startswith("{") else None
    if report is not None:
        assert_valid_report(report)
    return result.exit_code, report, result.stderr


ROSTER = """owner,owner_id,team,manager,region,quota,quota_period,active,end_date
Ada Lovelace,005A,Core,Mia,EMEA,12000,year,yes,
Grace Hopper,005C,Core,Mia,AMER,4000,quarter,yes,
Alan Turing,005D,Labs,Kai,EMEA,3000,quarter,yes,
Left Already,005E,Labs,Kai,EMEA,3000,quarter,yes,2025-12-31
"""


def test_roster_groups_quotas_and_owners_without_deals(tmp_path):
    _, report, _ = run(tmp_path, '[roster]\npath = "team.csv"\n[currency]\nbase = "EUR"\n[currency.rates]\nUSD = 0.5\n', roster=ROSTER)

    gaps = {f["owner"]: f for f in report["findings"] if f["code"] == "HY004"}
    # A yearly 12,000 is 3,000 a quarter; Grace's won 5,000 USD is 2,500 EUR, short of 4,000.
    assert gaps["Ada Lovelace"]["details"]["quota"] == 3000.0
    assert gaps["Grace Hopper"]["details"]["won"] == 2500.0
    assert gaps["Alan Turing"]["message"].startswith("no deals in this export: ")
    assert "Left Already" not in gaps  # left before the quarter: no quota for it
    teams = {row["name"]: row for row in report["groups"]["team"]}
    assert teams["Core"]["quota"] == 7000.0 and teams["Labs"]["quota"] == 3000.0
    assert teams["Labs"]["deals"] == 0 and teams["Labs"]["findings"] == 1
    # D2 has no owner: it is still reported, in the group without a name.
    assert [row["name"] for row in report["groups"]["manager"]] == ["Kai", "Mia", None]
    assert report["currency"] == "EUR"


def test_owner_ids_in_the_export_join_the_roster_by_id(tmp_path):
    deals = DEALS.replace("Ada Lovelace", "").replace("Grace Hopper", "")
    _, report, _ = run(tmp_path, '[source.fields]\nowner = "OwnerId"\n[roster]\npath = "team.csv"\n[currency]\nbase = "EUR"\nrates = {USD = 0.5}\n', deals=deals, roster=ROSTER)

    owners = {f["deal_id"]: f["owner"] for f in report["findings"] if f["deal_id"]}
    assert owners["D1"] == "Ada Lovelace"
    assert owners["D2"] == "005B"  # not in the roster: kept, and still reported


def test_quotas_beat_the_roster_owner_by_owner(tmp_path):
    _, report, _ = run(tmp_path, '[roster]\npath = "team.csv"\n[quotas]\n"Ada Lovelace" = 500\n[currency]\nbase = "EUR"\nrates = {USD = 0.5}\n', roster=ROSTER)

    gaps = {f["owner"]: f for f in report["findings"] if f["code"] == "HY004"}
    assert "Ada Lovelace" not in gaps  # 1,000 at 60% weighted beats a quota of 500
    assert "Alan Turing" in gaps


@pytest.mark.parametrize(
    ("roster", "line"),
    [
        ("name,team\nAda,Core\n", None),
        ("team,manager\nCore,Mia\n", "team.csv: no owner column"),
        ("owner,quota\nAda,lots\n", "team.csv: row 2, column 'quota': 'lots' is not a quota (a number of at least 0)"),
        ("owner,quota_period\nAda,fortnight\n", "team.csv: row 2, column 'quota_period': 'fortnight' is not a quota period (month, quarter or year)"),
        ("owner,end_date\nAda,31/12/2025\n", "team.csv: row 2, column 'end_date': '31/12/2025' is not a date (YYYY-MM-DD)"),
    ],
)
def test_an_unusable_roster_is_one_line_naming_row_and_column(tmp_path, roster, line):
    code, _, stderr = run(tmp_path, '[roster]\npath = "team.csv"\n[currency]\nbase = "EUR"\nrates = {USD = 0.5}\n', roster=roster)

    if line is None:
        assert code in (0, 1), stderr
    else:
        assert code == 2 and stderr.startswith(f"hygiene: error: {line}") and stderr.count("\n") == 1


def test_a_group_summing_two_currencies_without_rates_exits_2_naming_them(tmp_path):
    deals = DEALS.replace("D4,Proposal,Ada Lovelace,3000,EUR", "D4,Proposal,Ada Lovelace,3000,GBP")

    code, _, stderr = run(tmp_path, "", deals=deals)

    assert code == 2
    assert stderr.startswith("hygiene: error: deals.csv: owner 'Ada Lovelace' has deals in EUR, GBP: amounts in different currencies are never added up")


def test_teams_each_in_their_own_currency_need_no_rates(tmp_path):
    code, report, stderr = run(tmp_path, "")

    assert code in (0, 1), stderr
    assert report["currency"] is None  # two currencies in the export, none mixed within a group


def test_rates_convert_every_sum_and_a_missing_rate_is_named(tmp_path):
    deals = DEALS.replace("D4,Proposal,Ada Lovelace,3000,EUR", "D4,Proposal,Ada Lovelace,3000,GBP")
    code, _, stderr = run(tmp_path, '[currency]\nbase = "EUR"\nrates = {USD = 0.5}\n', deals=deals)
    assert code == 2 and "no rate to EUR for GBP" in stderr

    (tmp_path / "rates.csv").write_text("currency,rate\nUSD,0.5\nGBP,1.2\n", encoding="utf-8")
    code, report, stderr = run(tmp_path, '[currency]\nbase = "EUR"\nrates_path = "rates.csv"\n[quotas]\n"Ada Lovelace" = 100000\n', deals=deals)
    ada = {row["name"]: row for row in report["groups"]["owner"]}["Ada Lovelace"]
    assert ada["open_amount"] == 1000 + 3000 * 1.2


def test_per_currency_sums_each_currency_and_refuses_quotas(tmp_path):
    deals = DEALS.replace("D4,Proposal,Ada Lovelace,3000,EUR", "D4,Proposal,Ada Lovelace,3000,GBP")
    _, report, _ = run(tmp_path, '[currency]\non_mixed = "per-currency"\n', deals=deals)
    ada = {row["name"]: row for row in report["groups"]["owner"]}["Ada Lovelace"]
    assert ada["open_amount"] == {"EUR": 1000.0, "GBP": 3000.0}

    code, _, stderr = run(tmp_path, '[currency]\non_mixed = "per-currency"\n[quotas]\n"Ada Lovelace" = 1\n', deals=deals)
    assert code == 2 and "quotas need amounts in one currency" in stderr


def test_a_roster_in_a_workbook_sheet(tmp_path):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "team.xlsx"))
    book.add_worksheet("Readme").write(0, 0, "see the Team sheet")
    sheet = book.add_worksheet("Team")
    for row, values in enumerate([["Owner", "Team", "Manager", "Quota"], ["Ada Lovelace", "Core", "Mia", 2000], ["Grace Hopper", "Core", "Mia", 1000]]):
        sheet.write_row(row, 0, values)
    book.close()

    _, report, stderr = run(tmp_path, '[roster]\npath = "team.xlsx"\nsheet = "Team"\n[currency]\nbase = "EUR"\nrates = {USD = 0.5}\n')

    assert report is not None, stderr
    assert [(row["name"], row["quota"]) for row in report["groups"]["manager"]] == [("Mia", 3000.0), (None, None)]


FLAGGED_DEALS = """id,stage,owner,amount,close_date,IsClosed,IsWon
D1,Proposal,Ada Lovelace,1000,2026-03-20,false,false
D2,Negotiation,,2000,2026-03-25,false,false
D3,Closed Won,Grace Hopper,5000,2026-02-10,true,true
D4,Proposal,Ada Lovelace,3000,2026-06-30,true,false
"""
FLAGS = '[source.status]\nclosed_flag = "IsClosed"\nwon_flag = "IsWon"\n'


def test_the_rosters_teams_managers_and_regions_feed_the_report_figures_and_filters(tmp_path):
    (tmp_path / "deals.csv").write_text(FLAGGED_DEALS, encoding="utf-8")
    (tmp_path / "team.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('[source]\npath = "deals.csv"\n' + FLAGS + '[roster]\npath = "team.csv"\n', encoding="utf-8")
    audit = ["audit", "--config", str(tmp_path / "hygiene.toml"), "--as-of", AS_OF]

    console = CliRunner().invoke(cli, audit, env=AUDIT_ENV).stdout
    # The per-team, per-manager and per-region score tables read the deals' roster columns.
    assert "  by manager:\n    manager  score  findings  amount at risk  open" in console
    assert "  by region:\n    region  score  findings  amount at risk  open" in console
    manager_row = console.split("  by manager:\n", 1)[1].splitlines()[1].split()
    region_row = console.split("  by region:\n", 1)[1].splitlines()[1].split()
    assert manager_row[:2] == ["Mia", "0.0%"] and manager_row[3:5] == ["1,000", "1"]
    assert region_row[:2] == ["EMEA", "0.0%"] and region_row[3:5] == ["1,000", "1"]

    narrowed = CliRunner().invoke(cli, [*audit, "--manager", "Mia", "--format", "json"], env=AUDIT_ENV)
    report = json.loads(narrowed.stdout)
    assert_valid_report(report)
    # D4 is closed by the export's flag with a close date after as_of: closed-record-integrity (HY060) flags it.
    assert {(f["deal_id"], f["owner"]) for f in report["findings"]} == {("D1", "Ada Lovelace"), ("D4", "Ada Lovelace"), (None, "Ada Lovelace")}
    assert {f["code"] for f in report["findings"] if f["deal_id"] == "D4"} == {"HY060"}
    # The groups of a narrowed report are the narrowed deals' and quotas' only.
    assert [(row["name"], row["deals"], row["quota"]) for row in report["groups"]["manager"]] == [("Mia", 3, 7000.0)]


def test_the_history_sections_open_pipeline_follows_the_exports_own_closed_flag(tmp_path):
    (tmp_path / "deals.csv").write_text(FLAGGED_DEALS, encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('[source]\npath = "deals.csv"\n' + FLAGS + "[history]\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["audit", "--config", str(tmp_path / "hygiene.toml"), "--as-of", AS_OF, "--format", "json"], env=AUDIT_ENV)
    report = json.loads(result.stdout)

    assert_valid_report(report)
    # D4 is in an open stage, but the export says it is closed: open pipeline is D1 and D2.
    assert report["history"]["open_pipeline"] == 3000.0
    assert report["summary"]["open_deals"] == 2
