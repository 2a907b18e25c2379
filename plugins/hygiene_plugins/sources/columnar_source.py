"""Parquet and Arrow IPC (Feather v2) files, read lazily: polars scans only the columns the audit uses.

Columns keep their types: numbers stay numbers and dates stay dates, so
nothing is parsed from text. Records are numbered from 1, in file order.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from hygiene import ROW_COLUMN, RawTable, Source, SourceError


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class _ColumnarSource(Source):
    format_name = ""

    def scan(self, path: Path) -> pl.LazyFrame:
        raise NotImplementedError

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        try:
            lazy = self.scan(path)
            schema = lazy.collect_schema()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise SourceError(f"{display_name}: not a readable {self.format_name} file: {_first_line(exc)}") from None
        if ROW_COLUMN in schema.names():
            raise SourceError(f"{display_name}: has a column named {ROW_COLUMN!r}, which hygiene reserves")
        nested = [name for name, dtype in schema.items() if dtype.is_nested()]
        # Lists and structs have no cell-by-cell reading; as JSON text they stay available to rules.
        lazy = lazy.with_columns(pl.col(name).map_elements(_json_text, return_dtype=pl.String) for name in nested) if nested else lazy

        def read_eagerly() -> RawTable:
            try:
                frame = lazy.collect()
            except pl.exceptions.PolarsError as exc:
                raise SourceError(f"{display_name}: cannot be read: {_first_line(exc)}") from None
            return RawTable(frame=frame, location=display_name, first_row=1)

        return RawTable(lazy=lazy.with_row_index(ROW_COLUMN, offset=1), location=display_name, read_eagerly=read_eagerly)


def _json_text(value) -> str | None:
    import json

    if value is None:
        return None
    return json.dumps(value if not isinstance(value, pl.Series) else value.to_list(), default=str, ensure_ascii=False, sort_keys=True)


class ParquetSource(_ColumnarSource):
    """A Parquet file (one file; a folder of parts is not read). Scanned lazily, column types kept."""

    name = "parquet"
    summary = "Parquet file, scanned lazily (column types kept)"
    extensions = (".parquet", ".pq")
    format_name = "Parquet"

    def scan(self, path: Path) -> pl.LazyFrame:
        return pl.scan_parquet(path)


class ArrowIpcSource(_ColumnarSource):
    """An Arrow IPC file (Feather v2). Scanned lazily, column types kept."""

    name = "arrow"
    summary = "Arrow IPC / Feather v2 file, scanned lazily (column types kept)"
    extensions = (".arrow", ".feather", ".ipc")
    format_name = "Arrow IPC"

    def scan(self, path: Path) -> pl.LazyFrame:
        return pl.scan_ipc(path)
