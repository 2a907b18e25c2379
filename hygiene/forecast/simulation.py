"""The calibrated forecast's range: a seeded Monte-Carlo over open deals closing independently."""

from __future__ import annotations

import attrs
import numpy as np
import polars as pl

from hygiene.forecast.deals import CENTS

#: Random draws held at once (runs x deals), to bound memory on large pipelines.
_CHUNK_CELLS = 4_000_000


@attrs.define(frozen=True)
class Simulated:
    """p10, p50 and p90 of the simulated won amount in cents, overall and per group."""

    overall: tuple[int, int, int]
    groups: dict[str, tuple[int, int, int]]


def _percentiles(totals: np.ndarray) -> tuple[int, int, int]:
    p10, p50, p90 = np.percentile(totals, [10, 50, 90], method="linear")
    return int(round(p10)), int(round(p50)), int(round(p90))


def simulate(deals: pl.DataFrame, probability: str, group: str | None, runs: int, seed: int) -> Simulated:
    """Each run, every deal is won with its ``probability`` (0-1); the run's total is the won amount.

    The deals are put in a fixed order (by id) and the draws come
    from one PCG64 stream seeded with ``seed``, so the same deals give the
    same range on every machine. Totals are integer cents: exact sums.
    """
    usable = deals.filter(pl.col(probability).is_not_null() & pl.col(CENTS).is_not_null()).sort("id")
    n = usable.height
    if n == 0:
        keys = [] if group is None else usable.get_column(group).unique().sort().to_list()
        return Simulated((0, 0, 0), {key: (0, 0, 0) for key in keys})
    p = usable.get_column(probability).to_numpy().astype(np.float64)
    cents = usable.get_column(CENTS).to_numpy().astype(np.int64)
    if group is not None:
        # The draws follow the deals by id (so the overall range does not depend on the grouping);
        # each group's columns are then gathered into one contiguous slice [start, next start).
        ordered = usable.with_row_index("__i__").sort([group, "__i__"])
        permutation = ordered.get_column("__i__").to_numpy().astype(np.int64)
        firsts = ordered.with_row_index("__j__").group_by(group, maintain_order=True).agg(pl.col("__j__").first())
        keys = firsts.get_column(group).to_list()
        starts = firsts.get_column("__j__").to_numpy().astype(np.int64)
    rng = np.random.default_rng(seed)
    overall = np.empty(runs, dtype=np.int64)
    by_group = np.empty((runs, len(keys)), dtype=np.int64) if group is not None else None
    chunk = max(1, min(runs, _CHUNK_CELLS // n))
    for first in range(0, runs, chunk):
        count = min(chunk, runs - first)
        won = np.where(rng.random((count, n)) < p, cents, 0)
        overall[first : first + count] = won.sum(axis=1)
        if by_group is not None:
            by_group[first : first + count] = np.add.reduceat(won[:, permutation], starts, axis=1)
    groups = {} if by_group is None else {key: _percentiles(by_group[:, index]) for index, key in enumerate(keys)}
    return Simulated(_percentiles(overall), groups)
