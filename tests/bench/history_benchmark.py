"""Benchmark the history store: snapshot adds, store size, and an audit with history derivations.

    python tests/bench/history_benchmark.py                      # 1,000,000 deals, 2 weekly snapshots
    python tests/bench/history_benchmark.py --year               # 1,000,000 deals, 52 weekly snapshots
    python tests/bench/history_benchmark.py --rows 100000 --weeks 8 --repeat 3
    python tests/bench/history_benchmark.py --report json --report html   # the audits with each report

Not a test. Targets (issue: pipeline history, section 6):

- ``hygiene snapshot add`` of a 1M-deal export: the first <= 20 s on SQLite,
  a following one with 5% of deals changed <= 10 s;
- 52 weekly snapshots of 1M deals, 5% changing per week: store <= 1 GB;
- ``hygiene audit`` of 1M deals with history over those snapshots: <= 2x
  the same audit without history, peak RSS <= 1 GB.

Data: ``generate_deals.py``'s export (seeded), then one export per week in
which 5% of the deals change: each week's deals are drawn by numpy's PCG64
seeded with ``--seed`` and the week number, so the 52 exports are the same
on every machine and with every polars release. Of the week's deals, a
third have the close date pushed 14 days, a third the amount cut by 10%,
a third moved one stage on (those already in the last open stage have
the close date pushed instead). Changes accumulate week on week.

Every figure is a whole process: wall seconds, CPU seconds (user + system)
and peak RSS from ``wait4``. Adds change the store, so each is timed once;
the audits (with history, then without, alternating, ``--repeat`` times
each) do not change what they read: the store's ``[history] record_runs``
is off for them. The load average is written beside the figures: on a
shared machine the times are upper bounds, the ratios less so.
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

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate_deals import DEFAULT_AS_OF, DEFAULT_SEED, FIELDS  # noqa: E402

NEXT_STAGE = {"Prospecting": "Qualification", "Qualification": "Needs Analysis", "Needs Analysis": "Proposal", "Proposal": "Negotiation"}
CHANGED_SHARE = 0.05


def run(command: list[str], cwd: Path) -> dict:
    """Run one whole process; its wall and CPU seconds, peak RSS and result."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    stdout, stderr = process.stdout.read(), process.stderr.read()
    code = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(elapsed, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_average": round(os.getloadavg()[0], 2),
        "returncode": code,
        "stdout": stdout,
        "stderr": stderr,
    }


def next_week(frame: pl.DataFrame, week: int, seed: int) -> pl.DataFrame:
    """The export a week on: 5% of deals (drawn for ``week``) changed, on top of the weeks before."""
    rng = np.random.Generator(np.random.PCG64([seed, week]))
    picked = rng.choice(frame.height, size=int(frame.height * CHANGED_SHARE), replace=False)
    kind = np.full(frame.height, -1, dtype=np.int8)
    kind[picked] = rng.integers(0, 3, size=picked.size, dtype=np.int8)
    stage = pl.col(FIELDS["stage"])
    movable = stage.is_in(list(NEXT_STAGE))
    kinds = pl.Series("__kind__", kind)
    close = pl.col(FIELDS["close_date"]).str.to_date("%Y-%m-%d", strict=False)
    push = (pl.col("__kind__") == 0) | ((pl.col("__kind__") == 2) & ~movable)
    return (
        frame.with_columns(kinds)
        .with_columns(
            pl.when(push & close.is_not_null()).then((close + dt.timedelta(days=14)).dt.to_string("%Y-%m-%d")).otherwise(pl.col(FIELDS["close_date"])).alias(FIELDS["close_date"]),
            pl.when(pl.col("__kind__") == 1)
            .then((pl.col(FIELDS["amount"]).cast(pl.Float64, strict=False) * 0.9).round(0).cast(pl.Int64).cast(pl.String))
            .otherwise(pl.col(FIELDS["amount"]))
            .alias(FIELDS["amount"]),
            pl.when((pl.col("__kind__") == 2) & movable).then(stage.replace(NEXT_STAGE)).otherwise(stage).alias(FIELDS["stage"]),
        )
        .drop("__kind__")
    )


def store_size(store: Path) -> int:
    """The store's bytes on disk: the database file and its write-ahead log."""
    return sum(p.stat().st_size for p in store.parent.glob(store.name + "*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--weeks", type=int, default=2, help="weekly snapshots to add (default: %(default)s)")
    parser.add_argument("--year", action="store_true", help="52 weekly snapshots: the store-size target's run")
    parser.add_argument("--repeat", type=int, default=1, help="audits with and without history, alternating, each this many times")
    parser.add_argument(
        "--report",
        action="append",
        choices=["json", "html", "xlsx", "markdown"],
        help="the audits' report (repeatable; default: json): JSON shows none of the store's report figures, HTML and xlsx all",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--hygiene", default=str(Path(sys.executable).with_name("hygiene")))
    parser.add_argument("--work", type=Path, default=HERE / "data" / "history")
    args = parser.parse_args(argv)
    weeks = 52 if args.year else args.weeks

    data = HERE / "data" / str(args.rows)
    if not (data / "deals.csv").is_file():
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(args.rows), "--seed", str(args.seed), "--output", str(data / "deals.csv")], check=True)
    work = args.work / f"{args.rows}-{weeks}w"
    work.mkdir(parents=True, exist_ok=True)
    store = work / ".hygiene" / "history.db"
    for leftover in store.parent.glob("history.db*"):
        leftover.unlink()
    config = (data / "bench.toml").read_text(encoding="utf-8").replace('path = "deals.csv"', 'path = "week.csv"')
    (work / "hygiene.toml").write_text(config, encoding="utf-8")
    export = pl.read_csv(data / "deals.csv", infer_schema=False)
    as_of = dt.date.fromisoformat(DEFAULT_AS_OF)
    first_day = as_of - dt.timedelta(weeks=weeks - 1)
    figures: dict[str, object] = {"rows": args.rows, "weeks": weeks, "seed": args.seed, "adds": []}
    for week in range(weeks):
        if week:
            export = next_week(export, week, args.seed)
        export.write_csv(work / "week.csv")
        day = first_day + dt.timedelta(weeks=week)
        added = run([args.hygiene, "snapshot", "add", "--date", day.isoformat()], work)
        if added["returncode"] != 0:
            raise SystemExit(added["stderr"])
        size = store_size(store)
        figures["adds"].append({"date": day.isoformat(), **{k: added[k] for k in ("seconds", "cpu_seconds", "peak_rss_mb", "load_average")}, "store_mb": round(size / 2**20, 1)})
        print(f"week {week + 1}/{weeks} {day}: {added['seconds']:.2f} s ({added['cpu_seconds']:.2f} s CPU), {added['peak_rss_mb']} MB, store {size / 2**20:.0f} MB, load {added['load_average']}", flush=True)
    figures["store_mb"] = round(store_size(store) / 2**20, 1)

    # The audits must not change what the next one reads: no run recorded. Without history, no store at all
    # (a [history] table would create an empty one).
    (work / "with-history.toml").write_text(config + "\n[history]\nrecord_runs = false\n", encoding="utf-8")
    (work / "without-history.toml").write_text(config, encoding="utf-8")
    for report in args.report or ["json"]:
        # JSON keeps the figures' historical names; another report's are prefixed with it.
        prefix = "audit" if report == "json" else f"audit_{report}"
        suffix = {"markdown": "md"}.get(report, report)
        audit = [args.hygiene, "audit", "--as-of", as_of.isoformat(), "--format", f"{report}:report.{suffix}", "--exit-zero", "--config"]
        runs: dict[str, list[dict]] = {"with_history": [], "without_history": []}
        for _ in range(args.repeat):
            runs["with_history"].append(run([*audit, "with-history.toml"], work))
            store.rename(store.with_suffix(".off"))
            try:
                runs["without_history"].append(run([*audit, "without-history.toml"], work))
            finally:
                store.with_suffix(".off").rename(store)
        for name, measured in runs.items():
            for one in measured:
                if one["returncode"] != 0:
                    raise SystemExit(one["stderr"])
            best = min(measured, key=lambda m: m["seconds"])
            figures[f"{prefix}_{name}"] = {k: best[k] for k in ("seconds", "cpu_seconds", "peak_rss_mb", "load_average")} | {"runs": [m["seconds"] for m in measured]}
        figures[f"{prefix}_ratio"] = round(figures[f"{prefix}_with_history"]["seconds"] / figures[f"{prefix}_without_history"]["seconds"], 2)
        figures[f"{prefix}_cpu_ratio"] = round(figures[f"{prefix}_with_history"]["cpu_seconds"] / figures[f"{prefix}_without_history"]["cpu_seconds"], 2)
        print(f"audit ({report}): with history {figures[f'{prefix}_with_history']}, without {figures[f'{prefix}_without_history']}", flush=True)
    print(json.dumps(figures, indent=2))
    (work / "figures.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
