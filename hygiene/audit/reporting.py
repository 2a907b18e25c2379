"""Send a report to its reporters: standard output or files written atomically."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from hygiene.api.errors import ConfigError, HygieneError
from hygiene.api.report import AuditReport
from hygiene.audit.steps import run_step
from hygiene.api.reporter import ReporterSettings
from hygiene.files import atomic_writer, claim_output
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


def write_reports(
    report: AuditReport,
    registry: Registry,
    formats: Iterable[str],
    output: str | None,
    stdout: TextIO | None = None,
    settings: ReporterSettings | None = None,
) -> None:
    """Run each reporter on its own: one that fails is named with its target, the others still write.

    Every target path is claimed before anything is written, so a path that
    is an input of the run, or that two reporters were given, stops the run
    with nothing written. Raises :class:`HygieneError` (exit code 2) when a
    reporter failed, after the others have written.
    """
    targets = [parse_format(spec, registry) for spec in formats]
    # Reporters whose lines are read out of a mixed log (GitHub workflow commands) may share
    # standard output with one document-style report; two documents would corrupt each other.
    to_stdout = [name for name, path in targets if path is None and not registry.reporters[name].cls.shares_stdout]
    if output is not None:
        if not to_stdout and any(path is None for _, path in targets):
            sharing = ", ".join(name for name, path in targets if path is None)
            raise ConfigError(
                f"--output: the {sharing} reporter writes to standard output beside another report, not to a file; "
                f"use --format {sharing.split(', ')[0]}:PATH to write it to a file"
            )
        if len(to_stdout) != 1:
            raise ConfigError("--output: give exactly one --format without a path to write to it, or use --format NAME:PATH")
        targets = [(name, path or (output if name in to_stdout else None)) for name, path in targets]
    elif len(to_stdout) > 1:
        raise ConfigError(f"--format: {', '.join(to_stdout)} would all write to standard output; give all but one a path (NAME:PATH)")
    for name, path in targets:
        if path is None and registry.reporters[name].cls.binary:
            raise ConfigError(f"--format: the {name} report is a file, not text: give it a path ({name}:report.{name})")
    for name, path in targets:
        if path is not None:
            claim_output(Path(path), path, f"the {name} report")
    failures = []
    for name, path in targets:
        try:
            with run_step(f"writing the {name} report to {path or 'standard output'}"):
                _write_one(report, registry.reporters[name].cls, path, stdout, settings)
        except BrokenPipeError:
            # The reader (e.g. `| head`) stopped listening: not an error of ours.
            _silence_stdout()
            return
        except OSError as exc:
            failures.append(f"{path or 'standard output'}: cannot write the {name} report: {exc.strerror or exc}")
        except HygieneError as exc:
            failures.append(str(exc))
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as exc:  # a reporter plugin may fail in any way (a polars panic, SystemExit): the others still write
            reason = (str(exc).strip().splitlines() or [""])[0]
            failures.append(f"the {name} reporter failed writing {path or 'standard output'}: {type(exc).__name__}: {reason}")
    if failures:
        raise HygieneError("; ".join(failures))


def _write_one(report: AuditReport, reporter_cls: type, path: str | None, stdout: TextIO | None, settings: ReporterSettings | None) -> None:
    reporter = reporter_cls()
    if settings is not None:
        reporter.settings = settings
    if path is None:
        reporter.write(report, stdout or sys.stdout)
        return
    with atomic_writer(Path(path), binary=reporter.binary, display=path, claimed=True) as stream:
        reporter.write(report, stream)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
