"""The steps of an audit, named: a crash inside one is reported as one line naming the step.

Polars reports some internal failures as a panic (``PanicException``),
which derives from :class:`BaseException`, not :class:`Exception`, so an
ordinary ``except Exception`` lets it through as a traceback. Inside a rule
the engine turns it into that rule's HY999 finding; anywhere else
:func:`run_step` turns it into a :class:`~hygiene.HygieneError` (exit code 2).
"""

from __future__ import annotations

from contextlib import contextmanager

from polars.exceptions import PanicException

from hygiene.api.errors import HygieneError


def first_line(exc: BaseException) -> str:
    """An exception's message as one line (polars' errors go on to quote a whole plan below the first)."""
    return (str(exc).strip().splitlines() or [""])[0]


def is_crash(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of code we called (not an interruption the user asked for)."""
    return not isinstance(exc, (KeyboardInterrupt, GeneratorExit, HygieneError))


@contextmanager
def run_step(step: str):
    """Run a step of the audit; a polars panic inside it becomes one line naming ``step``."""
    try:
        yield
    except PanicException as exc:
        raise HygieneError(f"internal error while {step}: polars panicked: {first_line(exc)}") from exc
