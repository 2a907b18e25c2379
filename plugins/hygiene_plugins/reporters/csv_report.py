"""The CSV report: one row per finding, for spreadsheets."""

from __future__ import annotations

from hygiene import Reporter, json_text_expr, spreadsheet_cell_expr

COLUMNS = ("severity", "code", "rule", "owner", "deal_id", "deal_name", "message", "row", "fingerprint", "baseline_status", "details")
BYTE_ORDER_MARK = "\ufeff"


class CsvReporter(Reporter):
    """One row per finding, in report order, with the columns severity, code, rule, owner,
    deal_id, deal_name, message, row, fingerprint, baseline_status and details (a JSON object).

    Cells are escaped by :func:`hygiene.spreadsheet_cell`: control characters (ESC, BEL, NUL,
    C1, bidirectional controls...) are shown as ``\x1b``-style escapes, so ``cat report.csv``
    cannot drive the terminal, and any cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR
    gets a leading ``'`` so that a spreadsheet shows it as text instead of running it as a formula. The file starts with a
    UTF-8 byte order mark: without it Excel reads UTF-8 as the local code page and garbles every
    accented owner name (read it back with ``encoding="utf-8-sig"``). Built by polars a column
    at a time, so 200,000 findings take well under a second.
    """

    name = "csv"
    summary = "CSV for spreadsheets, one row per finding (formula injection neutralised)"

    def write(self, report, stream) -> None:
        text_columns = [column for column in COLUMNS if column != "row"]
        # details is JSON: C1 and bidi controls in it become JSON escapes, so the cell stays valid JSON.
        table = report.findings.select(COLUMNS).with_columns(json_text_expr("details"))
        table = table.with_columns(spreadsheet_cell_expr(column) for column in text_columns)
        stream.write(BYTE_ORDER_MARK)
        stream.write(table.write_csv(None, quote_style="necessary", line_terminator="\n"))
