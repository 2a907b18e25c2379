"""Benchmark the reports people read: the HTML page and the Excel workbook of the 1M-deal audit.

    python tests/bench/report_benchmark.py                  # 1,000,000 deals, 3 runs each
    python tests/bench/report_benchmark.py --rows 20000 --repeat 1   # a quick smoke run

Uses the data of ``run_benchmark.py`` (generated when missing). In one
process, after one untimed warm-up: the audit itself (``run_audit``), then,
on its report, the HTML report (rendered and written atomically, as
``--format html:FILE`` does) and the Excel workbook; the medians of
``--repeat`` runs are printed with the file sizes. Then headless Chromium
(Playwright driving Debian's ``chromium``, or ``--chromium PATH``) opens the
page ``--repeat`` times: the time from navigation to the load event, median.
Targets (issue 11): HTML <= 2 s beyond the audit, <= 5 MB, opened in <= 3 s;
the workbook of ~200k findings in <= 10 s; each report's own memory (its
peak above what the process held before it, measured on Linux by resetting
the peak resident size) <= 1 GB at 1M deals. Results go to
``tests/bench/results/`` as JSON (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from process_memory import memory_increment  # noqa: E402  (each report's own peak memory)
from run_benchmark import DEFAULT_AS_OF, DEFAULT_SEED, RESULTS, ensure_data  # noqa: E402

TARGET_HTML_S = 2.0
TARGET_HTML_MB = 5.0
TARGET_OPEN_S = 3.0
TARGET_XLSX_S = 10.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def timed(function, cpu: list | None = None) -> float:
    """Wall seconds of ``function()``; its CPU seconds (this process, every thread) appended to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    function()
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    """The whole process's peak resident memory so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> int:
    args = parse_args(argv)
    csv, config = ensure_data(args, args.rows)
    from hygiene.audit.reporting import write_reports
    from hygiene.audit.run import AuditOptions, run_audit
    from hygiene.commands.session import load_session
    from hygiene.files import begin_run

    os.chdir(config.parent)
    session = load_session(str(config))
    options = AuditOptions(as_of=dt.date.fromisoformat(args.as_of), source_path=str(csv))
    out = Path(tempfile.mkdtemp(prefix="hygiene-report-bench-"))
    html, xlsx = out / "report.html", out / "report.xlsx"
    audits, pages, books = [], [], []
    cpu: dict[str, list[float]] = {"audit": [], "html": [], "xlsx": []}
    memory: dict[str, list[float]] = {"audit": [], "html": [], "xlsx": []}
    report = None
    for run in range(args.repeat + 1):
        begin_run()  # each run is a command of its own: it may write the files the previous one wrote
        report = None  # as in a command of its own, the previous run's report is gone before the audit starts
        holder = {}
        steps = {}
        steps["audit"] = memory_increment(lambda: steps.setdefault("audit_s", timed(lambda: holder.setdefault("report", run_audit(session.config, session.registry, options)), cpu["audit"])))
        audit_s, report = steps["audit_s"], holder["report"]
        # The figures are computed by the first reporter that needs them: part of the HTML time.
        steps["html"] = memory_increment(lambda: steps.setdefault("html_s", timed(lambda: write_reports(report, session.registry, [f"html:{html}"], None), cpu["html"])))
        report._figures = None  # the workbook on its own pays for the figures too
        steps["xlsx"] = memory_increment(lambda: steps.setdefault("xlsx_s", timed(lambda: write_reports(report, session.registry, [f"xlsx:{xlsx}"], None), cpu["xlsx"])))
        html_s, xlsx_s = steps["html_s"], steps["xlsx_s"]
        for step in memory:
            if steps[step][0] is not None:
                memory[step].append(steps[step][0] + (steps[step][1] if step == "audit" else 0.0))
        if run:  # the first run warms caches up
            audits.append(audit_s), pages.append(html_s), books.append(xlsx_s)
        else:
            for runs in (*cpu.values(), *memory.values()):
                if runs:
                    runs.pop()
        print(f"run {run}: audit {audit_s:.2f} s, html {html_s:.2f} s, xlsx {xlsx_s:.2f} s (wall)", file=sys.stderr)
    opens = open_in_chromium(html, args.chromium, args.repeat)
    result = {
        "rows": args.rows,
        "findings": report.findings.height,
        "audit_s": statistics.median(audits),
        "html_s": statistics.median(pages),
        "html_mb": html.stat().st_size / 1e6,
        "open_s": statistics.median(opens) if opens else None,
        "xlsx_s": statistics.median(books),
        "xlsx_mb": xlsx.stat().st_size / 1e6,
        "cpu_s": {step: statistics.median(runs) for step, runs in cpu.items()},
        "peak_rss_mb": peak_rss_mb(),
        # The audit's peak (the process from its start), and each reporter's own peak above what the process held before it.
        "memory_mb": {step: (max(runs) if runs else None) for step, runs in memory.items()},
        "load_average": os.getloadavg(),
        "runs": {"audit": audits, "html": pages, "xlsx": books, "open": opens},
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"reports-{args.rows}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{args.rows:,} deals, {result['findings']:,} findings (median of {args.repeat})")
    print(f"  load average:      {' '.join(f'{v:.1f}' for v in result['load_average'])} (figures on a shared machine are inflated)")
    print(f"  audit itself:      {result['audit_s']:.2f} s ({result['cpu_s']['audit']:.2f} s CPU)")
    print(f"  HTML report:       {result['html_s']:.2f} s beyond it ({result['cpu_s']['html']:.2f} s CPU; target <= {TARGET_HTML_S} s), {result['html_mb']:.2f} MB (target <= {TARGET_HTML_MB} MB)")
    if opens:
        print(f"  opened in Chromium: {result['open_s']:.2f} s to the load event (target <= {TARGET_OPEN_S} s)")
    print(f"  Excel workbook:    {result['xlsx_s']:.2f} s ({result['cpu_s']['xlsx']:.2f} s CPU; target <= {TARGET_XLSX_S} s), {result['xlsx_mb']:.1f} MB")
    mem = result["memory_mb"]
    if mem["audit"] is not None:
        print(f"  memory:            audit peak {mem['audit']:,.0f} MB; the HTML report {mem['html']:,.0f} MB and the workbook {mem['xlsx']:,.0f} MB above it (targets <= 1,024 MB each)")
    print(f"  peak memory:       {result['peak_rss_mb']:,.0f} MB (the whole process: audit and both reports, one report alive at a time)")
    shutil.rmtree(out)
    return 0


def open_in_chromium(page: Path, executable: str, repeat: int) -> list[float]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is not installed: skipping the Chromium timing", file=sys.stderr)
        return []
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            for _ in range(repeat + 1):
                context = browser.new_context()
                tab = context.new_page()
                # Only the file itself may load; the page asks for nothing else.
                tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
                start = time.perf_counter()
                tab.goto(page.as_uri(), wait_until="load")
                times.append(time.perf_counter() - start)
                context.close()
        finally:
            browser.close()
    return times[1:]


if __name__ == "__main__":
    raise SystemExit(main())
