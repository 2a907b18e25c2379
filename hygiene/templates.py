"""Message templates expanded by polars, so that messages cost no Python call per finding.

A template is a ``str.format``-style string over the deal's columns and a
rule's details: ``"{stage} for {days_in_stage} days (limit {max_days})"``.
Supported format specs: none (plain text), ``,`` (thousands separators,
rounded to a whole number), ``.Nf`` and ``,.Nf`` (N decimals). A missing
value renders as ``(none)``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

import polars as pl

MISSING = "(none)"
_SPEC = re.compile(r"^(?P<thousands>,)?(?:\.(?P<decimals>\d)f)?$")


def template_fields(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def format_number(expr: pl.Expr, *, decimals: int = 0, thousands: bool = True) -> pl.Expr:
    """Render a number column as text with fixed decimals and optional thousands separators."""
    scale = 10**decimals
    scaled = (expr.cast(pl.Float64) * scale).round(0).cast(pl.Int64)
    magnitude = scaled.abs()
    whole = (magnitude // scale).cast(pl.String)
    if thousands:
        # Group digits from the right: reverse, add a comma after each three, reverse back.
        whole = whole.str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse().str.strip_chars_start(",")
    text = whole
    if decimals:
        fraction = (magnitude % scale).cast(pl.String).str.zfill(decimals)
        text = pl.concat_str([whole, pl.lit("."), fraction])
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, text])


def _render(expr: pl.Expr, spec: str) -> pl.Expr:
    if not spec:
        return expr.cast(pl.String)
    match = _SPEC.match(spec)
    if not match:
        raise ValueError(f"unsupported format spec {spec!r} (use ',', '.Nf' or ',.Nf')")
    return format_number(expr, decimals=int(match["decimals"] or 0), thousands=bool(match["thousands"]))


def expand_template(template: str, columns: Mapping[str, pl.Expr] | None = None) -> pl.Expr:
    """Compile a message template into one string expression.

    A field names an entry of ``columns`` or else a column of the deal table.
    """
    columns = columns or {}
    parts: list[pl.Expr] = []
    for literal, field, spec, conversion in string.Formatter().parse(template):
        if literal:
            parts.append(pl.lit(literal))
        if field is None:
            continue
        if conversion:
            raise ValueError(f"conversions like '!{conversion}' are not supported in templates")
        expr = columns[field] if field in columns else pl.col(field)
        parts.append(_render(expr, spec or "").fill_null(MISSING))
    if not parts:
        return pl.lit("")
    return pl.concat_str(parts)
