"""The values that flow through an audit: deals, findings, stages, periods."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import attrs

from hygiene.api.fields import CANONICAL_FIELDS

SEVERITIES = ("error", "warning", "info")
#: Lower rank sorts first: errors before warnings before infos.
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

#: The finding the engine itself reports for a rule that raised.
RULE_ERROR_CODE = "HY999"
RULE_ERROR_NAME = "rule-error"


def severities_at_or_above(fail_on: str) -> list[str]:
    """The severities ``fail_on`` counts: ``warning`` -> error and warning; ``never`` -> none."""
    if fail_on == "never":
        return []
    return [severity for severity in SEVERITIES if SEVERITY_RANK[severity] <= SEVERITY_RANK[fail_on]]


_PYTHON_TYPES = {"str": "str", "float": "float", "int": "int", "date": "datetime.date"}


def _deal_class() -> type:
    """:class:`Deal`, with one attribute per canonical field (so the fields are listed once, in ``fields.py``)."""
    attributes: dict[str, Any] = {"id": attrs.field(kw_only=True)}
    for field, kind in CANONICAL_FIELDS.items():
        if field != "id":
            attributes[field] = attrs.field(default=None, kw_only=True, metadata={"kind": kind})
    attributes["extras"] = attrs.field(factory=dict, kw_only=True)
    attributes["row"] = attrs.field(default=None, kw_only=True)
    cls = attrs.make_class("Deal", attributes, frozen=True, slots=True)
    cls.__module__ = __name__
    cls.__doc__ = (
        "One deal, for rules that work a row at a time.\n\n"
        "Attributes are the canonical fields (``None`` where the export has no value): "
        + ", ".join(f"``{field}`` ({_PYTHON_TYPES[kind]})" for field, kind in CANONICAL_FIELDS.items())
        + ". ``extras`` maps every unmapped column of the export to its value; ``row`` is the row it came from."
    )
    return cls


Deal = _deal_class()


@attrs.define(frozen=True, kw_only=True)
class Finding:
    """One problem found by a rule.

    Rules fill ``message`` and what the finding is about (``deal_id``, or
    ``owner`` for owner-level findings) and may add ``details``, the figures
    behind it. The engine fills ``code``, ``rule``, ``severity`` and
    ``fingerprint``; an audit against a baseline fills ``baseline_status``
    (``"new"`` or ``"known"``).
    """

    message: str
    deal_id: str | None = None
    deal_name: str | None = None
    owner: str | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)
    row: int | None = None
    code: str = ""
    rule: str = ""
    severity: str = ""
    fingerprint: str = ""
    baseline_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "deal_id": self.deal_id,
            "deal_name": self.deal_name,
            "owner": self.owner,
            "message": self.message,
            "details": dict(self.details),
            "row": self.row,
            "fingerprint": self.fingerprint,
            "baseline_status": self.baseline_status,
        }


FINGERPRINT_SEPARATOR = "\x1f"


def fingerprint_key(code: str, deal_id: str | None, owner: str | None = None, period: str | None = None) -> str:
    """What a finding is about, as one string: see :func:`fingerprint`."""
    sep = FINGERPRINT_SEPARATOR
    if deal_id is not None:
        return f"{code}{sep}deal{sep}{deal_id}"
    return f"{code}{sep}owner{sep}{owner or ''}{sep}{period or ''}"


def hash_fingerprint_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def fingerprint(code: str, deal_id: str | None, owner: str | None = None, period: str | None = None) -> str:
    """The stable identity of a finding: what it is about, nothing else.

    A deal-level finding is identified by its rule code and deal id; an
    owner-level one (no deal id) by rule code, owner and period name. Row
    numbers, messages, figures, severities and other deals never enter it,
    so it survives re-sorted exports, reworded messages and re-configured
    severities. It is the first 20 hex digits of the SHA-256 of
    :func:`fingerprint_key`. Baselines count findings by fingerprint, and
    ``hygiene diff`` pairs the findings of two reports by it.
    """
    return hash_fingerprint_key(fingerprint_key(code, deal_id, owner, period))


def waiver_fingerprint(code: str, deal: str, rule: str) -> str:
    """The identity of a finding about a ``[[waivers]]`` entry: the code, and the waiver's ``deal`` and ``rule``.

    Not its position in the file, its reason or its date: reordering the
    waivers or rewording a reason keeps it the same finding.
    """
    sep = FINGERPRINT_SEPARATOR
    return hash_fingerprint_key(f"{code}{sep}waiver{sep}{deal}{sep}{rule}")


@attrs.define(frozen=True)
class Stage:
    """A row of the stage table.

    ``order`` places an open stage in the sales process (lower is earlier);
    ``max_inactive_days`` is how long a deal in it may go without activity;
    ``requires_next_step`` says whether a deal in it must have a next step.
    Each is optional: :class:`hygiene.StageTable` fills what a stage leaves
    out (see its ``order_of``, ``max_inactive_days`` and ``requires_next_step``).
    """

    name: str
    probability: float | None = None
    max_days: int | None = None
    closed: bool = False
    won: bool = False
    order: int | None = None
    max_inactive_days: int | None = None
    requires_next_step: bool | None = None


DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("Prospecting", 10, 30),
    Stage("Qualification", 20, 30),
    Stage("Needs Analysis", 40, 45),
    Stage("Proposal", 60, 30),
    Stage("Negotiation", 80, 21),
    Stage("Closed Won", 100, None, closed=True, won=True),
    Stage("Closed Lost", 0, None, closed=True, won=False),
)


@attrs.define(frozen=True)
class Period:
    """A reporting period, bounds inclusive."""

    name: str
    start: dt.date
    end: dt.date

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "start": self.start.isoformat(), "end": self.end.isoformat()}
