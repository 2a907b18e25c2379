"""What an audit loads: nothing of the history store or the forecast when it uses neither."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

AUDIT = """
import sys
from hygiene.cli import cli
try:
    cli.main(["audit", {export!r}, "--config", {config!r}, "--as-of", "2026-03-31", "--format", "json", "--output", {output!r}],
             prog_name="hygiene", standalone_mode=False)
except SystemExit:
    pass
print(" ".join(name for name in ("sqlalchemy", "numpy", "jinja2") if name in sys.modules))
"""


def sample_config() -> str:
    """The sample audit's configuration, its export named by absolute path (the store would go beside it)."""
    text = (ROOT / "hygiene.toml").read_text(encoding="utf-8")
    assert 'path = "examples/pipeline.csv"' in text
    return text.replace('path = "examples/pipeline.csv"', f"path = {str(ROOT / 'examples' / 'pipeline.csv')!r}")


def test_an_audit_without_a_store_or_forecast_loads_neither_sqlalchemy_nor_numpy(tmp_path):
    # Each is hundreds of milliseconds of start-up that such an audit has no use for.
    config = tmp_path / "hygiene.toml"
    config.write_text(sample_config(), encoding="utf-8")
    output = tmp_path / "report.json"
    code = AUDIT.format(export=str(ROOT / "examples" / "pipeline.csv"), config=str(config), output=str(output))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert output.stat().st_size > 1000, result.stderr  # the audit ran and wrote its report
    assert result.stdout.strip() == ""


def test_an_audit_with_a_store_opens_it(tmp_path):
    # The counterpart: the lazy import must not lose the store an audit has.
    config = tmp_path / "hygiene.toml"
    config.write_text(sample_config() + "\n[history]\n", encoding="utf-8")
    output = tmp_path / "report.json"
    code = AUDIT.format(export=str(ROOT / "examples" / "pipeline.csv"), config=str(config), output=str(output))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "sqlalchemy" in result.stdout.split(), result.stderr
    assert (tmp_path / ".hygiene" / "history.db").is_file()
