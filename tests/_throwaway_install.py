"""A project folder made importable as if pip had installed it, without pip.

A ``*.dist-info`` folder with the project's ``METADATA`` and
``entry_points.txt``, written from its ``pyproject.toml``, is what
``importlib.metadata`` (and so hygiene's plugin discovery) looks for; the
project's package folder goes next to it on ``sys.path`` or ``PYTHONPATH``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN = REPO / "plugins" / "hygiene-plugin-example"


def write_dist_info(site: Path, distribution: str, version: str, entry_points: Mapping[str, Mapping[str, str]]) -> Path:
    """Write ``DISTRIBUTION-VERSION.dist-info`` into ``site`` (replacing an earlier one of the same name)."""
    site.mkdir(parents=True, exist_ok=True)
    folder = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(exist_ok=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8")
    groups = "".join(
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in points.items()) for group, points in entry_points.items()
    )
    (folder / "entry_points.txt").write_text(groups, encoding="utf-8")
    return folder


def install_project(project: Path, site: Path) -> list[Path]:
    """Make the project at ``project`` look installed; returns the folders to put on the import path."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    write_dist_info(site, metadata["name"], metadata.get("version", "0"), metadata.get("entry-points", {}))
    source = project / "src"
    return [site, source if source.is_dir() else project]


@contextlib.contextmanager
def importable(folders: Sequence[Path]) -> Iterator[None]:
    """``folders`` first on ``sys.path`` for the block; modules imported from them are forgotten afterwards."""
    added = [str(folder) for folder in folders]
    sys.path[:0] = added
    importlib.invalidate_caches()
    try:
        yield
    finally:
        for entry in added:
            sys.path.remove(entry)
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)
            if origin and any(Path(origin).is_relative_to(folder) for folder in folders):
                del sys.modules[name]
        importlib.invalidate_caches()


def run_pytest(folder: Path, pythonpath: Sequence[Path], *args: str) -> subprocess.CompletedProcess:
    """``python -m pytest`` in ``folder``, a process of its own, with ``pythonpath`` importable."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath)), "NO_COLOR": "1"}
    environment.pop("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", None)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=300)
