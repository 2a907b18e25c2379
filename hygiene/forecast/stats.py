"""The statistics behind the figures: Wilson intervals, the "not enough data" rule, quantiles."""

from __future__ import annotations

import math
from typing import Any

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def not_enough(n: int) -> dict[str, Any]:
    """What a figure over too few deals is instead of a number."""
    return {"n": n, "reason": f"not enough data ({n})"}


def wilson(successes: float, n: float) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion ``successes / n`` (``n`` > 0; may be an effective n)."""
    p = successes / n
    z2 = Z95 * Z95
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z95 * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, n: int, min_deals: int) -> dict[str, Any]:
    """A win rate by count with its 95% Wilson interval, or "not enough data (n)"."""
    if n < min_deals or n == 0:
        return not_enough(n)
    low, high = wilson(successes, n)
    return {"n": n, "rate": round(successes / n, 4), "low": round(low, 4), "high": round(high, 4)}


def amount_rate(won_cents: int, closed_cents: int, n: int, sum_of_squares: float, min_deals: int) -> dict[str, Any]:
    """The share of closed amount that was won, with a Wilson interval at the amounts' effective sample size.

    Large deals weigh more, so the interval is wider than the count's: the
    effective n is Kish's ``(sum of amounts)^2 / sum of squared amounts``.
    """
    if n < min_deals or closed_cents <= 0:
        return not_enough(n)
    share = won_cents / closed_cents
    effective_n = (closed_cents / 100) ** 2 / sum_of_squares if sum_of_squares > 0 else float(n)
    low, high = wilson(share * effective_n, effective_n)
    return {"n": n, "rate": round(share, 4), "low": round(low, 4), "high": round(high, 4), "effective_n": round(effective_n, 1)}


def money(cents: int | float | None) -> float | None:
    """Cents (exact integer sums) as an amount with two decimals."""
    return None if cents is None else round(cents / 100, 2)
