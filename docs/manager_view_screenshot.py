"""Regenerate ``docs/manager-view.png``: the manager view of the sample audit's HTML report in headless Chromium.

    python docs/manager_view_screenshot.py                    # writes docs/manager-view.png
    python docs/manager_view_screenshot.py --output shot.png  # elsewhere
    python docs/manager_view_screenshot.py --chromium /path/to/chromium

The page is the sample audit (``hygiene.toml``, ``examples/pipeline.csv``,
as of the configuration's date, no history store) written by the HTML
reporter, opened from disk in a fixed 1280x900 viewport with the browser's
light scheme, UTC and en-US, every request but the file itself refused.
The same sample and the same Chromium give the same picture; run it after
a change to the page and commit the PNG with the change.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 900}
#: As the browser tests run it: no sandbox (root in CI), no background traffic, no name resolves.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-dev-shm-usage",
)


def write_sample_page(path: Path) -> Path:
    """The sample audit's HTML report at ``path``, through the same run the command line makes.

    The sample is copied beside ``path`` first, so that a history store in the working tree is not read.
    """
    from hygiene.audit.reporting import write_reports
    from hygiene.audit.run import AuditOptions, run_audit
    from hygiene.commands.session import load_session

    shutil.copy(REPOSITORY / "hygiene.toml", path.parent / "hygiene.toml")
    (path.parent / "examples").mkdir()
    shutil.copy(REPOSITORY / "examples" / "pipeline.csv", path.parent / "examples" / "pipeline.csv")
    session = load_session(str(path.parent / "hygiene.toml"))
    as_of = session.config.as_of or dt.date(2026, 11, 16)
    report = run_audit(session.config, session.registry, AuditOptions(as_of=as_of))
    write_reports(report, session.registry, [f"html:{path}"], None)
    return path


def screenshot(page_path: Path, output: Path, chromium: str) -> Path:
    """The manager view of the page at ``page_path``, as a PNG at ``output``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=list(FLAGS))
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="en-US", timezone_id="UTC", color_scheme="light", reduced_motion="reduce")
            page = context.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else route.abort())
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            page.click("label[for=tab-manager]")
            page.screenshot(path=str(output), full_page=False, animations="disabled")
        finally:
            browser.close()
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=REPOSITORY / "docs" / "manager-view.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hygiene-screenshot-") as folder:
        page = write_sample_page(Path(folder) / "report.html")
        screenshot(page, args.output, args.chromium)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
