"""The HTML report: one self-contained, deterministic page with five views, charts and drill-down."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
from html.parser import HTMLParser

import polars as pl
import pytest

from hygiene import HistoryFigures, ReporterSettings
from hygiene.testing import audit_deals
from hygiene_plugins.reporters.html import HtmlReporter

AS_OF = "2026-03-31"
VIEWS = ("leadership", "manager", "rep", "ops", "findings")


def deal(id, owner="Ada", **fields):
    return {"id": id, "name": f"Deal {id}", "owner": owner, "team": "EMEA", "stage": "Proposal", "amount": 1000, "close_date": "2026-03-15", "stage_entered_date": "2026-03-20", **fields}


DEALS = [
    deal("D1", stage_entered_date="2025-01-01", amount=9000),
    deal("D2", "Bob", team="Americas", close_date="2026-03-01", amount=4000),
    deal("D3", "Bob", team="Americas", close_date="2026-06-30"),
    deal("D4", "Cy", team=None, close_date=None, amount=None),
    deal("W1", stage="Closed Won", close_date="2026-02-01", amount=2500),
]


def render(report, rows_per_view: int = 500) -> str:
    reporter = HtmlReporter()
    reporter.settings = ReporterSettings(rows_per_view=rows_per_view)
    buffer = io.StringIO()
    reporter.write(report, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def report():
    return audit_deals(DEALS, rules=["HY001", "HY002", "HY003", "HY004"], quotas={"Ada": 20000, "Bob": 5000}, as_of=AS_OF)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_the_page_has_the_five_views_each_reachable_by_a_tab(report):
    page = parse(render(report))
    ids = {attrs.get("id") for _, attrs in page.tags}
    for view in VIEWS:
        assert f"view-{view}" in ids and f"tab-{view}" in ids
    labels = [attrs["for"] for tag, attrs in page.tags if tag == "label" and attrs.get("for", "").startswith("tab-")]
    assert labels == [f"tab-{view}" for view in VIEWS]


def test_the_page_requests_nothing_and_runs_only_its_own_script(report):
    html = render(report)
    page = parse(html)
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        if tag == "link":
            pytest.fail("a <link> element would fetch something")
        href = attrs.get("href")
        assert href is None or href.startswith("#"), href
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/2000/svg)", html)
    # The policy allows exactly the page's one script, by hash: an injected one could not run.
    (script,) = page.scripts
    policy = next(attrs["content"] for tag, attrs in page.tags if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy and "default-src 'none'" in policy


def test_the_header_shows_the_figures_everyone_needs(report):
    html = render(report)
    assert "as of <b>2026-03-31</b>" in html and "period <b>2026-Q1</b>" in html
    # Open pipeline: 9,000 + 4,000 + 1,000 (D4 has no amount); at risk: D1 (stale), D2 (past due), D4 (no close date, no amount).
    assert re.search(r'data-figure="open_amount"><dt>Open pipeline</dt><dd><span class="value">14,000</span>', html)
    assert re.search(r'data-figure="amount_at_risk"><dt>Amount at risk</dt><dd><span class="value">13,000</span>', html)
    assert re.search(r'data-figure="score"><dt>Hygiene score</dt><dd><span class="value">25.0%</span>', html)


def test_a_figure_that_cannot_be_computed_says_why_instead_of_zero():
    report = audit_deals([deal("D1", amount=None)], rules=["HY004"], quotas={"Ada": 1000}, as_of=AS_OF)
    html = render(report)
    assert re.search(r'data-figure="coverage"><dt>Coverage</dt><dd><span class="value">not evaluable</span><small>no open deal closing in the period has an amount</small>', html)
    assert "0.00x" not in html


def test_every_chart_has_a_title_and_a_text_alternative(report):
    html = render(report)
    charts = re.findall(r"<svg [^>]*aria-labelledby=\"(chart-[\w-]+)-title \1-desc\">\s*<title id=\"\1-title\">([^<]+)</title>\s*<desc id=\"\1-desc\">([^<]+)</desc>", html)
    titles = {title for _, title, _ in charts}
    assert {"Coverage against quota by team", "Hygiene score by team", "Open pipeline by stage: deals", "Open pipeline by stage: amount", "Amount at risk by rule"} <= titles
    assert html.count("<svg ") == len(charts)
    risk = next(desc for key, _, desc in charts if key == "chart-risk-by-rule")
    assert "HY001 stale-stage 9,000" in risk


def test_drill_down_links_lead_to_panels_with_a_way_back(report):
    page = parse(render(report))
    ids = {attrs.get("id") for _, attrs in page.tags}
    links = {attrs["href"][1:] for tag, attrs in page.tags if tag == "a" and attrs.get("href", "").startswith("#") and attrs["href"] != "#top"}
    assert links <= ids, links - ids
    panels = [attrs["id"] for tag, attrs in page.tags if tag == "section" and "drill" in (attrs.get("class") or "")]
    assert any(p.startswith("group-") for p in panels) and any(p.startswith("rep-") for p in panels) and any(p.startswith("deal-") for p in panels)
    html = render(report)
    # A deal's panel names its findings and goes back to its owner.
    d1 = html[html.index('aria-label="Deal D1"') :]
    d1 = d1[: d1.index("</section>")]
    assert "HY001 stale-stage" in d1 and "Back to Ada" in d1


def test_the_rep_view_lists_each_owners_deals_with_the_fix(report):
    html = render(report)
    rep = html[html.index('id="view-rep"') : html.index('id="view-ops"')]
    bob = rep[rep.index(">Bob<") :]
    assert "D2" in bob[: bob.index("</article>")] and "D1" not in bob[: bob.index("</article>")]
    assert "Either the deal closed" in bob  # HY003's Fix, as a coaching prompt


def test_views_degrade_without_team_column():
    report = audit_deals([{**deal("D1", close_date="2026-03-01"), "team": None}], rules=["HY003"], as_of=AS_OF)
    html = render(report)
    assert "The export has no team, manager or region column: figures are per owner." in html
    assert "Hygiene score by owner" in html


def test_large_audits_show_the_first_n_rows_per_view_with_a_note(report):
    html = render(report, rows_per_view=2)
    findings = html[html.index('id="view-findings"') :]
    assert findings.count("<tr data-code=") == 2
    assert f"Showing the first 2 of {report.findings.height:,} findings; the JSON and CSV reports" in findings
    assert report.findings.height > 2


def test_export_text_is_escaped_everywhere():
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&'
    report = audit_deals([deal("D1", name=hostile, owner=hostile, team=hostile, close_date="2026-03-01")], rules=["HY003"], as_of=AS_OF)
    html = render(report)
    assert "<script>alert" not in html and "<img" not in html
    # Escaped by the project's HTML policy (hygiene.html_text): entities, and control characters shown.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#x27;&amp;" in html


def test_the_same_audit_gives_the_same_bytes(report):
    again = audit_deals(DEALS, rules=["HY001", "HY002", "HY003", "HY004"], quotas={"Ada": 20000, "Bob": 5000}, as_of=AS_OF)
    assert render(report) == render(again)


def test_without_history_nothing_about_earlier_runs_is_shown(report):
    html = render(report)
    assert "Since earlier runs" not in html and "since the run of" not in html


def test_history_when_present_shows_changes_waterfall_and_trend(report):
    import attrs

    history = HistoryFigures(
        previous={"as_of": "2026-03-24", "open_amount": 10000.0, "amount_at_risk": 15000.0, "score": 0.5},
        waterfall=[("Start", 10000.0), ("Created", 6000.0), ("Lost", -2000.0), ("End", 14000.0)],
        trend=[(dt.date(2026, 3, 17), 0.4, 9000.0), (dt.date(2026, 3, 24), 0.5, 10000.0)],
        deal_changes=pl.DataFrame({"deal_id": ["D1"], "date": [dt.date(2026, 3, 20)], "field": ["amount"], "before": ["8,000"], "after": ["9,000"]}),
    )
    html = render(attrs.evolve(report, history_figures=history))
    assert "Changes are since the run of 2026-03-24." in html
    assert '<span class="delta good" title="since the run of 2026-03-24">▲ 4,000</span>' in html  # open pipeline up
    assert '<span class="delta good" title="since the run of 2026-03-24">▼ 2,000</span>' in html  # amount at risk down
    assert '<span class="delta bad" title="since the run of 2026-03-24">▼ 25.0 pts</span>' in html  # score down
    assert "Pipeline flow in 2026-Q1" in html and "Hygiene score by run" in html and "Open pipeline by run" in html
    assert "2026-03-20: amount 8,000 → 9,000" in html
