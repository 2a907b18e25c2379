"""``[forecast]`` in ``hygiene.toml``: the trailing window, the smallest group that gives a figure, the simulation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import attrs

from hygiene.api.errors import ConfigError

_WINDOW = re.compile(r"^\s*(\d+)\s*(day|week|month|quarter|year)s?\s*$", re.IGNORECASE)
_MONTHS = {"month": 1, "quarter": 3, "year": 12}



@attrs.define(frozen=True, kw_only=True)
class TrailingWindow:
    """A trailing window, such as ``4 quarters``: the closed deals whose close date falls in it count."""

    count: int
    unit: str

    @classmethod
    def parse(cls, text: str, where: str = "forecast.window") -> TrailingWindow:
        match = _WINDOW.match(text)
        if match is None or int(match.group(1)) == 0:
            raise ConfigError(f"{where}: {text!r} is not a window such as \"4 quarters\", \"6 months\", \"1 year\", \"90 days\"")
        return cls(count=int(match.group(1)), unit=match.group(2).lower())

    def start(self, as_of: dt.date) -> dt.date:
        """The first day of the window ending on ``as_of`` (inclusive at both ends)."""
        if self.unit == "day":
            return as_of - dt.timedelta(days=self.count - 1)
        if self.unit == "week":
            return as_of - dt.timedelta(days=7 * self.count - 1)
        months = self.count * _MONTHS[self.unit]
        index = as_of.year * 12 + as_of.month - 1 - months
        year, month = divmod(index, 12)
        month += 1
        # 31 March minus one month is the last day of February.
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return dt.date(year, month, min(as_of.day, last)) + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.count} {self.unit}{'s' if self.count != 1 else ''}"


@attrs.define(frozen=True, kw_only=True)
class ForecastSettings:
    window: TrailingWindow = TrailingWindow(count=4, unit="quarter")
    #: A figure over fewer deals than this is "not enough data (n)"; also the prior weight of the calibration's shrinkage.
    min_deals: int = 10
    period: str = "quarter"
    simulations: int = 1000
    seed: int = 0
    #: Upper bounds of the deal-size bands; empty: the quartiles of the window's closed amounts.
    size_bands: tuple[float, ...] = ()
    #: field -> export column, for the segment and roster fields the canonical set does not (yet) have.
    columns: Mapping[str, str] = attrs.field(factory=dict)
    #: How many deals plan B lists at most, per owner or team.
    plan_b_limit: int = 20
    #: Whether ``hygiene audit`` adds the forecast to its JSON, Markdown and HTML reports (``--forecast`` / ``--no-forecast`` beat it).
    in_audit: bool = False

    @classmethod
    def from_config(cls, table: Mapping[str, Any], where: str = "forecast") -> ForecastSettings:
        """Build the settings from a validated ``[forecast]`` table (see :data:`hygiene.config.schema.FORECAST_SCHEMA`)."""
        bands = tuple(float(b) for b in table.get("size_bands", ()))
        if list(bands) != sorted(set(bands)):
            raise ConfigError(f"{where}.size_bands: the bounds must increase, without repeats: {list(table['size_bands'])}")
        return cls(
            window=TrailingWindow.parse(table.get("window", "4 quarters"), f"{where}.window"),
            min_deals=table.get("min_deals", 10),
            period=table.get("period", "quarter"),
            simulations=table.get("simulations", 1000),
            seed=table.get("seed", 0),
            size_bands=bands,
            columns=dict(table.get("columns", {})),
            plan_b_limit=table.get("plan_b_limit", 20),
            in_audit=table.get("in_audit", False),
        )


