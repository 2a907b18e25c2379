"""The steps of an audit, named: a crash inside one is reported as one line naming the step.

Polars reports some internal failures as a panic (``PanicException``),
which derives from :class:`BaseException`, not :class:`Exception`, so an
ordinary ``except Exception`` lets it through as a traceback. Inside a rule
the engine turns it into that rule's HY999 finding; anywhere else
:func:`run_step` turns it into a :class:`~hygiene.HygieneError` (exit code 2).

Before our one line, Rust's default panic hook has already written its own
note to stderr (``thread '…' panicked at …``, the message, ``note: run with
`RUST_BACKTRACE=1` …``). It is left there on purpose, because nothing
silences it cleanly:

- polars installs no panic hook of its own and reads no setting for one
  (``POLARS_VERBOSE`` adds output, never removes it), and Python cannot
  replace a Rust hook;
- ``RUST_BACKTRACE=0`` drops only the backtrace: the ``panicked at`` lines
  and the note are printed whatever its value;
- pointing file descriptor 2 at a temporary file around each polars call
  and replaying it afterwards would hold back every other line written to
  stderr meanwhile (warnings, progress) until the step ends, make stderr
  look like a file rather than a terminal to everything inside the step,
  and lose the note altogether when the process dies inside the step (an
  abort on a double panic, the OOM killer), which is when it matters most.

So the note stays, and our line is the last one: the one a CI log and a
user read.
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
