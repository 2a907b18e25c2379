"""The snapshot store: versions in, exports back out, whatever the order of adds.

Every test runs against each database in ``store_url``.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hygiene.api.errors import ConfigError, HygieneError
from hygiene.history import schema
from hygiene.history.store import AuditRun, HistoryStore, StoreLocation, locate_store, version_rows

DEAL_SCHEMA = {"id": pl.String, "stage": pl.String, "amount": pl.Float64, "close_date": pl.Date, "owner": pl.String, "Region": pl.String}
KW = dict(source="deals.csv", sha256=None, hygiene_version="test", added_at="2026-01-01T00:00:00+00:00")


@pytest.fixture
def store(store_url):
    opened = HistoryStore.open(StoreLocation(url=store_url, display="test store"))
    yield opened
    opened.close()


def export(rows: list[tuple]) -> pl.DataFrame:
    return version_rows(pl.DataFrame(rows, schema=DEAL_SCHEMA, orient="row"), ["Region"])


def read_back(store: HistoryStore, date: dt.date) -> list[tuple]:
    frame = store.deals_as_of(date)
    return sorted(frame.select("id", "stage", "amount", "close_date", "owner", "extras").rows())


def expected(rows: list[tuple]) -> list[tuple]:
    frame = export(rows)
    return sorted(frame.select(pl.col("deal_id").alias("id"), "stage", "amount", "close_date", "owner", "extras").rows())


def check_invariants(store: HistoryStore) -> None:
    dates = set(store.snapshot_dates())
    versions = store.versions(["content_hash"])
    assert set(versions["valid_from"]) <= dates
    assert set(versions["valid_to"].drop_nulls()) <= dates
    previous = versions.with_columns(
        pl.col("deal_id").shift(1).alias("prev_deal"), pl.col("valid_to").shift(1).alias("prev_to"), pl.col("content_hash").shift(1).alias("prev_hash")
    ).filter(pl.col("deal_id") == pl.col("prev_deal"))
    # Versions of a deal never overlap, and two that touch differ (an unchanged stretch is one row).
    assert previous.filter(pl.col("prev_to").is_null() | (pl.col("prev_to") > pl.col("valid_from"))).height == 0
    assert previous.filter((pl.col("prev_to") == pl.col("valid_from")) & (pl.col("prev_hash") == pl.col("content_hash"))).height == 0


D1, D2, D3 = dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19)
WEEK1 = [("A", "Proposal", 100.0, dt.date(2026, 3, 31), "Ada", "EMEA"), ("B", "Negotiation", 50.0, None, "Bob", None)]
WEEK2 = [("A", "Proposal", 120.0, dt.date(2026, 3, 31), "Ada", "EMEA"), ("C", "Prospecting", 10.0, None, "Ada", "APAC")]
WEEK3 = [("A", "Proposal", 100.0, dt.date(2026, 3, 31), "Ada", "EMEA"), ("B", "Negotiation", 50.0, None, "Bob", None)]


def test_an_unchanged_deal_costs_nothing_per_snapshot(store):
    for day in (D1, D2, D3):
        store.add_snapshot(export(WEEK1), day, **KW)
    assert store.versions().height == 2
    assert [s.date for s in store.snapshots()] == [D1, D2, D3]


def test_a_change_closes_the_old_version_and_starts_a_new_one(store):
    store.add_snapshot(export(WEEK1), D1, **KW)
    changes = store.add_snapshot(export(WEEK2), D2, **KW)
    assert (changes.new, changes.changed, changes.removed) == (1, 1, 1)
    a = store.versions(["amount"]).filter(pl.col("deal_id") == "A")
    assert a.select("valid_from", "valid_to", "amount").rows() == [(D1, D2, 100.0), (D2, None, 120.0)]
    b = store.versions(["amount"]).filter(pl.col("deal_id") == "B")
    assert b.select("valid_from", "valid_to").rows() == [(D1, D2)]  # vanished: closed, not kept


def test_a_backfill_between_two_snapshots_splits_and_merges_versions(store):
    store.add_snapshot(export(WEEK1), D1, **KW)
    store.add_snapshot(export(WEEK3), D3, **KW)
    store.add_snapshot(export(WEEK2), D2, **KW)
    for day, rows in ((D1, WEEK1), (D2, WEEK2), (D3, WEEK3)):
        assert read_back(store, day) == expected(rows)
    check_invariants(store)


def test_re_adding_a_date_replaces_that_snapshot_and_merges_what_no_longer_differs(store):
    for day, rows in ((D1, WEEK1), (D2, WEEK2), (D3, WEEK3)):
        store.add_snapshot(export(rows), day, **KW)
    changes = store.add_snapshot(export(WEEK1), D2, **KW)
    assert changes.replaced
    assert store.versions().height == 2  # A and B unchanged over all three dates again
    assert read_back(store, D2) == expected(WEEK1)
    check_invariants(store)


def test_prune_keeps_the_newest_snapshots(store):
    for day, rows in ((D1, WEEK1), (D2, WEEK2), (D3, WEEK3)):
        store.add_snapshot(export(rows), day, **KW)
    assert store.prune(2) == [D1]
    assert store.snapshot_dates() == [D2, D3]
    assert read_back(store, D2) == expected(WEEK2)
    assert read_back(store, D3) == expected(WEEK3)
    check_invariants(store)


def test_a_failed_add_leaves_the_store_exactly_as_before(store, monkeypatch):
    store.add_snapshot(export(WEEK1), D1, **KW)
    before = store.versions()

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the bulk insert

    monkeypatch.setattr(HistoryStore, "_bulk_insert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.add_snapshot(export(WEEK2), D2, **KW)
    assert store.snapshot_dates() == [D1]
    assert store.versions().equals(before)


def test_two_adds_at_once_both_land_whole(store_url):
    errors: list[BaseException] = []

    def add(rows, day):
        try:
            with HistoryStore.open(StoreLocation(url=store_url, display="test store")) as own:
                own.add_snapshot(export(rows), day, **KW)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    HistoryStore.open(StoreLocation(url=store_url, display="test store")).close()
    threads = [threading.Thread(target=add, args=(rows, day)) for rows, day in ((WEEK1, D1), (WEEK2, D2), (WEEK3, D3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with HistoryStore.open(StoreLocation(url=store_url, display="test store")) as store:
        for day, rows in ((D1, WEEK1), (D2, WEEK2), (D3, WEEK3)):
            assert read_back(store, day) == expected(rows)
        check_invariants(store)


def test_a_store_from_a_newer_hygiene_is_refused_with_one_line(store_url):
    HistoryStore.open(StoreLocation(url=store_url, display="team store")).close()
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(sa.update(schema.schema_version).values(version=schema.SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(HygieneError, match=rf"^team store: the history store has schema version {schema.SCHEMA_VERSION + 1}, newer than this hygiene reads"):
        HistoryStore.open(StoreLocation(url=store_url, display="team store"))


def test_an_older_schema_is_upgraded_in_place_by_the_forward_migrations(store_url, monkeypatch):
    HistoryStore.open(StoreLocation(url=store_url, display="store")).close()
    applied = []

    def add_note_column(connection):
        connection.exec_driver_sql("ALTER TABLE hygiene_snapshots ADD COLUMN note TEXT")
        applied.append(schema.SCHEMA_VERSION)

    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION - 1, add_note_column)
    HistoryStore.open(StoreLocation(url=store_url, display="store")).close()
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        assert schema.current_version(connection) == schema.SCHEMA_VERSION
        assert "note" in {c["name"] for c in sa.inspect(connection).get_columns("hygiene_snapshots")}
    engine.dispose()
    assert len(applied) == 1


def test_the_default_store_is_a_file_beside_the_configuration(tmp_path):
    location = locate_store(tmp_path, None, {})
    assert location.default_file == tmp_path / ".hygiene" / "history.db"
    assert not location.exists


def test_a_relative_sqlite_url_is_a_file_beside_the_configuration_not_the_working_directory(tmp_path):
    for url in ("sqlite:///history.db", "sqlite:///.hygiene/team.db"):
        location = locate_store(tmp_path, url, {})
        relative = url.removeprefix("sqlite:///")
        assert location.sqlite_file == tmp_path / relative
        assert location.url == f"sqlite:///{(tmp_path / relative).as_posix()}"
    # The environment's URL is read the same way: one store per configuration, wherever hygiene runs.
    assert locate_store(tmp_path, None, {"HYGIENE_HISTORY_URL": "sqlite:///env.db"}).sqlite_file == tmp_path / "env.db"
    absolute = tmp_path / "elsewhere" / "store.db"
    assert locate_store(tmp_path, f"sqlite:///{absolute.as_posix()}", {}).sqlite_file == absolute
    assert locate_store(tmp_path, "sqlite://", {}).sqlite_file is None
    assert locate_store(tmp_path, "postgresql+psycopg://ops@db/hygiene", {}).sqlite_file is None


def test_hygiene_toml_s_relative_sqlite_url_names_the_same_store_from_any_folder(hygiene_cli, write_csv, tmp_path):
    team = tmp_path / "team"
    (team / "run").mkdir(parents=True)
    (team / "hygiene.toml").write_text('[history]\nurl = "sqlite:///.hygiene/team.db"\n', encoding="utf-8")
    export = write_csv([("id", "stage", "amount"), ("A", "Proposal", "10")], "deals.csv")
    added = hygiene_cli("snapshot", "add", str(export), "--config", "team/hygiene.toml", "--date", "2026-01-05")
    assert added.exit_code == 0, added.output
    assert (team / ".hygiene" / "team.db").is_file()
    assert not (tmp_path / ".hygiene").exists()
    listed = hygiene_cli("snapshot", "list", "--config", str(team / "hygiene.toml"))
    assert listed.exit_code == 0, listed.output
    assert "2026-01-05" in listed.output and str(team / ".hygiene" / "team.db") in listed.output


def test_the_environment_variable_beats_the_file_and_its_password_is_never_shown(tmp_path):
    location = locate_store(tmp_path, "sqlite:///other.db", {"HYGIENE_HISTORY_URL": "postgresql+psycopg://ops:s3cret@db.example/hygiene"})
    assert location.url.endswith("@db.example/hygiene")
    assert "s3cret" not in location.display
    assert location.display == "postgresql+psycopg://ops:***@db.example/hygiene"


def test_an_unusable_url_is_one_line_without_the_password(tmp_path):
    with pytest.raises(ConfigError) as raised:
        locate_store(tmp_path, None, {"HYGIENE_HISTORY_URL": "not a url ops:s3cret@host"})
    assert "s3cret" not in str(raised.value)


def test_a_password_in_hygiene_toml_is_refused_without_echoing_it(hygiene_cli, tmp_path):
    (tmp_path / "hygiene.toml").write_text('[history]\nurl = "postgresql+psycopg://ops:s3cret@db/hygiene"\n', encoding="utf-8")
    result = hygiene_cli("snapshot", "list")
    assert result.exit_code == 2
    assert "s3cret" not in result.output
    assert "HYGIENE_HISTORY_URL" in result.output


# -- the property: every date reads back as the export added for it ----------------------------

_IDS = st.sampled_from(["A", "B", "C", "D", "E"])
_ROW = st.tuples(
    st.sampled_from(["Proposal", "Negotiation", "Closed Won"]),
    st.one_of(st.none(), st.sampled_from([0.0, 10.0, 99.5])),
    st.one_of(st.none(), st.sampled_from([dt.date(2026, 3, 31), dt.date(2026, 6, 30)])),
    st.sampled_from(["Ada", "Bob", None]),
    st.sampled_from(["EMEA", None, "=1+1"]),
)
_EXPORT = st.dictionaries(_IDS, _ROW, max_size=5).map(lambda deals: [(deal_id, *row) for deal_id, row in sorted(deals.items())])
_DAYS = st.sampled_from([dt.date(2026, 1, 1) + dt.timedelta(days=7 * k) for k in range(6)])


def empty(store: HistoryStore) -> None:
    with store.engine.begin() as connection:
        for table in (schema.deal_versions, schema.snapshots, schema.audit_findings, schema.audit_runs):
            connection.execute(sa.delete(table))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(adds=st.lists(st.tuples(_DAYS, _EXPORT), min_size=1, max_size=8))
def test_any_sequence_of_adds_in_any_order_with_re_adds_reads_back_exactly(store, adds):
    empty(store)  # one database per test, emptied for each example
    latest: dict[dt.date, list[tuple]] = {}
    for day, rows in adds:
        store.add_snapshot(export(rows), day, **KW)
        latest[day] = rows
    assert store.snapshot_dates() == sorted(latest)
    for day, rows in latest.items():
        assert read_back(store, day) == expected(rows)
    check_invariants(store)


def test_reads_through_arrow_give_exactly_what_the_driver_gives(store, monkeypatch):
    store.add_snapshot(export(WEEK1), D1, **KW)
    store.add_snapshot(export(WEEK2), D2, **KW)
    through_arrow = []
    read_database_uri = pl.read_database_uri

    def counted(*args, **kwargs):
        through_arrow.append(args[0])
        return read_database_uri(*args, **kwargs)

    monkeypatch.setattr(pl, "read_database_uri", counted)
    fast = (store.versions(), store.deals_as_of(D1), store.versions(["amount"], before=D2))
    # PostgreSQL is read through connectorx; an SQLite file through its driver, which sees the write-ahead log.
    assert bool(through_arrow) == (store.engine.dialect.name == "postgresql")
    monkeypatch.setattr(HistoryStore, "_arrow_url", lambda self: None)
    slow = (store.versions(), store.deals_as_of(D1), store.versions(["amount"], before=D2))
    for one, other in zip(fast, slow, strict=True):
        assert one.schema == other.schema
        assert one.rows() == other.rows()


# -- text the store keeps once, whatever it holds ------------------------------------------------

# Any text an export cell can carry, NUL bytes (which PostgreSQL's text type refuses) and surrogate-free Unicode included.
_TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8"), max_size=12), st.sampled_from(["\x00", "a\x00b", "\x00\x00", ""]))
_NUL_ROW = st.tuples(_TEXT, st.one_of(st.none(), st.sampled_from([0.0, 10.0])), st.none(), _TEXT, _TEXT)
_NUL_EXPORT = st.dictionaries(st.sampled_from(["A", "B\x00", "C", "\x00"]), _NUL_ROW, max_size=4).map(
    lambda deals: [(deal_id, *row) for deal_id, row in sorted(deals.items())]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(adds=st.lists(st.tuples(_DAYS, _NUL_EXPORT), min_size=1, max_size=5))
def test_text_with_nul_bytes_reads_back_exactly_on_every_database(store, adds):
    empty(store)
    latest: dict[dt.date, list[tuple]] = {}
    for day, rows in adds:
        store.add_snapshot(export(rows), day, **KW)
        latest[day] = rows
    for day, rows in latest.items():
        assert read_back(store, day) == expected(rows)
    check_invariants(store)


def test_a_text_value_is_stored_once_however_many_deals_and_versions_carry_it(store):
    week = [(f"D{n}", "Proposal", float(n), None, "Ada", "EMEA") for n in range(50)]
    store.add_snapshot(export(week), D1, **KW)
    store.add_snapshot(export([(d, "Negotiation", a, c, o, r) for d, _s, a, c, o, r in week]), D2, **KW)
    assert store.versions().height == 100
    with store.engine.connect() as connection:
        texts = schema.texts
        counts = dict(connection.execute(sa.select(texts.c.field, sa.func.count()).group_by(texts.c.field)).all())
    # 50 ids, two stages, one owner, one extras JSON: not one per version.
    assert counts == {"id": 50, "stage": 2, "owner": 1, "extras": 1}


def test_a_store_of_schema_2_moves_to_the_compact_layout_and_reads_back_the_same(store_url):
    rows = export(WEEK1 + [("C", "Prospecting", 10.0, None, "Ada", "APAC")])
    versions = rows.with_columns(pl.lit(D1).alias("valid_from"), pl.when(pl.col("deal_id") == "A").then(pl.lit(D2)).otherwise(None).alias("valid_to"))
    later = export(WEEK2).filter(pl.col("deal_id") == "A").with_columns(pl.lit(D2).alias("valid_from"), pl.lit(None, pl.Date).alias("valid_to"))
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        schema.metadata.create_all(connection, tables=[schema.schema_version, schema.snapshots, schema.audit_runs, schema.audit_findings])
        schema.deal_versions_v2.create(connection)
        connection.execute(sa.insert(schema.schema_version).values(version=2))
        for day, count in ((D1, 3), (D2, 3)):
            connection.execute(sa.insert(schema.snapshots).values(snapshot_date=day, kind="export", source="deals.csv", row_count=count, sha256=None, hygiene_version="old", added_at="x"))
        connection.execute(sa.insert(schema.deal_versions_v2), pl.concat([versions, later], how="diagonal").to_dicts())
    engine.dispose()
    with HistoryStore.open(StoreLocation(url=store_url, display="store")) as store:
        assert read_back(store, D1) == expected(WEEK1 + [("C", "Prospecting", 10.0, None, "Ada", "APAC")])
        assert read_back(store, D2) == sorted(expected([WEEK2[0]]) + expected([WEEK1[1], ("C", "Prospecting", 10.0, None, "Ada", "APAC")]))
        # The next add compares with the migrated digests: nothing changed, nothing written.
        changes = store.add_snapshot(export([WEEK2[0], WEEK1[1], ("C", "Prospecting", 10.0, None, "Ada", "APAC")]), D3, **KW)
        assert (changes.new, changes.changed, changes.removed) == (0, 0, 0)
        assert store.versions().height == 4
        check_invariants(store)
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        assert schema.current_version(connection) == schema.SCHEMA_VERSION == 4
        assert not sa.inspect(connection).has_table("hygiene_deal_versions_v2")
    engine.dispose()


def test_a_weekly_add_reads_a_large_dictionary_by_the_changed_deals_keys_and_adds_no_duplicates(store):
    week = [(f"D{n}", "Proposal", float(n), None, f"owner {n}", "EMEA") for n in range(40)]
    store.add_snapshot(export(week), D1, **KW)
    changed = [(d, s, a + 1 if d in ("D3", "D7") else a, c, o, r) for d, s, a, c, o, r in week]
    changed += [("D40", "Proposal", 1.0, None, "owner 3", None), ("D41", "Proposal", 1.0, None, "owner 20", None)]
    changes = store.add_snapshot(export(changed), D2, **KW)
    assert (changes.new, changes.changed) == (2, 2)
    assert read_back(store, D1) == expected(week)
    assert read_back(store, D2) == expected(changed)
    with store.engine.connect() as connection:
        owners = connection.execute(sa.select(sa.func.count()).where(schema.texts.c.field == "owner")).scalar()
    # Looked up among the changed deals' old keys only: D40's owner is one of them (D3's), D41's is not, so its
    # text gets a second entry (41 in all), which reads back as the same text, never a wrong one.
    assert owners == 41


# -- audit runs: the finding rows keep the export's text as it is ---------------------------------

# The finding rows of schema 3: the deal's id and owner as the database's text (on PostgreSQL: no NUL byte).
_AUDIT_FINDINGS_V3 = sa.Table(
    "hygiene_audit_findings",
    sa.MetaData(),
    sa.Column("as_of", schema.DATE, primary_key=True),
    sa.Column("fingerprint", sa.String(20), primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("deal_id", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("runs", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)


def _run(day: dt.date, findings: int) -> AuditRun:
    return AuditRun(as_of=day, recorded_at=f"{day}T00:00:00Z", source="deals.csv", hygiene_version="test", deals=findings, open_deals=findings, findings=findings, score=None, open_pipeline=0.0, amount_at_risk=0.0, counts={})


def test_a_store_of_schema_3_keeps_its_recorded_findings_and_then_records_ids_with_nul_bytes(store_url):
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        schema.metadata.create_all(connection, tables=[t for t in schema.metadata.sorted_tables if t.name != _AUDIT_FINDINGS_V3.name])
        _AUDIT_FINDINGS_V3.create(connection)
        connection.execute(sa.insert(schema.schema_version).values(version=3))
        connection.execute(
            sa.insert(_AUDIT_FINDINGS_V3),
            [
                {"as_of": D1, "fingerprint": "f1", "code": "HY003", "deal_id": "A", "owner": "Ada é", "severity": "warning", "runs": 1},
                {"as_of": D1, "fingerprint": "f2", "code": "HY004", "deal_id": None, "owner": "Bob", "severity": "info", "runs": 2},
            ],
        )
    engine.dispose()
    with HistoryStore.open(StoreLocation(url=store_url, display="store")) as store:
        assert sorted(store.run_findings(D1).rows()) == [("f1", "HY003", "A", "Ada é", "warning", 1), ("f2", "HY004", None, "Bob", "info", 2)]
        nul = pl.DataFrame(
            {"fingerprint": ["f3", "f4"], "code": ["HY003", "HY003"], "deal_id": ["A\x00", "\x00"], "owner": ["O\x00wn", None], "severity": ["warning", "warning"], "runs": [1, 1]}
        )
        store.record_audit_run(_run(D2, nul.height), nul)
        assert sorted(store.run_findings(D2).rows()) == sorted(nul.rows())
        assert sorted(store.run_findings(D1).rows())[0] == ("f1", "HY003", "A", "Ada é", "warning", 1)
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        assert schema.current_version(connection) == schema.SCHEMA_VERSION == 4
    engine.dispose()


_EXPORT_HEADER = ["id", "name", "owner", "stage", "amount", "close_date", "created_date", "last_activity_date"]
# Ids and owners an export may carry, NUL bytes included; the week after: still past due, fixed, won, or gone.
_AUDITED_DEAL = st.tuples(st.text(alphabet="O\x00é", min_size=1, max_size=3), st.booleans(), st.sampled_from(["past due", "fixed", "won", "gone"]))
_AUDITED_DEALS = st.dictionaries(st.text(alphabet="A\x00é", min_size=1, max_size=3), _AUDITED_DEAL, min_size=1, max_size=5)


# Each example is four whole commands against the store: few examples, each with up to five deals.
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deals=_AUDITED_DEALS)
def test_audit_runs_whose_findings_name_ids_with_nul_bytes_are_recorded_and_compared_on_every_database(store, store_url, write_csv, hygiene_cli, tmp_path, deals):
    empty(store)
    (tmp_path / "hygiene.toml").write_text(f'select = ["HY003"]\n\n[history]\nurl = "{store_url}"\n', encoding="utf-8")

    def row(deal_id: str, owner: str, stage: str, close_date: str) -> list[str]:
        return [deal_id, "Deal", owner, stage, "10", close_date, "2026-01-01", "2026-11-01"]

    first = [row(d, owner, "Proposal", "2026-10-01" if due else "2026-12-01") for d, (owner, due, _) in deals.items()]
    later = {"past due": ("Proposal", "2026-10-01"), "fixed": ("Proposal", "2026-12-01"), "won": ("Closed Won", "2026-10-01")}
    second = [row(d, owner, *later[then]) for d, (owner, _, then) in deals.items() if then != "gone"]
    reports = []
    for day, rows in (("2026-11-02", first), ("2026-11-09", second)):
        write_csv([_EXPORT_HEADER, *rows], name=f"export-{day}.csv")
        assert hygiene_cli("snapshot", "add", f"export-{day}.csv").exit_code == 0
        result = hygiene_cli("audit", f"export-{day}.csv", "--as-of", day, "--format", "json", "--output", "report.json", "--exit-zero")
        assert result.exit_code == 0, result.output
        reports.append(json.loads((tmp_path / "report.json").read_text(encoding="utf-8")))
    was_due = {d for d, (_, due, _) in deals.items() if due}
    is_due = {d for d, (_, _, then) in deals.items() if then == "past due"}
    assert sorted(f["deal_id"] for f in reports[0]["findings"]) == sorted(was_due)
    assert reports[1]["history"]["finding_status"] == {"new": len(is_due - was_due), "persisting": len(is_due & was_due)}
    resolved = reports[1]["history"]["resolved"]
    assert sorted(f["deal_id"] for f in resolved["closed"]) == sorted(d for d in was_due if deals[d][2] in ("won", "gone"))
    assert sorted(f["deal_id"] for f in resolved["cleared"]) == sorted(d for d in was_due if deals[d][2] == "fixed")
    assert sorted((f["deal_id"], f["owner"]) for f in resolved["closed"] + resolved["cleared"]) == sorted((d, deals[d][0]) for d in was_due - is_due)
