"""JSON exports: an array of objects, or JSON Lines (one object per line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from hygiene import RawTable, Source, SourceError


def _cell(value: Any) -> str | None:
    # Values go through the same text coercion as CSV cells, so one set of rules decides validity.
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _frame(records: list[dict[str, Any]], display_name: str, labels: list[str]) -> pl.DataFrame:
    """The records as a text table; ``labels`` name them in errors (``record 3``, ``line 7``)."""
    columns: dict[str, None] = {}
    for record in records:
        for key in record:
            columns.setdefault(key, None)
    if records and not columns:
        raise SourceError(f"{display_name}: every record is an empty object; expected deal objects with at least an id")
    data = {column: [_cell(record.get(column)) for record in records] for column in columns}
    try:
        return pl.DataFrame(data, schema={column: pl.String for column in columns})
    except (pl.exceptions.PolarsError, UnicodeEncodeError, OverflowError):
        _name_unencodable(data, display_name, labels)
        raise


def _name_unencodable(data: dict[str, list[str | None]], display_name: str, labels: list[str]) -> None:
    """Raise for the first cell that is not text UTF-8 can hold (a lone surrogate such as \\ud800)."""
    for column, cells in data.items():
        for index, cell in enumerate(cells):
            if cell is None:
                continue
            try:
                cell.encode("utf-8")
            except UnicodeEncodeError as exc:
                shown = cell.encode("unicode_escape").decode("ascii")[:60]
                raise SourceError(
                    f"{display_name}: {labels[index]}, key {column!r}: {shown!r} holds a lone surrogate (U+{ord(cell[exc.start]):04X}), not a character"
                ) from None


def _loads(text: str, display_name: str, where: str) -> Any:
    """:func:`json.loads`, each failure one line naming ``where``."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = f"line {exc.lineno}, column {exc.colno}" if where == "file" else f"{where}, column {exc.colno}"
        raise SourceError(f"{display_name}: {line}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        at = "the file" if where == "file" else where
        raise SourceError(f"{display_name}: {at}: arrays or objects nested too deeply to be deal records") from None
    except ValueError as exc:
        # Python refuses to convert integers longer than a few thousand digits.
        at = "the file" if where == "file" else where
        reason = "an integer with thousands of digits" if "digits" in str(exc) else str(exc).splitlines()[0]
        raise SourceError(f"{display_name}: {at}: {reason}, not a deal value") from None


def _read_text(path: Path, display_name: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{display_name}: cannot read: {exc.strerror or exc}") from None
    for bom, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            raise SourceError(f"{display_name}: the file is {encoding} (it starts with a {encoding} byte-order mark); JSON exports must be UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{display_name}: not valid UTF-8 at byte {exc.start}") from None


class JsonSource(Source):
    """A JSON array of deal objects; keys are the columns. Records are numbered from 1."""

    name = "json"
    summary = "JSON array of deal objects"
    extensions = (".json",)

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        text = _read_text(path, display_name)
        if not text.strip():
            raise SourceError(f"{display_name}: the file is empty (expected a JSON array of objects)")
        data = _loads(text, display_name, "file")
        if not isinstance(data, list):
            raise SourceError(f"{display_name}: expected a JSON array of objects, found {type(data).__name__}")
        for index, record in enumerate(data, start=1):
            if not isinstance(record, dict):
                raise SourceError(f"{display_name}: record {index}: expected an object, found {json.dumps(record)[:60]}")
        return RawTable(frame=_frame(data, display_name, [f"record {n}" for n in range(1, len(data) + 1)]), location=display_name, first_row=1)


class JsonLinesSource(Source):
    """JSON Lines: one deal object per line; blank lines are skipped. Rows are line numbers."""

    name = "jsonl"
    summary = "JSON Lines, one deal object per line"
    extensions = (".jsonl", ".ndjson")

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        text = _read_text(path, display_name)
        if not text.strip():
            raise SourceError(f"{display_name}: the file is empty (expected one JSON object per line)")
        records, rows = [], []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            record = _loads(line, display_name, f"line {number}")
            if not isinstance(record, dict):
                raise SourceError(f"{display_name}: line {number}: expected an object, found {line.strip()[:60]}")
            records.append(record)
            rows.append(number)
        return RawTable(frame=_frame(records, display_name, [f"line {n}" for n in rows]), location=display_name, rows=rows)
