"""Adding an export to the store as a snapshot: its date, its digest, and what changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from hygiene.api.errors import HygieneError
from hygiene.history.store import HistoryStore, SnapshotChanges, configured_location, open_configured_store, version_rows

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")


def open_store(config) -> HistoryStore:
    """The configured store, which must exist already (``hygiene snapshot add`` creates it)."""
    store = open_configured_store(config)
    if store is None:
        location = configured_location(config)
        raise HygieneError(f"{location.display}: no history store yet; `hygiene snapshot add EXPORT` creates it")
    return store


def snapshot_date(explicit: dt.date | None, path: Path, configured: dt.date | None, today: dt.date) -> dt.date:
    """``--date``, else a ``YYYY-MM-DD`` in the file name (the last one), else the config's ``as_of``, else today."""
    if explicit is not None:
        return explicit
    for text in reversed(_DATE_IN_NAME.findall(path.name)):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            continue
    return configured or today


def file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def add_deals(store: HistoryStore, deals, date: dt.date, *, path: Path, source: str, hygiene_version: str, added_at: str, open_stage) -> SnapshotChanges:
    """Store the normalised export ``deals`` as the snapshot of ``date``."""
    return store.add_snapshot(
        version_rows(deals.frame, deals.extra_columns),
        date,
        source=source,
        sha256=file_sha256(path),
        hygiene_version=hygiene_version,
        added_at=added_at,
        open_stage=open_stage,
    )
