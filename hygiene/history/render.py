"""``hygiene flow`` and ``hygiene trend`` as text: console, Markdown and JSON.

Owner and team names come from the export: on the console their control
characters are shown escaped (an ESC must not drive the terminal), in
Markdown they cannot format, link or end a table cell.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hygiene.history.flow import ANNOTATIONS, BUCKETS

FORMATS = ("console", "json", "markdown")
_CONTROLS = str.maketrans({code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]})
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]~|<>#])")
_SPARKS = "▁▂▃▄▅▆▇█"
_SIGNS = {"beginning": " ", "created": "+", "increased": "+", "decreased": "-", "won": "-", "lost": "-", "removed": "-", "ending": "="}


def terminal_text(text: object) -> str:
    return "(none)" if text is None else str(text).translate(_CONTROLS)


def markdown_text(text: object) -> str:
    if text is None:
        return "(none)"
    one_line = re.sub(r"[\r\n\t\v\f\x85\u2028\u2029]", " ", str(text))
    one_line = re.sub(r"[\x00-\x1f\x7f]", "\ufffd", one_line).replace("&", "&amp;")
    return _MARKDOWN_SPECIALS.sub(r"\\\1", one_line).replace("@", "@\u2060")


def money(amount: float) -> str:
    return f"{amount:,.2f}"


def json_text(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def render_flow(flow: dict[str, Any], output_format: str) -> str:
    if output_format == "json":
        return json_text(flow)
    sections = [("all deals", flow)] + [(group["key"], group) for group in flow["groups"]]
    if output_format == "markdown":
        lines = [f"## Pipeline flow {flow['from']} to {flow['to']}", ""]
        for key, section in sections:
            if flow["groups"]:
                lines += [f"### {markdown_text(key) if section is not flow else 'All deals'}", ""]
            lines += ["| | bucket | deals | amount |", "|---|---|--:|--:|"]
            lines += [f"| {_SIGNS[n]} | {n} | {section['buckets'][n]['count']} | {money(section['buckets'][n]['amount'])} |" for n in BUCKETS]
            lines += [f"| | {n} (annotation) | {section[n]['count']} | {money(section[n]['amount'])} |" for n in ANNOTATIONS]
            lines.append("")
        return "\n".join(lines)
    lines = [f"Pipeline flow {flow['from']} -> {flow['to']}"]
    for key, section in sections:
        if section is not flow:
            lines.append(f"{flow['by']} {terminal_text(key)}")
        for n in BUCKETS:
            bucket = section["buckets"][n]
            lines.append(f"  {_SIGNS[n]} {n:<10} {bucket['count']:>8,}  {money(bucket['amount']):>18}")
        notes = ", ".join(f"{n.replace('_', ' ')} {section[n]['count']:,} ({money(section[n]['amount'])})" for n in ANNOTATIONS)
        lines.append(f"    of the deals open at both dates: {notes}")
    return "\n".join(lines) + "\n"


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    return "".join(" " if v is None else _SPARKS[0 if span == 0 else round((v - low) / span * (len(_SPARKS) - 1))] for v in values)


def _score(score: float | None) -> str:
    return "n/a" if score is None else f"{score * 100:.1f}%"


def render_trend(trend: dict[str, Any], output_format: str) -> str:
    runs = trend["runs"]
    if output_format == "json":
        return json_text(trend)
    codes = sorted({code for run in runs for code in run["by_rule"]})
    if output_format == "markdown":
        lines = ["## Hygiene trend", "", "| as of | score | open pipeline | amount at risk | findings | " + " | ".join(codes) + " |" if codes else "| as of | score | open pipeline | amount at risk | findings |"]
        lines.append("|---|--:|--:|--:|--:|" + "--:|" * len(codes))
        for run in runs:
            per_rule = "".join(f" {run['by_rule'].get(code, 0)} |" for code in codes)
            lines.append(f"| {run['as_of']} | {_score(run['score'])} | {money(run['open_pipeline'])} | {money(run['amount_at_risk'])} | {run['findings']} |{per_rule}")
        return "\n".join(lines) + "\n"
    if not runs:
        return "no audit runs recorded yet (`hygiene audit` records one when a history store exists)\n"
    lines = [
        f"Hygiene trend, {len(runs)} audit run{'s' if len(runs) != 1 else ''} from {runs[0]['as_of']} to {runs[-1]['as_of']}",
        f"  score           {sparkline([r['score'] for r in runs])}  {_score(runs[-1]['score'])}",
        f"  open pipeline   {sparkline([r['open_pipeline'] for r in runs])}  {money(runs[-1]['open_pipeline'])}",
        f"  amount at risk  {sparkline([r['amount_at_risk'] for r in runs])}  {money(runs[-1]['amount_at_risk'])}",
        "",
        f"  {'as of':<10}  {'score':>6}  {'open pipeline':>16}  {'at risk':>16}  {'findings':>8}",
    ]
    for run in runs:
        lines.append(f"  {run['as_of']:<10}  {_score(run['score']):>6}  {money(run['open_pipeline']):>16}  {money(run['amount_at_risk']):>16}  {run['findings']:>8,}")
    if codes:
        lines.append("")
        lines.append("  findings per rule: " + ", ".join(f"{code} {sparkline([r['by_rule'].get(code, 0) for r in runs])} {runs[-1]['by_rule'].get(code, 0)}" for code in codes))
    return "\n".join(lines) + "\n"


def trend_data(store) -> dict[str, Any]:
    """Every recorded audit run, oldest first, as plain data (the shape of ``trend.schema.json``)."""
    return {"runs": [run.to_dict() for run in store.audit_runs()]}
