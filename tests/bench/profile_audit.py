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
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
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


def phase_times(root) -> dict[str, float]:
    """Wall seconds per phase: each frame's own time goes to the innermost phase above it."""
    totals = dict.fromkeys(ORDER, 0.0)
    stack = [(root, "start-up")]
    while stack:
        frame, phase = stack.pop()
        key = next((p for (function, path), p in PHASES.items() if frame.function == function and (frame.file_path or "").endswith(path)), None)
        phase = key or phase
        own = frame.time - sum(child.time for child in frame.children)
        totals[phase] += max(own, 0.0)
        stack.extend((child, phase) for child in frame.children)
    return totals


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

    from pyinstrument import Profiler

    csv, config = ensure_data(args.rows, args.as_of)
    output = csv.parent / ("profile-all.json" if args.all_rules else "profile.json")
    command = ["audit", str(csv), "--config", str(config), "--as-of", args.as_of, "--format", "json", "--output", str(output)]
    if not args.all_rules:
        command += ["--select", ",".join(MISSION_RULES)]
    profiler = Profiler(interval=0.005)
    load = os.getloadavg()
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    profiler.start()
    try:
        from hygiene.cli import cli

        cli.main(command, prog_name="hygiene", standalone_mode=False)
    except SystemExit:
        pass
    finally:
        profiler.stop()
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    session = profiler.last_session
    phases = phase_times(session.root_frame())
    rules = "every built-in rule" if args.all_rules else "the five mission rules"
    print(f"{args.rows:,} deals, {rules}: wall {wall:.2f} s, CPU {cpu:.2f} s (all threads), "
          f"peak RSS {cpu1.ru_maxrss / 1024:.0f} MB; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'phase':<16} {'wall s':>7} {'share':>6}")
    sampled = sum(phases.values()) or 1.0
    for phase in ORDER:
        print(f"{phase:<16} {phases[phase]:>7.2f} {phases[phase] / sampled:>6.0%}")
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    if args.text:
        args.text.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
