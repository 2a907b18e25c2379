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
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from forecast_benchmark import forecast_data  # noqa: E402  (the same export the forecast benchmark times)
from phase_profile import profile_command  # noqa: E402  (the shared pyinstrument phase table)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile one hygiene forecast phase by phase (pyinstrument).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML profile here")
    parser.add_argument("--text", type=Path, help="also write pyinstrument's text profile here")
    args = parser.parse_args(argv)

    folder, as_of = forecast_data(args.rows)
    results = HERE / "results"
    results.mkdir(parents=True, exist_ok=True)
    output = results / f"profile-forecast-{args.rows}.json"
    command = ["forecast", "-c", str(folder / "bench.toml"), "--as-of", as_of, "--format", "json", "--output", str(output)]
    profile_command(command, title=f"hygiene forecast, {args.rows:,} deals", phases=PHASES, order=ORDER, html=args.html, text=args.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
