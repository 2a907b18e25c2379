"""The benchmark harness (tests/bench) on tiny data, so that it cannot rot between the runs that quote it.

The hand-written polars and pandas scripts must keep producing hygiene's
findings finding by finding (the harness's equality check is what makes its
ratios mean anything), the check must catch a difference, and the tables the
README quotes must come out of the harness's results.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "bench"
sys.path.insert(0, str(BENCH))

import run_benchmark  # noqa: E402
import reporter_benchmark  # noqa: E402

AS_OF = run_benchmark.DEFAULT_AS_OF


@pytest.fixture(scope="module")
def bench_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    csv = folder / "deals.csv"
    subprocess.run(
        [sys.executable, str(run_benchmark.GENERATOR), "--rows", "3000", "--owners", "40", "--as-of", AS_OF, "--output", str(csv)],
        check=True,
        capture_output=True,
    )
    return csv, folder / "bench.toml"


@pytest.fixture(scope="module")
def hygiene_report(bench_data):
    csv, config = bench_data
    out = csv.parent / "hygiene.json"
    script = Path(sys.executable).parent / "hygiene"
    done = subprocess.run(
        [str(script), "audit", str(csv), "--config", str(config), "--as-of", AS_OF, "--select", ",".join(run_benchmark.MISSION_RULES), "--format", f"json:{out}"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def _reference(bench_data, script: str) -> dict:
    csv, config = bench_data
    out = csv.parent / f"{script}.json"
    subprocess.run(
        [sys.executable, str(BENCH / f"{script}_audit.py"), str(csv), "--config", str(config), "--as-of", AS_OF, "--output", str(out)],
        check=True,
        capture_output=True,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_polars_script_finds_what_hygiene_finds_fingerprints_included(bench_data, hygiene_report):
    polars_report = _reference(bench_data, "polars")
    check = run_benchmark.compare(hygiene_report, polars_report, full=True, reference="polars")
    assert check["differences"] == []
    assert check["counts_agree"] and check["findings_agree"]
    assert all(count > 0 for count in check["hygiene_by_rule"].values()), check["hygiene_by_rule"]
    assert [f["fingerprint"] for f in polars_report["findings"]] == [f["fingerprint"] for f in hygiene_report["findings"]]


def test_the_pandas_script_finds_what_hygiene_finds(bench_data, hygiene_report):
    pytest.importorskip("pandas")
    check = run_benchmark.compare(hygiene_report, _reference(bench_data, "pandas"), full=True, reference="pandas")
    assert check["differences"] == []


def test_the_check_catches_a_changed_message_and_a_missing_finding(hygiene_report):
    other = copy.deepcopy(hygiene_report)
    other["findings"][3]["message"] += "!"
    del other["findings"][-1]
    check = run_benchmark.compare(hygiene_report, other, full=True, reference="polars")
    assert not check["findings_agree"]
    assert any("finding 3" in problem and "message" in problem for problem in check["differences"])
    assert any("findings, polars" in problem for problem in check["differences"])


def _measured(wall: float, rss: float, cpu: float | None = None) -> dict:
    return {"median": {"wall_s": wall, "cpu_s": cpu if cpu is not None else wall, "peak_rss_mb": rss, "load_average": 1.5, "max_foreign_cores": 0.1}}


def _size(rows: int, scale: float) -> dict:
    steps = {step: _measured(2.0 * scale, 500 * scale) for step in ("audit (JSON)", "audit (all reporters)", "baseline", "diff", "snapshot add", "forecast", "HTML report")}
    steps["audit (JSON)"]["findings"] = int(550 * scale)
    reporters = {
        "audit": {"findings": 1000, "wall_s": 2.0, "cpu_s": 2.0, "peak_rss_mb": 900.0, "shared_figures_s": 0.5},
        "reporters": {
            "json": {"wall_s": 1.0, "cpu_s": 1.0, "bytes": 10**6, "rss_before_mb": 800.0, "peak_rss_mb": 950.0, "added_mb": 150.0},
            "junit": {"wall_s": 2.5, "cpu_s": 2.5, "bytes": 10**6, "rss_before_mb": 800.0, "peak_rss_mb": 1100.0, "added_mb": 300.0},
        },
    }
    return {
        "rows": rows,
        "hygiene": {**_measured(1.0 * scale, 400 * scale), "findings": int(200 * scale)},
        "polars": _measured(0.8 * scale, 380 * scale),
        "polars_ratio": {"wall": 1.25, "cpu": 1.1, "rss": 1.05},
        "steps": steps,
        "reporters": reporters,
    }


def test_the_readme_tables_come_out_of_the_results():
    results = [_size(1_000_000, 1.0), _size(run_benchmark.TEN_MILLION, 13.0)]
    text = "\n".join(run_benchmark.markdown_tables(results))
    assert "| step | 1,000,000 deals | 10,000,000 deals |" in text
    assert "| audit (JSON) | 2.00 s (2.00 s CPU), 500 MB, load 1.5 | 26.0 s (26.0 s CPU), 6,500 MB, load 1.5 |" in text
    assert "| snapshot add |" in text and "| HTML report |" in text and "| forecast |" in text
    assert "| junit | 2.50 s | 2.50 s | 2.50x |" in text
    verdicts = "\n".join(run_benchmark.verdicts(results))
    assert "1M deals: hygiene / polars wall 1.25x (target <= 1.2x: MISSED)" in verdicts
    assert "10M deals, audit (JSON): peak 6,500 MB (target <= 4096 MB: MISSED)" in verdicts
    assert "10M deals, audit (JSON): 13.0x the 1M wall time (target <= 12x: MISSED)" in verdicts
    assert "junit: 2.50x the JSON reporter's time > 2.0x" in verdicts
    assert "junit: process peak 1,100 MB > 1024 MB" in verdicts


def test_ten_million_deals_need_the_flag_and_get_an_owner_per_200_deals():
    assert run_benchmark.parse_args([]).ten_million is False
    assert run_benchmark.parse_args(["--ten-million"]).ten_million is True
    assert run_benchmark.owners_for(1_000_000) == 500
    assert run_benchmark.owners_for(run_benchmark.TEN_MILLION) == 50_000


def test_the_reporter_benchmark_times_each_reporter_on_one_audit(tmp_path, monkeypatch):
    # The data goes to a folder of the test's own (the benchmark's layout: DATA/<rows>/).
    monkeypatch.setattr(run_benchmark, "DATA", tmp_path)
    figures = reporter_benchmark.measure(reporter_benchmark.parse_args(["--rows", "2000", "--reporter", "json", "--reporter", "csv"]))
    assert set(figures["reporters"]) == {"json", "csv"}
    assert figures["audit"]["findings"] > 100
    for measured in figures["reporters"].values():
        assert measured["bytes"] > 10_000 and measured["wall_s"] > 0
    assert "| json |" in "\n".join(reporter_benchmark.table(figures))
