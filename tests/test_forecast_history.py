"""The history figures recover the known truth of a store filled from the seeded synthetic pipeline history.

tests/synthetic_pipeline.py generates two years of weekly snapshots: deals
advance from each stage with a known probability (ADVANCE), sit in it for a
known number of days (DWELL, uniform) and slip by 30 days when overdue. The
store holds all 98 snapshots, as ``hygiene snapshot add`` would have added
them. Each tolerance is stated beside its assertion.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from hygiene.forecast.history import PipelineHistory, read_history
from hygiene.forecast.report import build_forecast
from hygiene.forecast.settings import ForecastSettings
from hygiene.history.store import AuditRun, HistoryStore, StoreLocation, version_rows
from synthetic_pipeline import ADVANCE, DWELL, SKILL, STAGE_WIN_RATE, STAGES, fill_store, generate, snapshot_frame
from test_forecast_synthetic import STAGE_OBJECTS

HISTORY = generate()
AS_OF = HISTORY.end
QUOTAS = {owner: 400_000 for owner in SKILL}
SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "hygiene" / "schemas" / "forecast.schema.json").read_text(encoding="utf-8"))
#: Audit runs every four weeks over the last year, for the backtest.
RUN_DATES = [d for d in list(HISTORY.weeks())[::4] if d >= AS_OF - dt.timedelta(days=365)]


def outcome(deal, day: dt.date = AS_OF) -> str:
    if deal.closed <= day:
        return "won" if deal.won else "lost"
    return "open"


def open_on(day: dt.date) -> list:
    return [d for d in HISTORY.deals if d.created <= day < d.closed]


def predictive_flags() -> dict[str, set[str]]:
    """HYX01 flags deals that go on to lose far more often than ones that win; HYX02 flags three deals in ten, whatever they become.

    HYX02 picks deals, not (deal, run) pairs: a flag drawn afresh at every
    run would favour the deals open longest, and those are more often won.
    """
    rng = random.Random(7)
    flags: dict[str, set[str]] = {"HYX01": set(), "HYX02": set()}
    for day in RUN_DATES:
        for deal in open_on(day):
            if rng.random() < (0.5 if outcome(deal) == "lost" else 0.1):
                flags["HYX01"].add(deal.id)
    population = sorted({d.id for day in RUN_DATES for d in open_on(day)})
    flags["HYX02"] = {deal_id for deal_id in population if rng.random() < 0.3}
    return flags


def record_runs(store: HistoryStore, flags: dict[str, set[str]]) -> None:
    for day in RUN_DATES:
        ids = {d.id for d in open_on(day)}
        rows = [(f"{code}-{deal_id}", code, deal_id, "x", "warning", 1) for code, flagged in sorted(flags.items()) for deal_id in sorted(flagged & ids)]
        findings = pl.DataFrame(rows, schema={"fingerprint": pl.String, "code": pl.String, "deal_id": pl.String, "owner": pl.String, "severity": pl.String, "runs": pl.Int64}, orient="row")
        run = AuditRun(as_of=day, recorded_at=f"{day}T00:00:00Z", source="export.csv", hygiene_version="test", deals=len(ids), open_deals=len(ids), findings=len(rows), score=None, open_pipeline=0.0, amount_at_risk=0.0, counts={})
        store.record_audit_run(run, findings)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    location = StoreLocation(url=f"sqlite:///{tmp_path_factory.mktemp('store') / 'history.db'}", display="history.db")
    with HistoryStore.open(location) as opened:
        fill_store(opened, HISTORY)
        record_runs(opened, predictive_flags())
        yield opened


@pytest.fixture(scope="module")
def history(store) -> PipelineHistory:
    return read_history(store, AS_OF)


@pytest.fixture(scope="module")
def document(history):
    export = snapshot_frame(HISTORY.export())
    document = build_forecast(export, as_of=AS_OF, stages=STAGE_OBJECTS, settings=ForecastSettings(), quotas=QUOTAS, history=history)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def test_the_store_holds_every_weekly_snapshot(history):
    assert len(history.snapshot_dates) == 98 and history.snapshot_dates[-1] == AS_OF
    assert history.findings.get_column("as_of").n_unique() == len(RUN_DATES)


def test_stage_conversion_recovers_each_stages_true_win_rate(document):
    conversion = document["win_rates"]["stage_conversion"]
    assert conversion["basis"] == "history"
    rows = {row["stage"]: row for row in conversion["stages"]}
    start = ForecastSettings().window.start(AS_OF)
    closed = [d for d in HISTORY.deals if start <= d.closed <= AS_OF]
    for index, stage in enumerate(STAGES):
        reached = [d for d in closed if len(d.entered) > index or d.won]
        # Exactly the deals that reached the stage and closed in the window ...
        assert rows[stage]["closed"] == len(reached) and rows[stage]["won"] == sum(d.won for d in reached), stage
        # ... and the generator's truth (owners' skills average 1) within 4 points: about two standard errors at Negotiation's n.
        assert abs(rows[stage]["conversion"]["rate"] - STAGE_WIN_RATE[stage]) <= 0.04, stage


def test_the_calibrated_forecast_takes_its_stage_base_from_history(document):
    assert document["forecast"]["method"]["stage_basis"].startswith("stage conversion from history")


def test_the_funnel_recovers_dwell_and_advance_rates(document):
    funnel = document["funnel"]
    assert funnel["snapshots"] == 98 and funnel["suggested_max_days_percentile"] == 80
    for stage, row in zip(STAGES, funnel["stages"]):
        low, high = DWELL[stage]
        assert row["stage"] == stage
        # Every run that entered is accounted for exactly once; deals only move forward.
        assert row["entered"] == row["advanced"] + row["lost"] + row["moved_back"] + row["still_in_stage"] + row["removed"] + row["other_exits"]
        assert row["moved_back"] == 0
        # Dwell is uniform between the bounds: its median within a day and a half of the midpoint.
        assert abs(row["dwell_days"]["median"] - (low + high) / 2) <= 1.5, stage
        # The suggested max_days is the 80th percentile of won deals' dwell: within two days of the uniform's.
        assert abs(row["suggested_max_days"] - (low + 0.8 * (high - low))) <= 2, stage
        # The share that moved on: ADVANCE (owners' skills average 1 at Negotiation) within 5 points.
        assert abs(row["advanced"] / (row["advanced"] + row["lost"]) - ADVANCE[stage]) <= 0.05, stage


def test_calibration_from_history_uses_the_probability_stated_when_the_period_began(document):
    calibration = document["calibration"]
    # The export's closed deals say 0 or 100; history has what they were open at.
    assert calibration["basis"].startswith("the probability each deal was open at when the period it closed in began")
    for band in calibration["bands"]:
        if band["n"] >= 100:
            # Owners state the truth on average (biases 0.8 to 1.3 around 1): stated within 10 points of what happened.
            assert abs(band["stated"] - band["actual"]) <= 0.10, band
    owners = {row["key"]: row for row in calibration["owners"]}
    # Di states 0.8 x the truth, Ada 1.3 x: Di under-calls, and Ada calls at least 10 points higher than Di.
    assert owners["Di"]["bias"] < -0.05
    assert owners["Ada"]["bias"] - owners["Di"]["bias"] >= 0.10


def test_a_stage_that_snapshots_miss_is_passed_through_unseen(tmp_path):
    """Snapshots four weeks apart miss short stays: those deals entered and advanced, with no dwell."""
    small = generate(weeks=40, deals_per_week=8)
    with HistoryStore.open(StoreLocation(url=f"sqlite:///{tmp_path / 'sparse.db'}", display="sparse.db")) as store:
        fill_store(store, small, every=4)
        history = read_history(store, small.end)
    document = build_forecast(snapshot_frame(small.export()), as_of=small.end, stages=STAGE_OBJECTS, settings=ForecastSettings(), quotas={}, history=history)
    rows = document["funnel"]["stages"]
    assert sum(row["passed_unseen"] for row in rows) > 0
    for row in rows:
        assert row["entered"] == row["advanced"] + row["lost"] + row["moved_back"] + row["still_in_stage"] + row["removed"] + row["other_exits"]
        assert row["advanced"] >= row["passed_unseen"]


def test_forecast_accuracy_compares_each_past_forecast_with_what_was_won(document):
    accuracy = document["accuracy"]
    periods = {row["period"]: row for row in accuracy["periods"]}
    assert list(periods)[:4] == ["2025-Q3", "2025-Q2", "2025-Q1", "2024-Q4"]
    q3 = periods["2025-Q3"]
    # The newest snapshot on or before the period's first day.
    assert q3["snapshot"] == "2025-06-30"
    # What was won is exactly the generator's won deals closing in the period.
    won = sum(d.amount for d in HISTORY.deals if d.won and dt.date(2025, 7, 1) <= d.closed <= dt.date(2025, 9, 30))
    assert q3["actual"] == won
    recent = [periods[p] for p in ("2025-Q3", "2025-Q2", "2025-Q1")]
    for row in recent:
        # A year of history in: the calibrated forecast made at the start lands within 20% of what was won ...
        assert abs(row["calibrated"]["error_share"]) <= 0.2, row["period"]
        # ... while the commit call (only Negotiation deals) misses most of it: the synthetic pipeline's truth.
        assert row["commit_call"]["error_share"] < -0.5, row["period"]
    assert accuracy["overall"]["commit_call"]["bias"] < -0.5
    assert {row["key"] for row in accuracy["owners"]} == set(SKILL)


def test_the_backtest_shows_the_rule_built_to_predict_loss(document):
    flags = predictive_flags()
    backtest = document["backtest"]
    assert backtest["audit_runs"] == len(RUN_DATES)
    rules = {row["code"]: row for row in backtest["rules"]}
    population = {d.id: d for day in RUN_DATES for d in open_on(day)}
    for code, flagged in flags.items():
        mine = [population[i] for i in flagged]
        others = [d for i, d in population.items() if i not in flagged]
        for side, deals in (("flagged", mine), ("not_flagged", others)):
            # Exactly the generator's outcomes (a few lines of plain Python over its deals).
            assert rules[code][side]["deals"] == len(deals)
            for name in ("won", "lost", "open"):
                assert rules[code][side][name] == sum(outcome(d) == name for d in deals), (code, side, name)
    # Flagged deals lose far more often: lift well above 1; a random flag's lift stays near 1.
    assert rules["HYX01"]["lift"] >= 1.4
    assert 0.85 <= rules["HYX02"]["lift"] <= 1.15
    assert backtest["rules"][0]["code"] == "HYX01"


def test_linearity_and_creation_pace_count_the_deals_themselves(document):
    linearity = document["linearity"]
    q3 = next(row for row in linearity["periods"] if row["period"] == "2025-Q3")
    assert q3["won"] == sum(d.amount for d in HISTORY.deals if d.won and dt.date(2025, 7, 1) <= d.closed <= dt.date(2025, 9, 30))
    first_week = sum(d.amount for d in HISTORY.deals if d.won and dt.date(2025, 7, 1) <= d.closed <= dt.date(2025, 7, 7))
    assert q3["won_by_week"][0] == first_week and q3["cumulative"][-1] == q3["won"]
    # As of 2025-11-10 the period is in its sixth week.
    assert linearity["week"] == 6 and len(linearity["periods"][0]["won_by_week"]) == 6
    pace = document["creation_pace"]
    created = [d for d in HISTORY.deals if dt.date(2025, 10, 1) <= d.created <= AS_OF]
    assert pace["this_period"]["deals"] == len(created)
    # 30 deals are created a week.
    assert abs(pace["trailing"]["deals_per_week"] - 30) <= 1


def test_history_figures_with_one_snapshot_say_why(tmp_path):
    small = generate(weeks=3, deals_per_week=3)
    location = StoreLocation(url=f"sqlite:///{tmp_path / 'one.db'}", display="one.db")
    with HistoryStore.open(location) as store:
        store.add_snapshot(version_rows(snapshot_frame(small.export()), []), small.end, source="export.csv", sha256=None, hygiene_version="test", added_at="2024-01-22T00:00:00Z")
        history = read_history(store, small.end)
    assert history.snapshot_dates == (small.end,)
    document = build_forecast(snapshot_frame(small.export()), as_of=small.end, stages=STAGE_OBJECTS, settings=ForecastSettings(), quotas={}, history=history)
    for key in ("accuracy", "funnel", "backtest"):
        assert "1 snapshot(s)" in document[key]["reason"], key
    assert "1 snapshot(s)" in document["win_rates"]["stage_conversion"]["reason"]


def test_the_forecast_command_reads_the_configured_store(make_deals, hygiene_config, hygiene_cli, tmp_path, store_url):
    """On SQLite and PostgreSQL: the command finds the store and its figures count what the snapshots hold."""
    small = generate(weeks=30, deals_per_week=6)
    with HistoryStore.open(StoreLocation(url=store_url, display="store")) as store:
        fill_store(store, small)
    make_deals(small.export())
    hygiene_config({"history": {"url": store_url}, "pipeline": {"stages": [{"name": s, "probability": round(STAGE_WIN_RATE[s] * 100, 2)} for s in STAGES] + [{"name": "Closed Won", "probability": 100, "closed": True, "won": True}, {"name": "Closed Lost", "probability": 0, "closed": True}]}})
    result = hygiene_cli("forecast", "deals.csv", "--as-of", small.end.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["history"]["snapshots"] == 31
    start = ForecastSettings().window.start(small.end)
    entered = sum(1 for d in small.deals if start <= d.created <= small.end)
    # Prospecting runs begin on the day each deal was created (its recorded stage entry); weekly snapshots see every stay.
    assert document["funnel"]["stages"][0]["entered"] == entered and document["funnel"]["stages"][0]["passed_unseen"] == 0
    console = hygiene_cli("forecast", "deals.csv", "--as-of", small.end.isoformat())
    assert "Stage funnel over the trailing window (31 snapshots since 2024-01-01)" in console.output
    assert "Stage conversion" in console.output


def test_without_a_store_the_history_figures_say_so(make_deals, hygiene_config, hygiene_cli):
    make_deals(HISTORY.export()[:50])
    hygiene_config({})
    document = json.loads(hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF.isoformat(), "--format", "json").output)
    assert "needs a history store" in document["history"]["reason"]
    assert "needs a history store" in document["funnel"]["reason"]


# --- the HTML page --------------------------------------------------------------------------------

HOSTILE = "<script>window.__pwned = 1</script>\u202eEvil"


@pytest.fixture(scope="module")
def page(document, tmp_path_factory) -> Path:
    from hygiene.forecast.html import render_html

    path = tmp_path_factory.mktemp("page") / "forecast.html"
    path.write_text(render_html(document), encoding="utf-8")
    return path


def test_the_page_is_deterministic_and_self_contained(document, page):
    from hygiene.forecast.html import render_html

    text = page.read_text(encoding="utf-8")
    assert render_html(document) == text
    # Nothing to fetch: no external reference of any kind, and a policy that forbids requests and scripts.
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in text
    assert "<script" not in text and "default-src 'none'" in text
    for title in ("Stage funnel over the trailing window", "Forecast accuracy", "Rule backtest", "Linearity", "Stage conversion"):
        assert title in text, title


def test_export_text_is_escaped_on_the_page(document):
    from hygiene.forecast.html import render_html

    hostile = json.loads(json.dumps(document))
    hostile["source"] = HOSTILE
    for group in hostile["forecast"]["groups"]:
        group["key"] = HOSTILE
    text = render_html(hostile)
    assert "<script>" not in text and "&lt;script&gt;" in text
    # A bidi override is shown escaped, never applied.
    assert "\u202e" not in text


def test_the_page_in_a_browser_is_quiet_with_titled_charts(browser_page, page):
    browser_page.open(page)
    view = browser_page.page
    charts = view.locator("svg[role=img]")
    assert charts.count() == 5
    for index in range(charts.count()):
        chart = charts.nth(index)
        # Every chart has a title and a text alternative that states its numbers.
        assert chart.locator("title").first.text_content()
        assert any(ch.isdigit() for ch in chart.locator("desc").text_content())
    # The inline style applied (the policy allows it by hash): headings are bold, tables collapsed.
    assert view.evaluate("getComputedStyle(document.querySelector('table')).borderCollapse") == "collapse"
    assert view.locator("h2", has_text="Rule backtest").count() == 1
    browser_page.screenshot("forecast")


def test_a_deal_gone_from_the_exports_is_removed_not_lost(tmp_path):
    small = generate(weeks=12, deals_per_week=5)
    weeks = list(small.weeks())
    last = small.snapshot(weeks[-1])
    gone = next(row for row in last if row["stage"] in STAGES)
    with HistoryStore.open(StoreLocation(url=f"sqlite:///{tmp_path / 'gone.db'}", display="gone.db")) as store:
        for day in weeks:
            rows = [row for row in small.snapshot(day) if day != weeks[-1] or row["id"] != gone["id"]]
            store.add_snapshot(version_rows(snapshot_frame(rows), []), day, source="export.csv", sha256=None, hygiene_version="test", added_at="x")
        history = read_history(store, small.end)
    from hygiene.forecast.history import outcomes

    final = outcomes(history, STAGE_OBJECTS)
    assert final.filter(pl.col("deal_id") == gone["id"]).get_column("outcome").to_list() == ["removed"]
    document = build_forecast(snapshot_frame([r for r in last if r["id"] != gone["id"]]), as_of=small.end, stages=STAGE_OBJECTS, settings=ForecastSettings(min_deals=1), quotas={}, history=history)
    # Last seen the week before, in the stage it had then.
    seen = next(r for r in small.snapshot(weeks[-2]) if r["id"] == gone["id"])
    row = next(r for r in document["funnel"]["stages"] if r["stage"] == seen["stage"])
    assert row["removed"] == 1
    # Never counted as lost: it is not among the closed deals of any stage's conversion.
    closed = sum(1 for d in small.deals if d.closed <= small.end)
    assert document["win_rates"]["stage_conversion"]["stages"][0]["closed"] == closed
