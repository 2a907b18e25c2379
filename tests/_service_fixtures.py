"""Fixtures for tests that need a real service: a PostgreSQL server and a headless Chromium.

Loaded by ``tests/conftest.py``. Each service is found the same way: the
environment variable ``.ci/run`` exports when set (then it must work: a
broken one fails the tests, it never skips them), else what is installed on
the machine, else the tests that need it skip with a message saying what to
install.

PostgreSQL
    ``postgres_url`` (session): ``HYGIENE_TEST_POSTGRES_URL``, else a private
    server started for the session from the binaries on the machine (see
    ``_postgres_server.py``), else skip. ``postgres_database``: a fresh, empty
    database on it for one test, dropped afterwards. ``store_url``: runs a
    test once on a fresh SQLite file and once on a fresh PostgreSQL database,
    so a store's test module covers both just by using it.

Chromium
    ``chromium_executable`` (session): ``HYGIENE_TEST_CHROMIUM``, else
    ``/usr/bin/chromium`` or ``chromium`` on ``PATH``, else skip. Playwright
    drives that executable; it never downloads a browser of its own.
    ``browser_page``: a :class:`BrowserPage` whose page may load ``file:``,
    ``data:`` and ``about:`` URLs only. Every other request is aborted and
    recorded, and a test fails at teardown when any was attempted, when the
    page logged a console error, raised an uncaught error or opened a dialog
    (``alert()`` is the classic proof that injected script ran). A test that
    provokes one of these on purpose asserts on the list and clears it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from _postgres_server import PostgresServer, find_binaries

POSTGRES_URL_VARIABLE = "HYGIENE_TEST_POSTGRES_URL"
CHROMIUM_VARIABLE = "HYGIENE_TEST_CHROMIUM"

#: What headless Chromium runs with: no sandbox (CI runs as root), and none of
#: the background traffic (updates, sync, field trials) a browser starts on its own.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A second line of defence behind the request interception: no host name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # Containers often give /dev/shm 64 MB, too little for the renderer.
    "--disable-dev-shm-usage",
)

#: URL schemes a page may load; anything else would leave the machine.
LOCAL_SCHEMES = frozenset({"file", "data", "about", "blob"})

#: The page a test sees: fixed, so that screenshots compare from run to run.
VIEWPORT = {"width": 1280, "height": 800}

#: Playwright waits this long (milliseconds) for anything: a broken page fails fast, not after 30 s.
TIMEOUT_MS = 10_000


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The SQLAlchemy URL of a PostgreSQL server whose role may create databases."""
    configured = os.environ.get(POSTGRES_URL_VARIABLE)
    if configured:
        yield configured
        return
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries not found (install Debian's postgresql package); "
            f"or set {POSTGRES_URL_VARIABLE} to a server's SQLAlchemy URL (postgresql+psycopg://...)"
        )
    # Not pytest's tmp_path: when we are root the server runs as another account,
    # which cannot enter pytest's root-only folders.
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="hygiene-postgres-")), binaries)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server for this test only, as a SQLAlchemy URL; dropped afterwards."""
    import sqlalchemy

    server = sqlalchemy.make_url(postgres_url)
    name = f"hygiene_test_{uuid.uuid4().hex}"
    admin = sqlalchemy.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            # Connections the test left open (an engine's pool) would block the drop.
            connection.execute(
                sqlalchemy.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": name},
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind in turn: a SQLite file in ``tmp_path``, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_database")


# --- Chromium -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """The Chromium to drive: ``HYGIENE_TEST_CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` on PATH."""
    configured = os.environ.get(CHROMIUM_VARIABLE)
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(f"{CHROMIUM_VARIABLE}={configured} is not an executable file")
        return configured
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(f"Chromium not found (install Debian's chromium package, or set {CHROMIUM_VARIABLE} to a Chromium executable)")


@pytest.fixture(scope="session")
def chromium(chromium_executable: str):
    """One headless Chromium for the session (Playwright's ``Browser``); each test gets its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserPage:
    """A Playwright page confined to local files, with what it tried and what went wrong.

    ``page`` is Playwright's ``Page``; the lists hold, in order:
    ``blocked_requests`` the URLs of requests (and WebSockets) it aborted,
    ``console_errors`` the text of console messages of type ``error``,
    ``page_errors`` uncaught JavaScript errors, ``dialogs`` the messages of
    ``alert``/``confirm``/``prompt`` dialogs (dismissed at once).
    """

    page: object
    screenshots: Path
    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def open(self, path: Path) -> None:
        """Load a local file and wait until it and everything it loads have finished."""
        self.page.goto(Path(path).resolve().as_uri(), wait_until="load")

    def screenshot(self, name: str) -> Path:
        """Save the whole page as ``<tmp_path>/screenshots/<name>.png``; returns the path."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError(f"screenshot name {name!r}: use letters, digits, '.', '_' and '-' only")
        self.screenshots.mkdir(exist_ok=True)
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def problems(self) -> list[str]:
        """One line per recorded problem; empty when the page stayed local and quiet."""
        return (
            [f"network request attempted: {url}" for url in self.blocked_requests]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"dialog opened: {text}" for text in self.dialogs]
        )


@pytest.fixture
def browser_page(chromium, tmp_path: Path) -> Iterator[BrowserPage]:
    """A fresh page in headless Chromium that may load local files only; see :class:`BrowserPage`."""
    context = chromium.new_context(
        viewport=VIEWPORT,
        device_scale_factor=1,
        locale="en-US",
        timezone_id="UTC",
        color_scheme="light",
        reduced_motion="reduce",
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    browser = BrowserPage(page=page, screenshots=tmp_path / "screenshots")

    def is_local(url: str) -> bool:
        return urlsplit(url).scheme in LOCAL_SCHEMES

    def intercept(route) -> None:
        # The recording happens here, where the request is stopped, so that nothing is counted twice.
        if is_local(route.request.url):
            route.continue_()
        else:
            browser.blocked_requests.append(route.request.url)
            route.abort("blockedbyclient")

    def intercept_websocket(websocket_route) -> None:
        browser.blocked_requests.append(websocket_route.url)
        websocket_route.close()

    def on_console(message) -> None:
        if message.type != "error":
            return
        # Chromium logs each aborted request as a console error too; it is already recorded above.
        if message.text.startswith("Failed to load resource") and message.location.get("url") in browser.blocked_requests:
            return
        browser.console_errors.append(message.text)

    def on_dialog(dialog) -> None:
        browser.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", intercept)
    context.route_web_socket(re.compile(".*"), intercept_websocket)
    page.on("console", on_console)
    page.on("pageerror", lambda error: browser.page_errors.append(str(error)))
    page.on("dialog", on_dialog)
    try:
        yield browser
    finally:
        context.close()
    problems = browser.problems()
    if problems:
        pytest.fail("the page did not stay local and quiet:\n" + "\n".join(problems), pytrace=False)
