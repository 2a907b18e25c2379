"""The spreadsheet, Parquet, Arrow IPC and SQL sources: same deals, same findings, rows named as the file numbers them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from _cli_audit import AUDIT_ENV, assert_valid_report
from click.testing import CliRunner

from hygiene.cli import cli

AS_OF = "2026-03-31"
HEADER = ["Opportunity ID", "Stage", "Owner", "Amount", "Close Date"]
DEALS = [
    ["D1", "Proposal", "Ada", 1000.0, dt.date(2026, 3, 1)],  # past due
    ["D2", "Negotiation", "Ben", 2500.5, dt.date(2026, 6, 30)],
    ["D3", "Closed Won", "Ada", 4000.0, dt.date(2026, 1, 15)],
]


def audit(tmp_path: Path, source_table: str, *args: str, env: dict | None = None) -> tuple[int, dict | None, str]:
    config = tmp_path / "hygiene.toml"
    config.write_text(source_table + '\n[source.fields]\nid = "Opportunity ID"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", "--config", str(config), "--as-of", AS_OF, "--format", "json", *args], env={**AUDIT_ENV, **(env or {})})
    report = json.loads(result.stdout) if result.stdout.startswith("{") else None
    if report is not None:
        assert_valid_report(report)
    return result.exit_code, report, result.stderr


def codes_by_deal(report: dict) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        found.setdefault(finding["deal_id"], set()).add(finding["code"])
    return found


def workbook(path: Path, *, title_rows: int = 0, sheet: str = "Opportunities", serial_dates: bool = False, trailing_blank: int = 0, bad_amount: bool = False) -> Path:
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write(0, 0, "not the deals")
    sheet_ = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    if title_rows:
        sheet_.write(0, 0, "Opportunity Pipeline")
        sheet_.write(1, 0, "Generated 2026-03-31 by Ada")
    top = title_rows + (1 if title_rows else 0)
    for column, name in enumerate(HEADER):
        sheet_.write(top, column, name)
    for offset, deal in enumerate(DEALS, start=1):
        row = top + offset
        for column, value in enumerate(deal):
            if isinstance(value, dt.date):
                if serial_dates:
                    sheet_.write_number(row, column, (value - dt.date(1899, 12, 30)).days)
                else:
                    sheet_.write_datetime(row, column, dt.datetime(value.year, value.month, value.day), date_format)
            elif isinstance(value, float):
                sheet_.write_number(row, column, value)
            else:
                sheet_.write(row, column, value)
    if bad_amount:
        sheet_.write(top + 2, 3, "n/a")
    for blank in range(trailing_blank):
        sheet_.write_blank(top + len(DEALS) + 1 + blank, 0, None, book.add_format({"bold": True}))
    book.close()
    return path


EXPECTED = {"D1": {"HY003"}}


def test_an_xlsx_report_under_a_title_block_audits_like_its_csv(tmp_path):
    workbook(tmp_path / "pipeline.xlsx", title_rows=2, trailing_blank=3)

    code, report, stderr = audit(tmp_path, '[source]\npath = "pipeline.xlsx"\nsheet = "Opportunities"', "--select", "HY003,HY900")

    assert code == 1, stderr
    assert codes_by_deal(report) == EXPECTED
    assert report["summary"]["deals"] == 3  # the trailing styled blank rows are no deals
    [finding] = report["findings"]
    assert finding["row"] == 5  # title, subtitle, blank, header: D1 is on the sheet's row 5


def test_a_table_starting_below_blank_rows_keeps_the_spreadsheet_row_numbers(tmp_path):
    book = xlsxwriter.Workbook(str(tmp_path / "pipeline.xlsx"))
    sheet = book.add_worksheet("Deals")
    # Nothing in rows 1 to 3: the table starts at B4.
    for column, name in enumerate(HEADER, start=1):
        sheet.write(3, column, name)
    sheet.write_row(4, 1, ["D1", "Proposal", "Ada", "lots", "2026-06-30"])
    book.close()

    _, report, _ = audit(tmp_path, '[source]\npath = "pipeline.xlsx"', "--select", "HY900")

    [finding] = report["findings"]
    assert finding["message"] == "row 5, column 'Amount': 'lots' is not a number"


def test_a_sheet_chosen_by_position_and_dates_written_as_serials(tmp_path):
    workbook(tmp_path / "pipeline.xlsx", serial_dates=True)

    code, report, _ = audit(tmp_path, '[source]\npath = "pipeline.xlsx"\nsheet = 2', "--select", "HY003")

    assert codes_by_deal(report) == EXPECTED
    assert report["findings"][0]["details"]["close_date"] == "2026-03-01"


def test_a_bad_cell_in_a_spreadsheet_names_its_spreadsheet_row(tmp_path):
    workbook(tmp_path / "pipeline.xlsx", title_rows=2, bad_amount=True)

    _, report, _ = audit(tmp_path, '[source]\npath = "pipeline.xlsx"\nsheet = "Opportunities"', "--select", "HY900")

    [finding] = report["findings"]
    assert finding["message"] == "row 6, column 'Amount': 'n/a' is not a number"


@pytest.mark.parametrize(("sheet", "line"), [("Deals", "no sheet named 'Deals'"), ("7", None)])
def test_an_unknown_sheet_is_one_line_naming_the_sheets(tmp_path, sheet, line):
    workbook(tmp_path / "pipeline.xlsx")
    value = f'"{sheet}"' if line else sheet

    code, _, stderr = audit(tmp_path, f'[source]\npath = "pipeline.xlsx"\nsheet = {value}')

    assert code == 2
    assert stderr.count("\n") == 1
    assert ("no sheet named 'Deals' (source.sheet); its sheets are: 'Notes', 'Opportunities'" if line else "no sheet 7 (source.sheet); it has 2") in stderr


def test_a_file_that_is_not_a_spreadsheet_is_one_line(tmp_path):
    (tmp_path / "pipeline.xlsx").write_text("id,stage\n", encoding="utf-8")

    code, _, stderr = audit(tmp_path, '[source]\npath = "pipeline.xlsx"')

    assert code == 2
    assert stderr.startswith("hygiene: error: pipeline.xlsx: not a readable spreadsheet")


def frame() -> pl.DataFrame:
    return pl.DataFrame(DEALS, schema=HEADER, orient="row")


@pytest.mark.parametrize(("name", "write"), [("deals.parquet", pl.DataFrame.write_parquet), ("deals.arrow", pl.DataFrame.write_ipc)])
def test_parquet_and_arrow_files_keep_their_types(tmp_path, name, write):
    write(frame(), tmp_path / name)
    before = (tmp_path / name).read_bytes()

    code, report, _ = audit(tmp_path, f'[source]\npath = "{name}"', "--select", "HY003,HY900")

    assert codes_by_deal(report) == EXPECTED
    assert report["findings"][0]["row"] == 1  # records numbered from 1
    assert (tmp_path / name).read_bytes() == before


def sqlite_database(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute('CREATE TABLE opportunities ("Opportunity ID" TEXT, "Stage" TEXT, "Owner" TEXT, "Amount" REAL, "Close Date" TEXT)')
        connection.executemany("INSERT INTO opportunities VALUES (?, ?, ?, ?, ?)", [[*deal[:4], deal[4].isoformat()] for deal in DEALS])
    return path


def test_a_sqlite_table_relative_to_the_configuration(tmp_path):
    sqlite_database(tmp_path / "crm.db")

    code, report, _ = audit(tmp_path, '[source]\ntype = "sql"\nurl = "sqlite:///crm.db"\ntable = "opportunities"', "--select", "HY003")

    assert codes_by_deal(report) == EXPECTED
    assert report["source"].startswith("table opportunities (sqlite:///")


def test_a_sqlite_query_from_the_environment(tmp_path):
    sqlite_database(tmp_path / "crm.db")
    url = f"sqlite:///{tmp_path / 'crm.db'}"

    code, report, _ = audit(
        tmp_path,
        "[source]\ntype = \"sql\"\nquery = \"SELECT * FROM opportunities WHERE \\\"Owner\\\" = 'Ada'\"",
        "--select", "HY003",
        env={"HYGIENE_SOURCE_URL": url},
    )

    assert report["summary"]["deals"] == 2
    assert codes_by_deal(report) == EXPECTED


def test_a_password_in_the_configuration_is_refused_and_never_shown(tmp_path):
    code, _, stderr = audit(tmp_path, '[source]\ntype = "sql"\nurl = "postgresql://ada:s3cret@db.internal/crm"\ntable = "deals"')

    assert code == 2
    assert "s3cret" not in stderr
    assert "put the URL in the environment variable HYGIENE_SOURCE_URL" in stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('url = "sqlite:///missing.db"\ntable = "opportunities"', "missing.db: no such database file"),
        ('url = "sqlite:///crm.db"\ntable = "nothing_here"', "no such table: nothing_here"),
        ('url = "sqlite:///crm.db"', "give [source] table or query (one of them)"),
    ],
)
def test_an_unusable_database_is_one_line(tmp_path, table, message):
    sqlite_database(tmp_path / "crm.db")

    code, _, stderr = audit(tmp_path, f'[source]\ntype = "sql"\n{table}')

    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr, stderr


def postgres_table(url: str, rows: list[list[object]], columns: list[str], name: str = "opportunities") -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE TABLE {name} ({", ".join(f"{chr(34)}{c}{chr(34)} TEXT" for c in columns)})')
            placeholders = ", ".join(f":c{i}" for i in range(len(columns)))
            connection.execute(sqlalchemy.text(f"INSERT INTO {name} VALUES ({placeholders})"), [{f"c{i}": v for i, v in enumerate(row)} for row in rows])
    finally:
        engine.dispose()


def test_a_postgresql_table_from_the_environment(tmp_path, postgres_database):
    postgres_table(postgres_database, [[*map(str, deal[:4]), deal[4].isoformat()] for deal in DEALS], HEADER)

    code, report, stderr = audit(tmp_path, '[source]\ntype = "sql"\ntable = "opportunities"', "--select", "HY003", env={"HYGIENE_SOURCE_URL": postgres_database})

    assert code == 1, stderr
    assert codes_by_deal(report) == EXPECTED
    assert report["summary"]["deals"] == 3
    # The password the URL may hold is never shown.
    import sqlalchemy

    password = sqlalchemy.make_url(postgres_database).password
    assert not password or password not in json.dumps(report)
