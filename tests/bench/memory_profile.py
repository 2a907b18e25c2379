"""Where a ``hygiene audit``'s memory goes, phase by phase: resident size sampled while it runs.

    python tests/bench/memory_profile.py                   # 1,000,000 deals, the five mission rules, JSON
    python tests/bench/memory_profile.py --all-rules --rows 100000
    python tests/bench/memory_profile.py --format csv      # another reporter

It runs one audit in this process (the benchmark's command, as
``profile_audit.py`` does) while a thread reads the resident size
(``VmRSS``) every few milliseconds and looks at the main thread's stack:
each sample counts for the innermost phase on it (the phases of
``profile_audit.py``, with the deal table's preparation and the waivers
apart). It prints, per phase, the highest resident size seen while it ran
and the size when it ended, then the process' peak (``VmHWM``, which no
sampling misses) and the load average. Linux only (``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from process_memory import status_mb  # noqa: E402
from profile_audit import MISSION_RULES, ensure_data  # noqa: E402
from profile_audit import PHASES as AUDIT_PHASES  # noqa: E402

#: The audit profile's phases (function name and file -> phase; the innermost match on the stack wins),
#: with the prepared deal table and the waivers apart, and every reporter's writing as one phase.
PHASES = {
    **{key: phase for key, phase in AUDIT_PHASES.items() if phase != "JSON writing"},
    ("prepare_deals", "audit/engine.py"): "prepared deal table",
    ("apply_waivers", "audit/waivers.py"): "waivers",
    ("write_reports", "audit/reporting.py"): "reporter",
}
ORDER = ["start-up", "read", "normalise", "prepared deal table", "rules", "findings", "waivers", "report figures", "reporter"]


def _phase_of(frame) -> str:
    while frame is not None:
        code = frame.f_code
        for (function, suffix), phase in PHASES.items():
            if code.co_name == function and code.co_filename.endswith(suffix):
                return phase
        frame = frame.f_back
    return ORDER[0]


class MemorySampler(threading.Thread):
    """Resident size per phase of the main thread: the highest seen, and the last seen (the size the phase left)."""

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.order: list[str] = []
        self._main = threading.main_thread().ident
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            frame = sys._current_frames().get(self._main)
            phase = _phase_of(frame)
            rss = status_mb("VmRSS") or 0.0
            if phase not in self.peak:
                self.order.append(phase)
            self.peak[phase] = max(self.peak.get(phase, 0.0), rss)
            self.last[phase] = rss
            del frame
            time.sleep(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Resident memory of one hygiene audit, phase by phase.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--as-of", default="2026-03-15")
    parser.add_argument("--all-rules", action="store_true", help="every built-in rule (default: the five mission rules)")
    parser.add_argument("--format", default="json", help="the reporter (default: json)")
    args = parser.parse_args(argv)

    csv, config = ensure_data(args.rows, args.as_of)
    output = csv.parent / f"memory-profile.{args.format}"
    command = ["audit", str(csv), "--config", str(config), "--as-of", args.as_of, "--format", args.format, "--output", str(output)]
    if not args.all_rules:
        command += ["--select", ",".join(MISSION_RULES)]
    load = os.getloadavg()
    sampler = MemorySampler()
    wall0 = time.perf_counter()
    sampler.start()
    try:
        from hygiene.cli import cli

        cli.main(command, prog_name="hygiene", standalone_mode=False)
    except SystemExit as stop:
        if stop.code not in (0, 1, None):
            raise SystemExit(f"hygiene audit stopped with exit code {stop.code}")
    finally:
        sampler.stop()
    wall = time.perf_counter() - wall0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rules = "every built-in rule" if args.all_rules else "the five mission rules"
    print(f"{args.rows:,} deals, {rules}, --format {args.format}: {wall:.2f} s wall, {usage.ru_utime + usage.ru_stime:.2f} s CPU, "
          f"peak RSS {status_mb('VmHWM') or 0:,.0f} MB, load average {load[0]:.2f}")
    print()
    print("| phase | highest RSS while it ran | RSS when it ended |")
    print("|---|---|---|")
    for phase in sorted(sampler.order, key=ORDER.index):
        print(f"| {phase} | {sampler.peak[phase]:,.0f} MB | {sampler.last[phase]:,.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
