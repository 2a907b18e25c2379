"""This process's resident memory, from Linux's ``/proc/self``: the benchmarks' memory per step.

On Linux a process can reset its peak resident size (``VmHWM``) by writing
5 to ``/proc/self/clear_refs``, so the peak read after a step is that step's
own. Elsewhere the figures are None.
"""

from __future__ import annotations

from pathlib import Path


def status_mb(key: str) -> float | None:
    """A ``/proc/self/status`` figure (``VmRSS``, ``VmHWM``) in MB, or None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
    """Make the kernel's resident-size peak (VmHWM) start again from the current size; False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def memory_increment(function) -> tuple[float | None, float | None]:
    """``function()``'s own peak memory above what the process held when it began, in MB, and that starting point."""
    if not reset_peak():
        function()
        return None, None
    before = status_mb("VmRSS")
    function()
    peak = status_mb("VmHWM")
    return (None if peak is None or before is None else max(peak - before, 0.0)), before
