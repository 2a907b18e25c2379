"""tests/bench/rule_costs.py, on tiny data, so that the per-rule cost table cannot rot."""

from __future__ import annotations

import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent / "bench"
sys.path.insert(0, str(BENCH))

import rule_costs  # noqa: E402
import run_benchmark  # noqa: E402


def test_each_rule_alone_finds_its_share_of_what_every_rule_finds(tmp_path, monkeypatch, capsys):
    # The data goes to a folder of the test's own (the benchmark's layout: DATA/<rows>/); the script changes directory.
    monkeypatch.setattr(run_benchmark, "DATA", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert rule_costs.main(["--rows", "2000"]) == 0
    out = capsys.readouterr().out
    rows = {m.group(1): int(m.group(2).replace(",", "")) for m in re.finditer(r"^(HY\d{3}|five|every)\s.*?\s([\d,]+)\s+-?\d+\.\d\d\s", out, re.M)}
    singles = {code: n for code, n in rows.items() if code.startswith("HY")}
    assert len(singles) >= 30, out
    # Rules do not see each other's findings: every rule together finds what each finds alone.
    assert rows["every"] == sum(singles.values()) > 0
    assert rows["five"] == sum(singles[code] for code in run_benchmark.MISSION_RULES)
    assert singles["HY001"] > 0 and "load average before" in out
