"""Where a ``hygiene audit`` spends its time, phase by phase, measured with pyinstrument.

    python tests/bench/profile_audit.py                          # 1,000,000 deals, the five mission rules
    python tests/bench/profile_audit.py --all-rules              # every built-in rule
    python tests/bench/profile_audit.py --rows 100000 --html profile.html

It runs one audit in this process (``hygiene audit deals.csv --config
bench.toml --as-of D [--select HY001,...,HY005] --format json --output
FILE``, the benchmark's command, on the benchmark's data, generated when
missing), sampled by pyinstrument, and prints wall seconds per phase, the
process' CPU seconds, and the load average next to them (on a shared
machine read the phases as shares, not as absolute figures). Each sample
counts for the innermost phase on its stack:

- start-up: imports, the configuration, loading plugins (what is not in
  another phase);
- read: the source plugin (the CSV scan and its checks);
- normalise: mapping and typing the columns;
- rules: the rules' plans and their collection;
- findings: fingerprints, report order;
- report figures: the JSON report's summary, score, health and groups, and
  the gates' score;
- JSON writing: the findings as JSON lines, the file written.

``--html`` or ``--text`` also writes pyinstrument's full profile.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from phase_profile import profile_command  # noqa: E402  (the shared pyinstrument phase table)

DATA = HERE / "data"
MISSION_RULES = ("HY001", "HY002", "HY003", "HY004", "HY005")

#: Function name (and the file it lives in) -> phase; the innermost match on a sample's stack wins.
PHASES = {
    ("read_source", "audit/read.py"): "read",
    ("normalise", "audit/normalise.py"): "normalise",
    ("prepare_export", "audit/export_mapping.py"): "normalise",
    ("evaluate_rules", "audit/engine.py"): "rules",
    ("finish", "audit/findings.py"): "findings",
    ("grouping_for", "api/groups.py"): "report figures",
    ("write_reports", "audit/reporting.py"): "JSON writing",
    ("header", "api/report.py"): "report figures",
    ("deal_health", "api/report.py"): "report figures",
    ("failures", "ci/gates.py"): "report figures",
}
ORDER = ["start-up", "read", "normalise", "rules", "findings", "report figures", "JSON writing"]


def ensure_data(rows: int, as_of: str) -> tuple[Path, Path]:
    folder = DATA / str(rows)
    csv, config = folder / "deals.csv", folder / "bench.toml"
    if not (csv.exists() and config.exists()):
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(rows), "--as-of", as_of], check=True)
    return csv, config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one hygiene audit phase by phase (pyinstrument).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--as-of", default="2026-03-15")
    parser.add_argument("--all-rules", action="store_true", help="every built-in rule (default: the five mission rules)")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML profile here")
    parser.add_argument("--text", type=Path, help="also write pyinstrument's text profile here")
    args = parser.parse_args(argv)

    csv, config = ensure_data(args.rows, args.as_of)
    output = csv.parent / ("profile-all.json" if args.all_rules else "profile.json")
    command = ["audit", str(csv), "--config", str(config), "--as-of", args.as_of, "--format", "json", "--output", str(output)]
    if not args.all_rules:
        command += ["--select", ",".join(MISSION_RULES)]
    rules = "every built-in rule" if args.all_rules else "the five mission rules"
    profile_command(command, title=f"{args.rows:,} deals, {rules}", phases=PHASES, order=ORDER, html=args.html, text=args.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
