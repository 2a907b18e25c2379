"""The pipeline waterfall between two snapshots, and the trend of audit runs.

Every test that reads a store runs against each database in ``store_url``
(SQLite, and a real PostgreSQL server).
"""

from __future__ import annotations

import datetime as dt
import json
from importlib.resources import files

import jsonschema
import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hygiene.api.errors import HygieneError
from hygiene.history import schema
from hygiene.history.flow import BUCKETS, identity_holds, pipeline_flow
from hygiene.history.render import render_flow, sparkline
from hygiene.history.store import HistoryStore, StoreLocation, version_rows
from hygiene.api.stages import StageTable

SCHEMA = {"id": pl.String, "stage": pl.String, "amount": pl.Float64, "close_date": pl.Date, "owner": pl.String, "team": pl.String}
KW = dict(source="deals.csv", sha256=None, hygiene_version="test", added_at="2026-01-01T00:00:00+00:00")
D1, D2 = dt.date(2026, 11, 2), dt.date(2026, 11, 16)


def flow_schema():
    return json.loads(files("hygiene").joinpath("schemas/flow.schema.json").read_text(encoding="utf-8"))


def store_with(url: str, first: list[tuple], second: list[tuple]) -> HistoryStore:
    store = HistoryStore.open(StoreLocation(url=url, display="flow store"))
    with store.engine.begin() as connection:
        # One database per test: emptied for each hypothesis example.
        for table in (schema.deal_versions, schema.snapshots, schema.audit_findings, schema.audit_runs):
            connection.execute(sa.delete(table))
    for day, rows in ((D1, first), (D2, second)):
        store.add_snapshot(version_rows(pl.DataFrame(rows, schema=SCHEMA, orient="row"), []), day, **KW)
    return store


FIRST = [
    ("GROW", "Proposal", 100.10, dt.date(2026, 12, 1), "Ada", "East"),
    ("SHRINK", "Proposal", 100.0, dt.date(2026, 12, 1), "Ada", "East"),
    ("WIN", "Negotiation", 50.0, dt.date(2026, 11, 30), "Bob", "West"),
    ("LOSE", "Proposal", 30.0, None, "Bob", "West"),
    ("GONE", "Prospecting", 20.0, None, "Bob", "West"),
    ("REOPEN", "Closed Lost", 40.0, None, "Ada", "East"),
    ("NULL", "Proposal", None, None, "Ada", "East"),
]
SECOND = [
    ("GROW", "Proposal", 150.35, dt.date(2027, 1, 15), "Ada", "East"),
    ("SHRINK", "Proposal", 60.0, dt.date(2026, 11, 20), "Ada", "East"),
    ("WIN", "Closed Won", 55.0, dt.date(2026, 11, 14), "Bob", "West"),
    ("LOSE", "Closed Lost", 30.0, None, "Bob", "West"),
    ("REOPEN", "Qualification", 45.0, None, "Ada", "East"),
    ("NEW", "Prospecting", 10.0, None, "Cy", "West"),
    ("NULL", "Proposal", 5.0, None, "Ada", "East"),
]


def test_every_bucket_follows_its_definition(store_url):
    with store_with(store_url, FIRST, SECOND) as store:
        flow = pipeline_flow(store, D1, D2, StageTable())
    buckets = {name: (b["count"], b["amount"]) for name, b in flow["buckets"].items()}
    assert buckets == {
        "beginning": (6, 300.1),  # GROW, SHRINK, WIN, LOSE, GONE, NULL (null counts 0), at their D1 amounts
        "created": (2, 55),  # REOPEN (reopened, 45) and NEW (10), at D2 amounts
        "increased": (3, 60.25),  # GROW +50.25, WIN +5, NULL +5
        "decreased": (1, 40),  # SHRINK -40
        "won": (1, 55),
        "lost": (1, 30),
        "removed": (1, 20),
        "ending": (5, 270.35),
    }
    assert (flow["pushed"]["count"], flow["pulled_in"]["count"]) == (1, 1)
    assert identity_holds(flow)
    jsonschema.validate(flow, flow_schema())


def test_grouped_by_owner_each_group_reconciles_too(store_url):
    with store_with(store_url, FIRST, SECOND) as store:
        flow = pipeline_flow(store, D1, D2, StageTable(), by="owner")
    assert [group["key"] for group in flow["groups"]] == ["Ada", "Bob", "Cy"]
    assert all(identity_holds(group) for group in flow["groups"])
    for name in BUCKETS:
        assert sum(group["buckets"][name]["count"] for group in flow["groups"]) == flow["buckets"][name]["count"]


def test_dates_must_be_snapshots(store_url):
    with store_with(store_url, FIRST, SECOND) as store, pytest.raises(HygieneError, match=r"^--from 2026-11-03: no snapshot of that date"):
        pipeline_flow(store, dt.date(2026, 11, 3), D2, StageTable())


def test_owner_names_cannot_drive_the_terminal_or_format_markdown(store_url):
    hostile = [("X", "Proposal", 1.0, None, "\x1b[2J*Eve*|", "T")]
    with store_with(store_url, hostile, hostile) as store:
        flow = pipeline_flow(store, D1, D2, StageTable(), by="owner")
    assert "\x1b" not in render_flow(flow, "console")
    markdown = render_flow(flow, "markdown")
    assert "\\*Eve\\*\\|" in markdown and "\x1b" not in markdown


_AMOUNTS = st.one_of(st.none(), st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False).map(float))
_DEAL = st.tuples(st.sampled_from(["Prospecting", "Proposal", "Closed Won", "Closed Lost", "Mystery"]), _AMOUNTS, st.sampled_from(["Ada", "Bob", None]))
_SNAPSHOT = st.dictionaries(st.sampled_from([f"D{i}" for i in range(12)]), _DEAL, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_SNAPSHOT, second=_SNAPSHOT)
def test_the_waterfall_identity_holds_exactly_for_any_two_snapshots(store_url, first, second):
    rows = lambda deals: [(i, stage, amount, None, owner, "T") for i, (stage, amount, owner) in sorted(deals.items())]  # noqa: E731
    with store_with(store_url, rows(first), rows(second)) as store:
        flow = pipeline_flow(store, D1, D2, StageTable(), by="owner")
    assert identity_holds(flow)
    assert all(identity_holds(group) for group in flow["groups"])


def test_a_sparkline_spans_low_to_high():
    assert sparkline([0.5, 0.75, 1.0]) == "▁▅█"
    assert sparkline([None, 2.0, 2.0]) == " ▁▁"


def test_flow_and_trend_from_the_command_line(write_csv, hygiene_cli, tmp_path, store_url, monkeypatch):
    (tmp_path / "hygiene.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("HYGIENE_HISTORY_URL", store_url)
    header = ["id", "owner", "stage", "amount", "close_date"]
    write_csv([header, ["A", "Ada", "Proposal", 100, "2026-10-01"]], name="export-2026-11-02.csv")
    write_csv([header, ["A", "Ada", "Closed Won", 120, "2026-10-01"], ["B", "Bob", "Proposal", 10, ""]], name="export-2026-11-09.csv")
    for day in ("2026-11-02", "2026-11-09"):
        assert hygiene_cli("snapshot", "add", f"export-{day}.csv").exit_code == 0
        assert hygiene_cli("audit", f"export-{day}.csv", "--as-of", day, "--exit-zero").exit_code == 0
    result = hygiene_cli("flow", "--from", "2026-11-02", "--to", "2026-11-09", "--format", "json")
    assert result.exit_code == 0, result.output
    flow = json.loads(result.stdout)
    assert flow["buckets"]["won"] == {"count": 1, "amount": 120}
    trend = hygiene_cli("trend", "--format", "json")
    assert [run["as_of"] for run in json.loads(trend.stdout)["runs"]] == ["2026-11-02", "2026-11-09"]
    jsonschema.validate(json.loads(trend.stdout), json.loads(files("hygiene").joinpath("schemas/trend.schema.json").read_text(encoding="utf-8")))
    console = hygiene_cli("trend")
    assert "Hygiene trend, 2 audit runs from 2026-11-02 to 2026-11-09" in console.stdout


def test_the_worked_example_three_weekly_snapshots_then_flow_and_trend(run_hygiene, tmp_path):
    """The README's history example, from a copy of the repository's sample."""
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    shutil.copy(repo / "hygiene.toml", tmp_path / "hygiene.toml")
    shutil.copytree(repo / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("ci", "*.py"))
    for export, day in (("examples/history/pipeline-2026-11-02.csv", "2026-11-02"), ("examples/history/pipeline-2026-11-09.csv", "2026-11-09"), ("examples/pipeline.csv", "2026-11-16")):
        added = run_hygiene("snapshot", "add", export)
        assert added.returncode == 0, added.stderr
        assert f"added snapshot {day}" in added.stdout
        audited = run_hygiene("audit", export, "--as-of", day, "--format", "json", "--output", f"audit-{day}.json")
        assert audited.returncode == 1, audited.stderr  # the sample has errors, every week
    flow = run_hygiene("flow", "--from", "2026-11-02", "--to", "2026-11-16", "--format", "json")
    assert flow.returncode == 0, flow.stderr
    data = json.loads(flow.stdout)
    assert identity_holds(data)
    assert data["buckets"]["created"]["count"] > 0 and data["buckets"]["won"]["count"] > 0 and data["pushed"]["count"] > 0
    report = json.loads((tmp_path / "audit-2026-11-16.json").read_text(encoding="utf-8"))
    assert report["history"]["previous_run"]["as_of"] == "2026-11-09"
    for code in ("HY202", "HY203", "HY204"):
        assert report["summary"]["by_rule"].get(code, 0) > 0, code
    trend = run_hygiene("trend")
    assert trend.returncode == 0 and "3 audit runs from 2026-11-02 to 2026-11-16" in trend.stdout
