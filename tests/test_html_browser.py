"""The HTML report in a real headless Chromium: local and quiet, every view by its tab, filters, drill-down, hostile text inert.

The ``browser_page`` fixture aborts and records any request that is not a
local file, and fails the test at teardown on any console error, page
error or dialog: each test here also proves the page made no request.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

import pytest

from _cli_audit import run_audit, source_config, write_config
from hygiene import html_text
from hygiene.testing import audit_deals
from hygiene_plugins.reporters.html import HtmlReporter

REPOSITORY = Path(__file__).resolve().parents[1]
REAL_DATA = REPOSITORY.parent / "shared" / "data" / "real"
APEX_FUZZ_OPPORTUNITIES = REAL_DATA / "salesforce_apex_recipes_fuzz" / "Opportunities.csv"
APEX_FUZZ_SHA256 = "64299cbcf43ba20a0962fdc095b8c4ec5676212f938691c1bcbf908dbaddc9eb"
VIEWS = ("leadership", "manager", "rep", "ops", "findings")
AS_OF = "2026-03-31"

#: Text that would run, fetch, restyle or reorder the page if it were not escaped.
PAYLOADS = (
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned = 'img'\">",
    "javascript:window.__pwned = 'link'",
    "\u202eevil\u202c bidi override",
    "</style><style>body{display:none}</style>",
    "</script><script>window.__pwned = 'close-script'</script>",
    "<svg onload=\"window.__pwned = 'svg'\">",
)


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory) -> Path:
    """The sample audit (hygiene.toml and examples/pipeline.csv) as an HTML report, through the command line."""
    folder = tmp_path_factory.mktemp("sample")
    page = folder / "report.html"
    result = run_audit(REPOSITORY / "hygiene.toml", f"--format=html:{page}", as_of="2026-11-16")
    assert result.exit_code == 1, result.output
    return page


def write_page(report, path: Path) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        HtmlReporter().write(report, stream)
    return path


def visible_views(page) -> list[str]:
    return [view for view in VIEWS if page.is_visible(f"#view-{view}")]


def test_every_view_is_reachable_by_clicking_its_tab(browser_page, sample_page):
    browser_page.open(sample_page)
    page = browser_page.page
    assert visible_views(page) == ["leadership"]
    assert page.locator("#view-leadership svg").count() >= 5
    for view in VIEWS:
        page.click(f"label[for=tab-{view}]")
        assert visible_views(page) == [view]
        browser_page.screenshot(f"view-{view}")
    assert sorted(p.name for p in browser_page.screenshots.iterdir()) == sorted(f"view-{view}.png" for view in VIEWS)


def test_the_findings_filter_narrows_the_table_and_search_finds_text(browser_page, sample_page):
    browser_page.open(sample_page)
    page = browser_page.page
    page.click("label[for=tab-findings]")
    rows = page.locator("#findings-table tbody tr")
    total = rows.count()
    assert page.is_visible("#findings-filters") and page.text_content("#findings-count") == f"{total} of {total} shown"
    page.select_option("#findings-filters select[name=code]", "HY002")
    shown = page.locator("#findings-table tbody tr:visible")
    assert 0 < shown.count() < total
    assert set(shown.evaluate_all("rows => rows.map(row => row.dataset.code)")) == {"HY002"}
    page.select_option("#findings-filters select[name=code]", "")
    page.fill("#findings-filters input[name=text]", "Harborview")
    texts = page.locator("#findings-table tbody tr:visible").all_text_contents()
    assert texts and all("Harborview" in text for text in texts)
    assert page.text_content("#findings-count") == f"{len(texts)} of {total} shown"


def test_clicking_a_column_heading_sorts_the_table(browser_page, sample_page):
    browser_page.open(sample_page)
    page = browser_page.page
    page.click("label[for=tab-findings]")
    page.click("#findings-table thead th:nth-child(7) button")  # Amount, ascending
    amounts = page.locator("#findings-table tbody tr td:nth-child(7)").evaluate_all("cells => cells.map(cell => Number(cell.dataset.sort))")
    assert amounts == sorted(amounts) and amounts[0] < amounts[-1]
    page.click("#findings-table thead th:nth-child(7) button")  # and descending
    again = page.locator("#findings-table tbody tr td:nth-child(7)").evaluate_all("cells => cells.map(cell => Number(cell.dataset.sort))")
    assert again == sorted(amounts, reverse=True)


def test_drill_down_goes_team_to_rep_to_deal_and_back(browser_page, sample_page):
    browser_page.open(sample_page)
    page = browser_page.page
    page.click("label[for=tab-manager]")
    team = page.locator("#view-manager article.group h3 a").first
    team_name = team.text_content()
    team.click()
    panel = page.locator(".drill:target")
    assert panel.locator("h2").text_content() == f"Team {team_name}"
    rep = panel.locator("tbody th a").first
    rep_name = rep.text_content()
    rep.click()
    assert page.locator(".drill:target h2").text_content().startswith(rep_name)
    deal = page.locator(".drill:target tbody th a").first
    deal_id = deal.text_content()
    deal.click()
    assert page.locator(".drill:target h2").text_content().startswith(deal_id)
    assert page.locator(".drill:target ul.problems li").count() >= 1
    page.click(f".drill:target nav.back a:text('Back to {rep_name}')")
    assert page.locator(".drill:target h2").text_content().startswith(rep_name)
    page.click(f".drill:target nav.back a:text('Back to {team_name}')")
    assert page.locator(".drill:target h2").text_content() == f"Team {team_name}"
    page.click(".drill:target nav.back a:text('Close')")
    assert page.locator(".drill:target").count() == 0 and visible_views(page) == ["manager"]
    browser_page.screenshot("after-drill-down")


def test_hostile_text_renders_as_text_and_no_injected_script_runs(browser_page, tmp_path):
    deals = [
        {"id": f"D{index}", "name": payload, "owner": payload, "team": payload, "stage": payload, "amount": 1000, "close_date": "2026-03-01"}
        for index, payload in enumerate(PAYLOADS)
    ]
    report = audit_deals(deals, rules=["HY003", "HY901"], as_of=AS_OF)
    browser_page.open(write_page(report, tmp_path / "hostile.html"))
    page = browser_page.page
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.is_visible("body") and page.locator("script").count() == 1
    assert page.locator("img, link, iframe, object, embed").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    for view in VIEWS:
        page.click(f"label[for=tab-{view}]")
        browser_page.screenshot(f"hostile-{view}")
    page.click("label[for=tab-findings]")
    text = page.text_content("#findings-table")
    for payload in PAYLOADS:
        # What a reader sees: the text itself, with control characters (a bidi override) shown escaped.
        shown = html.unescape(html_text(payload))
        assert shown in text, shown
    assert page.evaluate("() => window.__pwned === undefined")


@pytest.mark.realdata
def test_the_hostile_strings_export_renders_as_text(browser_page, tmp_path):
    if not APEX_FUZZ_OPPORTUNITIES.is_file():
        pytest.skip(f"real CRM exports not found at {APEX_FUZZ_OPPORTUNITIES}: they live beside the repository in shared/data/real/")
    assert hashlib.sha256(APEX_FUZZ_OPPORTUNITIES.read_bytes()).hexdigest() == APEX_FUZZ_SHA256, "not the file PROVENANCE.md describes"
    fields = {"id": "name", "name": "description", "owner": "accountId", "amount": "amount", "stage": "StageName", "close_date": "closedate"}
    config = write_config(tmp_path, source_config(APEX_FUZZ_OPPORTUNITIES, fields))
    page_file = tmp_path / "fuzz.html"
    result = run_audit(config, f"--format=html:{page_file}", as_of="2021-12-31")
    assert result.exit_code == 1, result.output
    browser_page.open(page_file)
    page = browser_page.page
    for view in VIEWS:
        page.click(f"label[for=tab-{view}]")
        assert visible_views(page) == [view]
        browser_page.screenshot(f"fuzz-{view}")
    assert page.locator("img").count() == 0 and page.locator("script").count() == 1
    assert "<img src=x onerror=alert('hi') />" in page.text_content("#findings-table")
