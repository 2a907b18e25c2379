"""The sample audit: examples/pipeline.csv, its generator, and the top-level hygiene.toml.

The sample configuration pins ``as_of``, so these tests hold whatever day they run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from _cli_audit import AUDIT_ENV, assert_valid_report
from click.testing import CliRunner

from hygiene.cli import cli, parse_as_of

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = REPO / "hygiene.toml"
SAMPLE_EXPORT = REPO / "examples" / "pipeline.csv"
GENERATOR = REPO / "examples" / "generate_pipeline.py"
BUILTIN_CODES = (
    "HY001", "HY002", "HY003", "HY004", "HY005",
    "HY010", "HY011", "HY020", "HY021", "HY030", "HY031", "HY032", "HY033", "HY040",
    "HY050", "HY051", "HY052", "HY053", "HY054", "HY060", "HY061", "HY070",
    "HY900", "HY901", "HY902",
)


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_pipeline", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return load_generator()


@pytest.fixture(scope="module")
def sample_config() -> dict:
    return tomllib.loads(SAMPLE_CONFIG.read_text(encoding="utf-8"))


def audit(config: Path, *args: str, tmp_path: Path) -> tuple[int, dict]:
    """Run ``hygiene audit`` through the command line and return its exit code and checked JSON report."""
    report_path = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["audit", "--config", str(config), "--format", f"json:{report_path}", *args], env=AUDIT_ENV)
    assert result.exit_code in (0, 1), result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert_valid_report(report)
    return result.exit_code, report


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> tuple[int, dict]:
    return audit(SAMPLE_CONFIG, tmp_path=tmp_path_factory.mktemp("sample"))


# The committed export is the generator's output.


def test_committed_export_is_what_the_generator_writes(generator):
    committed = SAMPLE_EXPORT.read_bytes()
    assert generator.render_csv(generator.generate_rows()).encode("utf-8") == committed


def test_generator_script_writes_the_same_bytes_every_run(tmp_path):
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    for path in (first, second):
        subprocess.run([sys.executable, str(GENERATOR), "--output", str(path)], check=True, capture_output=True)
    assert first.read_bytes() == second.read_bytes() == SAMPLE_EXPORT.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.csv", "second.csv"]  # no temporary file left behind


def test_another_seed_gives_another_pipeline(generator):
    assert generator.render_csv(generator.generate_rows(seed=7)) != generator.render_csv(generator.generate_rows())


def test_sample_is_about_200_deals_for_10_reps_in_3_teams(generator):
    rows = list(generator.generate_rows())
    header, deals = rows[0], rows[1:]
    owner, team = header.index("Opportunity Owner"), header.index("Owner Role")
    assert 190 <= len(deals) <= 210
    assert len({deal[owner] for deal in deals}) == 10
    assert len({deal[team] for deal in deals}) == 3


def test_config_agrees_with_the_generator(generator, sample_config):
    assert dt.date.fromisoformat(sample_config["as_of"]) == generator.REFERENCE_DATE
    assert sample_config["quotas"] == {rep.name: rep.team.quota for rep in generator.REPS}
    header = next(generator.generate_rows())
    assert set(sample_config["source"]["fields"].values()) <= set(header)


# The sample audit.


def test_sample_audit_finds_several_of_every_builtin_rule_and_exits_1(sample_report):
    exit_code, report = sample_report
    assert exit_code == 1
    by_rule = Counter(finding["code"] for finding in report["findings"])
    assert {code: by_rule[code] >= 3 for code in BUILTIN_CODES} == {code: True for code in BUILTIN_CODES}
    # Mostly clean deals, with problems: fewer than half the deals have any finding (problems come
    # together on the same deals, as they do in real pipelines, so there are more findings than that).
    flagged = {finding["deal_id"] for finding in report["findings"] if finding["deal_id"] is not None}
    assert len(flagged) < report["summary"]["deals"] / 2


def test_sample_reps_short_of_quota_are_the_ones_the_generator_made_short(generator, sample_report):
    _, report = sample_report
    short = {finding["owner"] for finding in report["findings"] if finding["code"] == "HY004"}
    assert short == {rep.name for rep in generator.REPS if not rep.on_track}


def test_sample_ruthless_drops_name_both_reasons(sample_report):
    _, report = sample_report
    messages = [finding["message"] for finding in report["findings"] if finding["code"] == "HY005"]
    assert sum("close date pushed" in message for message in messages) >= 3
    assert sum("probability" in message for message in messages) >= 3


def test_sample_invalid_values_include_a_date_and_an_amount(sample_report):
    _, report = sample_report
    columns = {finding["details"]["column"] for finding in report["findings"] if finding["code"] == "HY900"}
    assert {"Close Date", "Amount"} <= columns


# as_of: --as-of beats the configuration's, which beats today.


def test_config_as_of_is_the_audit_date(sample_report, sample_config):
    _, report = sample_report
    assert report["as_of"] == sample_config["as_of"] == "2026-11-16"
    assert report["period"]["name"] == "2026-Q4"


def test_command_line_as_of_beats_the_config(sample_report, tmp_path):
    _, report = audit(SAMPLE_CONFIG, "--as-of", "2027-06-30", tmp_path=tmp_path)
    assert report["as_of"] == "2027-06-30"
    assert report["period"]["name"] == "2027-Q2"
    past_due = sum(1 for finding in report["findings"] if finding["code"] == "HY003")
    assert past_due > sum(1 for finding in sample_report[1]["findings"] if finding["code"] == "HY003")


def test_parse_as_of_prefers_the_command_line_then_the_config():
    configured = dt.date(2026, 11, 16)
    assert parse_as_of("2026-01-02", configured) == dt.date(2026, 1, 2)
    assert parse_as_of(None, configured) == configured


def write_config_with_as_of(tmp_path: Path, as_of_line: str) -> Path:
    """The sample configuration, elsewhere, with another ``as_of`` line."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    assert 'as_of = "2026-11-16"' in text
    text = text.replace('as_of = "2026-11-16"', as_of_line, 1).replace('"examples/pipeline.csv"', json.dumps(SAMPLE_EXPORT.as_posix()), 1)
    config = tmp_path / "hygiene.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_config_as_of_may_be_a_toml_date(tmp_path):
    config = write_config_with_as_of(tmp_path, "as_of = 2026-03-31")
    _, report = audit(config, tmp_path=tmp_path)
    assert report["as_of"] == "2026-03-31"


@pytest.mark.parametrize(
    ("as_of_line", "problem"),
    [
        ('as_of = "16/11/2026"', "as_of: '16/11/2026' is not a date in YYYY-MM-DD form"),
        ('as_of = "2026-02-30"', "as_of: '2026-02-30' is not a date in YYYY-MM-DD form"),
        ("as_of = 20261116", "as_of: 20261116 is not of type 'string'"),
    ],
)
def test_invalid_config_as_of_exits_2_naming_the_key(tmp_path, monkeypatch, as_of_line, problem):
    write_config_with_as_of(tmp_path, as_of_line)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["audit"], env=AUDIT_ENV)
    assert result.exit_code == 2
    assert result.output.strip() == f"hygiene: error: hygiene.toml: {problem}"
