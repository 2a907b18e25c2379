"""Where a ``hygiene forecast`` spends its time, phase by phase, measured with pyinstrument.

    python tests/bench/profile_forecast.py                       # 1,000,000 deals
    python tests/bench/profile_forecast.py --rows 100000 --text profile.txt

It runs one forecast in this process (``hygiene forecast -c bench.toml
--as-of D --format json --output FILE``, the command
``forecast_benchmark.py`` times, on the same data, generated when missing;
the JSON goes to ``tests/bench/results/``), sampled by pyinstrument, and
prints wall seconds per phase, the process' CPU seconds and the load
average next to them (on a shared machine read the phases as shares).
Each sample counts for the innermost phase on its stack:

- start-up: imports, the configuration, loading plugins (what is not in
  another phase);
- read: the source plugin (the CSV scan and its checks);
- normalise: mapping and typing the columns the forecast reads;
- roster and currency: the roster's columns joined in, amounts converted;
- prepare: outcome, window, band and grouping columns (``prepare``);
- win rates, cycle and velocity;
- calibrate and forecast: the calibrated probabilities, the period's
  forecast three ways and the Monte-Carlo range;
- lead generation: the gap, the deals needed, plan B;
- the rest of the figures: calibration, linearity, creation pace, and the
  history figures when there is a store;
- JSON writing: the document serialised and written.

``--html`` or ``--text`` also writes pyinstrument's full profile.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

#: Function name (and the file it lives in) -> phase; the innermost match on a sample's stack wins.
PHASES = {
    ("read_source", "audit/read.py"): "read",
    ("normalise", "audit/normalise.py"): "normalise",
    ("prepare_export", "audit/export_mapping.py"): "normalise",
    ("with_roster_and_currency", "audit/run.py"): "roster and currency",
    ("build_forecast", "forecast/report.py"): "other figures",
    ("prepare", "forecast/deals.py"): "prepare",
    ("win_rates", "forecast/figures.py"): "win rates, cycle, velocity",
    ("cycle", "forecast/figures.py"): "win rates, cycle, velocity",
    ("velocity", "forecast/figures.py"): "win rates, cycle, velocity",
    ("calibrate", "forecast/figures.py"): "calibrate and forecast",
    ("period_forecast", "forecast/figures.py"): "calibrate and forecast",
    ("lead_generation", "forecast/figures.py"): "lead generation",
    ("render", "commands/forecast.py"): "JSON writing",
    ("atomic_text_writer", "hygiene/files.py"): "JSON writing",
}
ORDER = [
    "start-up",
    "read",
    "normalise",
    "roster and currency",
    "prepare",
    "win rates, cycle, velocity",
    "calibrate and forecast",
    "lead generation",
    "other figures",
    "JSON writing",
]


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one hygiene forecast phase by phase (pyinstrument).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML profile here")
    parser.add_argument("--text", type=Path, help="also write pyinstrument's text profile here")
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    folder = DATA / str(args.rows)
    if not (folder / "meta.json").is_file():
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(args.rows)], check=True)
    as_of = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["as_of"]
    results = HERE / "results"
    results.mkdir(parents=True, exist_ok=True)
    output = results / f"profile-forecast-{args.rows}.json"
    command = ["forecast", "-c", str(folder / "bench.toml"), "--as-of", as_of, "--format", "json", "--output", str(output)]
    profiler = Profiler(interval=0.005)
    load = os.getloadavg()
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    profiler.start()
    try:
        from hygiene.cli import cli

        cli.main(command, prog_name="hygiene", standalone_mode=False)
    finally:
        profiler.stop()
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    phases = phase_times(profiler.last_session.root_frame())
    print(f"hygiene forecast, {args.rows:,} deals: wall {wall:.2f} s, CPU {cpu:.2f} s (all threads), "
          f"peak RSS {cpu1.ru_maxrss / 1024:.0f} MB; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {os.getloadavg()[0]:.2f}")
    print(f"{'phase':<28} {'wall s':>7} {'share':>6}")
    sampled = sum(phases.values()) or 1.0
    for phase in ORDER:
        print(f"{phase:<28} {phases[phase]:>7.2f} {phases[phase] / sampled:>6.0%}")
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    if args.text:
        args.text.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
