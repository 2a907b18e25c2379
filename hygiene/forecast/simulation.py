"""The calibrated forecast's range: a seeded Monte-Carlo over open deals closing independently."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import polars as pl

from hygiene.forecast.deals import CENTS

#: A unit with more open deals than this is drawn from the normal law of its total (same mean and variance).
EXACT_LIMIT = 60


@attrs.define(frozen=True)
class Simulated:
    """p10, p50 and p90 of the simulated won amount in cents, overall and per group."""

    overall: tuple[int, int, int]
    groups: dict[str, tuple[int, int, int]]


def _percentiles(totals: np.ndarray) -> tuple[int, int, int]:
    p10, p50, p90 = np.percentile(totals, [10, 50, 90], method="linear")
    return int(round(float(p10))), int(round(float(p50))), int(round(float(p90)))


def simulate(
    deals: pl.DataFrame,
    probability: str,
    units: Sequence[str],
    group: str | None,
    runs: int,
    seed: int,
    exact_limit: int = EXACT_LIMIT,
) -> Simulated:
    """Each run, every deal is won with its ``probability`` (0-1); a run's total is the won amount.

    Deals are simulated by *unit*: the deals sharing the values of the
    ``units`` columns (owner, team, manager, region: every grouping a report
    can ask for is a union of units, so the overall range does not depend
    on ``--by``). A unit of at most ``exact_limit`` deals is simulated deal
    by deal; a larger one draws its total from the normal law with the
    same mean and variance (sum of amount x p and of amount^2 x p x (1 - p)),
    clipped to [0, its open amount]: with that many independent deals the
    two cannot be told apart, and a million-deal pipeline takes seconds,
    not minutes. Units are taken in order of their values and deals by id,
    and every draw comes from one PCG64 stream seeded with ``seed``: the
    same deals give the same range on every machine.
    """
    usable = deals.filter(pl.col(probability).is_not_null() & pl.col(CENTS).is_not_null())
    if usable.height == 0:
        return Simulated((0, 0, 0), {})
    keys = list(units) or ["__unit__"]
    if not units:
        usable = usable.with_columns(pl.lit("").alias("__unit__"))
    # Sorted by unit, then id: a unit is a run of equal keys, found once instead of partitioning the table.
    usable = usable.sort([*keys, "id"])
    first_of_unit = pl.any_horizontal([pl.col(k) != pl.col(k).shift(1) for k in keys]).fill_null(True)
    starts = np.flatnonzero(usable.select(first_of_unit).to_series().to_numpy())
    bounds = [*starts.tolist(), usable.height]
    amounts_all = usable.get_column(CENTS).to_numpy().astype(np.float64)
    p_all = usable.get_column(probability).to_numpy().astype(np.float64)
    names = usable.get_column(group).gather(starts).to_list() if group is not None else None
    rng = np.random.default_rng(seed)
    overall = np.zeros(runs, dtype=np.float64)
    by_group: dict[str, np.ndarray] = {}
    for index, (begin, end) in enumerate(zip(bounds, bounds[1:])):
        amounts, p = amounts_all[begin:end], p_all[begin:end]
        if end - begin <= exact_limit:
            # Sums of whole cents in float64 are exact below 2^53 cents, whatever order they are added in.
            won = (rng.random((runs, end - begin), dtype=np.float32) < p.astype(np.float32)).astype(np.float64)
            totals = won @ amounts
        else:
            mean = float(amounts @ p)
            spread = float(np.sqrt((amounts * amounts) @ (p * (1 - p))))
            totals = np.clip(mean + spread * rng.standard_normal(runs), 0.0, float(amounts.sum()))
        overall += totals
        if names is not None:
            name = names[index]
            if name in by_group:
                by_group[name] += totals
            else:
                by_group[name] = totals.copy()
    ordered = sorted(by_group)
    # One percentile call over every group's runs: the same figures as one call per group.
    table = np.percentile(np.stack([by_group[name] for name in ordered]), [10, 50, 90], axis=1, method="linear").T if ordered else np.empty((0, 3))
    groups = {name: tuple(int(round(float(v))) for v in row) for name, row in zip(ordered, table)}
    return Simulated(_percentiles(overall), groups)
