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


#: Below this magnitude a float's integral part is exact, so rounding by hand is exact too.
_EXACT_LIMIT = 2.0**52
#: Veltkamp's constant for float64 (2**27 + 1): splits a float into two halves whose products are exact.
_SPLITTER = 134217729.0


def _split(value):
    """``value`` as ``high + low`` with at most 26 significant bits each (Veltkamp)."""
    spread = value * _SPLITTER
    high = spread - (spread - value)
    return high, value - high


def _product_error(x: pl.Expr, factor: float, product: pl.Expr) -> pl.Expr:
    """The exact ``x * factor - product`` for the float ``product`` (Dekker's TwoProduct)."""
    x_high, x_low = _split(x)
    f_high, f_low = _split(factor)
    return ((x_high * f_high - product) + x_high * f_low + x_low * f_high) + x_low * f_low


def format_number(expr: pl.Expr, *, decimals: int = 0, thousands: bool = True) -> pl.Expr:
    """Render a number column as text with fixed decimals and optional thousands separators.

    The text is Python's ``f"{x:z,.{decimals}f}"`` (``z`` and no ``,`` when
    ``thousands`` is false) for every ``|x| * 10**decimals`` below 2**52:
    the float's exact binary value is rounded half to even (2.675 is
    2.67499999..., so "2.67"; 0.125 gives "0.12"), and a value that rounds
    to zero has no sign ("0.00", never "-0.00"). Larger magnitudes, NaN and
    infinities are written as polars writes the float ("1e+20", "NaN").
    """
    value = expr.cast(pl.Float64)
    scale = float(10**decimals)
    product = value * scale
    # The product is itself rounded: 2.675 * 100 gives exactly 267.5. Its error says which way a tie really leans.
    error = _product_error(value, scale, product)
    floor = product.floor()
    fraction = product - floor
    round_up = (fraction > 0.5) | (
        (fraction == 0.5) & ((error > 0) | ((error == 0) & (floor % 2 != 0)))
    )
    in_range = product.abs() < _EXACT_LIMIT
    scaled = pl.when(in_range).then(floor + round_up.cast(pl.Float64)).cast(pl.Int64)
    magnitude = scaled.abs()
    whole = (magnitude // 10**decimals).cast(pl.String)
    if thousands:
        # Group digits from the right: reverse, add a comma after each three, reverse back.
        whole = whole.str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse().str.strip_chars_start(",")
    text = whole
    if decimals:
        fraction_digits = (magnitude % 10**decimals).cast(pl.String).str.zfill(decimals)
        text = pl.concat_str([whole, pl.lit("."), fraction_digits])
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.when(in_range).then(pl.concat_str([sign, text])).otherwise(value.cast(pl.String))


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
