"""The baseline file is written by polars a slice at a time, and is the same text as the one document json.dumps would write."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hygiene.api.escaping import json_text
from hygiene.ci import baseline as baseline_module
from hygiene.ci.baseline import Baseline, BaselineEntry, EntryTable, entry_table, read_baseline

FINGERPRINT = st.text(alphabet="0123456789abcdef", min_size=20, max_size=20)
# Controls, quotes, backslashes, U+2028, bidi overrides, DEL, C1, astral characters: everything a CRM field may hold.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
ENTRY = st.builds(
    lambda code, count, deal_id, owner: BaselineEntry(code=code, count=count, deal_id=deal_id, owner=owner if deal_id is None else None),
    st.sampled_from(["HY001", "HY004", "HY902"]),
    st.integers(1, 10**6),
    st.none() | TEXT,
    st.none() | TEXT,
)


def reference_text(baseline: Baseline) -> str:
    """What the baseline file held when it was one ``json.dumps``."""
    document = {
        "schema_version": 1,
        "tool": {"name": "hygiene", "version": baseline.tool_version},
        "rules": list(baseline.rules),
        "as_of": baseline.as_of.isoformat(),
        "source": baseline.source,
        "findings": {fingerprint: entry.to_dict() for fingerprint, entry in baseline.entries.items()},
    }
    return json_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _baseline(entries, source="deals.csv") -> Baseline:
    return Baseline(tool_version="1.0", rules=("HY001", "HY004"), as_of=dt.date(2026, 3, 31), source=source, entries=entries)


@settings(max_examples=150, deadline=None)
@given(entries=st.dictionaries(FINGERPRINT, ENTRY, max_size=8), source=TEXT)
def test_the_file_is_the_text_one_json_dumps_would_write(entries, source):
    ordered = dict(sorted(entries.items()))
    assert _baseline(ordered, source).to_json() == reference_text(_baseline(ordered, source))
    # Held as a table (as `hygiene baseline` holds an audit's findings), the same text.
    assert _baseline(EntryTable(entry_table(ordered)), source).to_json() == reference_text(_baseline(ordered, source))


def test_slices_join_into_one_object(monkeypatch, tmp_path):
    monkeypatch.setattr(baseline_module, "SLICE_ENTRIES", 2)
    entries = {f"{n:020x}": BaselineEntry(code="HY001", count=n + 1, deal_id=f"D{n}") for n in range(5)}
    text = _baseline(entries).to_json()
    assert text == reference_text(_baseline(entries))
    (tmp_path / "b.json").write_text(text, encoding="utf-8")
    assert dict(read_baseline(tmp_path / "b.json").entries) == entries


def test_a_table_of_entries_counts_and_reads_as_its_entries():
    entries = {"a" * 20: BaselineEntry(code="HY001", count=2, deal_id="D1"), "b" * 20: BaselineEntry(code="HY004", count=1, owner="Ada")}
    held = EntryTable(entry_table(entries))
    assert (len(held), dict(held), _baseline(held).findings) == (2, entries, 3)
