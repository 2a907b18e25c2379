"""One ``hygiene`` command profiled in this process with pyinstrument, its time split into phases.

Shared by ``profile_audit.py`` and ``profile_forecast.py``: each names its
phases as ``(function, file suffix) -> phase``; a sample counts for the
innermost phase on its stack, and what no phase claims counts as the first
phase in the order (start-up).
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def phase_times(root, phases: Mapping[tuple[str, str], str], order: Sequence[str]) -> dict[str, float]:
    """Wall seconds per phase: each frame's own time goes to the innermost phase above it."""
    totals = dict.fromkeys(order, 0.0)
    stack = [(root, order[0])]
    while stack:
        frame, phase = stack.pop()
        key = next((p for (function, path), p in phases.items() if frame.function == function and (frame.file_path or "").endswith(path)), None)
        phase = key or phase
        own = frame.time - sum(child.time for child in frame.children)
        totals[phase] += max(own, 0.0)
        stack.extend((child, phase) for child in frame.children)
    return totals


def profile_command(
    command: list[str],
    *,
    title: str,
    phases: Mapping[tuple[str, str], str],
    order: Sequence[str],
    html: Path | None = None,
    text: Path | None = None,
) -> dict[str, float]:
    """Run ``hygiene COMMAND`` under pyinstrument and print wall, CPU, peak RSS, load average and the phase table."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    load = os.getloadavg()
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    exit_code = 0
    profiler.start()
    try:
        from hygiene.cli import cli

        cli.main(command, prog_name="hygiene", standalone_mode=False)
    except SystemExit as stop:
        exit_code = stop.code or 0
    finally:
        profiler.stop()
    if exit_code not in (0, 1):  # 1 is an audit that found errors: still a complete run to profile
        raise SystemExit(f"hygiene {command[0]} stopped with exit code {exit_code}: nothing to profile")
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    totals = phase_times(profiler.last_session.root_frame(), phases, order)
    print(f"{title}: wall {wall:.2f} s, CPU {cpu:.2f} s (all threads), "
          f"peak RSS {cpu1.ru_maxrss / 1024:.0f} MB; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {os.getloadavg()[0]:.2f}")
    width = max(len(phase) for phase in order) + 2
    print(f"{'phase':<{width}} {'wall s':>7} {'share':>6}")
    sampled = sum(totals.values()) or 1.0
    for phase in order:
        print(f"{phase:<{width}} {totals[phase]:>7.2f} {totals[phase] / sampled:>6.0%}")
    if html:
        html.write_text(profiler.output_html(), encoding="utf-8")
    if text:
        text.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    return totals
