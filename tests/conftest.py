"""Shared fixtures: exports written cell by cell, the installed console script, throwaway plugin distributions.

The ``hygiene.testing`` plugin (enabled in pyproject.toml) adds ``make_deals``,
``hygiene_config`` and ``hygiene_cli`` (click's CliRunner, run in ``tmp_path``);
``_service_fixtures`` adds a real PostgreSQL server and a headless Chromium.
"""

from __future__ import annotations

import csv
import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests check what a function computes, not how fast: a per-example deadline only fails
# them on a busy machine. Speed is measured by the benchmark in tests/bench, not asserted here.
settings.register_profile("hygiene", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("hygiene")

#: A real PostgreSQL server and a headless Chromium (postgres_url, store_url, browser_page, ...).
pytest_plugins = ["_service_fixtures"]

#: The console script pip installed beside this interpreter.
HYGIENE_SCRIPT = Path(sys.executable).with_name("hygiene.exe" if os.name == "nt" else "hygiene")


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    # A developer's own settings must not change what the tests see.
    for name in ("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "HYGIENE_DEBUG", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write ``rows`` (the header first, then one sequence of cells per record) as a CSV file; returns its path."""

    def write(rows: Iterable[Sequence[object]], name: str = "deals.csv") -> Path:
        path = tmp_path / name
        with path.open("w", encoding="utf-8", newline="") as stream:
            csv.writer(stream).writerows(["" if cell is None else cell for cell in row] for row in rows)
        return path

    return write


@pytest.fixture
def run_hygiene(tmp_path: Path):
    """Run the installed ``hygiene`` script in ``tmp_path``; ``pythonpath`` folders hold throwaway plugins."""

    def run(*args: object, pythonpath: Sequence[Path] = (), env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
        environment["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
        return subprocess.run(
            [str(HYGIENE_SCRIPT), *map(str, args)],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def make_plugin(tmp_path: Path):
    """Build an installed-looking distribution: a module and its ``*.dist-info`` with a ``hygiene`` entry point.

    Returns the folder to put on ``sys.path`` (see ``installed``) or on ``PYTHONPATH``.
    """

    def make(distribution: str, module: str, source: str, entry_point: str | None = None, version: str = "1.0") -> Path:
        folder = tmp_path / "site" / distribution
        dist_info = folder / f"{distribution.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8")
        (dist_info / "entry_points.txt").write_text(f"[hygiene]\n{entry_point or distribution} = {module}\n", encoding="utf-8")
        (folder / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        return folder

    return make


@pytest.fixture
def installed(monkeypatch):
    """Put plugin folders on ``sys.path`` for this test only, forgetting the modules imported from them afterwards."""
    folders: list[Path] = []

    def install(*new_folders: Path) -> None:
        for folder in new_folders:
            monkeypatch.syspath_prepend(str(folder))
            folders.append(folder)
        importlib.invalidate_caches()

    yield install
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and any(Path(origin).is_relative_to(folder) for folder in folders):
            del sys.modules[name]
    importlib.invalidate_caches()


@pytest.fixture
def report_file(make_deals, hygiene_config, hygiene_cli):
    """Audit ``deals`` (with ``config``) into the JSON report ``name``: the input of ``hygiene diff``."""
    from _ci_gate import AS_OF  # here, not at the top: it imports test modules, which conftest must not do first

    def write(name: str, deals, as_of: str = AS_OF, config=None) -> str:
        make_deals(deals)
        hygiene_config(config or {})
        result = hygiene_cli("audit", "deals.csv", "--as-of", as_of, "--format", f"json:{name}")
        assert result.exit_code in (0, 1), result.output
        return name

    return write
