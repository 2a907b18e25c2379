"""Benchmark the history store: snapshot adds, store size, and an audit with history derivations.

    python tests/bench/history_benchmark.py                      # 1,000,000 deals, 52 weekly snapshots
    python tests/bench/history_benchmark.py --rows 100000 --weeks 8

Not a test. Targets (issue: pipeline history, section 6):

- ``hygiene snapshot add`` of a 1M-deal export: the first <= 20 s on SQLite,
  a following one with 5% of deals changed <= 10 s;
- 52 weekly snapshots of 1M deals, 5% changing per week: store <= 1 GB;
- ``hygiene audit`` of 1M deals with history over those snapshots: <= 2x
  the same audit without history, peak RSS <= 1 GB.

Data: ``generate_deals.py``'s export (seeded), then one export per week in
which a fixed 5% of the deals (chosen by a hash of id and week, no
randomness) changed: a third had the close date pushed 14 days, a third
the amount cut by 10%, a third moved one stage on. Every figure is a whole
process (``wait4`` gives its peak RSS), timed once: adds change the store,
so they cannot be repeated on the same state.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_deals import DEFAULT_AS_OF, DEFAULT_SEED, FIELDS  # noqa: E402

NEXT_STAGE = {"Prospecting": "Qualification", "Qualification": "Needs Analysis", "Needs Analysis": "Proposal", "Proposal": "Negotiation"}


def run(command: list[str], cwd: Path) -> tuple[float, int, subprocess.CompletedProcess]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()
    result = subprocess.CompletedProcess(command, os.waitstatus_to_exitcode(status), stdout, stderr)
    return elapsed, usage.ru_maxrss * 1024, result


def weekly_export(base: pl.DataFrame, week: int) -> pl.DataFrame:
    """The export ``week`` weeks on: 5% of deals changed each week, cumulatively."""
    frame = base
    for w in range(1, week + 1):
        pick = (pl.col("Opportunity ID").hash(seed=w) % 100) < 5
        kind = pl.col("Opportunity ID").hash(seed=1000 + w) % 3
        close = pl.col(FIELDS["close_date"]).str.to_date("%Y-%m-%d", strict=False)
        frame = frame.with_columns(
            pl.when(pick & (kind == 0) & close.is_not_null()).then((close + dt.timedelta(days=14)).dt.to_string("%Y-%m-%d")).otherwise(pl.col(FIELDS["close_date"])).alias(FIELDS["close_date"]),
            pl.when(pick & (kind == 1)).then((pl.col(FIELDS["amount"]).cast(pl.Float64, strict=False) * 0.9).round(0).cast(pl.Int64).cast(pl.String)).otherwise(pl.col(FIELDS["amount"])).alias(FIELDS["amount"]),
            pl.when(pick & (kind == 2)).then(pl.col(FIELDS["stage"]).replace(NEXT_STAGE)).otherwise(pl.col(FIELDS["stage"])).alias(FIELDS["stage"]),
        )
    return frame


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--hygiene", default=str(Path(sys.executable).with_name("hygiene")))
    parser.add_argument("--work", type=Path, default=HERE / "data" / "history")
    args = parser.parse_args(argv)

    data = HERE / "data" / str(args.rows)
    if not (data / "deals.csv").is_file():
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(args.rows), "--seed", str(DEFAULT_SEED), "--output", str(data / "deals.csv")], check=True)
    work = args.work / str(args.rows)
    work.mkdir(parents=True, exist_ok=True)
    store = work / ".hygiene" / "history.db"
    for leftover in store.parent.glob("history.db*"):
        leftover.unlink()
    config = (data / "bench.toml").read_text(encoding="utf-8").replace('path = "deals.csv"', 'path = "week.csv"')
    (work / "hygiene.toml").write_text(config, encoding="utf-8")
    base = pl.read_csv(data / "deals.csv", infer_schema=False)
    as_of = dt.date.fromisoformat(DEFAULT_AS_OF)
    first_day = as_of - dt.timedelta(weeks=args.weeks - 1)
    figures: dict[str, object] = {"rows": args.rows, "weeks": args.weeks, "adds": []}
    for week in range(args.weeks):
        weekly_export(base, week).write_csv(work / "week.csv")
        day = first_day + dt.timedelta(weeks=week)
        seconds, rss, result = run([args.hygiene, "snapshot", "add", "--date", day.isoformat()], work)
        if result.returncode != 0:
            raise SystemExit(result.stderr)
        figures["adds"].append({"date": day.isoformat(), "seconds": round(seconds, 2), "peak_rss_mb": round(rss / 2**20)})
        print(f"week {week + 1}/{args.weeks} {day}: {seconds:.2f} s, {rss / 2**20:.0f} MB, store {store.stat().st_size / 2**20:.0f} MB", flush=True)
    figures["store_mb"] = round(store.stat().st_size / 2**20, 1)
    audit = [args.hygiene, "audit", "--as-of", as_of.isoformat(), "--format", "json", "--output", "report.json", "--exit-zero"]
    with_history = run(audit, work)
    store.rename(store.with_suffix(".off"))
    try:
        without = run(audit, work)
    finally:
        store.with_suffix(".off").rename(store)
    figures["audit_with_history"] = {"seconds": round(with_history[0], 2), "peak_rss_mb": round(with_history[1] / 2**20)}
    figures["audit_without_history"] = {"seconds": round(without[0], 2), "peak_rss_mb": round(without[1] / 2**20)}
    print(json.dumps(figures, indent=2))
    (work / "figures.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
