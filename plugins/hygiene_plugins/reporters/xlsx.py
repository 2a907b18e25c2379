"""The Excel workbook: Summary, Owners, Teams, Findings and Data quality sheets with real types."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from hygiene import Reporter, spreadsheet_cell, spreadsheet_cell_expr

#: Column widths are fitted to the header and this many rows, within these bounds.
WIDTH_SAMPLE_ROWS = 2000
MIN_WIDTH, MAX_WIDTH = 8, 60
NOT_EVALUABLE = "not evaluable"

FINDING_COLUMNS = (
    ("Deal", "deal_id", "text"),
    ("Deal name", "deal_name", "text"),
    ("Owner", "owner", "text"),
    ("Team", "team", "text"),
    ("Stage", "stage", "text"),
    ("Amount", "amount", "amount"),
    ("Rule", "code", "text"),
    ("Rule name", "rule", "text"),
    ("Severity", "severity", "text"),
    ("Message", "message", "text"),
    ("Fix", "fix", "text"),
    ("Row", "row", "int"),
    ("Fingerprint", "fingerprint", "text"),
    ("Baseline", "baseline_status", "text"),
)
GROUP_COLUMNS = (
    ("Score", "score", "share"),
    ("Open deals", "open_deals", "int"),
    ("Open amount", "open_amount", "amount"),
    ("Findings", "findings", "int"),
    ("Deals at risk", "deals_at_risk", "int"),
    ("Amount at risk", "amount_at_risk", "amount"),
    ("Won", "won", "amount"),
    ("Weighted", "weighted", "amount"),
    ("Quota", "quota", "amount"),
    ("Gap", "gap", "amount"),
    ("Coverage", "coverage", "ratio"),
    ("Coverage not evaluable because", "coverage_reason", "text"),
)


class XlsxReporter(Reporter):
    """An Excel workbook of the audit, for people who work in spreadsheets.

    Sheets: *Summary* (the header figures; a figure that cannot be computed
    says why), *Owners* and *Teams* (score, findings, amount at risk, won,
    weighted, quota, gap, coverage; worst score first), *Findings* (one row
    per finding with its deal, owner, team, stage, amount, rule, severity,
    message and the rule's fix) and *Data quality* (open deals missing or
    with an unreadable value, per field). Numbers are numbers and dates are
    dates; every sheet has a frozen header row, an autofilter and fitted
    column widths. Text starting with ``=``, ``+``, ``-``, ``@``, tab or CR
    gets a leading ``'``, exactly as in the CSV report, so nothing from the
    export runs as a formula. The workbook's creation date is the audit date
    (not the clock) and the zip entries carry a fixed date: the same audit
    gives the same bytes.
    """

    name = "xlsx"
    shows_history = "all"
    summary = "An Excel workbook: summary, owners, teams, findings, data quality"
    binary = True

    def write(self, report, stream) -> None:
        import xlsxwriter

        created = dt.datetime.combine(report.as_of, dt.time())
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(
            buffer,
            {
                "in_memory": True,
                # Strings stay strings: never turned into formulas, numbers or links.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        workbook.set_properties({"title": f"Pipeline hygiene as of {report.as_of.isoformat()}", "author": "hygiene", "created": created, "comments": f"hygiene {report.tool_version}"})
        formats = {
            "header": workbook.add_format({"bold": True, "bg_color": "#E8ECF2", "bottom": 1}),
            "amount": workbook.add_format({"num_format": "#,##0"}),
            "share": workbook.add_format({"num_format": "0.0%"}),
            "ratio": workbook.add_format({"num_format": '0.00"x"'}),
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "int": workbook.add_format({"num_format": "0"}),
            "text": None,
        }
        figures = report.figures()
        _summary_sheet(workbook, formats, report, figures)
        owners = figures.owners
        _table_sheet(workbook, formats, "Owners", [("Owner", "owner", "text"), ("Team", "team", "text"), *GROUP_COLUMNS], owners)
        if figures.teams.height:
            _table_sheet(workbook, formats, "Teams", [("Team", "team", "text"), ("Owners", "owners", "int"), *GROUP_COLUMNS], figures.teams)
        else:
            _table_sheet(workbook, formats, "Teams", [("Team", "team", "text")], pl.DataFrame({"team": ["The export has no team column."]}))
        fixes = {rule.code: rule.fix for rule in report.rules}
        findings = figures.deal_findings
        fix = pl.col("code").replace_strict(fixes, default="", return_dtype=pl.String).alias("fix")
        findings_rows = _fast_table_sheet(workbook, formats, "Findings", FINDING_COLUMNS, findings, derived=[fix])
        quality = figures.data_quality.with_columns(pl.when(pl.col("mapped")).then(pl.lit("yes")).otherwise(pl.lit("no column")).alias("mapped_text"))
        _table_sheet(
            workbook,
            formats,
            "Data quality",
            [("Field", "field", "text"), ("In the export", "mapped_text", "text"), ("Open deals", "open_deals", "int"), ("Missing", "missing", "int"), ("Unreadable", "unreadable", "int"), ("Share lacking", "share_lacking", "share")],
            quality,
        )
        if report.history_figures is not None:
            _history_sheet(workbook, formats, report, figures)
        workbook.close()
        stream.write(_with_rows(buffer.getvalue(), sheet_number=4, rows=findings_rows, height=findings.height, width=len(FINDING_COLUMNS)))


def _summary_sheet(workbook, formats, report, figures) -> None:
    sheet = workbook.add_worksheet("Summary")
    rows: list[tuple[str, Any, str | None, str]] = [
        ("As of", dt.datetime.combine(report.as_of, dt.time()), "date", ""),
        ("Source", report.source, "text", ""),
        ("Period", report.period.name, "text", f"{report.period.start.isoformat()} to {report.period.end.isoformat()}"),
        ("Deals audited", report.deals, "int", ""),
        ("Open deals", figures.open_deals, "int", ""),
        ("Findings", report.findings.height, "int", ""),
    ]
    for label, figure, kind, note in (
        ("Open pipeline", figures.open_amount, "amount", f"{figures.open_without_amount} open deals without an amount" if figures.open_without_amount else ""),
        ("Amount at risk", figures.amount_at_risk, "amount", f"{figures.deals_at_risk} open deals with an error or warning"),
        ("Hygiene score", figures.score, "share", "share of open deals with no error or warning"),
        ("Quota", figures.quota, "amount", ""),
        ("Won", figures.won, "amount", ""),
        ("Weighted", figures.weighted, "amount", ""),
        ("Gap to quota", figures.gap, "amount", "quota - won - weighted"),
        ("Coverage", figures.coverage, "ratio", "open amount closing in the period / quota left to win"),
        ("Win rate", figures.win_rate, "share", "won / closed deals"),
    ):
        if figure.value is None:
            rows.append((label, NOT_EVALUABLE, "text", figure.reason or ""))
        else:
            rows.append((label, figure.value, kind, note))
    if report.scope:
        rows.append(("Only", ", ".join(report.scope), "text", ""))
    if report.waived:
        rows.append(("Waived findings", report.waived, "int", ""))
    header = formats["header"]
    sheet.write_row(0, 0, ("Figure", "Value", "Note"), header)
    for index, (label, value, kind, note) in enumerate(rows, start=1):
        sheet.write_string(index, 0, label)
        _write(sheet, index, 1, value, kind, formats)
        if note:
            sheet.write_string(index, 2, spreadsheet_cell(note))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), 2)
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, max(14, min(MAX_WIDTH, len(report.source) + 2)))
    sheet.set_column(2, 2, 50)


def _history_sheet(workbook, formats, report, figures) -> None:
    """Earlier audits from the history store, in blocks: the change since the previous run, the period's flow, the trend, deal changes.

    Each block has its own header row; the last, the deals' changes (the long one), has the sheet's filter.
    """
    history = report.history_figures
    sheet = workbook.add_worksheet("History")
    header = formats["header"]
    row = 0

    def block(titles: Sequence[str]) -> None:
        nonlocal row
        if row:
            row += 1
        sheet.write_row(row, 0, titles, header)
        row += 1

    if history.no_comparison:
        block(("Comparison",))
        sheet.write_string(row, 0, spreadsheet_cell(history.no_comparison))
        row += 1
    previous = history.previous
    if previous:
        block(("Since the previous run", "This run", f"Previous run ({previous.get('as_of', '')})", "Change"))
        for label, current, key, kind in (
            ("Hygiene score", figures.score.value, "score", "share"),
            ("Open pipeline", figures.open_amount.value, "open_amount", "amount"),
            ("Amount at risk", figures.amount_at_risk.value, "amount_at_risk", "amount"),
            ("Open deals", figures.open_deals, "open_deals", "int"),
            ("Findings", report.findings.height, "findings", "int"),
        ):
            before = previous.get(key)
            sheet.write_string(row, 0, label)
            _write(sheet, row, 1, current, kind, formats)
            _write(sheet, row, 2, before, kind, formats)
            if isinstance(current, (int, float)) and isinstance(before, (int, float)):
                _write(sheet, row, 3, round(current - before, 4 if kind == "share" else 2), kind, formats)
            row += 1
    if history.waterfall:
        span = f"{history.waterfall_range[0].isoformat()} to {history.waterfall_range[1].isoformat()}" if history.waterfall_range else report.period.name
        block(("Pipeline flow", f"Amount ({span})"))
        for label, value in history.waterfall:
            sheet.write_string(row, 0, spreadsheet_cell(label))
            _write(sheet, row, 1, value, "amount", formats)
            row += 1
    if history.trend:
        block(("Trend", "Hygiene score", "Open pipeline"))
        for as_of, score, open_amount in history.trend:
            _write(sheet, row, 0, dt.datetime.combine(as_of, dt.time()), "date", formats)
            _write(sheet, row, 1, score, "share", formats)
            _write(sheet, row, 2, open_amount, "amount", formats)
            row += 1
    changes = history.deal_changes
    block(("Deal changes", "Date", "Field", "Before", "After"))
    filter_row = row - 1
    texts = changes.with_columns(spreadsheet_cell_expr(name) for name in ("deal_id", "field", "before", "after"))
    for deal, date, field, before, after in texts.iter_rows():
        sheet.write_string(row, 0, deal)
        _write(sheet, row, 1, dt.datetime.combine(date, dt.time()), "date", formats)
        sheet.write_string(row, 2, field)
        _write(sheet, row, 3, before, "text", formats)
        _write(sheet, row, 4, after, "text", formats)
        row += 1
    if not changes.height:
        sheet.write_string(row, 0, "No deal changed in the stored history.")
        row += 1
    sheet.freeze_panes(1, 0)
    sheet.autofilter(filter_row, 0, max(row - 1, filter_row + 1), 4)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 4, 20)


def _write(sheet, row: int, column: int, value, kind: str, formats) -> None:
    if value is None:
        return
    if kind == "text":
        sheet.write_string(row, column, spreadsheet_cell(value))
    elif kind == "date":
        sheet.write_datetime(row, column, value, formats["date"])
    else:
        sheet.write_number(row, column, value, formats[kind])


def _table_sheet(workbook, formats, title: str, columns: Sequence[tuple[str, str, str]], table: pl.DataFrame) -> None:
    sheet = workbook.add_worksheet(title)
    names = [name for _, name, _ in columns]
    text_columns = [name for _, name, kind in columns if kind == "text"]
    # Neutralised by polars a column at a time, like the CSV report: no Python call per cell for the check.
    data = table.select(names).with_columns(spreadsheet_cell_expr(name) for name in text_columns) if table.height else table.select(names)
    sheet.write_row(0, 0, [label for label, _, _ in columns], formats["header"])
    writers = [_column_writer(sheet, kind, formats) for _, _, kind in columns]
    for index, values in enumerate(data.iter_rows(), start=1):
        for column, (value, write) in enumerate(zip(values, writers, strict=True)):
            if value is not None:
                write(index, column, value)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(data.height, 1), len(columns) - 1)
    sample = data.head(WIDTH_SAMPLE_ROWS)
    for column, (label, name, kind) in enumerate(columns):
        longest = len(label)
        if sample.height and kind == "text":
            longest = max(longest, int(sample.select(pl.col(name).str.len_chars().max()).item() or 0))
        elif kind in ("amount", "int"):
            longest = max(longest, 12)
        sheet.set_column(column, column, max(MIN_WIDTH, min(MAX_WIDTH, longest + 2)))


def _column_writer(sheet, kind: str, formats):
    if kind == "text":
        return sheet.write_string
    style = formats[kind]
    if kind == "date":
        return lambda row, column, value: sheet.write_datetime(row, column, value, style)
    return lambda row, column, value: sheet.write_number(row, column, value, style)


# -- The Findings sheet, written by polars ---------------------------------------------------------
#
# xlsxwriter spends ~5 microseconds of Python per cell; 200,000 findings are 2.8 million cells. The
# Findings sheet's header, columns, filter and frozen row are xlsxwriter's; its rows are built as
# sheet XML by polars, a column at a time, and put into the workbook xlsxwriter wrote.

#: Characters XML 1.0 cannot hold; Excel's own escape for them is ``_xHHHH_``.
_XML_CONTROLS = [chr(code) for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]]


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _xml_text(expr: pl.Expr) -> pl.Expr:
    # A literal "_x0041_" would be read back as "A": escape its underscore first, as Excel does. The
    # pattern holds no character the entities below replace, so doing it first changes nothing else.
    escaped = expr.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
    # One pass for every single-character replacement: none of them makes a character another one replaces.
    return escaped.str.replace_many(["&", "<", ">", *_XML_CONTROLS], ["&amp;", "&lt;", "&gt;", *(f"_x{ord(c):04X}_" for c in _XML_CONTROLS)])


def _fast_table_sheet(workbook, formats, title: str, columns: Sequence[tuple[str, str, str]], table: pl.DataFrame, *, derived: Sequence[pl.Expr] = ()):
    """Like :func:`_table_sheet`, but returns the data rows as sheet XML slices for :func:`_with_rows`, made as it takes them.

    ``derived``: columns computed from ``table``'s, row by row (a finding's
    fix). They, and the cells' neutralised text, are made a slice at a
    time: the whole table is never copied as text.
    """
    sheet = workbook.add_worksheet(title)
    names = [name for _, name, _ in columns]
    text_columns = [name for _, name, kind in columns if kind == "text"]

    def cells(rows: pl.DataFrame) -> pl.DataFrame:
        return rows.with_columns(derived).select(names).with_columns(spreadsheet_cell_expr(name) for name in text_columns)

    data = table
    sheet.write_row(0, 0, [label for label, _, _ in columns], formats["header"])
    sample = cells(data.head(WIDTH_SAMPLE_ROWS))
    for column, (label, name, kind) in enumerate(columns):
        longest = len(label)
        if sample.height and kind == "text":
            longest = max(longest, int(sample.select(pl.col(name).str.len_chars().max()).item() or 0))
        elif kind in ("amount", "int"):
            longest = max(longest, 12)
        # The column's format registers it in the workbook's styles, so that its index is known below.
        sheet.set_column(column, column, max(MIN_WIDTH, min(MAX_WIDTH, longest + 2)), formats[kind])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(data.height, 1), len(columns) - 1)
    if not data.height:
        return []
    styles = {kind: formats[kind]._get_xf_index() for _, _, kind in columns if kind != "text"}
    # Slices of rows, each turned into XML only when the zip entry takes it: the sheet is never whole in memory.
    return (_rows_xml(data.slice(offset, ROWS_PER_SLICE).with_columns(derived).select(names), columns, styles, offset) for offset in range(0, data.height, ROWS_PER_SLICE))


#: Findings rows turned into sheet XML at a time (a slice of 200,000 findings' XML is ~20 MB).
ROWS_PER_SLICE = 20_000
#: Findings above which the sheet's zip entry is written as Zip64 (its XML may pass 2 GiB).
ZIP64_ROWS = 1_000_000
#: zlib level of the Findings sheet: level 1 deflates its XML several times faster than the default 6,
#: for a file about a fifth larger; it is the workbook's largest entry by far.
FINDINGS_COMPRESSION = 1


#: A text column whose first rows hold fewer distinct values than this share of them is escaped
#: value by value (owners, stages, rules, fixes) and its cells looked up, instead of row by row.
FEW_DISTINCT_SHARE, DISTINCT_PROBE_ROWS = 0.25, 1000


def _cell_text(data: pl.DataFrame, name: str) -> pl.Expr:
    """A text column's cells as the sheet's XML holds them: neutralised as in the CSV report, then escaped for XML."""
    escape = _xml_text(spreadsheet_cell_expr(name))
    probe = data.get_column(name).head(DISTINCT_PROBE_ROWS)
    if probe.n_unique() > FEW_DISTINCT_SHARE * probe.len():
        return escape
    distinct = data.get_column(name).unique(maintain_order=True).drop_nulls()
    return pl.col(name).replace_strict(distinct, distinct.to_frame().select(escape).to_series(), default=None, return_dtype=pl.String)


def _rows_xml(data: pl.DataFrame, columns: Sequence[tuple[str, str, str]], styles: dict[str, int], offset: int) -> bytes:
    number = (pl.int_range(offset + 2, offset + data.height + 2, dtype=pl.Int64)).cast(pl.String)
    cells = []
    for column, (_, name, kind) in enumerate(columns):
        value = pl.col(name)
        if kind == "text":
            parts = [pl.lit(f'<c r="{_column_letter(column)}'), number, pl.lit('" t="inlineStr"><is><t xml:space="preserve">'), _cell_text(data, name), pl.lit("</t></is></c>")]
        else:
            parts = [pl.lit(f'<c r="{_column_letter(column)}'), number, pl.lit(f'" s="{styles[kind]}"><v>'), value.cast(pl.String), pl.lit("</v></c>")]
        # Null when the value is: an empty cell is left out of its row.
        cells.append(pl.concat_str(parts))
    rows = data.select(pl.concat_str([pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=True).alias("row"))
    # Written out by polars as they are (no header, quotes or line ends): the bytes without a Python string of them.
    buffer = io.BytesIO()
    rows.write_csv(buffer, include_header=False, line_terminator="", quote_style="never")
    return buffer.getvalue()


def _made_ahead(parts: Iterator[bytes]) -> Iterator[bytes]:
    """``parts`` in order, the next one made on another thread while the caller deflates this one.

    Both polars and zlib release the GIL, so making a slice's XML and
    deflating the one before overlap; one slice ahead at most.
    """
    parts = iter(parts)
    with ThreadPoolExecutor(max_workers=1) as ahead:
        pending = ahead.submit(next, parts, None)
        while (part := pending.result()) is not None:
            pending = ahead.submit(next, parts, None)
            yield part


def _with_rows(workbook: bytes, *, sheet_number: int, rows, height: int, width: int) -> memoryview:
    """The workbook with ``rows`` (XML slices, in order) after the header row of sheet ``sheet_number``; every other byte as xlsxwriter wrote it."""
    name = f"xl/worksheets/sheet{sheet_number}.xml"
    source = zipfile.ZipFile(io.BytesIO(workbook))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != name or not height:
                target.writestr(info, data, compress_type=info.compress_type)
                continue
            last = f"{_column_letter(width - 1)}{height + 1}"
            data = re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>'.encode(), data, count=1)
            head, found, tail = data.partition(b"</row></sheetData>")
            if not found:
                raise ValueError(f"{name}: no header row to put the rows after")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type, entry.external_attr, entry.create_system = info.compress_type, info.external_attr, info.create_system
            # ZipFile.open(..., "w") has no compresslevel argument; the entry's own level is read from here.
            entry._compresslevel = FINDINGS_COMPRESSION
            # Zip64 only when the sheet may pass 2 GiB (about a million findings): smaller files keep the plain form every reader knows.
            with target.open(entry, "w", force_zip64=height > ZIP64_ROWS) as stream:
                stream.write(head + b"</row>")
                for part in _made_ahead(rows):
                    stream.write(part)
                stream.write(b"</sheetData>" + tail)
    # A view of the buffer, not a copy of it: the workbook of a large audit is tens of MB.
    return output.getbuffer()
