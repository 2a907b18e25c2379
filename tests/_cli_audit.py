"""Audits run through the ``hygiene`` command line, for the source, reporter and real-data tests.

Every JSON report these helpers read is validated against the schema the
package ships, so a test that looks at a report also checks the contract.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import tomli_w
from click.testing import CliRunner, Result

from hygiene.cli import cli
from hygiene.files import shipped_schema

#: Only the built-in plugins (a plugin installed in the environment must not change what the
#: tests expect), and plain output whatever the caller's terminal settings.
AUDIT_ENV = {"HYGIENE_DISABLE_PLUGIN_AUTOLOAD": "1", "NO_COLOR": "1", "FORCE_COLOR": None}

REPORT_VALIDATOR = jsonschema.Draft202012Validator(shipped_schema("report.schema.json"), format_checker=jsonschema.FormatChecker())


def assert_valid_report(report: dict[str, Any]) -> None:
    """The report matches the shipped schema, and its summary counts its findings."""
    REPORT_VALIDATOR.validate(report)
    summary, findings = report["summary"], report["findings"]
    assert summary["findings"] == len(findings)
    assert sum(summary["by_severity"].values()) == len(findings)
    assert sum(summary["by_rule"].values()) == len(findings)


def write_config(directory: Path, config: dict[str, Any], name: str = "hygiene.toml") -> Path:
    path = directory / name
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def source_config(path: Path, fields: dict[str, str] | None = None, **source_options: Any) -> dict[str, Any]:
    """A configuration whose ``[source]`` reads ``path`` (with ``[source.fields]`` when given)."""
    source: dict[str, Any] = {"path": str(path), **source_options}
    if fields:
        source["fields"] = fields
    return {"source": source}


def run_cli(args: list[str], env: dict[str, str | None] | None = None) -> Result:
    """``hygiene ARGS`` in this process; ``env`` adds to (or, with None, removes from) :data:`AUDIT_ENV`."""
    return CliRunner().invoke(cli, args, env={**AUDIT_ENV, **(env or {})})


def run_audit(config: Path, *args: str, as_of: str, env: dict[str, str | None] | None = None) -> Result:
    return run_cli(["audit", "--config", str(config), "--as-of", as_of, *args], env)


def audit_report(config: Path, *args: str, as_of: str, exit_codes: tuple[int, ...] = (0, 1)) -> dict[str, Any]:
    """Audit through the command line and return the JSON report, checked against its schema."""
    text = audit_report_text(config, *args, as_of=as_of, exit_codes=exit_codes)
    report = json.loads(text)
    assert_valid_report(report)
    return report


def audit_report_text(config: Path, *args: str, as_of: str, exit_codes: tuple[int, ...] = (0, 1)) -> str:
    output = config.parent / "report.json"
    result = run_audit(config, "--format", "json", "--output", str(output), *args, as_of=as_of)
    assert result.exit_code in exit_codes, result.output
    return output.read_text(encoding="utf-8")


def audit_error(config: Path, *args: str, as_of: str = "2026-03-31") -> str:
    """The one-line error of an audit that must exit with code 2."""
    result = run_audit(config, *args, as_of=as_of)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def findings_of(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [finding for finding in report["findings"] if finding["code"] == code]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
