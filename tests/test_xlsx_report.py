"""The Excel workbook: five sheets, real types, frozen headers, filters, formulas neutralised, same bytes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from hygiene.testing import audit_deals
from hygiene_plugins.reporters.xlsx import XlsxReporter

AS_OF = "2026-03-31"


def deal(id, owner="Ada", **fields):
    return {"id": id, "name": f"Deal {id}", "owner": owner, "team": "EMEA", "stage": "Proposal", "amount": 1000, "close_date": "2026-03-15", "stage_entered_date": "2026-03-20", **fields}


def workbook_bytes(report) -> bytes:
    buffer = io.BytesIO()
    XlsxReporter().write(report, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def report():
    deals = [
        deal("D1", name="=HYPERLINK(\"http://evil\",\"x\")", close_date="2026-03-01", amount=2500.5),
        deal("D2", "Bob", team="Americas", stage_entered_date="2025-01-01"),
        deal("D3", "+Cy", team=None, close_date=None),
    ]
    return audit_deals(deals, rules=["HY001", "HY002", "HY003", "HY004"], quotas={"Ada": 10000}, as_of=AS_OF)


@pytest.fixture(scope="module")
def book(report):
    return openpyxl.load_workbook(io.BytesIO(workbook_bytes(report)))


def rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_workbook_has_its_five_sheets_each_with_a_frozen_filtered_header(book):
    assert book.sheetnames == ["Summary", "Owners", "Teams", "Findings", "Data quality"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert sheet.column_dimensions["A"].width >= 8


def test_findings_are_one_row_each_with_real_numbers_and_the_fix(book, report):
    table = rows(book["Findings"])
    assert table[0] == ["Deal", "Deal name", "Owner", "Team", "Stage", "Amount", "Rule", "Rule name", "Severity", "Message", "Fix", "Row", "Fingerprint", "Baseline"]
    assert len(table) - 1 == report.findings.height
    d1 = next(row for row in table if row[0] == "D1")
    assert d1[5] == 2500.5 and isinstance(d1[11], int)
    assert d1[10].startswith("Either the deal closed")


def test_text_that_a_spreadsheet_would_run_is_neutralised_as_in_the_csv_report(book):
    table = rows(book["Findings"])
    names = {row[1] for row in table[1:]}
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in names
    assert "'+Cy" in {row[2] for row in table[1:]}
    # No cell of the workbook is a formula.
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)


def test_the_summary_has_the_header_figures_and_says_why_one_cannot_be_computed(book):
    summary = {row[0]: (row[1], row[2]) for row in rows(book["Summary"])[1:]}
    assert summary["As of"][0] == dt.datetime(2026, 3, 31)
    assert summary["Open deals"][0] == 3
    # D1 (past due) and D2 (stale) and D3 (no close date): all three open deals at risk.
    assert summary["Amount at risk"][0] == 4500.5
    assert summary["Hygiene score"][0] == 0
    assert summary["Win rate"] == ("not evaluable", "no closed deal")


def test_owners_and_teams_are_sorted_worst_first_with_quota_figures(book):
    owners = rows(book["Owners"])
    assert owners[0][:3] == ["Owner", "Team", "Score"]
    ada = next(row for row in owners if row[0] == "Ada")
    assert ada[10] == 10000  # quota
    teams = rows(book["Teams"])
    assert [row[0] for row in teams[1:]] == ["Americas", "EMEA"] or [row[0] for row in teams[1:]] == ["EMEA", "Americas"]


def test_data_quality_lists_every_field(book):
    quality = rows(book["Data quality"])
    close = next(row for row in quality if row[0] == "close_date")
    assert close[2:] == [3, 1, 0, pytest.approx(0.3333)]


def test_the_same_audit_gives_the_same_bytes_with_no_clock_inside(report):
    first = workbook_bytes(report)
    again = audit_deals(
        [deal("D1", name="=HYPERLINK(\"http://evil\",\"x\")", close_date="2026-03-01", amount=2500.5), deal("D2", "Bob", team="Americas", stage_entered_date="2025-01-01"), deal("D3", "+Cy", team=None, close_date=None)],
        rules=["HY001", "HY002", "HY003", "HY004"],
        quotas={"Ada": 10000},
        as_of=AS_OF,
    )
    assert workbook_bytes(again) == first
    core = zipfile.ZipFile(io.BytesIO(first)).read("docProps/core.xml").decode()
    assert "2026-03-31T00:00:00Z" in core


def test_a_workbook_needs_a_path(hygiene_cli, make_deals):
    export = make_deals([deal("D1")])
    result = hygiene_cli("audit", export, "--as-of", AS_OF, "--format", "xlsx")
    assert result.exit_code == 2
    assert "the xlsx report is a file, not text: give it a path (xlsx:report.xlsx)" in result.stderr


def test_findings_text_round_trips_through_the_sheet_xml_exactly():
    # The Findings rows are written as sheet XML directly: markup and entities come back as they
    # were; a control character is shown escaped (\x07), as in every spreadsheet cell of the
    # project's escaping policy, and a literal _xHHHH_ gets its underscore escaped so that Excel
    # does not decode it. openpyxl shows the stored form; Excel decodes it.
    name = "<b>Acme & Co</b> \x07bell _x0041_ \u202eRTL 日本"
    report = audit_deals([deal("D1", name=name, close_date="2026-03-01")], rules=["HY003"], as_of=AS_OF)
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report)))["Findings"]
    assert sheet.cell(row=2, column=2).value == "<b>Acme & Co</b> \\x07bell _x005F_x0041_ \u202eRTL 日本"
    assert sheet.cell(row=2, column=6).value == 1000 and sheet.cell(row=2, column=6).number_format == "#,##0"


def test_text_repeated_on_many_findings_is_stored_as_text_seen_once():
    # An owner and a team on every finding are escaped once per distinct value, a deal name once per
    # row: each cell is stored the same way either way, neutralised and escaped as above.
    hostile = "=<b>Acme & Co</b> \x07bell _x0041_"
    deals = [deal(f"D{n}", owner=hostile, team=hostile, name=hostile if n == 0 else f"Deal {n}", close_date="2026-03-01") for n in range(12)]
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(audit_deals(deals, rules=["HY003"], as_of=AS_OF))))["Findings"]
    stored = "'=<b>Acme & Co</b> \\x07bell _x005F_x0041_"
    cells = [(row[1], row[2], row[3]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(cells) == 12
    assert {(owner, team) for _, owner, team in cells} == {(stored, stored)}
    assert stored in {name for name, _, _ in cells}
