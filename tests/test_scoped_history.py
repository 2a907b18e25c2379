"""A narrowed report (``--owner``, ``--team``, ``--manager``) compared with earlier runs in its own scope.

Three weekly snapshots of the sample, the first two audited (see
tests/test_report_history.py). The narrowed report of the third week
shows the change since the previous run, the waterfall and the trend of
the team alone; each figure is checked against what a narrowed audit of
that week's export says, on SQLite and on PostgreSQL, and in a browser.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil

import polars as pl
import pytest

from hygiene.api.figures import HistoryFigures
from hygiene.api.scope import ReportScope
from hygiene.api.stages import StageTable
from hygiene.history.report_history import previous_figures
from hygiene.history.scoped_history import ScopedSnapshots, scoped_run_figures
from hygiene.history.store import HistoryStore, StoreLocation

# The three audited weeks and their fixtures are the history-report tests' own (pytest finds fixtures imported here).
from test_report_history import AS_OF, WEEKS, _cli, _three_weeks, sqlite_weeks, three_weeks  # noqa: F401

TEAM = "EMEA*"


@pytest.fixture(scope="module")
def narrowed_weeks(sqlite_weeks, tmp_path_factory) -> dict[str, dict[str, str]]:
    """What a report narrowed to the team says of each week when that week is audited: the oracle of the comparison."""
    folder = tmp_path_factory.mktemp("scoped-oracle")
    shutil.copytree(sqlite_weeks, folder, dirs_exist_ok=True)
    run = _cli(folder, f"sqlite:///{folder / 'store.db'}")
    weeks = {}
    for export, day in WEEKS:
        result = run("audit", export, "--as-of", day, "--exit-zero", "--team", TEAM, "--format", f"html:week-{day}.html")
        assert result.returncode == 0, result.stderr
        weeks[day] = _header_values((folder / f"week-{day}.html").read_text(encoding="utf-8"))
    return weeks


def _header_values(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)"><dt>[^<]*</dt><dd><span class="value">([^<]*)</span>', html))


def _number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def _narrowed_page(run, *extra: str) -> str:
    result = run("audit", "--exit-zero", "--team", TEAM, "--format", "html:report.html", "--format", "xlsx:report.xlsx", *extra)
    assert result.returncode == 0, result.stderr
    return (run.folder / "report.html").read_text(encoding="utf-8")


def test_a_narrowed_report_is_compared_with_the_previous_run_in_its_scope(three_weeks, narrowed_weeks):
    html = _narrowed_page(three_weeks)
    assert "Changes are since the run of 2026-11-09, in this scope." in html and "no comparison" not in html
    now, before = narrowed_weeks[AS_OF], narrowed_weeks["2026-11-09"]
    assert _header_values(html) == now  # the narrowed report's own figures are unchanged by the comparison
    for key, unit in (("score", " pts"), ("open_amount", "")):
        change = round(_number(now[key]) - _number(before[key]), 1)
        delta = html.split(f'data-figure="{key}"', 1)[1].split("</div>", 1)[0]
        arrow = "▲" if change > 0 else "▼"
        shown = f"{abs(change):.1f}" if key == "score" else f"{abs(change):,.0f}"
        assert f"{arrow} {shown}{unit}</span>" in delta, (key, delta)


def _description(html: str, title: str) -> list[tuple[str, str]]:
    """A chart's text alternative as ``(label, value)`` pairs."""
    text = html.split(f">{title}: ", 1)[1].split("</desc>", 1)[0]
    return [tuple(item.rsplit(" ", 1)) for item in text.split("; ")]


def test_the_narrowed_waterfall_and_trend_are_the_scopes(three_weeks, narrowed_weeks):
    html = _narrowed_page(three_weeks)
    steps = _description(html, "Pipeline flow from 2026-11-02 to 2026-11-16")
    (first, beginning), *changes, (last, ending) = steps
    # The waterfall starts at the team's open pipeline of the first week and ends at this week's, and its steps add up.
    assert first.startswith("open at 2026-11-02 (") and beginning == narrowed_weeks["2026-11-02"]["open_amount"]
    assert last.startswith(f"open at {AS_OF} (") and ending == narrowed_weeks[AS_OF]["open_amount"]
    assert [label.split(" (", 1)[0] for label, _ in changes] == ["created", "increased", "decreased", "won", "lost", "removed"]
    assert _number(beginning) + sum(_number(value.replace("−", "-")) for _, value in changes) == _number(ending)
    assert any(_number(value.replace("−", "-")) for _, value in changes)
    assert _description(html, "Hygiene score by run") == [(day, narrowed_weeks[day]["score"]) for _, day in WEEKS]
    assert _description(html, "Open pipeline by run") == [(day, narrowed_weeks[day]["open_amount"]) for _, day in WEEKS]


def test_the_whole_scope_rebuilds_each_recorded_run_exactly(three_weeks):
    """Narrowed to every owner, a stored run's figures rebuilt from its snapshot and findings are the figures it recorded."""
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        snapshots = ScopedSnapshots(store, ReportScope(owners=("*",)), StageTable(), None)
        runs = store.audit_runs()
        assert len(runs) == 2
        for run in runs:
            assert scoped_run_figures(snapshots, run.as_of, store.run_findings(run.as_of)) == previous_figures(run)


def test_a_run_without_its_snapshot_says_there_is_no_comparison(three_weeks):
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        store.remove_snapshot(dt.date(2026, 11, 9))
    html = _narrowed_page(three_weeks)
    assert "no comparison with the run of 2026-11-09 in this scope: the store has no snapshot of 2026-11-09." in html
    assert "since the run of" not in html
    # The trend keeps the runs that can be rebuilt, this audit last; the waterfall still has both of its snapshots.
    assert [day for day, _ in _description(html, "Hygiene score by run")] == ["2026-11-02", AS_OF]
    assert "Pipeline flow from 2026-11-02 to 2026-11-16" in html


def test_figures_of_another_scope_are_left_out_and_the_report_says_why():
    """Figures of the whole audit are never shown in a report of another scope: the report says why there is no comparison."""
    whole = HistoryFigures(previous={"as_of": "2026-11-09", "score": 0.5}, trend=[(dt.date(2026, 11, 9), 0.5, 10.0), (dt.date(2026, 11, 16), 0.6, 12.0)])
    narrowed = whole.narrowed(pl.Series(["D1"]), ("team EMEA*",))
    assert narrowed.previous is None and not narrowed.trend and not narrowed.waterfall
    assert narrowed.no_comparison == "no comparison: the history store's figures of earlier runs are of another scope"
    scoped = HistoryFigures(previous={"as_of": "2026-11-09"}, scope=("team EMEA*",))
    assert scoped.narrowed(pl.Series(["D1"]), ("team EMEA*",)).previous == {"as_of": "2026-11-09"}


def test_the_workbook_compares_in_the_scope_too(three_weeks, narrowed_weeks):
    openpyxl = pytest.importorskip("openpyxl")
    _narrowed_page(three_weeks)
    sheet = openpyxl.load_workbook(three_weeks.folder / "report.xlsx")["History"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["Since the previous run"][2] == "Previous run (2026-11-09)"
    assert f"{rows['Hygiene score'][2] * 100:.1f}%" == narrowed_weeks["2026-11-09"]["score"]
    assert f"{rows['Open pipeline'][2]:,.0f}" == narrowed_weeks["2026-11-09"]["open_amount"]


def test_postgresql_and_sqlite_give_the_same_narrowed_page(store_url, tmp_path, sqlite_weeks):
    (tmp_path / "pg").mkdir()
    run = _three_weeks(tmp_path / "pg", store_url)
    html = _narrowed_page(run)
    shutil.copytree(sqlite_weeks, tmp_path / "reference")
    reference = _cli(tmp_path / "reference", f"sqlite:///{tmp_path / 'reference' / 'store.db'}")
    assert "Changes are since the run of 2026-11-09, in this scope." in html and "Pipeline flow from 2026-11-02 to 2026-11-16" in html
    assert html == _narrowed_page(reference)


def test_the_narrowed_waterfall_and_trend_render_in_a_browser(three_weeks, narrowed_weeks, browser_page):
    _narrowed_page(three_weeks)
    browser_page.open(three_weeks.folder / "report.html")
    page = browser_page.page
    page.click("label[for=tab-leadership]")
    waterfall = page.locator("#chart-waterfall svg")
    assert waterfall.is_visible()
    assert waterfall.locator("rect").count() == 8
    assert narrowed_weeks[AS_OF]["open_amount"] in waterfall.locator("text").all_text_contents()
    for key in ("trend-score", "trend-pipeline"):
        chart = page.locator(f"#chart-{key} svg")
        assert chart.is_visible()
        assert chart.locator("polyline").count() == 1 and chart.locator("circle").count() == 3
    box = page.locator("[data-figure=score] .delta").bounding_box()
    assert box is not None and box["width"] > 0
    assert page.locator(".meta .scope").inner_text() == f"only team {TEAM}"
    browser_page.screenshot("leadership-narrowed-with-history")
    assert browser_page.problems() == []


def test_a_snapshot_without_the_scopes_column_cannot_be_compared(three_weeks):
    """The sample has no manager column: a manager's comparison is not evaluable, never a pipeline of zero."""
    day = dt.date(2026, 11, 9)
    with HistoryStore.open(StoreLocation(url=three_weeks.store_url, display="test store")) as store:
        snapshots = ScopedSnapshots(store, ReportScope(managers=("Grace*",)), StageTable(), None)
        assert scoped_run_figures(snapshots, day, store.run_findings(day)) == "the snapshot of 2026-11-09 has no manager"
        teams = ScopedSnapshots(store, ReportScope(teams=(TEAM,)), StageTable(), None)
        figures = scoped_run_figures(teams, day, store.run_findings(day))
        assert isinstance(figures, dict) and 0 < figures["open_deals"] < store.audit_runs()[-1].open_deals
