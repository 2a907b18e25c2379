"""The JSON report: the machine-readable contract (``hygiene/schemas/report.schema.json``)."""

from __future__ import annotations

import dataclasses
import json

import polars as pl

from hygiene import Reporter, json_text, json_text_expr

FINDING_KEYS = ("code", "rule", "severity", "deal_id", "deal_name", "owner", "message", "details", "row", "fingerprint", "baseline_status")
DEAL_HEALTH_KEYS = ("deal_id", "owner", "team", "amount", "findings", "health")

# JSON string escapes (RFC 8259): the quote, the backslash and every control character.
_JSON_ESCAPES = {chr(code): f"\\u{code:04x}" for code in range(0x20)} | {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def json_value(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as JSON text, built by string operations (cheaper than encoding a struct per row)."""
    expr = pl.col(column)
    if dtype == pl.String:
        escaped = expr.str.replace_many(list(_JSON_ESCAPES), list(_JSON_ESCAPES.values()))
        text = pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])
    else:
        text = expr.cast(pl.String)
    return text.fill_null(pl.lit("null"))


SLICE_ROWS = 50_000


@dataclasses.dataclass(frozen=True)
class Escapes:
    """The string columns of some rows that hold a character :func:`hygiene.json_text` escapes (DEL, C1 and bidi controls, ...).

    Only those columns take that pass: on a column none of whose values
    holds such a character it changes nothing, so a report whose text is
    plain ASCII (the usual case) skips it with the same bytes. The check
    is cheap: a column of ASCII text without DEL has none.
    """

    json_text: frozenset[str]

    @classmethod
    def of(cls, rows: pl.DataFrame, keys: tuple[str, ...]) -> Escapes:
        strings = [key for key in keys if rows.schema[key] == pl.String]
        if not strings or not rows.height:
            return cls(frozenset())
        plain = rows.select(
            ((pl.col(key).str.len_bytes() == pl.col(key).str.len_chars()) & ~pl.col(key).str.contains("\x7f", literal=True)).all().alias(key)
            for key in strings
        ).row(0, named=True)
        return cls(frozenset(key for key in strings if plain[key] is not True))


def _encoded_by_struct(dtype: pl.DataType) -> bool:
    """Types polars' JSON encoder writes as :func:`json_value` does (strings escaped the same, integers, null)."""
    return dtype == pl.String or dtype.is_integer()


def object_lines(rows: pl.DataFrame, keys: tuple[str, ...], *, last: bool, escapes: Escapes | None = None) -> pl.DataFrame:
    """One JSON object per row, indented, with a comma after all but the array's last.

    Runs of string and integer fields are encoded by polars' JSON encoder
    (one struct per run; it escapes strings as RFC 8259 asks, as
    :func:`json_value` does); ``details``, already a JSON object, is spliced
    in verbatim. ``escapes``: what the rows' text needs (default: found
    out from ``rows``).
    """
    escapes = escapes if escapes is not None else Escapes.of(rows, keys)
    separator = pl.lit(",")
    if last:
        separator = pl.when(pl.int_range(pl.len()) < rows.height - 1).then(separator).otherwise(pl.lit(""))
    pieces: list[pl.Expr] = []
    run: list[str] = []

    def end_run() -> None:
        if run:
            encoded = pl.struct(run).struct.json_encode()
            if escapes.json_text & set(run):
                encoded = json_text_expr(encoded)
            pieces.append(encoded.str.strip_prefix("{").str.strip_suffix("}"))
            run.clear()

    for key in keys:
        dtype = rows.schema[key]
        if key != "details" and _encoded_by_struct(dtype):
            run.append(key)
            continue
        end_run()
        if key == "details":
            value = json_text_expr("details") if "details" in escapes.json_text else pl.col("details")
        else:
            value = json_value(key, dtype)
        pieces.append(pl.concat_str([pl.lit(f'"{key}":'), value]))
    end_run()
    line = pl.concat_str([pl.lit("    {"), pl.concat_str(pieces, separator=","), pl.lit("}"), separator]).alias("line")
    return rows.select(line)


def finding_lines(findings: pl.DataFrame, *, last: bool) -> pl.DataFrame:
    """One JSON object per finding, indented, with a comma after all but the report's last."""
    return object_lines(findings, FINDING_KEYS, last=last)


def write_array(stream, rows: pl.DataFrame, keys: tuple[str, ...]) -> None:
    """The objects of a JSON array, one per row, written a slice at a time."""
    if not rows.height:
        return
    stream.write("\n")
    escapes = Escapes.of(rows, keys)
    # Slices bound the memory the encoded text takes: a million findings' lines at once
    # would add a copy of the whole report to the peak.
    for offset in range(0, rows.height, SLICE_ROWS):
        lines = object_lines(rows.slice(offset, SLICE_ROWS), keys, last=offset + SLICE_ROWS >= rows.height, escapes=escapes)
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream (io.StringIO): the lines go through Python
            stream.write("\n".join(lines.to_series().to_list()) + "\n")
        else:
            # polars writes the lines to the file itself: no Python string per object
            stream.flush()
            lines.write_csv(buffer, include_header=False, quote_style="never")
    stream.write("  ")


class JsonReporter(Reporter):
    """Everything in one JSON document: header, summary, and every finding in report order.

    Findings are encoded by polars, a whole column at a time; only the
    header goes through Python's json module.
    """

    name = "json"
    shows_history = "none"
    summary = "JSON document validated by the shipped schema (report.schema.json)"

    def write(self, report, stream) -> None:
        # NaN and Infinity are not JSON: a report that holds one fails (naming this reporter) rather than being invalid.
        header = json_text(json.dumps(report.header(), indent=2, ensure_ascii=False, allow_nan=False))
        stream.write(header[:-2] + ',\n  "deal_health": [')
        write_array(stream, report.unhealthy_deals(), DEAL_HEALTH_KEYS)
        stream.write('],\n  "findings": [')
        write_array(stream, report.findings, FINDING_KEYS)
        stream.write("]\n}\n")
