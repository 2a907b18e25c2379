"""The reporter API: plugins that write an audit's findings somewhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TextIO

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport


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

    def write(self, report: AuditReport, stream: TextIO) -> None:
        raise NotImplementedError
