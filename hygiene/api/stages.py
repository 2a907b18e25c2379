"""The stage table: which stages are open, won, and how long a deal may sit in each."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import attrs

from hygiene.api.models import DEFAULT_STAGES, Stage


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

    def column_maps(self) -> dict[str, dict[str, object]]:
        """Lookup tables from stage key to each stage attribute, for vectorised joins."""
        return {
            "closed": {stage_key(s.name): s.closed for s in self.stages},
            "won": {stage_key(s.name): s.won for s in self.stages},
            "probability": {stage_key(s.name): s.probability for s in self.stages},
            "max_days": {stage_key(s.name): s.max_days for s in self.stages},
        }
