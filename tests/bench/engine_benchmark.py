"""hygiene's audit against the hand-written polars script, in alternating runs (issues 12 and 14).

    python tests/bench/engine_benchmark.py                       # 1,000,000 deals, 5 rounds
    python tests/bench/engine_benchmark.py --rows 100000 --rounds 3

Each round runs, as whole processes, one after the other (A, B, C, A, B,
C, ...), so that a machine getting busier or quieter affects all three
alike:

- ``python polars_audit.py deals.csv --config bench.toml --as-of D --output polars.json``
  (the five mission rules as a skilled polars user writes them);
- ``hygiene audit deals.csv --config bench.toml --as-of D --select HY001,...,HY005 --format json --output hygiene.json``;
- ``hygiene audit deals.csv --config bench.toml --as-of D --format json --output catalogue.json``
  (every built-in rule).

It prints the median wall and CPU seconds (user + sys) of each, and the
ratios the issues set targets for: the five rules against the polars
script (issue 14: at most 1.2x) and every rule against the five (issue
12: at most 1.5x), with the load average before and after. After the
first round the findings of hygiene and of the polars script are compared
finding by finding, fingerprints included (``run_benchmark.compare``); a
disagreement makes the exit code 1. The data is the benchmark's
(``generate_deals.py``, made when missing). One untimed warm-up round runs
first unless ``--warmup 0``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run_benchmark  # noqa: E402  (the benchmark's helpers: data, timing, comparison)

POLARS_SCRIPT = HERE / "polars_audit.py"
TARGET_POLARS_RATIO = 1.2
TARGET_CATALOGUE_RATIO = 1.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="hygiene audit against the polars script, alternating runs.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default: %(default)s); medians are reported")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed", type=int, default=run_benchmark.DEFAULT_SEED)
    parser.add_argument("--as-of", default=run_benchmark.DEFAULT_AS_OF)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--hygiene", help="the hygiene executable (default: the one beside --python)")
    args = parser.parse_args(argv)
    # The generator's options as run_benchmark.ensure_data reads them.
    args.regenerate = False

    csv, config = run_benchmark.ensure_data(args, args.rows)
    out = csv.parent
    hygiene = run_benchmark.find_hygiene(args)
    audit = [hygiene, "audit", str(csv), "--config", str(config), "--as-of", args.as_of, "--format", "json"]
    commands = {
        "polars": [args.python, str(POLARS_SCRIPT), str(csv), "--config", str(config), "--as-of", args.as_of, "--output", str(out / "polars.json")],
        "hygiene": [*audit, "--select", ",".join(run_benchmark.MISSION_RULES), "--output", str(out / "hygiene.json")],
        "catalogue": [*audit, "--output", str(out / "catalogue.json")],
    }
    ok = {"polars": (0,), "hygiene": (0, 1), "catalogue": (0, 1)}
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    check = None
    for round_number in range(args.warmup + args.rounds):
        for name, command in commands.items():
            result = run_benchmark.timed(command, ok_codes=ok[name])
            if round_number >= args.warmup:
                runs[name].append(result)
        if check is None:
            check = run_benchmark.compare(
                json.loads((out / "hygiene.json").read_text(encoding="utf-8")),
                json.loads((out / "polars.json").read_text(encoding="utf-8")),
                full=True,
            )
    load_after = os.getloadavg()

    median = {name: {key: statistics.median(r[key] for r in results) for key in ("wall_s", "cpu_s", "peak_rss_mb")} for name, results in runs.items()}
    print(f"{args.rows:,} deals, {args.rounds} alternating rounds; load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    print(f"{'program':<10} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>11}")
    for name, figures in median.items():
        print(f"{name:<10} {figures['wall_s']:>7.2f} {figures['cpu_s']:>7.2f} {figures['peak_rss_mb']:>11.0f}")
    ratios = {
        "hygiene/polars": (median["hygiene"], median["polars"], TARGET_POLARS_RATIO),
        "catalogue/hygiene": (median["catalogue"], median["hygiene"], TARGET_CATALOGUE_RATIO),
    }
    for label, (a, b, target) in ratios.items():
        wall, cpu = a["wall_s"] / b["wall_s"], a["cpu_s"] / b["cpu_s"]
        print(f"{label:<18} wall {wall:.2f}x, CPU {cpu:.2f}x (target <= {target}x: {'OK' if wall <= target else 'MISSED'})")
    agree = check["counts_agree"] and check.get("findings_agree", True)
    print("hygiene's and the polars script's findings " + ("agree, finding by finding" if agree else "DISAGREE"))
    for problem in check.get("differences", [])[:10]:
        print(f"  {problem}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
