"""History in the reports: a store with three weekly snapshots of the sample, audited each week.

The third audit's HTML, workbook, Markdown and console reports show the
change since the previous run, the period's waterfall, the trend of score
and pipeline, and each deal's recent changes; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from hygiene.api.periods import period_containing
from hygiene.history.flow import identity_holds, pipeline_flow
from hygiene.history.report_history import RECENT_CHANGES, deal_changes, flow_range, waterfall_steps
from hygiene.history.store import HistoryStore, StoreLocation
from hygiene.api.stages import StageTable

from conftest import HYGIENE_SCRIPT

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-16"
WEEKS = (
    ("examples/history/pipeline-2026-11-02.csv", "2026-11-02"),
    ("examples/history/pipeline-2026-11-09.csv", "2026-11-09"),
    ("examples/pipeline.csv", "2026-11-16"),
)


def _cli(folder: Path, store_url: str):
    """Run the installed ``hygiene`` in ``folder`` against the store at ``store_url``."""

    def run(*args: object) -> subprocess.CompletedProcess:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": "", "HYGIENE_HISTORY_URL": store_url}
        return subprocess.run([str(HYGIENE_SCRIPT), *map(str, args)], cwd=folder, env=env, capture_output=True, text=True, timeout=120)

    run.store_url = store_url
    run.folder = folder
    return run


def _three_weeks(folder: Path, store_url: str):
    """The sample and its two earlier weeks added as snapshots, the first two audited (their runs recorded); returns a runner."""
    shutil.copy(REPO / "hygiene.toml", folder / "hygiene.toml")
    shutil.copytree(REPO / "examples", folder / "examples", ignore=shutil.ignore_patterns("ci", "*.py"))
    run = _cli(folder, store_url)
    for export, day in WEEKS:
        added = run("snapshot", "add", export)
        assert added.returncode == 0, added.stderr
        if day != AS_OF:
            audited = run("audit", export, "--as-of", day, "--exit-zero", "--format", "json", "--output", f"audit-{day}.json")
            assert audited.returncode == 0, audited.stderr
    return run


@pytest.fixture(scope="module")
def sqlite_weeks(tmp_path_factory) -> Path:
    """:func:`_three_weeks` once per module in a SQLite store; each test audits a copy of it."""
    folder = tmp_path_factory.mktemp("three-weeks")
    _three_weeks(folder, f"sqlite:///{folder / 'store.db'}")
    return folder


@pytest.fixture
def three_weeks(sqlite_weeks, tmp_path):
    folder = tmp_path / "weeks"
    shutil.copytree(sqlite_weeks, folder)
    return _cli(folder, f"sqlite:///{folder / 'store.db'}")


def test_postgresql_and_sqlite_stores_give_the_same_history_in_the_reports(store_url, tmp_path, sqlite_weeks):
    run = _three_weeks(tmp_path, store_url)
    result = run("audit", "--exit-zero", "--format", "json:report.json", "--format", "html:report.html", "--format", "markdown:report.md")
    assert result.returncode == 0, result.stderr
    shutil.copytree(sqlite_weeks, tmp_path / "reference")
    reference = _cli(tmp_path / "reference", f"sqlite:///{tmp_path / 'reference' / 'store.db'}")
    expected = reference("audit", "--exit-zero", "--format", "html:report.html", "--format", "markdown:report.md")
    assert expected.returncode == 0, expected.stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Pipeline flow from 2026-11-02 to 2026-11-16" in html and "Changes are since the run of 2026-11-09." in html
    # The page names its source and nothing of the store: the same history gives the same bytes on either database.
    assert html == (tmp_path / "reference" / "report.html").read_text(encoding="utf-8")
    assert (tmp_path / "report.md").read_text(encoding="utf-8") == (tmp_path / "reference" / "report.md").read_text(encoding="utf-8")


def test_every_report_shows_the_change_since_the_previous_run(three_weeks, tmp_path):
    previous = json.loads((three_weeks.folder / "audit-2026-11-09.json").read_text(encoding="utf-8"))["summary"]
    result = three_weeks(
        "audit", "--exit-zero", "--format", "html:report.html", "--format", "markdown:report.md", "--format", "xlsx:report.xlsx", "--format", "console"
    )
    assert result.returncode == 0, result.stderr
    html = (three_weeks.folder / "report.html").read_text(encoding="utf-8")
    assert "Changes are since the run of 2026-11-09." in html
    for key in ("open_amount", "amount_at_risk", "score"):
        figure = html.split(f'data-figure="{key}"', 1)[1].split("</div>", 1)[0]
        assert 'class="delta' in figure and "since the run of 2026-11-09" in figure, key
    # The waterfall runs from the period's first snapshot to the audited one, and its trend ends with this audit.
    assert "Pipeline flow from 2026-11-02 to 2026-11-16" in html
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        buckets = pipeline_flow(store, dt.date(2026, 11, 2), dt.date(2026, 11, 16), StageTable())["buckets"]
    for day, bucket in (("2026-11-02", "beginning"), ("2026-11-16", "ending")):
        assert f"open at {day} ({buckets[bucket]['count']} deals): {buckets[bucket]['amount']:,.0f}" in html
    assert f"won ({buckets['won']['count']} deals): −{buckets['won']['amount']:,.0f}" in html
    assert "Hygiene score by run" in html and "Open pipeline by run" in html
    assert "2026-11-02" in html.split("Hygiene score by run", 1)[1].split("</figure>", 1)[0]
    markdown = (three_weeks.folder / "report.md").read_text(encoding="utf-8")
    line = next(line for line in markdown.splitlines() if "since the previous run" in line.lower())
    assert "2026-11-09" in line and "score" in line and "open pipeline" in line and "amount at risk" in line and "findings" in line
    console = next(line for line in result.stdout.splitlines() if "since the previous run" in line)
    assert "2026-11-09" in console and "findings" in console
    previous_findings = previous["findings"]
    assert f"{previous_findings:,}" in console  # the previous run's count, beside this one's


def test_the_waterfall_reconciles_and_matches_hygiene_flow(three_weeks):
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        dates = store.snapshot_dates()
        as_of = dt.date(2026, 11, 16)
        span = flow_range(dates, period_containing(as_of, "quarter", 1), as_of)
        assert span == (dt.date(2026, 11, 2), dt.date(2026, 11, 16))
        flow = pipeline_flow(store, *span, StageTable())
    assert identity_holds(flow)
    steps = waterfall_steps(flow)
    assert steps[0][1] == flow["buckets"]["beginning"]["amount"] and steps[-1][1] == flow["buckets"]["ending"]["amount"]
    # The signed steps between the totals add up to the ending, to the cent.
    assert round(sum(amount for _, amount in steps[:-1]) * 100) == round(steps[-1][1] * 100)
    assert [label.split(" (")[0] for label, _ in steps[1:-1]] == ["created", "increased", "decreased", "won", "lost", "removed"]


def test_a_re_run_gives_the_same_html_and_workbook_bytes(three_weeks, tmp_path):
    first = three_weeks("audit", "--exit-zero", "--format", "html:a.html", "--format", "xlsx:a.xlsx")
    second = three_weeks("audit", "--exit-zero", "--format", "html:b.html", "--format", "xlsx:b.xlsx")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert (three_weeks.folder / "a.html").read_bytes() == (three_weeks.folder / "b.html").read_bytes()
    assert (three_weeks.folder / "a.xlsx").read_bytes() == (three_weeks.folder / "b.xlsx").read_bytes()


def test_the_workbook_has_a_history_sheet(three_weeks, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    result = three_weeks("audit", "--exit-zero", "--format", "xlsx:report.xlsx")
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(three_weeks.folder / "report.xlsx")
    assert "History" in book.sheetnames
    cells = [[cell for cell in row] for row in book["History"].iter_rows(values_only=True)]
    texts = [str(c) for row in cells for c in row if c is not None]
    assert "Since the previous run" in texts and "Pipeline flow" in texts and "Trend" in texts and "Deal changes" in texts
    score_row = next(row for row in cells if row[0] == "Hygiene score")
    assert isinstance(score_row[1], float) and isinstance(score_row[2], float)  # real numbers: this run, the previous
    trend_dates = [row[0] for row in cells if isinstance(row[0], dt.datetime)]
    assert [d.date() for d in trend_dates][:3] == [dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)]


def test_a_deals_recent_changes_show_in_its_panel(three_weeks, tmp_path):
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        current = store.deals_as_of(dt.date(2026, 11, 16))
        changes = deal_changes(store, dt.date(2026, 11, 16), current)
    assert changes.height
    # Newest first within a deal, at most RECENT_CHANGES each, and every change is a real change.
    assert changes.group_by("deal_id").len().get_column("len").max() <= RECENT_CHANGES
    assert changes.filter(pl.col("before").eq_missing(pl.col("after"))).height == 0
    amount_change = changes.filter(pl.col("field") == "amount").row(0, named=True)
    result = three_weeks("audit", "--exit-zero", "--format", "html:report.html", "--rows-per-view", "1000")
    assert result.returncode == 0, result.stderr
    html = (three_weeks.folder / "report.html").read_text(encoding="utf-8")
    text = f"{amount_change['date'].isoformat()}: amount {amount_change['before']} → {amount_change['after']}"
    assert text in html


def test_a_narrowed_report_never_shows_whole_pipeline_history(three_weeks, tmp_path):
    result = three_weeks("audit", "--exit-zero", "--team", "EMEA*", "--format", "html:report.html")
    assert result.returncode == 0, result.stderr
    html = (three_weeks.folder / "report.html").read_text(encoding="utf-8")
    # The store's figures of the whole audit are not compared with the narrowed one's: its comparison is its scope's
    # (tests/test_scoped_history.py checks those figures).
    assert "Changes are since the run of 2026-11-09, in this scope." in html
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        buckets = pipeline_flow(store, dt.date(2026, 11, 2), dt.date(2026, 11, 16), StageTable())["buckets"]
    flow = html.split(">Pipeline flow from 2026-11-02 to 2026-11-16: ", 1)[1].split("</desc>", 1)[0]
    assert f"({buckets['ending']['count']} deals) {buckets['ending']['amount']:,.0f}" not in flow
    assert f"({buckets['beginning']['count']} deals) {buckets['beginning']['amount']:,.0f}" not in flow


def test_deal_changes_of_a_deal_seen_once_are_none(tmp_path):
    location = StoreLocation(url=f"sqlite:///{tmp_path / 'store.db'}", display="test store")
    with HistoryStore.open(location) as store:
        current = pl.DataFrame({"id": ["D1"], "stage": ["Prospecting"], "amount": [1000.0]})
        assert deal_changes(store, dt.date(2026, 11, 16), current).height == 0


def test_deal_changes_list_only_audited_deals_against_their_newest_version(tmp_path):
    """Changes between stored versions and from the newest one to the export; a deal gone from the export, or new in it, has none listed."""
    day = dt.date.fromisoformat
    versions = pl.DataFrame(
        {
            "deal_id": ["D1", "D1", "D2", "D2", "D3"],
            "valid_from": [day("2026-11-02"), day("2026-11-09"), day("2026-11-02"), day("2026-11-09"), day("2026-11-02")],
            "valid_to": [day("2026-11-09"), None, day("2026-11-09"), None, None],
            "stage": ["Prospecting", "Proposal", "Proposal", "Proposal", "Prospecting"],
            "amount": [100.0, 100.0, 50.0, 60.0, None],
        }
    )
    # D1 twice in the export: its first row is the audited one. D2 left the export; D4 is new.
    current = pl.DataFrame({"id": ["D1", "D3", "D1", "D4"], "stage": ["Negotiation", "Prospecting", "Prospecting", "Proposal"], "amount": [100.0, 2500.0, 1.0, 10.0]})
    with HistoryStore.open(StoreLocation(url=f"sqlite:///{tmp_path / 'store.db'}", display="test store")) as store:
        changes = deal_changes(store, day(AS_OF), current, versions=versions)
    assert changes.rows() == [
        ("D1", day(AS_OF), "stage", "Proposal", "Negotiation"),
        ("D1", day("2026-11-09"), "stage", "Prospecting", "Proposal"),
        ("D3", day(AS_OF), "amount", None, "2,500"),
    ]


def test_no_waterfall_without_two_snapshots_up_to_the_audit():
    period = period_containing(dt.date(2026, 11, 16), "quarter", 1)
    assert flow_range([dt.date(2026, 11, 2)], period, dt.date(2026, 11, 16)) is None
    assert flow_range([dt.date(2026, 11, 2), dt.date(2026, 11, 30)], period, dt.date(2026, 11, 16)) is None
    # A snapshot before the period starts the waterfall at the period's start.
    dates = [dt.date(2026, 9, 1), dt.date(2026, 9, 28), dt.date(2026, 10, 5), dt.date(2026, 11, 16)]
    assert flow_range(dates, period, dt.date(2026, 11, 16)) == (dt.date(2026, 9, 28), dt.date(2026, 11, 16))


def test_the_waterfall_and_trend_render_in_a_browser(three_weeks, browser_page):
    result = three_weeks("audit", "--exit-zero", "--format", "html:report.html")
    assert result.returncode == 0, result.stderr
    browser_page.open(three_weeks.folder / "report.html")
    page = browser_page.page
    page.click("label[for=tab-leadership]")
    waterfall = page.locator("#chart-waterfall svg")
    assert waterfall.is_visible()
    # Two totals and six signed steps, each a bar the browser lays out; the totals have width.
    bars = waterfall.locator("rect")
    assert bars.count() == 8
    assert bars.first.bounding_box()["width"] > 0 and bars.last.bounding_box()["width"] > 0
    for key in ("trend-score", "trend-pipeline"):
        chart = page.locator(f"#chart-{key} svg")
        assert chart.is_visible()
        assert chart.locator("polyline").count() == 1 and chart.locator("circle").count() == 3  # three runs, this one last
    box = page.locator("[data-figure=score] .delta").bounding_box()
    assert box is not None and box["width"] > 0
    browser_page.screenshot("leadership-with-history")
    assert browser_page.problems() == []


def test_the_figures_from_the_audits_versions_are_the_figures_from_the_store(three_weeks):
    """The audit passes the versions it read for its derivations: the waterfall and the deal changes come out the same."""
    from hygiene.history.derive import SEQUENCE_COLUMNS
    from hygiene.history.report_history import REPORT_VERSION_COLUMNS, history_figures

    as_of = dt.date(2026, 11, 16)
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        current = store.deals_as_of(as_of)
        read = store.versions([*SEQUENCE_COLUMNS, *REPORT_VERSION_COLUMNS], before=as_of + dt.timedelta(days=1))
        common = dict(as_of=as_of, period=period_containing(as_of, "quarter", 1), stages=StageTable(), deals=current, score=0.5, open_amount=1000.0)
        from_store = history_figures(store, **common)
        from_versions = history_figures(store, **common, versions=read)
    assert from_store.waterfall and from_store.deal_changes.height
    assert from_versions.waterfall == from_store.waterfall and from_versions.waterfall_range == from_store.waterfall_range
    assert from_versions.deal_changes.equals(from_store.deal_changes)


def test_only_what_a_requested_report_shows_is_built(three_weeks):
    """JSON shows no history figures, console and Markdown only the previous run: the waterfall's pass over the versions is not made for them."""
    from hygiene.api.reporter import HISTORY_ALL, HISTORY_NONE, HISTORY_PREVIOUS_RUN, Reporter, history_needed
    from hygiene.cli import _history_shown
    from hygiene.history.report_history import history_figures
    from hygiene.plugin.registry import load_registry

    registry = load_registry()
    assert _history_shown(registry, ["json:report.json"]) == HISTORY_NONE
    assert _history_shown(registry, ["console", "json:report.json", "csv:f.csv", "junit:j.xml"]) == HISTORY_PREVIOUS_RUN
    assert _history_shown(registry, ["markdown"]) == HISTORY_PREVIOUS_RUN
    assert _history_shown(registry, ["json:report.json", "html:report.html"]) == HISTORY_ALL
    assert _history_shown(registry, ["xlsx:report.xlsx"]) == HISTORY_ALL
    # A reporter that does not say may show anything: it gets everything.
    assert Reporter.shows_history == HISTORY_ALL and history_needed([]) == HISTORY_NONE

    as_of = dt.date(2026, 11, 16)
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        common = dict(as_of=as_of, period=period_containing(as_of, "quarter", 1), stages=StageTable(), deals=store.deals_as_of(as_of), score=0.5, open_amount=1000.0)
        assert history_figures(store, **common, level=HISTORY_NONE) is None
        previous_only = history_figures(store, **common, level=HISTORY_PREVIOUS_RUN)
        everything = history_figures(store, **common, level=HISTORY_ALL)
    assert previous_only.previous == everything.previous and previous_only.previous["as_of"] == "2026-11-09"
    assert list(previous_only.trend) == list(everything.trend) and len(everything.trend) == 3
    assert not previous_only.waterfall and previous_only.deal_changes.height == 0
    assert everything.waterfall and everything.deal_changes.height


def test_a_json_audit_with_history_keeps_its_history_section(three_weeks):
    """Leaving out the reports' figures leaves the finding statuses and the run's record as they were."""
    result = three_weeks("audit", "--exit-zero", "--format", "json", "--output", "only.json")
    assert result.returncode == 0, result.stderr
    history = json.loads((three_weeks.folder / "only.json").read_text(encoding="utf-8"))["history"]
    assert history["previous_run"]["as_of"] == "2026-11-09" and history["snapshots"] == 3
