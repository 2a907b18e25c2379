"""CSV exports: delimiter sniffed among comma, semicolon and tab; any encoding Python knows."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hygiene import ROW_COLUMN, RawTable, Source, SourceError, terminal_text

CANDIDATE_DELIMITERS = (",", ";", "\t")
SNIFF_BYTES = 64 * 1024
CHUNK_BYTES = 1 << 22


def sniff_delimiter(sample: str) -> str:
    """The candidate that splits the header line into the most fields (comma on a tie)."""
    header = sample.split("\n", 1)[0]
    counts = {}
    for delimiter in CANDIDATE_DELIMITERS:
        try:
            counts[delimiter] = len(next(csv.reader([header], delimiter=delimiter)))
        except (csv.Error, StopIteration):
            counts[delimiter] = 1
    return max(CANDIDATE_DELIMITERS, key=lambda d: (counts[d], -CANDIDATE_DELIMITERS.index(d)))


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


class CsvSource(Source):
    """Comma-, semicolon- or tab-separated exports with a header row.

    Rows are numbered as a spreadsheet shows them (the header is row 1).
    Records whose quoted fields span several lines are numbered by the
    line they start on. An empty cell, quoted or not, is null, and a record
    of empty cells is skipped like a blank line. A blank column name becomes
    ``column_N`` (N its position); a repeated one is an error. A record
    with fewer or more fields than the header is an error naming its row:
    padding a short record would read its last columns as empty.
    """

    name = "csv"
    summary = "CSV export with a header row (delimiter sniffed; UTF-8 with or without BOM, or any encoding)"
    extensions = (".csv", ".tsv", ".txt")
    options_schema = {
        "type": "object",
        "properties": {
            "delimiter": {"enum": [",", ";", "\t", "|"], "description": "Field delimiter (default: sniffed among , ; and tab)."},
            "encoding": {"type": "string", "minLength": 1, "description": "Text encoding, e.g. cp1252 (default: utf-8, BOM or not)."},
        },
    }

    def read(self, path: Path, *, options, display_name: str) -> RawTable:
        encoding = options.get("encoding", "utf-8")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceError(f"{display_name}: unknown encoding {encoding!r}") from None
        try:
            if _is_utf8(encoding):
                data: bytes | Path = path
                lines = _count_file_lines(path)
                head = _head(path)
            else:
                data = _reencode(path, encoding, display_name)
                lines = _count_lines(data)
                head = data[:SNIFF_BYTES]
        except OSError as exc:
            raise SourceError(f"{display_name}: cannot read: {exc.strerror or exc}") from None
        if _is_utf8(encoding) and (found := _utf16_or_32(head)):
            raise SourceError(
                f"{display_name}: the file is {found} (it starts with a {found} byte-order mark); "
                f'save it as UTF-8, or set [source] encoding = "{found.lower()}"'
            )
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
        if not text.strip():
            raise SourceError(f"{display_name}: the file is empty (expected a header row)")
        delimiter = options.get("delimiter") or sniff_delimiter(text)
        # Polars would rename a repeated column silently, so the header is read here.
        columns = _header(text, delimiter, display_name)
        if isinstance(data, Path):
            lazy = _scan_one_record_per_line(path, delimiter, columns, lines)
            if lazy is not None:
                # The engine streams the file as it normalises it, so the raw text is never in
                # memory whole; if polars fails on the way, the eager read names the row.
                # Polars pads a record with too few fields with nulls, so only a record whose
                # last field is empty can be one: those, marked during that one read, are
                # looked at again (none, in most exports: no second pass).
                return RawTable(
                    lazy=lazy,
                    location=display_name,
                    read_eagerly=lambda: self._read_eagerly(path, delimiter, columns, lines, display_name),
                    suspect_rows=pl.col(columns[-1]).is_null(),
                    check_rows=lambda rows: _refuse_ragged_lines(path, delimiter, columns, display_name, rows),
                )
        return self._read_eagerly(data, delimiter, columns, lines, display_name)

    def _read_eagerly(self, data: bytes | Path, delimiter: str, columns: list[str], lines: int, display_name: str) -> RawTable:
        try:
            frame = pl.read_csv(
                data if isinstance(data, Path) else io.BytesIO(data),
                separator=delimiter,
                infer_schema=False,
                has_header=True,
                raise_if_empty=False,
            )
        except pl.exceptions.PolarsError:
            # Python's csv module names the row that is wrong (ragged, unclosed quote).
            frame = None
        if frame is None or lines != frame.height + 1:
            if isinstance(data, Path):
                _check_utf8(data, display_name)
        # One record per line (blank lines included) is the common case: row = index + 2.
        # Otherwise quoted fields span lines, and Python's csv module tells where records start.
        if frame is not None and frame.width == len(columns) and lines == frame.height + 1:
            _refuse_ragged_lines(data, delimiter, columns, display_name)
            frame.columns = columns
            rows = None
        else:
            frame, rows = _read_multiline(data, delimiter, columns, display_name)
        # Polars reads a quoted empty cell as "" and an unquoted one as null: both are empty.
        # Only the columns that have such cells are rewritten, and the table is filtered only
        # when it has blank records: either copies the whole table.
        if frame.width:
            has_empty_text = frame.select((pl.all() == "").any()).row(0)
            quoted_empty = [column for column, found in zip(frame.columns, has_empty_text, strict=True) if found]
            if quoted_empty:
                frame = frame.with_columns(pl.col(quoted_empty).replace("", None))
            blank = frame.select(pl.all_horizontal(pl.all().is_null())).to_series()
            if blank.any():
                if rows is None:
                    rows = pl.int_range(2, frame.height + 2, dtype=pl.Int64, eager=True)
                frame, rows = frame.filter(~blank), rows.filter(~blank)
        # A range, not a list of a million ints, where records are simply one per line.
        return RawTable(frame=frame, location=display_name, rows=range(2, frame.height + 2) if rows is None else rows.to_list())


def _scan_one_record_per_line(path: Path, delimiter: str, columns: list[str], lines: int) -> pl.LazyFrame | None:
    """The export as a lazy table with its row numbers, when each record is one line (else None)."""
    scan = pl.scan_csv(path, separator=delimiter, infer_schema=False, has_header=True, raise_if_empty=False, new_columns=columns)
    try:
        if len(scan.collect_schema()) != len(columns) or scan.select(pl.len()).collect().item() + 1 != lines:
            return None
    except pl.exceptions.PolarsError:
        return None
    return (
        scan.with_row_index(ROW_COLUMN, offset=2)
        # Polars reads a quoted empty cell as "" and an unquoted one as null: both are empty.
        # (when/then streams; Expr.replace would make polars hold the whole table.)
        .with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in columns)
        .filter(~pl.all_horizontal(pl.exclude(ROW_COLUMN).is_null()))
    )


def _utf16_or_32(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    return None


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def _line_breaks(data: bytes) -> int:
    """Line breaks as Python's csv module counts them: \\n, \\r\\n, or a lone \\r."""
    if b"\r" not in data:  # the common case: one pass
        return data.count(b"\n")
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _unterminated(last_byte: bytes) -> int:
    """1 when the text ends without a line break (its last line still counts)."""
    return 1 if last_byte and last_byte not in (b"\n", b"\r") else 0


def _count_lines(data: bytes) -> int:
    return _line_breaks(data) + _unterminated(data[-1:])


def _count_file_lines(path: Path) -> int:
    """:func:`_count_lines` for a file, read in chunks."""
    breaks = 0
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            breaks += _line_breaks(chunk) - (last == b"\r" and chunk[:1] == b"\n")  # a \r\n cut by the chunk boundary
            last = chunk[-1:]
    return breaks + _unterminated(last)


def _check_utf8(path: Path, display_name: str) -> None:
    """Name the first byte that is not UTF-8.

    Polars refuses invalid UTF-8 without saying where, so this slower pass
    runs only once polars has failed (or a record spans lines).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            # A character cut by the chunk boundary waits in the decoder; error offsets count from it.
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _not_utf8(display_name, offset - pending + exc.start) from None
            offset += len(chunk)
    pending = len(decoder.getstate()[0])
    if pending:
        raise _not_utf8(display_name, offset - pending, "(a character cut off at the end of the file)")


def _not_utf8(display_name: str, offset: int, why: str = "") -> SourceError:
    return SourceError(
        f"{display_name}: not valid UTF-8 at byte {offset}{' ' + why if why else ''} "
        '(set [source] encoding, e.g. encoding = "cp1252")'
    )


def _reencode(path: Path, encoding: str, display_name: str) -> bytes:
    raw = path.read_bytes()
    try:
        return raw.decode(encoding).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{display_name}: not valid {encoding} at byte {exc.start}") from None


def _read_multiline(data: bytes | Path, delimiter: str, columns: list[str], display_name: str):
    raw = data.read_bytes() if isinstance(data, Path) else data
    text = raw.decode("utf-8").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    try:
        next(reader, None)
        records, rows = [], []
        start = reader.line_num + 1
        for record in reader:
            if record and len(record) != len(columns):
                raise _ragged(display_name, start, len(record), columns, record)
            records.append(record + [None] * (len(columns) - len(record)))
            rows.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError(f"{display_name}: row {start}: not readable as CSV: {exc}") from None
    frame = pl.DataFrame(records, schema={c: pl.String for c in columns}, orient="row")
    return frame, pl.Series(rows, dtype=pl.Int64)


def _ragged(display_name: str, row: int, fields: int, columns: list[str], record: list[str] | None = None) -> SourceError:
    """The error of a record with ``fields`` fields: its row, and the first column left empty or the first value without a column."""
    expected = len(columns)
    where = ""
    if fields < expected:
        where = f": column {fields + 1} ('{terminal_text(columns[fields])}') and after have no value"
    elif record is not None and len(record) > expected:
        where = f": value '{terminal_text(record[expected][:40])}' (field {expected + 1}) has no column"
    return SourceError(f"{display_name}: row {row}: {fields} field{'s' if fields != 1 else ''} where the header has {expected}{where}")


def _refuse_ragged_lines(data: bytes | Path, delimiter: str, columns: list[str], display_name: str, rows: Sequence[int] | None = None) -> None:
    """Raise for the first record with more or fewer fields than the header, in an export of one record per line.

    ``rows``: only these rows (line numbers) need a look; default all.

    Polars pads a short record with nulls, so this pass counts each line's
    fields and streams, so a large export is not held in memory. A line
    without a quote has as many fields as delimiters plus one: a literal
    count, which is cheap. Only lines with a quote (one record per line, so
    no quoted field spans lines) get their quoted fields taken out first, by
    a regular expression several times slower. The bad line is parsed again
    by Python's csv module, to name the value that has no column.
    """
    expected = len(columns)
    lines = pl.scan_lines(data) if isinstance(data, Path) else pl.read_lines(io.BytesIO(data)).lazy()
    line = pl.col("line").str.strip_chars_end("\r")
    plain = line.str.count_matches(delimiter, literal=True) + 1
    quoted = line.str.contains('"', literal=True)
    unquoted = line.str.replace_all(r'"[^"]*"', "").str.count_matches(delimiter, literal=True) + 1
    try:
        numbered = lines.with_row_index("row", offset=1)
        if rows is not None:
            numbered = numbered.filter(pl.col("row").is_in(pl.Series(rows, dtype=pl.UInt32).implode()))
        bad = (
            numbered.filter((pl.col("row") > 1) & (line != "") & (quoted | (plain != expected)))
            .select("row", line.alias("line"), pl.when(quoted).then(unquoted).otherwise(plain).alias("fields"))
            .filter(pl.col("fields") != expected)
            .head(1)
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError:
        if isinstance(data, Path):
            _check_utf8(data, display_name)  # names the byte polars choked on
        return
    if bad.height:
        text = bad.item(0, "line")
        record = next(csv.reader([text], delimiter=delimiter), None)
        raise _ragged(display_name, int(bad.item(0, "row")), int(bad.item(0, "fields")), columns, record)


def _header(text: str, delimiter: str, display_name: str) -> list[str]:
    """The column names; a blank one is named after its position (``column_3``), a repeated one is an error."""
    header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    columns = [name if name.strip() else f"column_{index}" for index, name in enumerate(header, start=1)]
    seen: set[str] = set()
    for index, column in enumerate(columns, start=1):
        if column in seen:
            raise SourceError(f"{display_name}: row 1, column {index}: the header repeats the column name {column!r}")
        seen.add(column)
    return columns
