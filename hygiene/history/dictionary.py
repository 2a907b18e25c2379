"""The store's text dictionary (``hygiene_texts``): text values to integer keys and back, a whole column at a time.

A version keeps each text field (its deal's id, stage, owner, name, the
extras' JSON...) as the key of the value in the dictionary, so a value
repeated across deals and across a deal's versions is stored once. Keys
are numbered per field from 0 without gaps, in the order values first
arrived, and entries are never changed or removed: decoding a column is
one gather by position, and a key means the same value for the life of
the store, whichever connection reads it.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from hygiene.api.errors import HygieneError
from hygiene.history.sql import bulk_insert, read_frame


#: A field's dictionary is read whole when it holds at most this many times the values to encode.
_WHOLE_READ_FACTOR = 4


class TextDictionary:
    """The dictionary as one connection sees it; each field's values are read once, when first needed.

    :meth:`encode` adds the values it has not seen, so it must run inside
    the store's write transaction (new keys follow the ones read there).
    """

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        """``table``: the dictionary's table (:data:`hygiene.history.schema.texts`)."""
        self._connection = connection
        self._table = table
        self._values: dict[str, pl.Series] = {}

    def values(self, field: str) -> pl.Series:
        """Every value of ``field``, the value of key ``k`` at position ``k``."""
        if field not in self._values:
            texts = self._table
            query = sa.select(texts.c.text_key, texts.c.value).where(texts.c.field == field).order_by(texts.c.text_key)
            frame = read_frame(self._connection, query, {"text_key": pl.Int64, "value": pl.String})
            if frame.height and frame["text_key"][-1] != frame.height - 1:
                raise HygieneError(f"the history store's dictionary of {field!r} has gaps in its keys: the store was changed outside hygiene")
            self._values[field] = frame["value"]
        return self._values[field]

    def decode(self, keys: pl.Series, field: str) -> pl.Series:
        """The values of ``keys`` (null stays null), named as ``keys``."""
        return self.values(field).gather(keys.cast(pl.Int64)).alias(keys.name)

    def lookup(self, values: pl.Series, field: str) -> pl.Series:
        """The keys of ``values``, null for a value not in the dictionary (which is left as it is)."""
        return self._keys(values, self.values(field))

    def encode(self, values: pl.Series, field: str, likely: pl.Series | None = None) -> pl.Series:
        """The keys of ``values`` (null stays null), named as ``values``; values not in the dictionary yet are added.

        ``likely``: keys the values probably have (the ones the same deals'
        previous versions held). When the field's dictionary is much larger
        than ``values`` (deal names, next steps), only those entries are read,
        and a value not among them is added with a key of its own even if
        another deal's entry holds the same text: it reads back the same,
        and an add then costs what it changes, not the size of the store.
        """
        if likely is not None and field not in self._values:
            distinct = values.drop_nulls().unique()
            if self._size(field) > _WHOLE_READ_FACTOR * max(distinct.len(), 1):
                return self._encode_among(values, distinct, field, likely.drop_nulls().unique())
        known = self.values(field)
        distinct = values.drop_nulls().unique(maintain_order=True)
        new = distinct.filter(~distinct.is_in(known.implode())) if known.len() else distinct
        if new.len():
            start = known.len()
            bulk_insert(
                self._connection,
                self._table,
                pl.DataFrame({"field": pl.Series([field] * new.len(), dtype=pl.String), "text_key": pl.int_range(start, start + new.len(), eager=True, dtype=pl.Int64), "value": new}),
            )
            known = pl.concat([known, new.alias(known.name)]) if known.len() else new.alias("value")
            self._values[field] = known
        return self._keys(values, known)

    def _size(self, field: str) -> int:
        texts = self._table
        last = self._connection.execute(sa.select(sa.func.max(texts.c.text_key)).where(texts.c.field == field)).scalar()
        return 0 if last is None else int(last) + 1

    def _encode_among(self, values: pl.Series, distinct: pl.Series, field: str, likely: pl.Series) -> pl.Series:
        texts = self._table
        candidates = pl.DataFrame(schema={"text_key": pl.Int64, "value": pl.String})
        if likely.len():
            # Integer keys written into the statement: no limit on bound parameters to meet.
            keys = ", ".join(str(int(k)) for k in likely.sort())
            query = sa.select(texts.c.text_key, texts.c.value).where(texts.c.field == field, sa.text(f"text_key IN ({keys})"))
            candidates = read_frame(self._connection, query, {"text_key": pl.Int64, "value": pl.String}).unique("value", keep="first")
        new = distinct.filter(~distinct.is_in(candidates["value"].implode()))
        if new.len():
            start = self._size(field)
            added = pl.DataFrame({"text_key": pl.int_range(start, start + new.len(), eager=True, dtype=pl.Int64), "value": new})
            bulk_insert(self._connection, self._table, added.with_columns(pl.lit(field).alias("field")))
            candidates = pl.concat([candidates, added.select("text_key", "value")])
        return values.to_frame("value").join(candidates, on="value", how="left", maintain_order="left", nulls_equal=False)["text_key"].alias(values.name)

    @staticmethod
    def _keys(values: pl.Series, known: pl.Series) -> pl.Series:
        # A text entered twice (see encode's `likely`) maps to its first key.
        lookup = pl.DataFrame({"value": known, "text_key": pl.int_range(0, known.len(), eager=True, dtype=pl.Int64)}).unique("value", keep="first", maintain_order=True)
        return values.to_frame("value").join(lookup, on="value", how="left", maintain_order="left", nulls_equal=False)["text_key"].alias(values.name)
