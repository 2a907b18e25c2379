"""Narrowing a report to some owners, teams or managers (``--owner``, ``--team``, ``--manager``, digests)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs
import polars as pl

from hygiene.api.figures import not_evaluable_counts, not_evaluable_field_counts

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport


def _regex_literal(char: str) -> str:
    """One character as a literal of polars' regex engine: letters, digits and non-ASCII as they are, the rest by code point."""
    return char if char.isalnum() or ord(char) > 127 else f"\\x{{{ord(char):X}}}"


def glob_regex(pattern: str) -> str:
    """A glob (``*``, ``?``, ``[...]``, ``[!...]``, as :mod:`fnmatch` reads it) as a regex for polars, unanchored.

    Not :func:`fnmatch.translate`: newer Pythons write atomic groups there,
    which polars' regex engine does not know.
    """
    parts, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        index += 1
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "[":
            end = index + (1 if pattern[index : index + 1] == "!" else 0)
            end += 1 if pattern[end : end + 1] == "]" else 0
            end = pattern.find("]", end)
            if end < 0:
                parts.append(_regex_literal(char))
                continue
            body, index = pattern[index:end], end + 1
            negate = body.startswith("!")
            body = body[1:] if negate else body
            members, at = [], 0
            while at < len(body):
                if at + 2 < len(body) and body[at + 1] == "-":
                    members.append(f"{_regex_literal(body[at])}-{_regex_literal(body[at + 2])}")
                    at += 3
                else:
                    members.append(_regex_literal(body[at]))
                    at += 1
            parts.append(f"[{'^' if negate else ''}{''.join(members)}]")
        else:
            parts.append(_regex_literal(char))
    return "".join(parts)


def glob_matches(column: str, patterns: Sequence[str], *, ignore_case: bool = True) -> pl.Expr:
    """True where ``column`` matches one of the glob ``patterns`` (``*``, ``?``, ``[...]``), ignoring case unless told not to."""
    regex = "|".join(f"(?:{glob_regex(pattern)})" for pattern in patterns)
    flags = "(?is)" if ignore_case else "(?s)"
    return pl.col(column).str.contains(f"{flags}^(?:{regex})$").fill_null(False)


def literal_pattern(value: str) -> str:
    """A glob pattern matching exactly ``value``: its ``*``, ``?`` and ``[`` taken literally."""
    return "".join(f"[{char}]" if char in "*?[" else char for char in value)


@attrs.define(frozen=True, kw_only=True)
class ReportScope:
    """Which deals a report is about: owners, teams and managers, each a list of glob patterns.

    A deal is in scope when it matches every dimension given (one of its
    patterns each); a dimension without patterns does not narrow. An
    owner-level finding (gap to quota) is in scope when its owner matches
    ``owners`` and, given teams or managers, owns a deal in scope. Findings
    about neither a deal nor an owner (waivers, rule errors) concern the
    whole audit and are left out of a narrowed report.
    """

    owners: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    #: Digests match names exactly: "Ada" and "ADA" are two owners there.
    ignore_case: bool = True

    @classmethod
    def only(cls, by: str, name: str) -> ReportScope:
        """The deals of exactly one owner, team or manager (``by``), as a digest shows them."""
        pattern = (literal_pattern(name),)
        return cls(ignore_case=False, **{f"{by}s": pattern})

    def __bool__(self) -> bool:
        return bool(self.owners or self.teams or self.managers)

    def describe(self) -> tuple[str, ...]:
        """The scope as the user gave it, one ``owner Ada*`` entry per pattern."""
        return tuple(f"{kind} {pattern}" for kind, patterns in (("owner", self.owners), ("team", self.teams), ("manager", self.managers)) for pattern in patterns)

    def described_after(self, scope: tuple[str, ...]) -> tuple[str, ...]:
        """The ``scope`` of a report with this scope, applied to a report of ``scope``."""
        return (*scope, *self.describe())

    def deal_condition(self) -> pl.Expr:
        condition = pl.lit(True)
        for column, patterns in (("owner", self.owners), ("team", self.teams), ("manager", self.managers)):
            if patterns:
                condition = condition & glob_matches(column, patterns, ignore_case=self.ignore_case)
        return condition

    def _owns_quota(self, owner: str, owners_in_scope: set[str]) -> bool:
        fold = str.casefold if self.ignore_case else str
        if self.owners and not any(fnmatch.fnmatchcase(fold(owner), fold(pattern)) for pattern in self.owners):
            return False
        return owner in owners_in_scope if (self.teams or self.managers) else True

    def apply(self, report: AuditReport) -> AuditReport:
        """``report`` with only the deals, findings and counts in scope."""
        if not self or report.pipeline is None:
            return report
        pipeline = report.pipeline.filter(self.deal_condition())
        deal_ids = pipeline.get_column("id").implode()
        owners = pipeline.get_column("owner").drop_nulls().unique().implode()
        findings = report.findings
        owner_level = pl.col("deal_id").is_null() & pl.col("owner").is_not_null()
        owner_in_scope = glob_matches("owner", self.owners, ignore_case=self.ignore_case) if self.owners else pl.lit(True)
        if self.teams or self.managers:
            owner_in_scope = owner_in_scope & pl.col("owner").is_in(owners)
        kept = findings.filter(pl.col("deal_id").is_in(deal_ids) | (owner_level & owner_in_scope))
        open_deals = pipeline.filter(pl.col("open"))
        quotas = {owner: quota for owner, quota in report.quotas.items() if self._owns_quota(owner, set(owners.explode().to_list()))}
        scope = self.described_after(report.scope)
        grouping = report.grouping
        if grouping is not None:
            grouping = attrs.evolve(grouping, deals=grouping.deals.filter(pl.col("id").is_in(deal_ids)), quotas=quotas)
        return attrs.evolve(
            report,
            grouping=grouping,
            findings=kept,
            pipeline=pipeline,
            deals=pipeline.height,
            open_deals=open_deals.height,
            open_deal_owners=open_deals.select("id", "owner"),
            not_evaluable=not_evaluable_counts(pipeline),
            not_evaluable_by_field=not_evaluable_field_counts(pipeline),
            invalid_values=None if report.invalid_values is None else report.invalid_values.filter(pl.col("deal_id").is_in(deal_ids)),
            quotas=quotas,
            scope=scope,
            history_figures=None if report.history_figures is None else report.history_figures.narrowed(pipeline.get_column("id"), scope),
            fixed=[entry for entry in report.fixed if entry.get("deal_id") in set(deal_ids.explode().to_list())],
        )
