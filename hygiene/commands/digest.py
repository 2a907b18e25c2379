"""``hygiene digest``: one private report per owner, team or manager, and an index of them.

A digest holds only its group's deals and the owner-level findings of its
owners (the report is narrowed with :class:`hygiene.api.scope.ReportScope`
before any reporter sees it), so a rep's file never shows another rep's
deal. File names are derived from the name but safe on every file system
(ASCII letters, digits and hyphens, plus a short hash that keeps two names
that fold to the same letters apart).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from pathlib import Path

import attrs
import polars as pl

from hygiene.api.errors import ConfigError
from hygiene.api.report import AuditReport
from hygiene.api.reporter import ReporterSettings
from hygiene.api.scope import ReportScope
from hygiene.files import atomic_text_writer
from hygiene.plugin.registry import Registry

GROUPINGS = ("owner", "team", "manager")
FORMATS = {"markdown": ".md", "html": ".html"}
MAX_SLUG = 48


def file_stem(name: str) -> str:
    """A safe, stable file name for ``name``: ``ada-lovelace-3f2a9c1d``; never a path, never hidden."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:MAX_SLUG].strip("-") or "unnamed"
    return f"{slug}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


@attrs.define(frozen=True)
class DigestEntry:
    name: str
    file: str
    deals: int
    findings: int
    score: float | None
    amount_at_risk: float | None


def group_names(report: AuditReport, by: str) -> list[str]:
    """The owners, teams or managers to write a digest for, in name order."""
    if by not in GROUPINGS:
        raise ConfigError(f"--by: expected one of {', '.join(GROUPINGS)}, got {by!r}")
    figures = report.figures()
    if by == "owner":
        return sorted(figures.owners.get_column("owner").drop_nulls().to_list())
    names = figures.deals.get_column(by).drop_nulls().unique().sort().to_list()
    if not names:
        raise ConfigError(f"--by {by}: the export has no {by} column (or it is empty everywhere); map one in [source.fields] or use --by owner")
    return names


def write_digests(report: AuditReport, registry: Registry, by: str, output_format: str, directory: Path, settings: ReporterSettings) -> list[DigestEntry]:
    """Write one digest per group and the index into ``directory``; return what the index lists."""
    if output_format not in FORMATS or output_format not in registry.reporters:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {output_format!r}")
    suffix = FORMATS[output_format]
    reporter_cls = registry.reporters[output_format].cls
    entries = []
    for name in group_names(report, by):
        digest = ReportScope.only(by, name).apply(report)
        file = file_stem(name) + suffix
        reporter = reporter_cls()
        reporter.settings = settings
        with atomic_text_writer(directory / file) as stream:
            reporter.write(digest, stream)
        figures = digest.figures()
        entries.append(DigestEntry(name=name, file=file, deals=digest.deals, findings=digest.findings.height, score=figures.score.value, amount_at_risk=figures.amount_at_risk.value))
    without = int(report.figures().deals.select(pl.col(by).is_null().sum()).item())
    with atomic_text_writer(directory / f"index{suffix}") as stream:
        stream.write(_index(report, by, entries, without, output_format))
    return entries


def _index(report: AuditReport, by: str, entries: list[DigestEntry], without: int, output_format: str) -> str:
    share = lambda value: "not evaluable" if value is None else f"{value * 100:.1f}%"  # noqa: E731
    money = lambda value: "-" if value is None else f"{value:,.0f}"  # noqa: E731
    title = f"Pipeline hygiene digests by {by}, as of {report.as_of.isoformat()}"
    note = f"{without:,} deals have no {by} and are in no digest." if without else ""
    return _index_html(title, by, entries, note, report, share, money) if output_format == "html" else _index_markdown(title, by, entries, note, report, share, money)


def _markdown_cell(text: str) -> str:
    text = re.sub(r"[\r\n\t\v\f\x85\u2028\u2029]", " ", text)
    text = re.sub(r"[\x00-\x1f\x7f]", "\ufffd", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]~|()#!])", r"\\\1", text)
    return re.sub(r"@(?=\w)", "@\u2060", text)


def _index_markdown(title, by, entries, note, report, share, money) -> str:
    lines = [f"# {title}", "", f"Source: {_markdown_cell(report.source)}, period {report.period.name}.", ""]
    lines += [f"| {by} | deals | findings | score | amount at risk |", "|:--|--:|--:|--:|--:|"]
    for e in entries:
        lines.append(f"| [{_markdown_cell(e.name)}]({e.file}) | {e.deals:,} | {e.findings:,} | {share(e.score)} | {money(e.amount_at_risk)} |")
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


def _index_html(title, by, entries, note, report, share, money) -> str:
    rows = "\n".join(
        f'<tr><th scope="row"><a href="{html.escape(e.file)}">{html.escape(e.name)}</a></th><td>{e.deals:,}</td><td>{e.findings:,}</td><td>{share(e.score)}</td><td>{money(e.amount_at_risk)}</td></tr>'
        for e in entries
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px}table{border-collapse:collapse}th,td{border-bottom:1px solid #d6dbe3;padding:4px 10px;text-align:left}td{text-align:right}</style>\n"
        f"</head>\n<body>\n<h1>{html.escape(title)}</h1>\n<p>Source {html.escape(report.source)}, period {html.escape(report.period.name)}.</p>\n"
        f"<table>\n<thead><tr><th scope=\"col\">{html.escape(by)}</th><th scope=\"col\">Deals</th><th scope=\"col\">Findings</th><th scope=\"col\">Score</th><th scope=\"col\">Amount at risk</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>\n"
        + (f"<p>{html.escape(note)}</p>\n" if note else "")
        + "</body>\n</html>\n"
    )
