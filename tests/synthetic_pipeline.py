"""A seeded synthetic pipeline history with a known truth: weekly snapshots over two years.

Deals are created every week and move through five stages. At the end of
its dwell in a stage a deal advances with that stage's probability, else it
is lost there; the last step (Negotiation) is won with a probability scaled
by the owner's skill. So the true chance that an open deal at stage ``s`` of
owner ``o`` is won is ``STAGE_WIN_RATE[s] x SKILL[o]``, which is what the
stage table's probabilities say for an owner of skill 1. An open deal whose
expected close date has passed slips by 30 days (a push). Owners state
probabilities with a bias of their own (``STATED_BIAS``).

``snapshot(day)`` is the export as it stood on ``day``; the final snapshot,
``export()``, is what the export-based figures are checked against.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import attrs

STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation")
#: The chance of moving on from each stage (for Negotiation: of being won, before the owner's skill).
ADVANCE = {"Prospecting": 0.7, "Qualification": 0.75, "Needs Analysis": 0.8, "Proposal": 0.75, "Negotiation": 0.8}
#: Whole days a deal sits in each stage: uniform between the bounds, inclusive.
DWELL = {"Prospecting": (7, 21), "Qualification": (10, 32), "Needs Analysis": (14, 42), "Proposal": (10, 32), "Negotiation": (7, 21)}
#: An owner's skill scales the final step: the true win rate from any stage scales with it.
SKILL = {"Ada": 0.75, "Bo": 0.75, "Cy": 1.0, "Di": 1.0, "Ed": 1.0, "Flo": 1.0, "Gus": 1.25, "Hal": 1.25}
#: How each owner's stated probability relates to the truth (1.3: over-calls by 30%).
STATED_BIAS = {"Ada": 1.3, "Bo": 1.0, "Cy": 1.0, "Di": 0.8, "Ed": 1.0, "Flo": 1.0, "Gus": 1.0, "Hal": 1.0}
TEAMS = {"Ada": "East", "Bo": "East", "Cy": "East", "Di": "East", "Ed": "West", "Flo": "West", "Gus": "West", "Hal": "West"}
LEAD_SOURCES = ("Inbound", "Outbound", "Partner")
PRODUCTS = ("Core", "Plus", "Suite")
CATEGORY = {"Prospecting": "Pipeline", "Qualification": "Pipeline", "Needs Analysis": "Pipeline", "Proposal": "Best Case", "Negotiation": "Commit"}
SLIP_DAYS = 30
EXPECTED_CYCLE_DAYS = sum((low + high) / 2 for low, high in DWELL.values())  # 98


def stage_win_rate() -> dict[str, float]:
    """The true chance of being won from each stage, for an owner of skill 1."""
    rates, running = {}, 1.0
    for stage in reversed(STAGES):
        running *= ADVANCE[stage]
        rates[stage] = running
    return {stage: rates[stage] for stage in STAGES}


STAGE_WIN_RATE = stage_win_rate()
#: The stage table that states the truth (probabilities in percent).
STAGE_TABLE = [*({"name": s, "probability": round(STAGE_WIN_RATE[s] * 100, 4)} for s in STAGES), {"name": "Closed Won", "probability": 100, "closed": True, "won": True}, {"name": "Closed Lost", "probability": 0, "closed": True}]
COLUMNS = ("id", "name", "owner", "team", "lead_source", "product", "stage", "amount", "probability", "forecast_category", "created_date", "close_date", "stage_entered_date", "close_date_pushes")


@attrs.define(frozen=True, kw_only=True)
class SyntheticDeal:
    id: str
    owner: str
    lead_source: str
    product: str
    amount: int
    created: dt.date
    #: When the deal entered each stage it reached, in order.
    entered: tuple[dt.date, ...]
    won: bool
    #: The day it was won or lost.
    closed: dt.date
    expected_close: dt.date

    def true_probability(self, stage: str) -> float:
        return min(1.0, STAGE_WIN_RATE[stage] * SKILL[self.owner])

    def stated_probability(self, stage: str) -> float:
        """What the owner enters: the truth times their bias, in percent, kept between 1 and 99."""
        return round(min(99.0, max(1.0, self.true_probability(stage) * STATED_BIAS[self.owner] * 100)), 1)

    def row(self, day: dt.date, keep_probability: bool = False) -> dict[str, object] | None:
        """The deal as an export of ``day`` shows it (None before it was created)."""
        if day < self.created:
            return None
        reached = [d for d in self.entered if d <= day]
        stage = STAGES[len(reached) - 1]
        base = {"id": self.id, "name": f"{self.id} {self.product}", "owner": self.owner, "team": TEAMS[self.owner], "lead_source": self.lead_source, "product": self.product, "amount": self.amount, "created_date": self.created.isoformat()}
        if self.closed <= day:
            # A CRM sets 100 or 0 on closing; a "probability at creation" field keeps what was stated first.
            probability = self.stated_probability(STAGES[0]) if keep_probability else (100.0 if self.won else 0.0)
            return {**base, "stage": "Closed Won" if self.won else "Closed Lost", "probability": probability, "forecast_category": "Closed" if self.won else "Omitted", "close_date": self.closed.isoformat(), "stage_entered_date": self.closed.isoformat(), "close_date_pushes": self.pushes(self.closed)}
        pushes = self.pushes(day)
        close = self.expected_close + dt.timedelta(days=SLIP_DAYS * pushes)
        return {**base, "stage": stage, "probability": self.stated_probability(stage), "forecast_category": CATEGORY[stage], "close_date": close.isoformat(), "stage_entered_date": reached[-1].isoformat(), "close_date_pushes": pushes}

    def pushes(self, day: dt.date) -> int:
        """How often the expected close date has slipped by ``day``: once for each 30 days it would be past."""
        if day <= self.expected_close:
            return 0
        return -(-(day - self.expected_close).days // SLIP_DAYS)


@attrs.define(frozen=True, kw_only=True)
class SyntheticHistory:
    start: dt.date
    end: dt.date
    deals: tuple[SyntheticDeal, ...]

    def weeks(self) -> Iterator[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=7)

    def snapshot(self, day: dt.date, keep_probability: bool = False) -> list[dict[str, object]]:
        return [row for deal in self.deals if (row := deal.row(day, keep_probability)) is not None]

    def export(self, keep_probability: bool = False) -> list[dict[str, object]]:
        """The final weekly snapshot."""
        return self.snapshot(self.end, keep_probability)

    def write_export(self, path: Path, keep_probability: bool = False) -> Path:
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv.DictWriter(stream, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.export(keep_probability))
        return path


def generate(seed: int = 2, start: dt.date = dt.date(2024, 1, 1), weeks: int = 97, deals_per_week: int = 30) -> SyntheticHistory:
    """About two years of weekly snapshots (``weeks`` + 1 of them, the last on ``start + 7 x weeks`` days).

    The default ends on 2025-11-10, half way through a quarter, so the
    period's forecast has open deals to work on.
    """
    rng = random.Random(seed)
    owners = sorted(SKILL)
    deals = []
    for week in range(weeks):
        for index in range(deals_per_week):
            created = start + dt.timedelta(days=7 * week + rng.randrange(7))
            owner = owners[rng.randrange(len(owners))]
            entered = [created]
            day, won = created, False
            for stage in STAGES:
                day += dt.timedelta(days=rng.randint(*DWELL[stage]))
                chance = ADVANCE[stage] * (SKILL[owner] if stage == "Negotiation" else 1.0)
                if rng.random() >= chance:
                    break
                if stage == "Negotiation":
                    won = True
                else:
                    entered.append(day)
            deals.append(
                SyntheticDeal(
                    id=f"S{week:03d}{index:02d}",
                    owner=owner,
                    lead_source=LEAD_SOURCES[rng.randrange(3)],
                    product=PRODUCTS[rng.randrange(3)],
                    amount=rng.choice((5_000, 10_000, 20_000, 40_000, 80_000)) + 500 * rng.randrange(10),
                    created=created,
                    entered=tuple(entered),
                    won=won,
                    closed=day,
                    expected_close=created + dt.timedelta(days=int(EXPECTED_CYCLE_DAYS) + rng.randint(-14, 14)),
                )
            )
    return SyntheticHistory(start=start, end=start + dt.timedelta(days=7 * weeks), deals=tuple(deals))


def snapshot_frame(rows: list[dict[str, object]]):
    """Rows of a snapshot as the normalised deal table (canonical columns and types)."""
    import polars as pl

    types = {"amount": pl.Float64, "probability": pl.Float64, "close_date_pushes": pl.Int64}
    frame = pl.DataFrame({column: pl.Series(column, [row[column] for row in rows], dtype=types.get(column, pl.String)) for column in COLUMNS})
    return frame.with_columns(pl.col(c).str.to_date() for c in ("created_date", "close_date", "stage_entered_date"))


def fill_store(store, history: SyntheticHistory, every: int = 1) -> list[dt.date]:
    """Add every ``every``-th weekly snapshot of ``history`` (and the last) to ``store``, as ``hygiene snapshot add`` does; returns their dates."""
    from hygiene.history.store import version_rows

    weeks = list(history.weeks())
    dates = sorted(set(weeks[::every]) | {weeks[-1]})
    for day in dates:
        rows = version_rows(snapshot_frame(history.snapshot(day)), [])
        store.add_snapshot(rows, day, source=f"export-{day.isoformat()}.csv", sha256=None, hygiene_version="test", added_at=f"{day.isoformat()}T00:00:00Z")
    return dates
