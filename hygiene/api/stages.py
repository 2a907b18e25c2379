"""The stage table: which stages are open, won, in what order, and what each allows."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import attrs

from hygiene.api.models import DEFAULT_STAGES, Stage

#: Days without activity allowed by default, from the first open stage to the last.
DEFAULT_MAX_INACTIVE_DAYS = (45, 30, 21, 14, 7)


def stage_key(name: str) -> str:
    """Stages match case-insensitively, ignoring surrounding white space."""
    return name.strip().lower()


@attrs.define(frozen=True, slots=False)
class StageTable:
    stages: tuple[Stage, ...] = DEFAULT_STAGES

    @classmethod
    def from_stages(cls, stages: Iterable[Stage]) -> StageTable:
        return cls(tuple(stages))

    def get(self, name: str | None) -> Stage | None:
        if name is None:
            return None
        return self._by_key.get(stage_key(name))

    @cached_property
    def _by_key(self) -> dict[str, Stage]:
        return {stage_key(stage.name): stage for stage in self.stages}

    @cached_property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages in sales-process order: by ``order`` where given, else by position in the table.

        A stage with an ``order`` sorts by it; one without takes its position
        among the open stages (0 for the first), so a table that sets no
        order is in the order it is written.
        """
        open_stages = [stage for stage in self.stages if not stage.closed]
        positions = {stage.name: index for index, stage in enumerate(open_stages)}
        return tuple(sorted(open_stages, key=lambda s: (s.order if s.order is not None else positions[s.name], positions[s.name])))

    def order_of(self, name: str | None) -> int | None:
        """The position (0 = first) of an open stage in sales-process order; None for closed and unknown stages."""
        stage = self.get(name)
        if stage is None or stage.closed:
            return None
        return self.open_stages.index(stage)

    def max_inactive_days(self, name: str | None) -> int | None:
        """The stage's ``max_inactive_days``, else the default for its place in the process.

        The defaults run 45, 30, 21, 14, 7 days from the first open stage to
        the last; with more or fewer open stages, each takes the default at
        the same relative place (the first always 45, the last always 7).
        None for closed and unknown stages.
        """
        stage = self.get(name)
        order = self.order_of(name)
        if stage is None or order is None:
            return None
        if stage.max_inactive_days is not None:
            return stage.max_inactive_days
        last = len(self.open_stages) - 1
        steps = len(DEFAULT_MAX_INACTIVE_DAYS) - 1
        # Halves round up, so that the limits only ever shorten along the process.
        return DEFAULT_MAX_INACTIVE_DAYS[int(order * steps / last + 0.5) if last else 0]

    def requires_next_step(self, name: str | None) -> bool | None:
        """The stage's ``requires_next_step``, else True for every open stage after the first.

        None for closed and unknown stages.
        """
        stage = self.get(name)
        order = self.order_of(name)
        if stage is None or order is None:
            return None
        return stage.requires_next_step if stage.requires_next_step is not None else order > 0

    def first_stage_reaching(self, probability: float) -> Stage | None:
        """The first open stage (in process order) whose probability is at least ``probability``."""
        return next((s for s in self.open_stages if s.probability is not None and s.probability >= probability), None)

    def column_maps(self) -> dict[str, dict[str, object]]:
        """Lookup tables from stage key to each stage attribute, for vectorised joins."""
        return {
            "closed": {stage_key(s.name): s.closed for s in self.stages},
            "won": {stage_key(s.name): s.won for s in self.stages},
            "probability": {stage_key(s.name): s.probability for s in self.stages},
            "max_days": {stage_key(s.name): s.max_days for s in self.stages},
            "order": {stage_key(s.name): self.order_of(s.name) for s in self.stages},
            "max_inactive_days": {stage_key(s.name): self.max_inactive_days(s.name) for s in self.stages},
            "requires_next_step": {stage_key(s.name): self.requires_next_step(s.name) for s in self.stages},
        }
