"""The reporter API: plugins that write an audit's findings somewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO, ClassVar, Literal, TextIO

import attrs

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport

#: Rows a page-like report (HTML) shows per view before pointing to the JSON or CSV report.
DEFAULT_ROWS_PER_VIEW = 200

#: What of :attr:`hygiene.AuditReport.history_figures` a report shows (:attr:`Reporter.shows_history`),
#: least first: nothing; the previous run's header figures and the trend (read from the recorded runs,
#: cheap); everything, the period's waterfall and each deal's recent changes too.
HISTORY_NONE = "none"
HISTORY_PREVIOUS_RUN = "previous-run"
HISTORY_ALL = "all"
HISTORY_LEVELS = (HISTORY_NONE, HISTORY_PREVIOUS_RUN, HISTORY_ALL)


def history_needed(levels) -> str:
    """The most any of these reports shows of the history figures (:data:`HISTORY_LEVELS`): what an audit must build."""
    return max(levels, key=HISTORY_LEVELS.index, default=HISTORY_NONE)


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
    #: What of the report's ``history_figures`` this reporter shows (one of :data:`HISTORY_LEVELS`).
    #: An audit with a history store builds only what some requested report shows: the waterfall
    #: and the deals' recent changes cost a pass over every stored version. A reporter that does
    #: not say may show anything, so it gets everything.
    shows_history: ClassVar[Literal["none", "previous-run", "all"]] = "all"
    #: Set by the command line before ``write`` is called.
    settings: ReporterSettings = ReporterSettings()

    def write(self, report: AuditReport, stream: TextIO | BinaryIO) -> None:
        raise NotImplementedError
