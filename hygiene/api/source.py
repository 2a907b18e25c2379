"""The source API: plugins that read deal data into a raw polars table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

if TYPE_CHECKING:
    import polars as pl


@attrs.define(kw_only=True)
class RawTable:
    """Deal data as read, before normalisation.

    ``frame`` holds the export's columns under their own names, as text
    where the format is text (the engine coerces types and reports cells it
    cannot read). ``rows`` gives, for each record, where it sits in the
    file: spreadsheet-style row numbers for CSV (the header is row 1), line
    numbers for JSON Lines, record numbers for a JSON array. When ``rows`` is
    None, record *i* is at ``first_row + i``.

    A source may instead give ``lazy``, a polars LazyFrame of the same
    columns plus the row numbers in a column named
    ``hygiene.ROW_COLUMN``, and ``read_eagerly``, which reads the
    table the ordinary way. The engine then reads the export as it
    normalises it (polars' streaming engine), so a large export is never in
    memory whole as text; ``read_eagerly`` serves when that fails (so the
    error can name the row) and when anything asks for ``frame``.
    """

    _frame: pl.DataFrame | None = attrs.field(default=None, alias="frame")
    location: str
    first_row: int = 2
    rows: Sequence[int] | None = None
    lazy: pl.LazyFrame | None = None
    read_eagerly: Callable[[], RawTable] | None = None
    #: The text holds spreadsheet dates as day serials (45382 is 2024-04-01) where a cell was not formatted as a date.
    date_serials: bool = False
    #: A lazy table's check that rides along its one streaming read: true for the records the source
    #: must look at again (a CSV record whose last field is empty may be a record with too few fields).
    suspect_rows: pl.Expr | None = None
    #: Given the row numbers ``suspect_rows`` marked, raises :class:`hygiene.SourceError` for the first
    #: that is unusable, naming it.
    check_rows: Callable[[Sequence[int]], None] | None = None

    @property
    def frame(self) -> pl.DataFrame:
        """The table, in memory (a lazy table is read now)."""
        if self._frame is None:
            if self.read_eagerly is None:
                raise ValueError("a RawTable needs a frame, or a lazy table and read_eagerly")
            eager = self.read_eagerly()
            self._frame, self.rows, self.first_row, self.date_serials = eager.frame, eager.rows, eager.first_row, eager.date_serials
        return self._frame

    @property
    def is_lazy(self) -> bool:
        """Whether the table is still to be read (the engine streams it)."""
        return self._frame is None and self.lazy is not None


class Source:
    """A source plugin: reads one kind of export.

    ``name`` is what users write as ``[source] type``; ``extensions`` choose
    the source when no type is given. ``options_schema`` lists the extra
    ``[source]`` keys it accepts (e.g. ``delimiter``); they are validated
    with the rest of the configuration.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    #: False for sources that read no file (a database): ``read`` then gets ``path=None``.
    reads_file: ClassVar[bool] = True
    options_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "properties": {}}

    def read(self, path: Path | None, *, options: Mapping[str, Any], display_name: str) -> RawTable:
        """Read ``path``; raise :class:`hygiene.SourceError` naming ``display_name`` when it is unusable."""
        raise NotImplementedError
