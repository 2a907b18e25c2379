"""Send a report to its reporters: standard output or files written atomically."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from hygiene.api.errors import ConfigError, HygieneError
from hygiene.api.report import AuditReport
from hygiene.files import atomic_text_writer
from hygiene.plugin.registry import Registry


def parse_format(spec: str, registry: Registry) -> tuple[str, str | None]:
    """``json:out/report.json`` -> (``json``, ``out/report.json``)."""
    name, sep, path = spec.partition(":")
    if name not in registry.reporters:
        known = ", ".join(registry.reporters) or "(none)"
        raise ConfigError(f"--format: unknown reporter {name!r} (known: {known})")
    if sep and not path:
        raise ConfigError(f"--format: {spec!r} has an empty path")
    return name, path or None


def write_reports(report: AuditReport, registry: Registry, formats: Iterable[str], output: str | None, stdout: TextIO | None = None) -> None:
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
