"""Benchmark every registered reporter on one audit: each reporter's own time and memory.

    python tests/bench/reporter_benchmark.py                     # 1,000,000 deals, every rule
    python tests/bench/reporter_benchmark.py --rows 20000        # a quick smoke run
    python tests/bench/reporter_benchmark.py --reporter json --reporter csv

One child process audits the benchmark export (``run_benchmark.py``'s data,
generated when missing) with every rule, as ``hygiene audit`` does, then
hands the report to each reporter in turn, writing to a file atomically as
``--format NAME:FILE`` does. For each reporter it records the wall and CPU
seconds of writing, the file's size, the memory the reporter added on top of
the audit (the peak resident size while it wrote, less the resident size
before it started) and the process's peak while it wrote (the peak a user
running ``hygiene audit --format NAME:FILE`` would see once the audit is
done). The resident-size peak is reset between reporters through
``/proc/self/clear_refs`` (Linux); elsewhere only times are measured.

Targets (issue 14): at 1M findings every reporter peaks at <= 1 GB and
takes <= 2x the JSON reporter's time. The HTML page and the workbook are
measured too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from process_memory import reset_peak, status_mb  # noqa: E402  (each reporter's own peak memory)
from run_benchmark import DEFAULT_AS_OF, DEFAULT_SEED, RESULTS, ensure_data  # noqa: E402

TARGET_PEAK_MB = 1024
TARGET_RATIO_TO_JSON = 2.0
#: Each reporter writes to ``report.NAME`` in a temporary folder (GitHub's annotations too); these keep their usual names.
FILE_NAMES = {"xlsx": "report.xlsx", "html": "report.html"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--reporter", action="append", help="reporters to time (default: every registered one)")
    parser.add_argument("--select", help="rules to run (default: every built-in rule)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def run_child(args: argparse.Namespace) -> int:
    """Audit once, then time each reporter on the report; one JSON document on standard output."""
    from hygiene.audit.reporting import write_reports
    from hygiene.audit.run import AuditOptions, run_audit
    from hygiene.commands.session import load_session

    session = load_session(str(args.config))
    names = args.reporter or list(session.registry.reporters)
    started, cpu = time.perf_counter(), time.process_time()
    options = AuditOptions(as_of=dt.date.fromisoformat(args.as_of), source_path=str(args.csv), select=args.select.split(",") if args.select else None)
    report = run_audit(session.config, session.registry, options)
    audit = {
        "wall_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "findings": report.findings.height,
    }
    # The figures reporters derive from the findings (the JSON header's, the human-facing reports') are
    # computed once per run by whichever reporter asks first, and reused by the next. Each reporter is timed
    # from a report with none computed, as `hygiene audit --format NAME` runs it: otherwise the order of the
    # reporters decides who pays for them. What the figures cost alone is recorded apart.
    started = time.perf_counter()
    report.figures()
    audit["shared_figures_s"] = time.perf_counter() - started
    results = {}
    for name in names:
        _forget_derived_figures(report)
        target = args.out / FILE_NAMES.get(name, f"report.{name}")
        gc.collect()
        before = status_mb("VmRSS")
        measured = reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        write_reports(report, session.registry, [f"{name}:{target}"], None)
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        peak = status_mb("VmHWM") if measured else None
        results[name] = {
            "wall_s": wall,
            "cpu_s": used,
            "bytes": target.stat().st_size,
            "rss_before_mb": before,
            "peak_rss_mb": peak,
            "added_mb": None if peak is None or before is None else max(0.0, peak - before),
        }
        target.unlink()
    print(json.dumps({"audit": audit, "reporters": results}))
    return 0


# -- the parent ------------------------------------------------------------------------------------


def _forget_derived_figures(report) -> None:
    """Drop the figures a report keeps once computed (the benchmark's reach into its private state)."""
    report._figures = None
    report._derived.clear()


def measure(args: argparse.Namespace) -> dict:
    """Run the child on the benchmark data of ``args.rows`` deals; its figures."""
    csv, config = ensure_data(args, args.rows)
    with tempfile.TemporaryDirectory(prefix="hygiene-reporters-") as out:
        command = [args.python, str(Path(__file__).resolve()), "--child", "--csv", str(csv), "--config", str(config), "--out", out, "--as-of", args.as_of]
        for name in args.reporter or ():
            command += ["--reporter", name]
        if args.select:
            command += ["--select", args.select]
        done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the reporter benchmark failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(figures: dict) -> list[str]:
    """The figures as a Markdown table (one row per reporter), with each reporter's time against JSON's."""
    reporters = figures["reporters"]
    json_s = reporters.get("json", {}).get("wall_s")
    lines = [
        f"audit: {figures['audit']['findings']:,} findings, {figures['audit']['wall_s']:.1f} s, peak {figures['audit']['peak_rss_mb']:,.0f} MB; "
        f"the human-facing reports' figures alone: {figures['audit']['shared_figures_s']:.2f} s (each reporter's time includes what it computes)",
        "",
        "| reporter | wall | CPU | x JSON | size | added memory | process peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in reporters.items():
        ratio = f"{r['wall_s'] / json_s:.2f}x" if json_s else ""
        added = "" if r["added_mb"] is None else f"{r['added_mb']:,.0f} MB"
        peak = "" if r["peak_rss_mb"] is None else f"{max(r['peak_rss_mb'], figures['audit']['peak_rss_mb']):,.0f} MB"
        lines.append(f"| {name} | {r['wall_s']:.2f} s | {r['cpu_s']:.2f} s | {ratio} | {r['bytes'] / 1e6:,.1f} MB | {added} | {peak} |")
    return lines


def verdicts(figures: dict) -> list[str]:
    """Which reporters miss the targets (the HTML page and workbook are measured against them too)."""
    reporters = figures["reporters"]
    json_s = reporters.get("json", {}).get("wall_s")
    missed = []
    for name, r in reporters.items():
        peak = max(r["peak_rss_mb"] or 0, figures["audit"]["peak_rss_mb"])
        if r["peak_rss_mb"] is not None and peak > TARGET_PEAK_MB:
            missed.append(f"{name}: process peak {peak:,.0f} MB > {TARGET_PEAK_MB} MB")
        if json_s and r["wall_s"] > TARGET_RATIO_TO_JSON * json_s:
            missed.append(f"{name}: {r['wall_s'] / json_s:.2f}x the JSON reporter's time > {TARGET_RATIO_TO_JSON}x")
    return missed


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        return run_child(args)
    figures = measure(args)
    print("\n".join(table(figures)))
    for line in verdicts(figures):
        print(f"MISSED {line}")
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"reporters-{args.rows}.json").write_text(json.dumps({"rows": args.rows, **figures}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
