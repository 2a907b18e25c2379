"""The preset API: what a CRM's export looks like, so that it audits with no hand-editing.

A preset is data, registered by a plugin through ``hygiene_register_presets``.
``[source] preset = "NAME"`` starts the configuration from it; every key the
configuration sets itself wins. ``hygiene init`` and ``hygiene audit`` with
no configuration choose a preset from the export's header (see
:meth:`Preset.match`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from hygiene.api.fields import column_key
from hygiene.api.models import Stage


@attrs.define(frozen=True, kw_only=True)
class DealStatus:
    """Where an export says, deal by deal, whether it is open, won or lost.

    Either a ``column`` holding a status word (Pipedrive's ``open`` /
    ``won`` / ``lost``), with the words for each in ``won``, ``lost`` and
    ``open`` (compared case-insensitively; any other word leaves the
    decision to the stage table), or two flag columns, ``closed_flag`` and
    ``won_flag`` (Salesforce's ``IsClosed`` / ``IsWon``: ``1``, ``true``,
    ``yes`` are true, ``0``, ``false``, ``no`` false). As the TOML table
    ``[source.status]`` holds it: :meth:`to_table` and :meth:`from_table`.
    """

    column: str | None = None
    open: tuple[str, ...] = ("open",)
    won: tuple[str, ...] = ("won",)
    lost: tuple[str, ...] = ("lost",)
    closed_flag: str | None = None
    won_flag: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The export columns this status reads."""
        return tuple(c for c in (self.column, self.closed_flag, self.won_flag) if c is not None)

    def to_table(self) -> dict[str, Any]:
        if self.column is not None:
            return {"column": self.column, "open": list(self.open), "won": list(self.won), "lost": list(self.lost)}
        table: dict[str, Any] = {"closed_flag": self.closed_flag}
        if self.won_flag is not None:
            table["won_flag"] = self.won_flag
        return table

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> DealStatus:
        words = {key: tuple(table[key]) for key in ("open", "won", "lost") if key in table}
        return cls(column=table.get("column"), closed_flag=table.get("closed_flag"), won_flag=table.get("won_flag"), **words)


@attrs.define(frozen=True, kw_only=True)
class Preset:
    """A CRM's export format, as a starting point for ``[source]`` and ``[pipeline]``.

    ``fields`` maps each canonical field to the export columns that may
    feed it, preferred first; a column the export lacks is skipped (a
    preset never fails because a report left a column out). ``signature``
    lists the columns that identify the export (detection counts how many
    are present); it defaults to every column of ``fields``.
    ``forecast_categories`` maps the CRM's forecast-category values to
    hygiene's (``pipeline``, ``best_case``, ``commit``, ``omitted``,
    ``closed``). ``stages`` is the CRM's default stage table.
    """

    name: str
    summary: str
    fields: Mapping[str, tuple[str, ...]]
    stages: tuple[Stage, ...]
    date_format: str | None = None
    decimal: str = "."
    status: DealStatus | None = None
    #: Columns holding the date each stage was entered, one per stage (HubSpot's
    #: ``Date entered "{stage} ({pipeline})"``): the deal's own stage's column feeds ``stage_entered_date``.
    stage_entered_columns: str | None = None
    #: The column naming the deal's pipeline, for ``{pipeline}`` in ``stage_entered_columns``.
    pipeline_column: str | None = None
    forecast_categories: Mapping[str, str] = attrs.field(factory=dict)
    signature: tuple[str, ...] = ()
    #: Where the headers, stages and values come from (documentation titles or addresses).
    references: tuple[str, ...] = ()

    def signature_columns(self) -> tuple[str, ...]:
        if self.signature:
            return self.signature
        return tuple(dict.fromkeys(column for columns in self.fields.values() for column in columns))

    def match(self, columns: Iterable[str]) -> tuple[int, int]:
        """How many of its signature columns the header has, and of how many."""
        present = {column_key(column) for column in columns}
        signature = {column_key(column) for column in self.signature_columns()}
        return len(signature & present), len(signature)
