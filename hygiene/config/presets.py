"""CRM presets applied to a configuration, and recognised from an export's header.

``[source] preset = "hubspot"`` makes the preset the starting point of
``[source]`` and ``[pipeline] stages``: every key the configuration sets
itself wins. The preset's column names are candidates, used only when the
export has them, so a report that leaves a column out still audits.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from hygiene.config.settings import Config
from hygiene.api.errors import ConfigError
from hygiene.plugin.registry import Registry
from hygiene.api.fields import column_key
from hygiene.api.preset import Preset

#: Share of a preset's signature columns a header must have for ``init`` to call the preset "sure".
SURE = 0.6
#: ... and to take it at all ("likely"); below this the export gets the generic guesses.
LIKELY = 0.3


@attrs.define(frozen=True, kw_only=True)
class PresetMatch:
    """A preset recognised from a header: how many of its signature columns were found."""

    preset: Preset
    found: int
    of: int

    @property
    def share(self) -> float:
        return self.found / self.of if self.of else 0.0

    @property
    def certainty(self) -> str:
        return "sure" if self.share >= SURE else "likely"

    def describe(self) -> str:
        return f"{self.preset.name} ({self.found} of its {self.of} usual columns found: {self.certainty})"


def detect_preset(columns: Iterable[str], presets: Iterable[Preset]) -> PresetMatch | None:
    """The preset whose signature the header matches best, when it matches well enough.

    A preset matches only when the header has a column it would take for
    ``id`` and for ``stage``; among those, the largest share of signature
    columns found wins (then the larger count, then the name, so the choice
    never depends on plugin order).
    """
    columns = list(columns)
    present = {column_key(column) for column in columns}
    best: PresetMatch | None = None
    for preset in presets:
        if not all(any(column_key(c) in present for c in preset.fields.get(field, ())) for field in ("id", "stage")):
            continue
        found, of = preset.match(columns)
        match = PresetMatch(preset=preset, found=found, of=of)
        if match.share < LIKELY:
            continue
        if best is None or (match.share, match.found, _reverse(match.preset.name)) > (best.share, best.found, _reverse(best.preset.name)):
            best = match
    return best


def _reverse(name: str) -> tuple[int, ...]:
    # Ties go to the alphabetically first name.
    return tuple(-ord(ch) for ch in name)


def preset_named(registry: Registry, name: str, where: str) -> Preset:
    entry = registry.presets.get(name)
    if entry is None:
        known = ", ".join(registry.presets) or "(none)"
        raise ConfigError(f"{where}: source.preset: unknown preset {name!r} (known: {known})")
    return entry.cls


def apply_preset(config: Config, registry: Registry) -> Config:
    """``config`` with its ``[source] preset`` filled in under the keys it sets itself."""
    name = config.source.preset
    if name is None:
        return config
    preset = preset_named(registry, name, config.file or "configuration")
    source = config.source
    # Applied, the preset's settings are the configuration's own: applying it again changes nothing.
    source = attrs.evolve(
        source,
        preset=None,
        field_candidates={field: tuple(columns) for field, columns in preset.fields.items()},
        date_format=source.date_format if source.date_format is not None else preset.date_format,
        decimal=preset.decimal if source.decimal == "." else source.decimal,
        status=source.status if source.status is not None else preset.status,
        status_optional=source.status is None,
        forecast_categories={**preset.forecast_categories, **source.forecast_categories},
        stage_entered_columns=source.stage_entered_columns or preset.stage_entered_columns,
        pipeline_column=source.pipeline_column or preset.pipeline_column,
    )
    return attrs.evolve(config, source=source, stages=config.stages or preset.stages)
