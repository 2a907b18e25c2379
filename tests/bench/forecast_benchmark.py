"""Benchmark ``hygiene forecast`` on a synthetic export (1,000,000 deals by default), against the audit of the same file.

    python tests/bench/forecast_benchmark.py                 # 1M deals: generates tests/bench/data/1000000/ if absent
    python tests/bench/forecast_benchmark.py --rows 100000 --runs 5
    python tests/bench/forecast_benchmark.py --rows 1000000 --runs 3 --compare   # also the audit, with and without --forecast

Runs the whole process, ``hygiene forecast -c bench.toml --as-of AS_OF
--format json --output FILE``, once to warm up and then ``--runs`` times,
and prints the median wall time, the CPU seconds (user + system of the
process) and the JSON's size. With ``--compare`` it alternates the
forecast with ``hygiene audit`` and ``hygiene audit --forecast`` of the
same file (A, B, C, A, B, C ...), so that a shared machine's load weighs
on all three alike, and prints each one's time as a ratio of the audit's.
The data is the audit benchmark's (``generate_deals.py``, seeded), with a
quota for every owner, so every figure (lead-generation need and plan B
included) is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HYGIENE = Path(sys.executable).with_name("hygiene")


def forecast_data(rows: int) -> tuple[Path, str]:
    """The benchmark export of ``rows`` deals (generated when missing): its folder and its ``as_of``."""
    folder = HERE / "data" / str(rows)
    if not (folder / "meta.json").is_file():
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(rows)], check=True)
    return folder, json.loads((folder / "meta.json").read_text(encoding="utf-8"))["as_of"]


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command``."""
    before = os.times()
    start = time.perf_counter()
    result = subprocess.run(command)
    wall = time.perf_counter() - start
    after = os.times()
    # The audit exits 1 when findings reach fail_on: that is a result, not a failure.
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time `hygiene audit` and `hygiene audit --forecast` of the same file, alternating")
    args = parser.parse_args(argv)
    folder, as_of = forecast_data(args.rows)
    results = HERE / "results"
    results.mkdir(parents=True, exist_ok=True)
    output = results / f"forecast-{args.rows}.json"
    base = ["-c", str(folder / "bench.toml"), "--as-of", as_of, "--format", "json", "--output"]
    commands = {"forecast": [str(HYGIENE), "forecast", *base, str(output)]}
    if args.compare:
        commands["audit"] = [str(HYGIENE), "audit", *base, str(results / f"audit-{args.rows}.json")]
        commands["audit --forecast"] = [str(HYGIENE), "audit", "--forecast", *base, str(results / f"audit-forecast-{args.rows}.json")]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for run in range(args.runs + 1):
        for name, command in commands.items():
            measured = timed(command)
            if run:  # the first round warms the page cache
                times[name].append(measured)
    load = os.getloadavg()[0]
    for name, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        line = f"hygiene {name}, {args.rows:,} deals: median {wall:.2f} s wall, {cpu:.2f} s CPU over {args.runs} runs ({', '.join(f'{w:.2f}' for w, _ in measured)})"
        if "audit" in times and name != "audit":
            audit_wall = statistics.median(w for w, _ in times["audit"])
            line += f"; {wall / audit_wall:.2f}x the audit's wall time"
        print(line)
    print(f"forecast JSON {output.stat().st_size / 1e6:.1f} MB; load average {load:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
