"""The JSON report: the machine-readable contract (``hygiene/schemas/report.schema.json``)."""

from __future__ import annotations

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


def object_lines(rows: pl.DataFrame, keys: tuple[str, ...], *, last: bool) -> pl.DataFrame:
    """One JSON object per row, indented, with a comma after all but the array's last."""
    separator = pl.lit(",")
    if last:
        separator = pl.when(pl.int_range(pl.len()) < rows.height - 1).then(separator).otherwise(pl.lit(""))
    fields = [
        # details is already a JSON object: spliced in verbatim rather than as a string.
        pl.concat_str([pl.lit(f'"{key}":'), pl.col("details") if key == "details" else json_value(key, rows.schema[key])])
        for key in keys
    ]
    line = pl.concat_str([pl.lit("    {"), pl.concat_str(fields, separator=","), pl.lit("}"), separator]).alias("line")
    # C1 and bidi controls and U+2028/U+2029 (in details too) as \u escapes: see hygiene.json_text.
    return rows.select(line).select(json_text_expr("line"))


def finding_lines(findings: pl.DataFrame, *, last: bool) -> pl.DataFrame:
    """One JSON object per finding, indented, with a comma after all but the report's last."""
    return object_lines(findings, FINDING_KEYS, last=last)


def write_array(stream, rows: pl.DataFrame, keys: tuple[str, ...]) -> None:
    """The objects of a JSON array, one per row, written a slice at a time."""
    if not rows.height:
        return
    stream.write("\n")
    # Slices bound the memory the encoded text takes: a million findings' lines at once
    # would add a copy of the whole report to the peak.
    for offset in range(0, rows.height, SLICE_ROWS):
        lines = object_lines(rows.slice(offset, SLICE_ROWS), keys, last=offset + SLICE_ROWS >= rows.height)
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
