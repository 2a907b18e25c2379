"""``hygiene audit --forecast``: the forecast as a section of the audit's JSON, Markdown and HTML reports, and only when asked."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from _cli_audit import assert_valid_report, run_audit
from hygiene.api.escaping import html_text

REPOSITORY = Path(__file__).resolve().parents[1]
SAMPLE_CONFIG = REPOSITORY / "hygiene.toml"
AS_OF = "2026-11-16"
FORECAST_SCHEMA = json.loads((REPOSITORY / "hygiene" / "schemas" / "forecast.schema.json").read_text(encoding="utf-8"))


def sample_forecast_cli(*args: str) -> str:
    from click.testing import CliRunner

    from hygiene.cli import cli

    result = CliRunner().invoke(cli, ["forecast", "--config", str(SAMPLE_CONFIG), "--as-of", AS_OF, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def audit_json(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("audit") / "report.json"
    result = run_audit(SAMPLE_CONFIG, "--forecast", f"--format=json:{path}", as_of=AS_OF)
    assert result.exit_code == 1, result.output
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_json_report_carries_the_same_forecast_document(audit_json):
    assert_valid_report(audit_json)
    forecast = audit_json["forecast"]
    jsonschema.Draft202012Validator(FORECAST_SCHEMA).validate(forecast)
    alone = json.loads(sample_forecast_cli("--format", "json"))
    # The audit's figures are the forecast command's, number for number (the audit also joins the roster first).
    assert forecast["forecast"]["overall"] == alone["forecast"]["overall"]
    assert forecast["win_rates"]["overall"] == alone["win_rates"]["overall"]
    assert forecast["lead_generation"]["owners"] == alone["lead_generation"]["owners"]


def test_without_the_option_the_audit_computes_no_forecast(tmp_path):
    path = tmp_path / "report.json"
    assert run_audit(SAMPLE_CONFIG, f"--format=json:{path}", as_of=AS_OF).exit_code == 1
    assert "forecast" not in json.loads(path.read_text(encoding="utf-8"))


def test_in_audit_turns_it_on_and_no_forecast_off(make_deals, hygiene_config, hygiene_cli):
    make_deals([{"id": f"D{i}", "owner": "Ada", "stage": "Closed Won" if i % 2 else "Closed Lost", "amount": 1000, "close_date": "2026-10-01", "created_date": "2026-08-01"} for i in range(12)])
    hygiene_config({"forecast": {"in_audit": True}})
    on = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json")
    off = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--no-forecast")
    assert on.exit_code in (0, 1) and off.exit_code in (0, 1), on.output
    document = json.loads(on.output)
    assert_valid_report(document)
    assert document["forecast"]["win_rates"]["overall"]["won"] == 6
    assert "forecast" not in json.loads(off.output)


def test_markdown_and_html_reports_show_the_forecast_tables(tmp_path):
    markdown, page = tmp_path / "report.md", tmp_path / "report.html"
    result = run_audit(SAMPLE_CONFIG, "--forecast", f"--format=markdown:{markdown}", f"--format=html:{page}", as_of=AS_OF)
    assert result.exit_code == 1, result.output
    text = markdown.read_text(encoding="utf-8")
    assert "## Forecast\n" in text and "### Lead-generation need for 2026-Q4, by owner" in text
    html = page.read_text(encoding="utf-8")
    assert '<section class="forecast" id="forecast"' in html
    assert html.count('id="forecast-chart-') >= 3
    # The same section the forecast command's page has, escaped by the same policy.
    assert html_text("Forecast for 2026-Q4 (2026-10-01 to 2026-12-31), by owner") in html
    second = tmp_path / "again.html"
    run_audit(SAMPLE_CONFIG, "--forecast", f"--format=html:{second}", as_of=AS_OF)
    assert second.read_bytes() == page.read_bytes()


def test_the_audit_page_with_its_forecast_is_quiet_in_a_browser(browser_page, tmp_path):
    page = tmp_path / "report.html"
    assert run_audit(SAMPLE_CONFIG, "--forecast", f"--format=html:{page}", as_of=AS_OF).exit_code == 1
    browser_page.open(page)
    assert browser_page.page.locator("#forecast svg[role=img]").count() >= 3
    assert browser_page.page.is_visible("#forecast")
