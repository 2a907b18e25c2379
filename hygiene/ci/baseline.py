"""Baselines: the findings a team accepts as known debt, so CI fails only on new ones.

``hygiene baseline`` writes ``.hygiene-baseline.json``: the findings of an
audit as a multiset of fingerprints (each with its count and what it is
about), with the tool version, the rule set, ``as_of`` and the source. The
file is deterministic (sorted keys, two-space indent, a final newline), so
it diffs well in git.

``hygiene audit --baseline FILE`` marks each finding ``known`` or ``new``.
Matching counts: if the baseline holds a fingerprint twice and the audit
finds it three times, the first two in report order are known and the
third is new. Baseline entries the audit no longer finds are *fixed*.
``hygiene baseline --prune`` lowers each entry to what is still found and
drops the fixed ones; it never adds a finding.

The baseline records which rules it covers (``rules``). Adding a rule
never invalidates it: the findings of a rule the baseline does not cover
are all *new* (they fail the gate) until ``hygiene baseline --add RULE``
adopts them, recording that rule's current findings and leaving the rest
of the file as it was. The entries of a rule the audit no longer runs are
*obsolete*: reported, never fixed or known, and dropped by ``--prune``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from hygiene.api.errors import HygieneError
from hygiene.api.escaping import json_text
from hygiene.api.models import RULE_ERROR_CODE
from hygiene.files import atomic_text_writer, read_checked_json

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport

DEFAULT_BASELINE = ".hygiene-baseline.json"
BASELINE_SCHEMA_VERSION = 1
BASELINE_SCHEMA = "baseline.schema.json"


@attrs.define(frozen=True, kw_only=True)
class BaselineEntry:
    """How many findings have one fingerprint, and what they are about (a deal, else an owner)."""

    code: str
    count: int
    deal_id: str | None = None
    owner: str | None = None

    def to_dict(self) -> dict[str, Any]:
        subject = {"deal_id": self.deal_id} if self.deal_id is not None else {"owner": self.owner} if self.owner is not None else {}
        return {"code": self.code, "count": self.count, **subject}


@attrs.define(frozen=True, kw_only=True)
class Baseline:
    tool_version: str
    rules: tuple[str, ...]
    as_of: dt.date
    source: str
    entries: Mapping[str, BaselineEntry]

    @classmethod
    def from_report(cls, report: AuditReport, entries: Mapping[str, BaselineEntry] | None = None) -> Baseline:
        """The baseline of ``report``'s findings (or of ``entries``, with ``report``'s metadata)."""
        return cls(
            tool_version=report.tool_version,
            rules=rule_set(report),
            as_of=report.as_of,
            source=report.source,
            entries=found_entries(report) if entries is None else entries,
        )

    @property
    def findings(self) -> int:
        if isinstance(self.entries, EntryTable):
            return int(self.entries.table.get_column("count").sum())
        return sum(entry.count for entry in self.entries.values())

    def to_json(self) -> str:
        """The baseline file's text (see :meth:`write_json`)."""
        stream = io.StringIO()
        self.write_json(stream)
        return stream.getvalue()

    def write_json(self, stream: TextIO) -> None:
        """The text of ``json.dumps(document, indent=2, sort_keys=True)``, the findings written by polars a slice at a time."""
        document = {
            "schema_version": BASELINE_SCHEMA_VERSION,
            "tool": {"name": "hygiene", "version": self.tool_version},
            "rules": list(self.rules),
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "findings": {},
        }
        head, tail = json_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)).split('"findings": {}', 1)
        from hygiene.api.escaping import json_text_expr

        table = entry_table(self.entries)
        stream.write(head + '"findings": {')
        if table.height:
            for offset in range(0, table.height, SLICE_ENTRIES):
                lines = table.slice(offset, SLICE_ENTRIES).select(_entry_text()).select(json_text_expr("entry")).to_series().to_list()
                stream.write(("\n    " if offset == 0 else ",\n    ") + ",\n    ".join(lines))
            stream.write("\n  }")
        else:
            stream.write("}")
        stream.write(tail + "\n")

    def unadopted_rules(self, report: AuditReport) -> list[str]:
        """Rules ``report`` ran that the baseline does not cover: all their findings are new."""
        return sorted(set(rule_set(report)) - set(self.rules))

    def obsolete_entries(self, report: AuditReport) -> dict[str, BaselineEntry]:
        """Entries of the baseline's rules that ``report`` did not run (removed, or not selected): neither known nor fixed."""
        gone = set(self.rules) - set(rule_set(report))
        return {fingerprint: entry for fingerprint, entry in self.entries.items() if entry.code in gone}


def rule_set(report: AuditReport) -> tuple[str, ...]:
    return tuple(sorted(rule.code for rule in report.rules))


def found_entries(report: AuditReport) -> EntryTable:
    """``report``'s findings counted by fingerprint (a table: no Python object per entry unless one is asked for)."""
    import polars as pl

    grouped = report.findings.group_by("fingerprint").agg(
        pl.len().cast(pl.Int64).alias("count"), pl.col("code").first(), pl.col("deal_id").first(), pl.col("owner").first()
    )
    owner = pl.when(pl.col("deal_id").is_null()).then(pl.col("owner")).otherwise(pl.lit(None, pl.String)).alias("owner")
    return EntryTable(grouped.with_columns(owner).select(ENTRY_COLUMNS).sort("fingerprint"))


ENTRY_COLUMNS = ("fingerprint", "code", "count", "deal_id", "owner")
#: Entries turned into text at a time when a baseline is written.
SLICE_ENTRIES = 50_000


class EntryTable(Mapping[str, BaselineEntry]):
    """Baseline entries held as a polars table sorted by fingerprint; the :class:`BaselineEntry` objects are made only when read."""

    def __init__(self, table: pl.DataFrame) -> None:
        self.table = table
        self._entries: dict[str, BaselineEntry] | None = None

    def _as_dict(self) -> dict[str, BaselineEntry]:
        if self._entries is None:
            self._entries = {
                fingerprint: BaselineEntry(code=code, count=count, deal_id=deal_id, owner=owner)
                for fingerprint, code, count, deal_id, owner in self.table.iter_rows()
            }
        return self._entries

    def __getitem__(self, fingerprint: str) -> BaselineEntry:
        return self._as_dict()[fingerprint]

    def __iter__(self) -> Iterator[str]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return self.table.height


def entry_table(entries: Mapping[str, BaselineEntry]) -> pl.DataFrame:
    """``entries`` as a table sorted by fingerprint (the order the file lists them in)."""
    import polars as pl

    if isinstance(entries, EntryTable):
        return entries.table
    schema = {"fingerprint": pl.String, "code": pl.String, "count": pl.Int64, "deal_id": pl.String, "owner": pl.String}
    rows = [(fingerprint, entry.code, entry.count, entry.deal_id, entry.owner if entry.deal_id is None else None) for fingerprint, entry in entries.items()]
    return pl.DataFrame(rows, schema=schema, orient="row").sort("fingerprint")


def _entry_text() -> pl.Expr:
    """One entry as ``json.dumps(indent=2, sort_keys=True)`` writes it at depth two: code, count, then deal_id or owner when known."""
    import polars as pl

    def string(column: str) -> pl.Expr:
        # polars' JSON encoder escapes as Python's does with ensure_ascii=False; json_text_expr does the rest.
        return pl.struct(column).struct.json_encode().str.strip_prefix(f'{{"{column}":').str.strip_suffix("}")

    subject = (
        pl.when(pl.col("deal_id").is_not_null())
        .then(pl.concat_str([pl.lit(',\n      "deal_id": '), string("deal_id")]))
        .when(pl.col("owner").is_not_null())
        .then(pl.concat_str([pl.lit(',\n      "owner": '), string("owner")]))
        .otherwise(pl.lit(""))
    )
    return pl.concat_str(
        [string("fingerprint"), pl.lit(': {\n      "code": '), string("code"), pl.lit(',\n      "count": '), pl.col("count").cast(pl.String), subject, pl.lit("\n    }")]
    ).alias("entry")


def read_baseline(path: Path, display: str | None = None) -> Baseline:
    display = display or str(path)
    document = read_checked_json(path, display, BASELINE_SCHEMA, "hygiene baseline")
    return Baseline(
        tool_version=document["tool"]["version"],
        rules=tuple(document["rules"]),
        as_of=dt.date.fromisoformat(document["as_of"]),
        source=document["source"],
        entries={fingerprint: BaselineEntry(**entry) for fingerprint, entry in document["findings"].items()},
    )


def write_baseline(baseline: Baseline, path: Path, *, replaces: Path | None = None) -> None:
    """Write ``baseline`` to ``path``; ``replaces`` is the baseline read to make it (``--prune``), which it may overwrite."""
    try:
        with atomic_text_writer(path, newline="\n", what="the baseline", replaces=replaces) as stream:
            baseline.write_json(stream)
    except OSError as exc:
        raise HygieneError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None


def refuse_incomplete(report: AuditReport, display: str) -> None:
    """A baseline of an audit a rule could not finish would record the wrong debt."""
    if report.rule_errors:
        import polars as pl

        first = report.findings.filter(pl.col("code") == RULE_ERROR_CODE).get_column("message").first()
        raise HygieneError(f"{display}: not written: {report.rule_errors} rule(s) failed, so the audit is incomplete: {first}")


def compare_with_baseline(report: AuditReport, baseline: Baseline, display: str) -> AuditReport:
    """``report`` with each finding marked ``known`` or ``new``, and the baseline's fixed entries."""
    import polars as pl

    obsolete = baseline.obsolete_entries(report)
    allowed = {fingerprint: entry.count for fingerprint, entry in baseline.entries.items()}
    # The n-th finding with a fingerprint (in report order) is known while the baseline holds at least n.
    occurrence = pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("fingerprint")
    limit = pl.col("fingerprint").replace_strict(allowed, default=0, return_dtype=pl.Int64) if allowed else pl.lit(0, pl.Int64)
    findings = report.findings.with_columns(
        pl.when(occurrence <= limit).then(pl.lit("known")).otherwise(pl.lit("new")).alias("baseline_status")
    )
    found = report.findings.get_column("fingerprint").value_counts()
    found_counts = dict(zip(found["fingerprint"].to_list(), found["count"].to_list(), strict=True))
    fixed = [
        {"fingerprint": fingerprint, "code": entry.code, "deal_id": entry.deal_id, "owner": entry.owner, "count": entry.count - found_counts.get(fingerprint, 0)}
        for fingerprint, entry in baseline.entries.items()
        if entry.count > found_counts.get(fingerprint, 0) and fingerprint not in obsolete
    ]
    fixed.sort(key=_entry_order)
    obsolete_list = sorted(
        (
            {"fingerprint": fingerprint, "code": entry.code, "deal_id": entry.deal_id, "owner": entry.owner, "count": entry.count}
            for fingerprint, entry in obsolete.items()
        ),
        key=_entry_order,
    )
    return attrs.evolve(
        report, findings=findings, baseline_file=display, fixed=fixed, obsolete=obsolete_list, unadopted_rules=baseline.unadopted_rules(report)
    )


def _entry_order(entry: Mapping[str, Any]) -> tuple[str, ...]:
    return (entry["code"], entry.get("deal_id") or "", entry.get("owner") or "", entry["fingerprint"])


def pruned(baseline: Baseline, report: AuditReport, display: str) -> Baseline:
    """``baseline`` without what ``report`` no longer finds, nor the rules it no longer runs; unchanged when nothing is.

    Rules the baseline does not cover stay uncovered: pruning never adds a finding.
    """
    found = found_entries(report)
    obsolete = baseline.obsolete_entries(report)
    kept = {
        fingerprint: attrs.evolve(entry, count=min(entry.count, found[fingerprint].count))
        for fingerprint, entry in baseline.entries.items()
        if fingerprint in found and fingerprint not in obsolete
    }
    covered = tuple(code for code in baseline.rules if code in set(rule_set(report)))
    if kept == dict(baseline.entries) and covered == baseline.rules:
        return baseline
    return attrs.evolve(Baseline.from_report(report, kept), rules=covered)


def resolve_rules(report: AuditReport, wanted: tuple[str, ...], display: str) -> tuple[str, ...]:
    """The codes of the rules ``wanted`` names (codes or names of rules the audit ran)."""
    by_key = {key: rule.code for rule in report.rules for key in (rule.code, rule.name)}
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        running = ", ".join(sorted(rule.code for rule in report.rules)) or "none"
        raise HygieneError(f"{display}: --add {unknown[0]}: not a rule this audit runs (it runs: {running})")
    return tuple(dict.fromkeys(by_key[key] for key in wanted))


def adopted(baseline: Baseline, report: AuditReport, codes: tuple[str, ...]) -> Baseline:
    """``baseline`` recording the current findings of the rules ``codes`` (replacing what it had of them); the rest as it was."""
    found = {fingerprint: entry for fingerprint, entry in found_entries(report).items() if entry.code in codes}
    kept = {fingerprint: entry for fingerprint, entry in baseline.entries.items() if entry.code not in codes}
    return attrs.evolve(baseline, rules=tuple(sorted({*baseline.rules, *codes})), entries=dict(sorted({**kept, **found}.items())))
