"""Write a deal table (``hygiene deals``, ``hygiene snapshot show``) as CSV, JSON or Parquet, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from hygiene.api.errors import HygieneError
from hygiene.files import atomic_text_writer

#: A spreadsheet takes a cell starting with one of these for a formula: an export's ``=HYPERLINK(...)`` must stay text.
FORMULA_TRIGGERS = r"^[=+\-@\t\r]"
FORMATS = (".csv", ".json", ".parquet")


def write_table(frame: pl.DataFrame, path: Path, display: str) -> None:
    """Write ``frame`` to ``path``, its format from the extension; the file is replaced only once complete."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise HygieneError(f"{display}: cannot tell the format from the extension {suffix or '(none)'!r}; use .csv, .json or .parquet")
    try:
        with atomic_text_writer(path, newline="") as stream:
            if suffix == ".csv":
                # Cells an export wrote are untrusted: a spreadsheet must show them, not run them.
                text = [c for c, t in frame.schema.items() if t == pl.String]
                safe = frame.with_columns(pl.when(pl.col(c).str.contains(FORMULA_TRIGGERS)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c) for c in text)
                stream.write(safe.write_csv(None, line_terminator="\n", date_format="%Y-%m-%d"))
            elif suffix == ".json":
                rows = frame.with_columns(pl.col(c).dt.to_string("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date).to_dicts()
                stream.write(json.dumps(rows, ensure_ascii=False, indent=2, sort_keys=False) + "\n")
            else:
                stream.flush()
                frame.write_parquet(stream.buffer)
                stream.buffer.flush()
    except OSError as exc:
        raise HygieneError(f"{display}: cannot write: {exc.strerror or exc}") from None
