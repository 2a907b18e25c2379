"""Spreadsheets: .xlsx, .xlsm, .xls, .xlsb and .ods, through polars' calamine reader (fastexcel).

A CRM report saved from Excel often has a title block above the table
("Opportunity Pipeline", "Generated 3/31/2026", a blank row): the header
is the first row, among the first rows, that is about as wide as the table.
Cells are read as the spreadsheet shows their values: dates formatted as
dates are ISO dates, numbers are plain decimals, so the engine reads them
like a CSV export's. Rows are numbered as the spreadsheet numbers them.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from hygiene import RawTable, Source, SourceError

#: Rows looked at to find the header under a title block.
HEADER_SEARCH_ROWS = 30
#: A header row has at least this share of the widest row's filled cells.
HEADER_MIN_SHARE = 0.8

def _first_used_row(path: Path, sheet_name: str) -> int:
    """The spreadsheet row of the first cell holding a value (calamine starts its table there).

    Read from the sheet's XML for .xlsx and .xlsm; other formats are
    taken to start at row 1, as the sheets they hold usually do.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return 1
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            ids = dict(re.findall(r'<sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', workbook))
            targets = {rid: target for rid, target in re.findall(r'<Relationship\b[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)}
            if not targets:
                targets = {rid: target for target, rid in re.findall(r'<Relationship\b[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
            target = targets.get(ids.get(_xml_escape(sheet_name), ""), "")
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with archive.open(member) as stream:
                head = stream.read(1 << 20)
    except (KeyError, OSError, zipfile.BadZipFile):
        return 1
    # The first cell with a value: a cell element holding <v> or an inline string <is>.
    for match in re.finditer(rb'<c r="[A-Z]+([0-9]+)"(?:[^>/]|/(?!>))*>(.*?)</c>', head, re.DOTALL):
        if b"<v>" in match.group(2) or b"<is>" in match.group(2):
            return int(match.group(1))
    return 1


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def find_header(frame: pl.DataFrame) -> int:
    """The index of the header row: the first row about as wide as the widest of the first rows."""
    head = frame.head(HEADER_SEARCH_ROWS)
    filled = head.select(pl.sum_horizontal(pl.all().is_not_null() & (pl.all().str.strip_chars() != ""))).to_series().to_list()
    widest = max(filled, default=0)
    for index, count in enumerate(filled):
        if count and count >= max(1, HEADER_MIN_SHARE * widest):
            return index
    return 0


class ExcelSource(Source):
    """A worksheet of a spreadsheet file: the first, or the one ``[source] sheet`` names.

    ``sheet`` is a sheet name, or its position counting from 1. The header
    row is found under any title block; blank rows (trailing ones, or left
    by merged cells) are skipped. A blank header cell becomes ``column_N``
    (N its position); a repeated one is an error.
    """

    name = "excel"
    summary = "Spreadsheet (.xlsx, .xlsm, .xls, .xlsb, .ods): sheet by name or number, header found under a title block"
    extensions = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
    options_schema = {
        "type": "object",
        "properties": {
            "sheet": {
                "type": ["string", "integer"],
                "minimum": 1,
                "minLength": 1,
                "description": "Worksheet: its name, or its position counting from 1 (default: the first).",
            },
            "header_row": {
                "type": "integer",
                "minimum": 1,
                "description": "The spreadsheet row holding the column names (default: found under any title block).",
            },
        },
    }

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        import fastexcel

        try:
            reader = fastexcel.read_excel(str(path))
        except Exception as exc:  # calamine's errors name no type worth telling apart
            raise SourceError(f"{display_name}: not a readable spreadsheet: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        names = reader.sheet_names
        wanted = options.get("sheet")
        if wanted is None:
            if not names:
                raise SourceError(f"{display_name}: the workbook has no sheet")
            sheet_name = names[0]
        elif isinstance(wanted, int):
            if not 1 <= wanted <= len(names):
                raise SourceError(f"{display_name}: no sheet {wanted} (source.sheet); it has {len(names)}: {', '.join(repr(n) for n in names)}")
            sheet_name = names[wanted - 1]
        else:
            if wanted not in names:
                raise SourceError(f"{display_name}: no sheet named {wanted!r} (source.sheet); its sheets are: {', '.join(repr(n) for n in names)}")
            sheet_name = wanted
        try:
            sheet = reader.load_sheet(sheet_name, header_row=None, dtypes="string")
            cells = sheet.to_polars()
        except Exception as exc:
            raise SourceError(f"{display_name}: sheet {sheet_name!r} cannot be read: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        first_row = _first_used_row(path, sheet_name)
        if cells.height == 0:
            raise SourceError(f"{display_name}: sheet {sheet_name!r} is empty (expected a header row)")
        if "header_row" in options:
            header = options["header_row"] - first_row
            if not 0 <= header < cells.height:
                raise SourceError(f"{display_name}: sheet {sheet_name!r}: row {options['header_row']} (source.header_row) holds nothing")
        else:
            header = find_header(cells)
        columns = _header([cells.item(header, c) for c in cells.columns], display_name, sheet_name, first_row + header)
        body = (
            cells.slice(header + 1)
            .with_row_index("__sheet_row__", offset=first_row + header + 1)
            .with_columns(pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c)).alias(c) for c in cells.columns)
        )
        body = body.filter(~pl.all_horizontal(pl.exclude("__sheet_row__").is_null()))
        rows = body.get_column("__sheet_row__").cast(pl.Int64).to_list()
        frame = body.drop("__sheet_row__")
        frame.columns = columns
        location = display_name if wanted is None else f"{display_name} [{sheet_name}]"
        return RawTable(frame=frame, location=location, rows=rows, date_serials=True)


def _header(values: list[str | None], display_name: str, sheet_name: str, row: int) -> list[str]:
    columns = [value.strip() if value and value.strip() else f"column_{index}" for index, value in enumerate(values, start=1)]
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if column in seen:
            raise SourceError(f"{display_name}: sheet {sheet_name!r}, row {row}, column {index}: the header repeats the column name {column!r}")
        seen.add(column)
    return columns
