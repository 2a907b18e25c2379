"""The CSV report: one row per finding, for spreadsheets."""

from __future__ import annotations

from hygiene import Reporter, json_text_expr, spreadsheet_cell_expr

#: Findings escaped and written at a time: the escaped text of a million findings at once would
#: add a copy of the whole report to the peak (see JsonReporter).
SLICE_ROWS = 50_000
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
    shows_history = "none"
    summary = "CSV for spreadsheets, one row per finding (formula injection neutralised)"

    def write(self, report, stream) -> None:
        text_columns = [column for column in COLUMNS if column != "row"]
        # details is JSON: C1 and bidi controls in it become JSON escapes, so the cell stays valid JSON.
        details = json_text_expr("details")
        cells = [spreadsheet_cell_expr(column) for column in text_columns]
        findings = report.findings.select(COLUMNS)
        stream.write(BYTE_ORDER_MARK)
        buffer = getattr(stream, "buffer", None)
        # An empty report still has its header row: the first slice is written even when empty.
        for offset in range(0, max(findings.height, 1), SLICE_ROWS):
            table = findings.slice(offset, SLICE_ROWS).with_columns(details).with_columns(cells)
            options = dict(include_header=offset == 0, quote_style="necessary", line_terminator="\n")
            if buffer is None:  # a text-only stream (io.StringIO)
                stream.write(table.write_csv(None, **options))
            else:  # polars writes the rows to the file itself: no Python string per slice
                stream.flush()
                table.write_csv(buffer, **options)
