"""What the HTML page shows, as plain values for the templates, built from ``report.figures()``.

Every number is formatted here, once, so the templates only place text.
Tables are capped at ``rows_per_view`` rows per view (the page stays small
for a million-deal audit); each capped table says how many rows it leaves
out and points to the JSON or CSV report for the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from markupsafe import Markup, escape

from hygiene import SEVERITIES, AuditReport, BarRow, Chart, Figure, page_text, trend_chart, waterfall_chart
from hygiene import bar_chart as _bar_chart

#: Deals listed per team in the manager view, per owner in the rep view and in a rep's panel.
DEALS_PER_GROUP = 10
#: Bars of a chart by team or owner: the worst ones (the tables list the rest).
CHART_BARS = 20
NO_OWNER = "(no owner)"
#: The deal columns a deal row in a view or drill-down list shows.
DEAL_ROW_COLUMNS = ("id", "name", "owner", "stage", "amount", "findings", "worst")
NOT_EVALUABLE = "not evaluable"
GROUP_LABELS = {"team": "Team", "manager": "Manager", "region": "Region"}


def bar_chart(key: str, title: str, rows: Iterable[tuple[str, float | None, str, str | None]], *, tone: str = "", empty_note: str = "nothing to show") -> Chart:
    """Bars of ``(label, value, value text, link)``; a figure that is not evaluable keeps its text beside a muted, empty bar."""
    bars = [BarRow(label, value, text, href, "muted" if value is None else None) for label, value, text, href in rows]
    return _bar_chart(key, title, bars, tone=tone, empty_note=empty_note)


def link(text: Any, href: str | None) -> Any:
    """``text``, as a link to ``href`` when there is one: the templates' ``link()``, in Python because a page calls it thousands of times.

    Each part is printed as a template prints a value (:func:`hygiene.page_text`, then autoescaping).
    """
    shown = _printed(text)
    return Markup(f'<a href="{_printed(href)}">{shown}</a>') if href else shown


def _printed(value: Any) -> Any:
    return escape(page_text(value)) if value is not None else value


def amount(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def anchor(kind: str, name: str | None) -> str:
    """A stable, safe element id for a team, rep or deal: the kind and a hash of the name."""
    return f"{kind}-{hashlib.sha256((name or '').encode('utf-8')).hexdigest()[:12]}"


def figure(label: str, fig: Figure, render, *, note: str = "", key: str = "") -> dict[str, Any]:
    if fig.value is None:
        return {"key": key, "label": label, "value": NOT_EVALUABLE, "note": fig.reason or "", "evaluable": False, "delta": None}
    return {"key": key, "label": label, "value": render(fig.value), "note": note, "evaluable": True, "delta": None}


def _delta(current: float | None, previous: Any, render, *, higher_is_better: bool) -> dict[str, Any] | None:
    if current is None or not isinstance(previous, (int, float)):
        return None
    change = current - previous
    if change == 0:
        return {"arrow": "→", "text": "no change", "tone": ""}
    good = (change > 0) == higher_is_better
    return {"arrow": "▲" if change > 0 else "▼", "text": render(abs(change)), "tone": "good" if good else "bad"}


def header(report: AuditReport) -> dict[str, Any]:
    f = report.figures()
    figures = [
        figure("Open pipeline", f.open_amount, amount, note=f"{f.open_deals:,} open deals" + (f", {f.open_without_amount:,} without an amount" if f.open_without_amount else ""), key="open_amount"),
        figure("Amount at risk", f.amount_at_risk, amount, note=f"{f.deals_at_risk:,} deals with an error or warning", key="amount_at_risk"),
        figure("Hygiene score", f.score, share, note="open deals with no error or warning", key="score"),
        figure("Gap to quota", f.gap, amount, note="quota − won − weighted", key="gap"),
        figure("Coverage", f.coverage, times, note="open in period ÷ quota left to win", key="coverage"),
        figure("Win rate", f.win_rate, share, note="won ÷ closed deals", key="win_rate"),
    ]
    previous = report.history_figures.previous if report.history_figures is not None and report.history_figures.previous else None
    if previous:
        currents = {"open_amount": (f.open_amount.value, amount, True), "amount_at_risk": (f.amount_at_risk.value, amount, False), "score": (f.score.value, lambda v: f"{v * 100:.1f} pts", True)}
        for item in figures:
            if item["key"] in currents:
                value, render, better = currents[item["key"]]
                item["delta"] = _delta(value, previous.get(item["key"]), render, higher_is_better=better)
    return {
        "as_of": report.as_of.isoformat(),
        "source": report.source,
        "period": report.period.name,
        "period_bounds": f"{report.period.start.isoformat()} to {report.period.end.isoformat()}",
        "tool_version": report.tool_version,
        "scope": list(report.scope),
        "figures": figures,
        "previous_as_of": str(previous.get("as_of")) if previous and previous.get("as_of") else None,
        "no_comparison": report.history_figures.no_comparison if report.history_figures is not None else None,
        "deals": report.deals,
        "findings": report.findings.height,
        "waived": report.waived,
    }


def _note(shown: int, total: int, noun: str) -> str:
    if shown >= total:
        return ""
    return f"Showing the first {shown:,} of {total:,} {noun}; the JSON and CSV reports (--format json:FILE, --format csv:FILE) list them all."


class PageBuilder:
    """Builds the template context; remembers which reps, teams and deals are linked, for their drill-down panels."""

    def __init__(self, report: AuditReport, rows_per_view: int) -> None:
        self.report = report
        self.figures = report.figures()
        self.limit = rows_per_view
        self.fixes = {rule.code: rule.fix for rule in report.rules}
        self.linked_deals: dict[str, None] = {}
        self.linked_owners: dict[str, None] = {}
        #: Deal panels are made for the deals the views show; drill-down panels link only to those.
        self.accepting_deals = True
        self._to_fix_by_owner: tuple[dict[str, pl.DataFrame], dict[str, int]] | None = None
        self._all_to_fix: pl.DataFrame | None = None
        self._owners_by_group: dict[str, dict[str, list[str]]] = {}
        # A deal's findings and fixes are filled in once, for every deal shown, by _fill_problems().
        self.problems: dict[str, list[dict[str, Any]]] = {}
        self.deal_fixes: dict[str, list[dict[str, str]]] = {}
        self.group_column = next(iter(self.figures.groups()), None)

    # Links -----------------------------------------------------------------------------
    def deal_link(self, deal_id: str | None) -> str | None:
        if deal_id is None or (not self.accepting_deals and deal_id not in self.linked_deals):
            return None
        self.linked_deals.setdefault(deal_id)
        return "#" + anchor("deal", deal_id)

    def owner_link(self, owner: str | None) -> str | None:
        if owner is None:
            return None
        self.linked_owners.setdefault(owner)
        return "#" + anchor("rep", owner)

    def group_link(self, name: str | None) -> str | None:
        return None if name is None or self.group_column is None else "#" + anchor("group", name)

    # Rows --------------------------------------------------------------------------------
    def group_row(self, row: Mapping[str, Any], key: str) -> dict[str, Any]:
        name = row[key]
        link = self.owner_link(name) if key == "owner" else self.group_link(name)
        return {
            "name": name,
            "href": link,
            "team": row.get("team"),
            "team_href": self.group_link(row.get("team")) if key == "owner" and self.group_column == "team" else None,
            "score": share(row["score"]),
            "score_sort": -1 if row["score"] is None else row["score"],
            "open_deals": f"{row['open_deals']:,}",
            "findings": f"{row['findings']:,}",
            "amount_at_risk": amount(row["amount_at_risk"]),
            "amount_at_risk_sort": row["amount_at_risk"] or 0,
            "won": amount(row["won"]),
            "weighted": amount(row["weighted"]),
            "quota": amount(row["quota"]),
            "gap": amount(row["gap"]) if row["quota"] is not None else "—",
            "coverage": times(row["coverage"]) if row["coverage"] is not None else NOT_EVALUABLE,
            "coverage_reason": row["coverage_reason"] or "",
            "owners": row.get("owners"),
        }

    def deal_row(self, deal: Mapping[str, Any]) -> dict[str, Any]:
        self.deal_link(deal["id"])
        return {
            "id": deal["id"],
            "href": self.deal_link(deal["id"]),
            "name": deal["name"] or "",
            "owner": deal["owner"] or NO_OWNER,
            "owner_href": self.owner_link(deal["owner"]),
            "stage": deal["stage"] or "",
            "amount": amount(deal["amount"]),
            "amount_sort": deal["amount"] if deal["amount"] is not None else -1,
            "problems": self.problems.setdefault(deal["id"], []),
            "fixes": self.deal_fixes.setdefault(deal["id"], []),
        }

    def _fill_problems(self) -> None:
        """Every shown deal's findings (in report order) and the fixes of their rules, in one pass over the findings."""
        wanted = [deal for deal, rows in self.problems.items() if not rows]
        if not wanted:
            return
        findings = self.figures.deal_findings.select("deal_id", "severity", "code", "rule", "message").filter(pl.col("deal_id").is_in(wanted))
        for deal, rows in _rows_by(findings, "deal_id"):
            self.problems[deal].extend({"severity": r["severity"], "code": r["code"], "rule": r["rule"], "message": r["message"]} for r in rows)
            codes = list(dict.fromkeys(r["code"] for r in rows))
            self.deal_fixes[deal].extend({"code": code, "fix": self.fixes[code]} for code in codes if self.fixes.get(code))

    def deals_to_fix(self, deals: pl.DataFrame) -> pl.DataFrame:
        """At-risk deals, largest amount first (deals without an amount last), then by id, then in export order."""
        return deals.filter(pl.col("at_risk")).sort(["amount", "id"], descending=[True, False], nulls_last=True, maintain_order=True)

    def all_deals_to_fix(self) -> pl.DataFrame:
        """The deals at risk, unsorted, with only the columns a deal row shows and the grouping columns."""
        if self._all_to_fix is None:
            deals = self.figures.deals
            columns = dict.fromkeys(["at_risk", *DEAL_ROW_COLUMNS, *(c for c in ("owner", *GROUP_LABELS) if c in deals.columns)])
            self._all_to_fix = deals.select(list(columns)).filter(pl.col("at_risk"))
        return self._all_to_fix

    def top_deals_to_fix(self, key: str) -> tuple[dict[str, pl.DataFrame], dict[str, int]]:
        """Per value of ``key``, its first :data:`DEALS_PER_GROUP` :meth:`deals_to_fix`, and how many it has in all.

        Only the deals that can be among a group's first are sorted: those
        with an amount at least the group's tenth largest (ties included),
        or all of a group's deals when fewer than ten have an amount. Every
        other deal sorts after those, so the heads are the same as from
        sorting every deal at risk, at a fraction of the cost; only the
        rows a page can show become frames of their own.
        """
        to_fix = self.all_deals_to_fix().filter(pl.col(key).is_not_null())
        counts = dict(to_fix.group_by(key).len().iter_rows())
        amount = pl.col("amount")
        candidates = to_fix.filter(
            (amount.count().over(key) < DEALS_PER_GROUP) | (amount >= amount.drop_nulls().top_k(DEALS_PER_GROUP).min().over(key))
        )
        top = self.deals_to_fix(candidates).group_by(key, maintain_order=True).head(DEALS_PER_GROUP).select(to_fix.columns)
        return dict(_frames_by(top, key)), counts

    def owner_deals_to_fix(self, owner: str) -> tuple[pl.DataFrame, int]:
        """The first :data:`DEALS_PER_GROUP` :meth:`deals_to_fix` of one owner, and how many there are."""
        if self._to_fix_by_owner is None:
            self._to_fix_by_owner = self.top_deals_to_fix("owner")
        frames, counts = self._to_fix_by_owner
        found = frames.get(owner)
        return (found if found is not None else self.figures.deals.clear()), counts.get(owner, 0)

    def owners_of(self, key: str, name: str) -> list[str]:
        """The owners of the deals of one team, manager or region, from one group-by of all deals."""
        if self._owners_by_group.get(key) is None:
            # The distinct (group, owner) pairs, a few thousand however many deals: half the cost of collecting lists per group.
            pairs = self.figures.deals.select(key, "owner").filter(pl.col(key).is_not_null() & pl.col("owner").is_not_null()).unique()
            grouped: dict[str, list[str]] = {}
            for group, owner in pairs.iter_rows():
                grouped.setdefault(group, []).append(owner)
            self._owners_by_group[key] = grouped
        return self._owners_by_group[key].get(name, [])

    def compact_deal_row(self, deal: Mapping[str, Any]) -> dict[str, Any]:
        """A deal in a drill-down list: what it is and how bad, linking to its panel when it has one."""
        return {
            "id": deal["id"],
            "href": self.deal_link(deal["id"]),
            "name": deal["name"] or "",
            "stage": deal["stage"] or "",
            "amount": amount(deal["amount"]),
            "findings": deal["findings"],
            "worst": deal["worst"] or "",
        }

    # Views -------------------------------------------------------------------------------
    def leadership(self) -> dict[str, Any]:
        f = self.figures
        key = self.group_column or "owner"
        label = GROUP_LABELS.get(key, "Owner")
        groups = f.groups().get(key, f.owners)
        rows = list(groups.head(min(self.limit, CHART_BARS)).iter_rows(named=True))
        link = self.owner_link if key == "owner" else self.group_link
        coverage = bar_chart(
            "coverage",
            f"Coverage against quota by {label.lower()}",
            [(r[key], r["coverage"], times(r["coverage"]) if r["coverage"] is not None else f"{NOT_EVALUABLE} ({r['coverage_reason']})", link(r[key])) for r in rows],
        )
        score = bar_chart("score", f"Hygiene score by {label.lower()}", [(r[key], r["score"], share(r["score"]), link(r[key])) for r in rows], tone="score")
        stages = list(f.stages.filter(pl.col("open")).iter_rows(named=True))
        by_count = bar_chart("stage-count", "Open pipeline by stage: deals", [(s["stage"], float(s["deals"]), f"{s['deals']:,}", None) for s in stages])
        by_amount = bar_chart("stage-amount", "Open pipeline by stage: amount", [(s["stage"], s["amount"], amount(s["amount"]), None) for s in stages])
        risk_rules = [r for r in f.rules.iter_rows(named=True) if r["amount_at_risk"]]
        at_risk = bar_chart(
            "risk-by-rule",
            "Amount at risk by rule",
            [(f"{r['code']} {r['rule']}", r["amount_at_risk"], amount(r["amount_at_risk"]), None) for r in risk_rules],
            tone="risk",
            empty_note="no open deal has an error or warning with an amount",
        )
        history = self.history_charts()
        return {
            "group_label": label,
            "has_groups": self.group_column is not None,
            "charts": [coverage, score, by_count, by_amount, at_risk],
            "history": history,
            "note": f"The charts show the {len(rows)} {label.lower()}s with the lowest score of {groups.height:,}." if len(rows) < groups.height else "",
        }

    def history_charts(self) -> list:
        history = self.report.history_figures
        if history is None:
            return []
        charts = []
        if history.waterfall:
            span = f"from {history.waterfall_range[0].isoformat()} to {history.waterfall_range[1].isoformat()}" if history.waterfall_range else f"in {self.report.period.name}"
            steps = [(label, value, amount(value) if index in (0, len(history.waterfall) - 1) else f"{'+' if value >= 0 else '−'}{amount(abs(value))}") for index, (label, value) in enumerate(history.waterfall)]
            charts.append(waterfall_chart("waterfall", f"Pipeline flow {span}", steps))
        if history.trend:
            charts.append(trend_chart("trend-score", "Hygiene score by run", [(as_of.isoformat(), score, share(score)) for as_of, score, _ in history.trend]))
            charts.append(trend_chart("trend-pipeline", "Open pipeline by run", [(as_of.isoformat(), value, amount(value)) for as_of, _, value in history.trend]))
        return charts

    def manager(self) -> dict[str, Any]:
        f = self.figures
        key = self.group_column
        budget = self.limit
        sections = []
        groups: Iterable[tuple[str | None, pl.DataFrame]]
        if key is None:
            groups = [(None, f.deals)]
            group_rows = {}
        else:
            group_rows = {r[key]: r for r in f.groups()[key].iter_rows(named=True)}
            order = {name: index for index, name in enumerate(group_rows)}
            # Only the deals to fix are partitioned by group: a fifth of a large pipeline, not all of it.
            to_fix_by_group, counts = self.top_deals_to_fix(key)
            groups = [(name, to_fix_by_group.get(name, f.deals.clear())) for name in group_rows]
        total_groups = 0
        for name, to_fix in groups:
            total_groups += 1
            if budget <= 0:
                continue
            owners = self.owners_of(key, name) if key is not None else f.owners.get_column("owner").drop_nulls().to_list()
            reps = f.owners.filter(pl.col("owner").is_in(owners))
            rep_rows = [self.group_row(r, "owner") for r in reps.head(budget).iter_rows(named=True)]
            budget -= len(rep_rows)
            if key is None:
                to_fix = self.deals_to_fix(to_fix)
                total = to_fix.height
            else:
                total = counts.get(name, 0)
            shown = to_fix.head(max(min(DEALS_PER_GROUP, budget), 0))
            budget -= shown.height
            sections.append(
                {
                    "name": name or "All owners",
                    "anchor": anchor("manager", name) if name is not None else "manager-all",
                    "href": self.group_link(name),
                    "summary": self.group_row(group_rows[name], key) if name in group_rows else None,
                    "reps": rep_rows,
                    "deals": [self.deal_row(d) for d in shown.iter_rows(named=True)],
                    "more_deals": total - shown.height,
                }
            )
        return {
            "group_label": GROUP_LABELS.get(key or "", "Team"),
            "sections": sections,
            "note": _note(len(sections), total_groups, f"{GROUP_LABELS.get(key or '', 'team').lower()}s") or ("" if budget > 0 else _note(0, 1, "rows")),
            "has_groups": key is not None,
        }

    def rep(self) -> dict[str, Any]:
        f = self.figures
        budget = self.limit
        sections = []
        owner_findings = dict(_rows_by(f.deal_findings.select("deal_id", "owner", "severity", "code", "rule", "message").filter(pl.col("deal_id").is_null() & pl.col("owner").is_not_null()), "owner"))
        owners = list(f.owners.iter_rows(named=True))
        for row in owners:
            if budget <= 0:
                break
            to_fix, total = self.owner_deals_to_fix(row["owner"])
            shown = to_fix.head(min(DEALS_PER_GROUP, budget))
            budget -= max(shown.height, 1)
            sections.append(
                {
                    "name": row["owner"],
                    "anchor": anchor("owner", row["owner"]),
                    "href": self.owner_link(row["owner"]),
                    "summary": self.group_row(row, "owner"),
                    "deals": [self.deal_row(d) for d in shown.iter_rows(named=True)],
                    "more_deals": total - shown.height,
                    "owner_findings": [{"severity": r["severity"], "code": r["code"], "rule": r["rule"], "message": r["message"], "fix": self.fixes.get(r["code"], "")} for r in owner_findings.get(row["owner"], [])],
                }
            )
        return {"sections": sections, "note": _note(len(sections), len(owners), "owners")}

    def ops(self) -> dict[str, Any]:
        f = self.figures
        rules = [
            {"code": r["code"], "rule": r["rule"], "severity": r["severity"], "findings": f"{r['findings']:,}", "findings_sort": r["findings"], "deals": f"{r['deals']:,}", "amount_at_risk": amount(r["amount_at_risk"]), "amount_sort": r["amount_at_risk"] or 0, "fix": self.fixes.get(r["code"], "")}
            for r in f.rules.iter_rows(named=True)
        ]
        codes = sorted(f.findings_by_stage.get_column("code").unique().to_list()) if f.findings_by_stage.height else []
        stage_table = []
        for stage, rows in _rows_by(f.findings_by_stage, "stage", keep_order=True):
            counts = {r["code"]: r["findings"] for r in rows}
            stage_table.append({"stage": stage, "counts": [f"{counts[c]:,}" if c in counts else "" for c in codes], "total": f"{sum(counts.values()):,}"})
        quality = [
            {
                "field": q["field"],
                "mapped": q["mapped"],
                "missing": f"{q['missing']:,}",
                "unreadable": f"{q['unreadable']:,}",
                "share": share(q["share_lacking"]) if q["share_lacking"] is not None else NOT_EVALUABLE,
                "share_value": q["share_lacking"],
            }
            for q in f.data_quality.iter_rows(named=True)
        ]
        quality_chart = bar_chart(
            "data-quality",
            "Open deals lacking each field",
            [(q["field"], q["share_value"], q["share"] + ("" if q["mapped"] else " (no column)"), None) for q in quality if q["share_value"]],
            tone="risk",
            empty_note="every open deal has every field",
        )
        invalid = self.report.invalid_values
        invalid_rows = []
        total_invalid = 0 if invalid is None else invalid.height
        if invalid is not None:
            for r in invalid.head(self.limit).iter_rows(named=True):
                invalid_rows.append({"row": r["row"], "deal": r["deal_id"], "href": self.deal_link(r["deal_id"]), "column": r["column"], "value": r.get("value"), "expected": r.get("expected")})
        return {
            "rules": rules,
            "codes": codes,
            "by_stage": stage_table,
            "quality": quality,
            "quality_chart": quality_chart,
            "not_evaluable": [{**n, "deals": f"{n['deals']:,}"} for n in f.not_evaluable],
            "invalid": invalid_rows,
            "invalid_note": _note(len(invalid_rows), total_invalid, "unreadable cells"),
            "rule_errors": self.report.rule_errors,
        }

    def all_findings(self) -> dict[str, Any]:
        findings = self.figures.deal_findings
        shown = findings.head(self.limit)
        rows = []
        for r in shown.iter_rows(named=True):
            rows.append(
                {
                    "severity": r["severity"],
                    "severity_rank": SEVERITIES.index(r["severity"]) if r["severity"] in SEVERITIES else len(SEVERITIES),
                    "code": r["code"],
                    "rule": r["rule"],
                    "deal": r["deal_id"] or "",
                    "deal_name": r["deal_name"] or "",
                    "deal_href": self.deal_link(r["deal_id"]),
                    "owner": r["owner"] or "",
                    "owner_href": self.owner_link(r["owner"]),
                    "team": r["team"] or "",
                    "team_href": self.group_link(r["team"]) if self.group_column == "team" else None,
                    "stage": r["stage"] or "",
                    "amount": amount(r["amount"]),
                    "amount_sort": r["amount"] if r["amount"] is not None else -1,
                    "message": r["message"],
                    "row": r["row"],
                }
            )
        distinct = lambda key: sorted({row[key] for row in rows if row[key]})  # noqa: E731
        return {
            "rows": rows,
            "total": findings.height,
            "note": _note(len(rows), findings.height, "findings"),
            "filters": {"code": distinct("code"), "severity": [s for s in SEVERITIES if any(r["severity"] == s for r in rows)], "owner": distinct("owner"), "team": distinct("team")},
        }

    # Drill-down panels -------------------------------------------------------------------
    def drill(self) -> dict[str, Any]:
        f = self.figures
        groups = []
        if self.group_column is not None:
            key = self.group_column
            for row in f.groups()[key].head(self.limit).iter_rows(named=True):
                reps = f.owners.filter(pl.col("owner").is_in(self.owners_of(key, row[key])))
                groups.append({"anchor": anchor("group", row[key]), "name": row[key], "label": GROUP_LABELS[key], "summary": self.group_row(row, key), "reps": [self.group_row(r, "owner") for r in reps.iter_rows(named=True)]})
        wanted = list(self.linked_deals)
        deal_table = f.deals.filter(pl.col("id").is_in(wanted)).unique("id", keep="first", maintain_order=True).sort("id")
        history = self.report.history_figures
        changes = history.changes_of(deal_table.get_column("id").to_list()) if history is not None else {}
        deals = []
        for d in deal_table.iter_rows(named=True):
            row = self.deal_row(d)
            row.update(
                {
                    "anchor": anchor("deal", d["id"]),
                    "account": d["account"] or "",
                    "team": d["team"],
                    "close_date": d["close_date"].isoformat() if d["close_date"] else "—",
                    "probability": "—" if d["probability"] is None else f"{d['probability']:.0f}%",
                    "open": d["open"],
                    "row": d["row"],
                    "back_href": self.owner_link(d["owner"]) if d["owner"] in self.linked_owners else None,
                    "changes": list(changes.get(d["id"], ())),
                }
            )
            deals.append(row)
        # Rep panels last: every owner linked so far gets one; their deal lists make no new deal panels.
        self.accepting_deals = False
        owners_table = {r["owner"]: r for r in f.owners.filter(pl.col("owner").is_in(list(self.linked_owners))).iter_rows(named=True)}
        reps = []
        for owner in sorted(self.linked_owners):
            to_fix, total = self.owner_deals_to_fix(owner)
            row = owners_table.get(owner)
            reps.append(
                {
                    "anchor": anchor("rep", owner),
                    "name": owner,
                    "group_href": self.group_link(row.get("team")) if row and self.group_column == "team" else None,
                    "group": row.get("team") if row else None,
                    "summary": self.group_row(row, "owner") if row else None,
                    "deals": [self.compact_deal_row(d) for d in to_fix.head(DEALS_PER_GROUP).iter_rows(named=True)],
                    "more_deals": max(total - DEALS_PER_GROUP, 0),
                }
            )
        return {"groups": groups, "reps": reps, "deals": deals}

    def context(self) -> dict[str, Any]:
        views = {
            "leadership": self.leadership(),
            "manager": self.manager(),
            "rep": self.rep(),
            "ops": self.ops(),
            "findings": self.all_findings(),
        }
        # Drill-down panels last: every view above has registered the reps and deals it links.
        drill = self.drill()
        self._fill_problems()
        return {"header": header(self.report), "views": views, "drill": drill, "limit": self.limit}


def _rows_by(frame: pl.DataFrame, key: str, *, keep_order: bool = False):
    """``(value, rows)`` per value of ``key``, in first-appearance order."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in frame.iter_rows(named=True):
        grouped.setdefault(row[key], []).append(row)
    return list(grouped.items())


def _frames_by(frame: pl.DataFrame, key: str):
    return [(name[0], part) for name, part in frame.partition_by(key, as_dict=True, maintain_order=True).items()]
