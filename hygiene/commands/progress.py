"""A progress line on standard error while a slow export loads, for people watching a terminal."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

#: Loads shorter than this show nothing: a notice that flashes by is noise.
NOTICE_AFTER_SECONDS = 1.5
#: How often the elapsed time is refreshed.
REFRESH_SECONDS = 0.5
CLEAR_LINE = "\r\x1b[K"


@contextmanager
def slow_load_notice(source: str | None, *, stream=None, after: float = NOTICE_AFTER_SECONDS, refresh: float = REFRESH_SECONDS):
    """While the block runs longer than ``after`` seconds, show ``auditing SOURCE... 3s`` on ``stream``.

    Only when ``stream`` (standard error by default) is a terminal: a CI log
    or a redirected file gets nothing, so reports and logs stay byte-identical.
    The line is erased when the block ends, successfully or not.
    """
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()):
        yield
        return
    done = threading.Event()
    shown = threading.Event()
    started = time.monotonic()
    label = f"hygiene: auditing {source}" if source else "hygiene: auditing"

    def show() -> None:
        if done.wait(after):
            return
        while not done.is_set():
            shown.set()
            stream.write(f"{CLEAR_LINE}{label}... {time.monotonic() - started:.0f}s")
            stream.flush()
            done.wait(refresh)

    worker = threading.Thread(target=show, name="hygiene-progress", daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()
        if shown.is_set():
            stream.write(CLEAR_LINE)
            stream.flush()
