"""Where a ``hygiene audit`` with history spends its time, phase by phase, measured with pyinstrument.

    python tests/bench/history_benchmark.py --rows 1000000      # first: the store of two weekly snapshots
    python tests/bench/profile_history.py                       # then: the audit with history, JSON report
    python tests/bench/profile_history.py --report html --html profile.html

It runs one audit in this process on the store and the last weekly export
``history_benchmark.py`` left (``hygiene audit --config with-history.toml
--as-of D --format REPORT:FILE --exit-zero``), sampled by pyinstrument,
and prints wall seconds per phase, the process' CPU seconds, peak RSS and
the load average. Each sample counts for the innermost phase on its
stack: start-up (imports, configuration, plugins), read, normalise, the
store read (the versions), derivations (the per-deal fields), join back
(the derived fields into the deal table), rules, findings, history
figures (waterfall, recent changes, trend), report figures and report
writing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_deals import DEFAULT_AS_OF  # noqa: E402
from phase_profile import profile_command  # noqa: E402  (the shared pyinstrument phase table)
from profile_audit import PHASES as AUDIT_PHASES  # noqa: E402

PHASES = {
    **{key: phase for key, phase in AUDIT_PHASES.items() if phase != "JSON writing"},
    ("write_reports", "audit/reporting.py"): "report writing",
    ("versions", "history/store.py"): "store read",
    ("derive_fields", "history/derive.py"): "derivations",
    ("_fill", "history/derive.py"): "join back",
    ("history_figures", "history/report_history.py"): "history figures",
}
ORDER = [
    "start-up", "read", "normalise", "store read", "derivations", "join back", "rules", "findings",
    "history figures", "report figures", "report writing",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one hygiene audit with history phase by phase (pyinstrument).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=2, help="the history benchmark's run to profile (default: %(default)s)")
    parser.add_argument("--report", choices=["json", "html", "xlsx", "markdown"], default="json")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML profile here")
    parser.add_argument("--text", type=Path, help="also write pyinstrument's text profile here")
    args = parser.parse_args(argv)

    work = HERE / "data" / "history" / f"{args.rows}-{args.weeks}w"
    config = work / "with-history.toml"
    if not config.is_file():
        raise SystemExit(f"{config}: missing; run history_benchmark.py --rows {args.rows} --weeks {args.weeks} first")
    suffix = {"markdown": "md"}.get(args.report, args.report)
    output = work / f"profile.{suffix}"
    command = ["audit", "--config", str(config), "--as-of", args.as_of, "--format", f"{args.report}:{output}", "--exit-zero"]
    title = f"{args.rows:,} deals with {args.weeks} weekly snapshots, {args.report} report"
    profile_command(command, title=title, phases=PHASES, order=ORDER, html=args.html, text=args.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
