"""``hygiene forecast``: each figure at its boundaries, missing data as reasons, the document's contract."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest

from hygiene.forecast.settings import TrailingWindow
from hygiene.forecast.stats import wilson

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "hygiene" / "schemas" / "forecast.schema.json").read_text(encoding="utf-8"))
AS_OF = "2026-03-31"  # the last day of 2026-Q1


@pytest.fixture
def forecast(make_deals, hygiene_config, hygiene_cli):
    """Forecast ``deals`` with ``config`` as of AS_OF; returns the JSON document (checked against the schema)."""

    def run(deals, config=None, *args):
        make_deals(deals)
        hygiene_config(config or {})
        result = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json", *args)
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
        return document

    return run


def closed(n, won, *, owner="Ada", amount=1000, close="2026-02-01", created="2026-01-01", prefix="C", **extra):
    """``n`` closed deals of which the first ``won`` were won."""
    return [
        {"id": f"{prefix}{i}", "owner": owner, "stage": "Closed Won" if i < won else "Closed Lost", "amount": amount, "close_date": close, "created_date": created, **extra}
        for i in range(n)
    ]


def test_wilson_interval_matches_the_published_formula():
    # 5 of 10: the textbook 95% Wilson interval is 0.2366 to 0.7634.
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 20)
    assert low == 0.0 and round(high, 4) == 0.1611


def test_a_win_rate_needs_min_deals_closed_deals(forecast):
    document = forecast(closed(10, 4, owner="Ada") + closed(9, 9, owner="Bo", prefix="B"))
    owners = {g["key"]: g for g in document["win_rates"]["segments"]["owner"]["groups"]}
    assert owners["Ada"]["by_count"] == {"n": 10, "rate": 0.4, "low": 0.1682, "high": 0.6873}
    assert owners["Bo"]["by_count"] == {"n": 9, "reason": "not enough data (9)"}
    assert owners["Bo"]["by_amount"] == {"n": 9, "reason": "not enough data (9)"}
    assert document["win_rates"]["overall"]["by_count"]["rate"] == round(13 / 19, 4)


def test_min_deals_is_configurable(forecast):
    document = forecast(closed(5, 2), {"forecast": {"min_deals": 5}})
    assert document["win_rates"]["overall"]["by_count"]["rate"] == 0.4
    document = forecast(closed(4, 2), {"forecast": {"min_deals": 5}})
    assert document["win_rates"]["overall"]["by_count"] == {"n": 4, "reason": "not enough data (4)"}


def test_win_rate_by_amount_weighs_deals_by_their_amount(forecast):
    deals = closed(10, 1, amount=1000)
    deals[0]["amount"] = 9000  # the one won deal is 9,000 of 18,000 closed
    amount = forecast(deals)["win_rates"]["overall"]["by_amount"]
    assert amount["rate"] == 0.5
    # Kish's effective n: 18,000^2 / (9,000^2 + 9 x 1,000^2) = 3.6 deals' worth of evidence, so a wide interval.
    assert amount["effective_n"] == 3.6
    low, high = wilson(0.5 * 3.6, 3.6)
    assert (amount["low"], amount["high"]) == (round(low, 4), round(high, 4))


def test_the_trailing_window_includes_its_first_day_and_not_the_day_before(forecast):
    # 4 quarters up to 2026-03-31 start on 2025-04-01.
    deals = closed(10, 10, close="2025-04-01") + closed(1, 0, close="2025-03-31", prefix="X")
    document = forecast(deals)
    assert document["window"] == {"text": "4 quarters", "start": "2025-04-01", "end": AS_OF}
    assert document["win_rates"]["overall"]["closed"] == 10
    assert document["win_rates"]["overall"]["by_count"]["rate"] == 1.0


@pytest.mark.parametrize(
    ("text", "as_of", "start"),
    [("4 quarters", "2026-03-31", "2025-04-01"), ("1 month", "2026-03-31", "2026-03-01"), ("1 month", "2026-02-28", "2026-01-29"), ("90 days", "2026-03-31", "2026-01-01"), ("2 weeks", "2026-03-31", "2026-03-18"), ("1 year", "2024-02-29", "2023-03-01")],
)
def test_window_start(text, as_of, start):
    import datetime as dt

    assert TrailingWindow.parse(text).start(dt.date.fromisoformat(as_of)).isoformat() == start


def test_a_bad_window_stops_with_one_line_and_exit_code_2(make_deals, hygiene_config, hygiene_cli):
    make_deals(closed(3, 1))
    hygiene_config({"forecast": {"window": "four quarters"}})
    result = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["hygiene: error: hygiene.toml: forecast.window: 'four quarters' is not a window such as \"4 quarters\", \"6 months\", \"1 year\", \"90 days\""]


def test_an_unknown_forecast_key_is_a_config_error(make_deals, hygiene_config, hygiene_cli):
    make_deals(closed(3, 1))
    hygiene_config({"forecast": {"windows": "4 quarters"}})
    result = hygiene_cli("forecast", "deals.csv")
    assert result.exit_code == 2
    assert "forecast.windows: unknown key" in result.output


def test_segments_come_from_a_column_of_that_name_or_a_configured_one_else_say_so(forecast):
    deals = closed(12, 6, **{"Lead Source": "Web", "Kind": "New"})
    document = forecast(deals, {"forecast": {"columns": {"deal_type": "Kind"}}})
    segments = document["win_rates"]["segments"]
    # "Lead Source" feeds the canonical field lead_source, whose column the forecast reads.
    assert segments["lead_source"]["column"] == "lead_source"
    assert [(g["key"], g["by_count"]["rate"]) for g in segments["lead_source"]["groups"]] == [("Web", 0.5)]
    assert segments["deal_type"]["groups"][0]["key"] == "New"
    assert segments["product"] == {"reason": "no product column"}
    assert segments["manager"] == {"reason": "no manager column"}
    assert segments["region"] == {"reason": "no region column"}


def test_size_bands_are_configurable_and_listed_smallest_first(forecast):
    deals = closed(10, 2, amount=500) + closed(10, 8, amount=5000, prefix="B") + closed(10, 5, amount=50000, prefix="D")
    document = forecast(deals, {"forecast": {"size_bands": [1000, 10000]}})
    bands = document["win_rates"]["segments"]["size_band"]["groups"]
    assert [(g["key"], g["by_count"]["rate"]) for g in bands] == [("< 1,000", 0.2), ("1,000-10,000", 0.8), (">= 10,000", 0.5)]
    # A deal of exactly 1,000 is in the second band.
    edge = forecast(closed(10, 10, amount=1000), {"forecast": {"size_bands": [1000]}})
    assert [g["key"] for g in edge["win_rates"]["segments"]["size_band"]["groups"]] == [">= 1,000"]


def test_cycle_quartiles_for_won_and_lost(forecast):
    deals = []
    for i, days in enumerate(range(10, 110, 10)):  # 10, 20, ... 100 days
        deals.append({"id": f"W{i}", "owner": "Ada", "stage": "Closed Won", "amount": 100, "created_date": "2025-12-01", "close_date": _plus("2025-12-01", days)})
    deals += [{"id": f"L{i}", "owner": "Ada", "stage": "Closed Lost", "amount": 100, "created_date": "2026-01-01", "close_date": _plus("2026-01-01", 5)} for i in range(3)]
    cycle = forecast(deals)["cycle"]
    assert cycle["overall"]["won"] == {"n": 10, "median": 55.0, "p25": 32.5, "p75": 77.5, "mean": 55.0}
    assert cycle["overall"]["lost"] == {"n": 3, "reason": "not enough data (3)"}


def test_missing_created_dates_are_counted_not_treated_as_zero_days(forecast):
    deals = closed(12, 12)
    deals[0]["created_date"] = None
    deals[1]["created_date"] = "2026-03-01"  # after its close date
    cycle = forecast(deals)["cycle"]["overall"]
    assert cycle["won"]["n"] == 10
    assert cycle["not_evaluable"] == {"no created_date": 1, "created after close": 1}


def test_without_created_dates_cycle_and_velocity_say_why(forecast):
    deals = [{k: v for k, v in deal.items() if k != "created_date"} for deal in closed(12, 6)]
    document = forecast(deals)
    assert document["cycle"] == {"reason": "no created_date values: the cycle runs from created_date to close_date"}
    assert document["velocity"]["reason"].startswith("needs the won cycle: no created_date values")


def test_velocity_is_open_deals_times_win_rate_times_average_won_over_median_cycle(forecast):
    deals = closed(20, 10, amount=2000, created="2026-01-01", close="2026-01-31")  # 30-day cycles
    deals += [{"id": f"O{i}", "owner": "Ada", "stage": "Proposal", "amount": 1, "close_date": "2026-03-15"} for i in range(6)]
    velocity = forecast(deals)["velocity"]["overall"]
    # 6 open x 0.5 x 2,000 / 30 days = 200 a day; 2026-Q1 has 90 days.
    assert velocity["per_day"] == 200.0
    assert velocity["per_period"] == 18000.0
    assert velocity["period_days"] == 90


def period_deals():
    """Won 1,000 in 2026-Q1; open: commit 2,000 (Negotiation, 80%), best case 4,000 (Proposal, 60%), pipeline 10,000 (Prospecting, 10%)."""
    history = closed(20, 10, amount=1000, close="2025-12-01", created="2025-11-01")
    return history + [
        {"id": "W", "owner": "Ada", "stage": "Closed Won", "amount": 1000, "close_date": "2026-02-10", "created_date": "2026-01-01"},
        {"id": "N", "owner": "Ada", "stage": "Negotiation", "amount": 2000, "forecast_category": "Commit", "close_date": "2026-03-31"},
        {"id": "P", "owner": "Ada", "stage": "Proposal", "amount": 4000, "forecast_category": "Best Case", "close_date": "2026-03-01"},
        {"id": "Q", "owner": "Ada", "stage": "Prospecting", "amount": 10000, "forecast_category": "Pipeline", "close_date": "2026-01-01"},
        {"id": "NEXT", "owner": "Ada", "stage": "Negotiation", "amount": 50000, "forecast_category": "Commit", "close_date": "2026-04-01"},
    ]


def test_the_period_forecast_three_ways(forecast):
    overall = forecast(period_deals())["forecast"]["overall"]
    assert overall["won"] == 1000.0
    assert overall["open_deals"] == 3  # the deal closing on 2026-04-01 is next period's
    assert overall["by_category"]["commit_call"] == 3000.0
    assert overall["by_category"]["best_case_call"] == 7000.0
    assert overall["by_category"]["pipeline_call"] == 17000.0
    assert overall["stage_weighted"]["forecast"] == 1000 + 1600 + 2400 + 1000
    calibrated = overall["calibrated"]
    assert calibrated["p10"] <= calibrated["p50"] <= calibrated["p90"]
    assert 1000 <= calibrated["p10"] and calibrated["p90"] <= 17000


def test_the_calibrated_probability_is_the_stage_probability_times_shrunk_owner_and_band_factors(forecast):
    # Overall 11 of 21 won in the window (10 of 20, plus W); Ada is every deal, so her factor is 1.
    document = forecast(period_deals(), {"forecast": {"size_bands": [100000]}})
    method = document["forecast"]["method"]
    assert method["overall_rate"] == round(11 / 21, 4)
    assert [(row["key"], row["factor"]) for row in method["owner"]] == [("Ada", 1.0)]
    # One band, every deal in it: the calibrated forecast is the stage-weighted one.
    overall = document["forecast"]["overall"]
    assert overall["calibrated"]["forecast"] == overall["stage_weighted"]["forecast"]


def test_a_strong_owner_gets_a_factor_above_one_shrunk_toward_the_overall_rate(forecast):
    deals = closed(10, 9, owner="Ada", prefix="A") + closed(30, 10, owner="Bo", prefix="B")
    method = forecast(deals, {"forecast": {"size_bands": [100000]}})["forecast"]["method"]
    overall = 19 / 40
    factors = {row["key"]: row for row in method["owner"]}
    # (9 + 10 x overall) / (10 + 10): half Ada's own 90%, half the overall rate.
    assert factors["Ada"]["shrunk_rate"] == round((9 + 10 * overall) / 20, 4)
    assert factors["Ada"]["factor"] == round((9 + 10 * overall) / 20 / overall, 4)
    assert 1 < factors["Ada"]["factor"] < 0.9 / overall


def test_without_enough_closed_deals_the_calibrated_forecast_says_so(forecast):
    deals = closed(5, 2) + [{"id": "O", "owner": "Ada", "stage": "Proposal", "amount": 100, "close_date": "2026-03-01"}]
    document = forecast(deals)
    assert document["forecast"]["method"] == {"n": 5, "reason": "not enough data (5)"}
    assert document["forecast"]["overall"]["calibrated"] == {"reason": "needs a trailing win rate"}
    assert document["lead_generation"]["reason"] == "no [quotas] in the configuration"


def test_the_monte_carlo_range_is_seeded(forecast):
    deals = closed(20, 10) + [{"id": f"O{i}", "owner": "Ada", "stage": "Proposal", "amount": 1000 + i, "close_date": "2026-03-01"} for i in range(40)]
    first = forecast(deals)["forecast"]["overall"]["calibrated"]
    again = forecast(deals)["forecast"]["overall"]["calibrated"]
    other = forecast(deals, {"forecast": {"seed": 1}})["forecast"]["overall"]["calibrated"]
    assert first == again
    assert first["forecast"] == other["forecast"] and (first["p10"], first["p90"]) != (other["p10"], other["p90"])


def test_the_json_is_byte_identical_from_run_to_run(make_deals, hygiene_config, hygiene_cli):
    make_deals(period_deals())
    hygiene_config({"quotas": {"Ada": 20000}})
    outputs = [hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json").output for _ in range(2)]
    assert outputs[0] == outputs[1]


def test_lead_generation_need(forecast):
    deals = period_deals()
    document = forecast(deals, {"quotas": {"Ada": 20000}, "forecast": {"size_bands": [100000]}})
    need = document["lead_generation"]["owners"][0]
    forecast_total = document["forecast"]["overall"]["calibrated"]["forecast"]
    assert need["calibrated_forecast"] == forecast_total
    gap = 20000 - forecast_total
    assert need["gap"] == round(gap, 2)
    # Trailing win rate 11 / 21 by count, average won 1,000: each new deal is worth 524 on average.
    assert need["deals_needed"] == math.ceil(gap / (round(11 / 21, 4) * 1000))
    # Won cycles are 30 and 40 days (median 30): to close by 2026-03-31 they must be created by 2026-03-01.
    assert need["create_by"] == "2026-03-01"
    assert need["late"] is True
    assert need["message"].startswith(f"{need['deals_needed']} more qualified deals, created by 2026-03-01")
    assert need["coverage"]["required"] == round(1 / round(11 / 21, 4), 2)
    assert need["coverage"]["current"] == round(16000 / 19000, 2)
    # Plan B: the commit deal closing next period covers the gap on its own.
    assert [d["id"] for d in need["plan_b"]["deals"]] == ["NEXT"]
    assert need["plan_b"]["covers_gap"] is True


def test_required_coverage_falls_back_to_3x_without_enough_data(forecast):
    deals = closed(10, 5, owner="Bo", prefix="B") + [{"id": "A1", "owner": "Ada", "stage": "Proposal", "amount": 100, "close_date": "2026-03-01"}]
    need = forecast(deals, {"quotas": {"Ada": 1000}})["lead_generation"]["owners"][0]
    assert need["basis"] == "overall"  # Ada has no closed deal of her own
    assert need["coverage"]["required"] == 2.0
    small = closed(9, 5, owner="Ada") + [{"id": "A1", "owner": "Ada", "stage": "Proposal", "amount": 100, "close_date": "2026-03-01"}]
    document = forecast(small, {"quotas": {"Ada": 1000}, "forecast": {"min_deals": 9}})
    assert document["lead_generation"]["owners"][0]["coverage"]["required"] == 1.8
    document = forecast(closed(9, 5) + small[-1:], {"quotas": {"Ada": 1000}})
    assert document["lead_generation"] == {"reason": "needs the calibrated forecast: not enough data (9)"}


def test_team_quota_is_the_sum_of_its_owners(forecast):
    deals = closed(10, 5, owner="Ada", team="East", prefix="A") + closed(10, 5, owner="Bo", team="East", prefix="B")
    need = forecast(deals, {"quotas": {"Ada": 1000, "Bo": 2000}})["lead_generation"]
    assert [(t["key"], t["quota"], t["owners"]) for t in need["teams"]] == [("East", 3000.0, ["Ada", "Bo"])]


def test_calibration_uses_closed_deals_that_kept_a_probability(forecast):
    deals = closed(10, 5, probability=70) + closed(10, 2, probability=20, prefix="B", owner="Bo")
    calibration = forecast(deals)["calibration"]
    assert calibration["n"] == 20
    assert calibration["bands"] == [{"band": "20-30%", "n": 10, "stated": 0.2, "actual": 0.2}, {"band": "70-80%", "n": 10, "stated": 0.7, "actual": 0.5}]
    # Brier: 5 x 0.3^2 + 5 x 0.7^2 + 2 x 0.8^2 + 8 x 0.2^2, over 20.
    assert calibration["brier_score"] == round((5 * 0.09 + 5 * 0.49 + 2 * 0.64 + 8 * 0.04) / 20, 4)
    owners = {row["key"]: row for row in calibration["owners"]}
    assert owners["Ada"]["bias"] == 0.2
    assert owners["Bo"]["bias"] == 0.0


def test_closed_deals_at_0_or_100_percent_say_nothing_about_calibration(forecast):
    calibration = forecast(closed(20, 10, probability=None))["calibration"]
    assert calibration == {"reason": "no probability column"} or calibration["reason"].startswith("no closed deal in the window kept a forecast probability")
    calibration = forecast(closed(10, 5, probability=100))["calibration"]
    assert calibration["reason"].startswith("no closed deal in the window kept a forecast probability")


def test_history_figures_say_they_need_a_history_store(forecast):
    document = forecast(closed(3, 1))
    for key in ("accuracy", "funnel", "backtest"):
        assert "needs a history store" in document[key]["reason"]
    assert document["win_rates"]["stage_conversion"]["reason"].startswith("needs stage-entry dates")


def test_by_a_field_the_export_lacks_gives_the_overall_figures_and_a_reason(forecast):
    document = forecast(period_deals(), {}, "--by", "region")
    assert document["forecast"]["groups_reason"] == "no region column"
    assert document["forecast"]["overall"]["won"] == 1000.0


def test_console_and_markdown_render_the_same_figures(make_deals, hygiene_config, hygiene_cli):
    make_deals(period_deals() + [{"id": "Z", "owner": "<b>\x1b[31mEve|", "stage": "Proposal", "amount": 10, "close_date": "2026-03-01"}])
    hygiene_config({"quotas": {"Ada": 20000}})
    console = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF).output
    markdown = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "markdown").output
    assert "Forecast for 2026-Q1 (2026-01-01 to 2026-03-31), by owner" in console
    assert "\x1b" not in console and "\\x1b[31m" in console
    assert "### Forecast for 2026-Q1 (2026-01-01 to 2026-03-31), by owner" in markdown
    assert "\\<b\\>" in markdown and "Eve\\|" in markdown
    for text in (console, markdown):
        assert "17,000" in text  # the pipeline call
        assert "more qualified deal" in text


def test_output_file_is_written_and_the_export_untouched(make_deals, hygiene_config, hygiene_cli, tmp_path):
    export = make_deals(period_deals())
    before = export.read_bytes()
    hygiene_config({})
    assert hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "out/forecast.json").exit_code == 0
    assert json.loads((tmp_path / "out" / "forecast.json").read_text(encoding="utf-8"))["as_of"] == AS_OF
    assert export.read_bytes() == before


def _plus(day: str, days: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) + dt.timedelta(days=days)).isoformat()


def test_a_large_unit_drawn_from_the_normal_law_matches_the_deal_by_deal_simulation():
    import polars as pl

    from hygiene.forecast.deals import CENTS
    from hygiene.forecast.simulation import simulate

    deals = pl.DataFrame({"id": [f"D{i:03d}" for i in range(300)], CENTS: [100_000 * (1 + i % 7) for i in range(300)], "p": [0.1 + 0.8 * (i % 5) / 4 for i in range(300)]})
    exact = simulate(deals, "p", [], None, 4000, 0, exact_limit=10**6).overall
    normal = simulate(deals, "p", [], None, 4000, 0, exact_limit=60).overall
    # 300 deals: the quantiles agree within half a percent of the expected total.
    expected = sum(a * p for a, p in zip(deals[CENTS], deals["p"]))
    assert all(abs(e - n) <= 0.005 * expected for e, n in zip(exact, normal))


def test_the_overall_range_does_not_depend_on_the_grouping(make_deals, hygiene_config, hygiene_cli):
    deals = closed(20, 10) + [{"id": f"O{i}", "owner": "Ada" if i % 2 else "Bo", "team": "East" if i % 3 else "West", "stage": "Proposal", "amount": 1000 + i, "close_date": "2026-03-01"} for i in range(40)]
    make_deals(deals)
    hygiene_config({})
    ranges = [json.loads(hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json", "--by", by).output)["forecast"]["overall"]["calibrated"] for by in ("owner", "team", "region")]
    assert ranges[0] == ranges[1] == ranges[2]


def test_plan_b_stops_once_its_cumulative_amount_reaches_the_gap(forecast):
    history = closed(20, 20, amount=1000, close="2025-12-01", created="2025-11-01")
    later = [
        {"id": "L1", "owner": "Ada", "stage": "Negotiation", "amount": 3000, "close_date": "2026-05-01"},
        {"id": "L2", "owner": "Ada", "stage": "Negotiation", "amount": 2000, "close_date": "2026-06-01"},
        {"id": "L3", "owner": "Ada", "stage": "Prospecting", "amount": 2000, "close_date": None},
    ]
    # Nothing closes in the period: the gap is the whole quota.
    need = forecast(history + later, {"quotas": {"Ada": 3000}})["lead_generation"]["owners"][0]
    assert need["gap"] == 3000.0
    assert [d["id"] for d in need["plan_b"]["deals"]] == ["L1"]  # 3,000 reaches the gap exactly
    assert need["plan_b"]["candidates"] == 3 and need["plan_b"]["covers_gap"] is True
    need = forecast(history + later, {"quotas": {"Ada": 3001}})["lead_generation"]["owners"][0]
    assert [d["id"] for d in need["plan_b"]["deals"]] == ["L1", "L2"]
    assert need["plan_b"]["deals"][-1]["cumulative_amount"] == 5000.0


def test_without_a_source_the_error_says_how_to_give_one(hygiene_cli):
    result = hygiene_cli("forecast")
    assert result.exit_code == 2
    assert result.output.startswith("hygiene: error: no hygiene.toml found: no source")


def test_the_forecast_is_never_written_over_its_export(make_deals, hygiene_config, hygiene_cli):
    export = make_deals(period_deals())
    before = export.read_bytes()
    hygiene_config({})
    result = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "deals.csv")
    assert result.exit_code == 2
    assert result.output.strip() == "hygiene: error: deals.csv: refusing to write the forecast over the source: it is an input of this run"
    assert export.read_bytes() == before


def test_the_roster_gives_teams_and_quotas_as_in_the_audit(make_deals, hygiene_config, hygiene_cli, tmp_path):
    deals = closed(12, 6, owner="Ada") + closed(12, 3, owner="Bo", prefix="B")
    deals.append({"id": "O1", "owner": "Ada", "stage": "Negotiation", "amount": 5000, "close_date": "2026-03-20", "created_date": "2026-01-10"})
    make_deals(deals)
    (tmp_path / "roster.csv").write_text("owner,team,quota,quota_period\nAda,East,40000,quarter\nBo,West,30000,quarter\n", encoding="utf-8")
    hygiene_config({"roster": {"path": "roster.csv"}, "quotas": {"Bo": 20000}})
    result = hygiene_cli("forecast", "deals.csv", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    # The team comes from the roster, not from the export (which has no team column).
    teams = {g["key"]: g for g in document["win_rates"]["segments"]["team"]["groups"]}
    assert teams["East"]["closed"] == 12 and teams["West"]["closed"] == 12
    # Quotas: the roster's, with [quotas] winning owner by owner.
    quotas = {row["key"]: row["quota"] for row in document["lead_generation"]["owners"]}
    assert quotas == {"Ada": 40000, "Bo": 20000}
