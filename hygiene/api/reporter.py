"""The reporter API: plugins that write an audit's findings somewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, ClassVar, Literal, TextIO

import attrs

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport

#: Rows a page-like report (HTML) shows per view before pointing to the JSON or CSV report.
DEFAULT_ROWS_PER_VIEW = 200


@attrs.define(frozen=True, kw_only=True)
class ReporterSettings:
    """How the user asked reports to look, from the command line.

    ``colour`` is ``--color``: ``auto`` (a terminal, unless ``NO_COLOR``;
    ``FORCE_COLOR`` forces it), ``always`` or ``never``. ``rows_per_view``
    caps the rows of each table in page-like reports (``--rows-per-view``).
    """

    colour: Literal["auto", "always", "never"] = "auto"
    rows_per_view: int = DEFAULT_ROWS_PER_VIEW

    def wants_colour(self, stream) -> bool:
        import os

        if self.colour != "auto":
            return self.colour == "always"
        if os.environ.get("NO_COLOR"):
            return False
        if os.environ.get("FORCE_COLOR"):
            return True
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())


class Reporter:
    """A reporter plugin: renders an :class:`hygiene.AuditReport` as text.

    ``name`` is what users pass to ``--format``. ``write`` receives a text
    stream: standard output, or a temporary file that replaces the target
    only once the reporter has finished (so a failed run never leaves half
    a report behind).
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    #: Whether the output is a stream of self-contained lines that a reader picks out of
    #: mixed output (like GitHub workflow commands), so it may share standard output with
    #: one other report.
    shares_stdout: ClassVar[bool] = False
    #: Whether ``write`` receives a binary stream (a workbook) instead of a text one; such a
    #: report needs a path (``--format NAME:PATH``), never a terminal.
    binary: ClassVar[bool] = False
    #: Set by the command line before ``write`` is called.
    settings: ReporterSettings = ReporterSettings()

    def write(self, report: AuditReport, stream: TextIO | BinaryIO) -> None:
        raise NotImplementedError
