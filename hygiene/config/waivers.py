"""Waivers: ``[[waivers]]`` in ``hygiene.toml`` suppress findings until a date (read here, applied by the audit).

::

    [[waivers]]
    deal = "006A1"                # a deal id, or a glob: "006A*", "EMEA-??-*"
    rule = "stale-stage"          # a rule code, prefix or name ("ALL": every rule)
    reason = "Champion on holiday until June; the deal is paused, not stale"
    until = 2026-06-30            # the last day the waiver holds

All four keys are required: a waiver without an end date is a permanent
exception nobody reviews again, and one without a reason cannot be judged
when it is. A waiver holds while the audit date is on or before ``until``;
its findings are then removed before anything counts them (summary, score,
exit code) and only their number is reported (``waived``). From the day
after ``until`` the findings come back.

Deal globs are ``fnmatch``-style and case-sensitive (``*``, ``?``,
``[seq]``). Only deal-level findings are waived: an owner-level finding
(HY004) has no deal id to match.

Two findings keep the list honest; they are rules like any other, so they
can be ignored or given another severity:

- HY910 ``unused-waiver`` (info): a waiver in force matches no finding. A
  waiver is judged only when one of the rules it names ran, so a
  ``--select`` run does not call the others unused.
- HY911 ``expired-waiver`` (warning): a waiver's ``until`` has passed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

import attrs

from hygiene.api.errors import ConfigError

UNUSED_WAIVER_CODE = "HY910"
EXPIRED_WAIVER_CODE = "HY911"

ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
GLOB_CHARACTERS = re.compile(r"[*?\[]")

#: The schema of the ``waivers`` array in ``hygiene.toml``.
WAIVERS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["deal", "rule", "reason", "until"],
        "properties": {
            "deal": {"type": "string", "minLength": 1, "description": "A deal id, or an fnmatch-style glob over deal ids."},
            "rule": {"type": "string", "minLength": 1, "description": "A rule code, prefix or name."},
            "reason": {"type": "string", "minLength": 1, "description": "Why the findings are waived."},
            "until": {"type": "string", "description": "The last day the waiver holds, YYYY-MM-DD."},
        },
    },
}


@attrs.define(frozen=True, kw_only=True)
class Waiver:
    """One ``[[waivers]]`` entry; ``index`` is its position in the file, from 0."""

    index: int
    deal: str
    rule: str
    reason: str
    until: dt.date

    def is_active(self, as_of: dt.date) -> bool:
        return as_of <= self.until

    def describe(self, config_file: str | None) -> str:
        where = f" in {config_file}" if config_file else ""
        return f"waivers[{self.index}]{where} (deal {self.deal!r}, rule {self.rule!r}, until {self.until.isoformat()}, reason {self.reason!r})"

    def details(self) -> dict[str, Any]:
        return {"waiver": self.index, "deal": self.deal, "rule": self.rule, "until": self.until.isoformat(), "reason": self.reason}

    def deal_ids(self, candidates: Iterable[str]) -> list[str]:
        """The ``candidates`` this waiver's ``deal`` (an id or a glob) matches."""
        if not GLOB_CHARACTERS.search(self.deal):
            return [self.deal]
        return [deal_id for deal_id in candidates if fnmatchcase(deal_id, self.deal)]


def dates_as_text(entries: Any) -> Any:
    """``until = 2026-06-30`` (a TOML date) means what the quoted form means; a TOML datetime is then refused as not a date."""
    if not isinstance(entries, list):
        return entries
    return [
        {**entry, "until": entry["until"].isoformat()} if isinstance(entry, dict) and isinstance(entry.get("until"), dt.date) else entry
        for entry in entries
    ]


def parse_waivers(entries: list[Mapping[str, Any]], config_file: str) -> list[Waiver]:
    """Schema-checked ``waivers`` tables as :class:`Waiver` objects; a bad date or an empty reason is a :class:`ConfigError`."""
    waivers = []
    for index, entry in enumerate(entries):
        until = entry["until"]
        try:
            if not ISO_DATE.match(until):
                raise ValueError
            date = dt.date.fromisoformat(until)
        except ValueError:
            raise ConfigError(f"{config_file}: waivers[{index}].until: {until!r} is not a date in YYYY-MM-DD form") from None
        if not entry["reason"].strip():
            raise ConfigError(f"{config_file}: waivers[{index}].reason: say why the findings are waived")
        waivers.append(Waiver(index=index, deal=entry["deal"], rule=entry["rule"], reason=entry["reason"].strip(), until=date))
    return waivers
