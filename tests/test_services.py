"""The real services the tests rely on: a PostgreSQL server and a headless Chromium (fixtures in ``_service_fixtures.py``).

Each test here would fail against a stand-in: rows go through a real
database engine and its transactions, a page runs real JavaScript, and the
screenshot is a real rendering.
"""

from __future__ import annotations

import struct
import tempfile
import textwrap
from pathlib import Path

import pytest
import sqlalchemy

from _postgres_server import PostgresServer, find_binaries
from _throwaway_install import run_pytest

TESTS = Path(__file__).resolve().parent

metadata = sqlalchemy.MetaData()
deals = sqlalchemy.Table(
    "deals",
    metadata,
    sqlalchemy.Column("id", sqlalchemy.String(20), primary_key=True),
    sqlalchemy.Column("owner", sqlalchemy.Text, nullable=False),
    sqlalchemy.Column("amount_cents", sqlalchemy.BigInteger),
)

ROWS = [
    {"id": "D1", "owner": "Zoë Ångström", "amount_cents": 1_250_000},
    {"id": "D2", "owner": "Ravi", "amount_cents": None},
    {"id": "D3", "owner": "O'Brien; DROP TABLE deals", "amount_cents": 9_007_199_254_740_993},
]


def count(engine: sqlalchemy.Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(deals)).scalar_one()


@pytest.fixture
def engine(store_url: str):
    engine = sqlalchemy.create_engine(store_url)
    yield engine
    engine.dispose()


# --- PostgreSQL and SQLite ----------------------------------------------------------------------


def test_store_url_is_a_real_database_of_its_kind(request, engine):
    kind = request.node.callspec.params["store_url"]
    assert engine.dialect.name == kind
    with engine.connect() as connection:
        if kind == "postgresql":
            assert connection.exec_driver_sql("SELECT version()").scalar_one().startswith("PostgreSQL ")
        else:
            assert connection.exec_driver_sql("SELECT sqlite_version()").scalar_one().count(".") == 2


def test_rows_written_in_one_transaction_read_back_exactly(engine):
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(deals.insert(), ROWS)

    with engine.connect() as connection:
        stored = [row._asdict() for row in connection.execute(sqlalchemy.select(deals).order_by(deals.c.id))]
    assert stored == ROWS


def test_a_rolled_back_transaction_leaves_no_row_and_is_never_seen_by_others(engine):
    metadata.create_all(engine)
    with engine.connect() as writer:
        transaction = writer.begin()
        writer.execute(deals.insert(), ROWS)
        assert writer.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(deals)).scalar_one() == 3
        assert count(engine) == 0  # another connection does not see uncommitted rows
        transaction.rollback()
    assert count(engine) == 0


def test_a_failed_statement_rolls_back_its_whole_transaction(engine):
    metadata.create_all(engine)
    with pytest.raises(sqlalchemy.exc.IntegrityError):
        with engine.begin() as connection:
            connection.execute(deals.insert(), ROWS[:1])
            connection.execute(deals.insert(), ROWS[:1])  # the same primary key again
    assert count(engine) == 0


def test_store_url_gives_each_test_an_empty_database(engine):
    assert sqlalchemy.inspect(engine).get_table_names() == []


#: Databases handed out by ``postgres_database`` in this module, to check that each was dropped.
handed_out: list[str] = []


@pytest.mark.parametrize("turn", [1, 2])
def test_each_postgres_database_is_new_and_the_previous_one_is_dropped(postgres_url, postgres_database, turn):
    name = sqlalchemy.make_url(postgres_database).database
    server = sqlalchemy.create_engine(postgres_url)
    try:
        with server.connect() as connection:
            existing = set(connection.exec_driver_sql("SELECT datname FROM pg_database").scalars())
    finally:
        server.dispose()
    assert name in existing
    assert name != sqlalchemy.make_url(postgres_url).database
    assert not existing & set(handed_out), "an earlier test's database was not dropped"
    handed_out.append(name)


def test_a_private_server_starts_from_the_binaries_and_stops_without_a_trace():
    # What the postgres_url fixture does when no server is configured, and what .ci/run does.
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries not found (install Debian's postgresql package)")
    folder = Path(tempfile.mkdtemp(prefix="hygiene-postgres-"))
    server = PostgresServer(folder, binaries)
    try:
        engine = sqlalchemy.create_engine(server.start(), poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW fsync").scalar_one() == "off"
            assert connection.exec_driver_sql("SHOW server_encoding").scalar_one() == "UTF8"
            assert connection.exec_driver_sql("SELECT current_database()").scalar_one() == "hygiene"
    finally:
        server.stop()
    assert not folder.exists()
    with pytest.raises(sqlalchemy.exc.OperationalError):
        engine.connect()


# --- Chromium -----------------------------------------------------------------------------------

PAGE = """\
<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Smoke</title></head>
<body>
  <p id="status">waiting</p>
  <button id="go" onclick="document.getElementById('status').textContent = 'clicked ' + (6 * 7)">Go</button>
  <img alt="" src="http://example.invalid/x.png">
</body>
</html>
"""


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_local_page_runs_its_script_and_its_network_request_is_blocked(browser_page, tmp_path):
    page_file = tmp_path / "smoke.html"
    page_file.write_text(PAGE, encoding="utf-8")

    browser_page.open(page_file)
    browser_page.page.click("#go")

    assert browser_page.page.text_content("#status") == "clicked 42"
    assert browser_page.blocked_requests == ["http://example.invalid/x.png"]
    assert browser_page.console_errors == []  # the blocked load is reported once, as a request

    screenshot = browser_page.screenshot("smoke")
    assert screenshot == tmp_path / "screenshots" / "smoke.png"
    assert png_size(screenshot) == (1280, 800)
    assert screenshot.stat().st_size > 1000
    browser_page.blocked_requests.clear()  # provoked on purpose, asserted above


def test_the_page_records_every_way_it_could_misbehave(browser_page, tmp_path):
    page_file = tmp_path / "noisy.html"
    page_file.write_text(
        textwrap.dedent(
            """\
            <!doctype html><meta charset="utf-8"><title>Noisy</title>
            <script>
              console.error("broken chart");
              alert("injected");
              fetch("https://example.invalid/beacon").catch(() => {});
              new WebSocket("ws://example.invalid/live");
              setTimeout(() => { throw new Error("late failure"); }, 0);
              setTimeout(() => { window.settled = true; }, 10);
            </script>
            """
        ),
        encoding="utf-8",
    )

    browser_page.open(page_file)
    browser_page.page.wait_for_function("() => window.settled === true")  # the timers have fired

    assert browser_page.console_errors == ["broken chart"]
    assert browser_page.dialogs == ["injected"]
    assert sorted(browser_page.blocked_requests) == ["https://example.invalid/beacon", "ws://example.invalid/live"]
    assert browser_page.page_errors == ["late failure"]
    assert browser_page.problems() == [
        *(f"network request attempted: {url}" for url in browser_page.blocked_requests),
        "console error: broken chart",
        "page error: late failure",
        "dialog opened: injected",
    ]
    for recorded in (browser_page.blocked_requests, browser_page.console_errors, browser_page.page_errors, browser_page.dialogs):
        recorded.clear()


def test_a_screenshot_name_cannot_leave_the_screenshot_folder(browser_page):
    with pytest.raises(ValueError, match="screenshot name"):
        browser_page.screenshot("../outside")


def test_a_test_whose_page_tried_the_network_fails_at_teardown(chromium_executable, tmp_path):
    # The teardown check itself, seen from outside: a test that passes but left a request behind fails.
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text('pytest_plugins = ["_service_fixtures"]\n', encoding="utf-8")
    (project / "test_leaky.py").write_text(
        textwrap.dedent(
            """\
            def test_leaky(browser_page):
                browser_page.page.set_content('<img src="http://example.invalid/leak.png">')
                browser_page.page.wait_for_load_state("load")
            """
        ),
        encoding="utf-8",
    )

    result = run_pytest(project, [TESTS], "-q")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "network request attempted: http://example.invalid/leak.png" in result.stdout
