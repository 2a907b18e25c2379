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


def _frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    columns: dict[str, None] = {}
    for record in records:
        for key in record:
            columns.setdefault(key, None)
    return pl.DataFrame(
        {column: [_cell(record.get(column)) for record in records] for column in columns},
        schema={column: pl.String for column in columns},
    )


def _read_text(path: Path, display_name: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{display_name}: not valid UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise SourceError(f"{display_name}: cannot read: {exc.strerror or exc}") from None


class JsonSource(Source):
    """A JSON array of deal objects; keys are the columns. Records are numbered from 1."""

    name = "json"
    summary = "JSON array of deal objects"
    extensions = (".json",)

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        text = _read_text(path, display_name)
        if not text.strip():
            raise SourceError(f"{display_name}: the file is empty (expected a JSON array of objects)")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{display_name}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(data, list):
            raise SourceError(f"{display_name}: expected a JSON array of objects, found {type(data).__name__}")
        for index, record in enumerate(data, start=1):
            if not isinstance(record, dict):
                raise SourceError(f"{display_name}: record {index}: expected an object, found {json.dumps(record)[:60]}")
        return RawTable(frame=_frame(data), location=display_name, first_row=1)


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
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{display_name}: line {number}, column {exc.colno}: invalid JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise SourceError(f"{display_name}: line {number}: expected an object, found {line.strip()[:60]}")
            records.append(record)
            rows.append(number)
        return RawTable(frame=_frame(records), location=display_name, rows=rows)
