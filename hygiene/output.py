"""Send a report to its reporters: standard output or files written atomically."""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from hygiene.errors import ConfigError, HygieneError
from hygiene.plugin_manager import Registry


@contextmanager
def atomic_text_writer(path: Path, *, newline: str | None = None):
    """A text stream whose content replaces ``path`` only when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as stream:
            # mkstemp makes the file private (0600); a report gets the mode of the file it replaces,
            # or the one any new file would get, so that others who could read it still can.
            os.chmod(tmp, _target_mode(path))
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def parse_format(spec: str, registry: Registry) -> tuple[str, str | None]:
    """``json:out/report.json`` -> (``json``, ``out/report.json``)."""
    name, sep, path = spec.partition(":")
    if name not in registry.reporters:
        known = ", ".join(registry.reporters) or "(none)"
        raise ConfigError(f"--format: unknown reporter {name!r} (known: {known})")
    if sep and not path:
        raise ConfigError(f"--format: {spec!r} has an empty path")
    return name, path or None


def write_reports(report, registry: Registry, formats: Iterable[str], output: str | None, stdout: TextIO | None = None) -> None:
    targets = [parse_format(spec, registry) for spec in formats]
    # Reporters whose lines are read out of a mixed log (GitHub workflow commands) may share
    # standard output with one document-style report; two documents would corrupt each other.
    to_stdout = [name for name, path in targets if path is None and not registry.reporters[name].cls.shares_stdout]
    if output is not None:
        if len(to_stdout) != 1:
            raise ConfigError("--output: give exactly one --format without a path to write to it, or use --format NAME:PATH")
        targets = [(name, path or (output if name in to_stdout else None)) for name, path in targets]
    elif len(to_stdout) > 1:
        raise ConfigError(f"--format: {', '.join(to_stdout)} would all write to standard output; give all but one a path (NAME:PATH)")
    for name, path in targets:
        reporter = registry.reporters[name].cls()
        try:
            if path is None:
                reporter.write(report, stdout or sys.stdout)
            else:
                with atomic_text_writer(Path(path)) as stream:
                    reporter.write(report, stream)
        except BrokenPipeError:
            # The reader (e.g. `| head`) stopped listening: not an error of ours.
            _silence_stdout()
            return
        except OSError as exc:
            raise HygieneError(f"{path or 'stdout'}: cannot write the {name} report: {exc.strerror or exc}") from None


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def render(report, registry: Registry, name: str) -> str:
    """A report as text (for tests and for reporters that embed another)."""
    buffer = io.StringIO()
    registry.reporters[name].cls().write(report, buffer)
    return buffer.getvalue()
