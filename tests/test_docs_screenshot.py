"""The README's screenshot of the manager view comes from a script anyone can run: it must keep working."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("manager_view_screenshot", REPOSITORY / "docs" / "manager_view_screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_screenshot_script_shows_the_manager_view_of_the_sample(chromium_executable, tmp_path):
    script = load_script()
    (tmp_path / "page").mkdir()
    page = script.write_sample_page(tmp_path / "page" / "report.html")
    html = page.read_text(encoding="utf-8")
    assert 'id="view-manager"' in html and "examples/pipeline.csv" in html
    shot = script.screenshot(page, tmp_path / "manager.png", chromium_executable)
    assert png_size(shot) == (script.VIEWPORT["width"], script.VIEWPORT["height"])
    # The committed screenshot is of the same viewport.
    assert png_size(REPOSITORY / "docs" / "manager-view.png") == png_size(shot)
