"""The HTML reporter: renders the page templates with Jinja2, CSS and JavaScript inlined."""

from __future__ import annotations

import base64
import hashlib
from functools import cache, lru_cache
from importlib.resources import files

from hygiene import Reporter, forecast_html_section, html_text
from hygiene_plugins.reporters.html.page import PageBuilder


def _escaped(value: object) -> object:
    """Text from the export as HTML text, by the project's policy: entities, and control characters shown escaped.

    Autoescaping alone would turn ``<`` into ``&lt;`` but let an ESC or a bidi override through raw.
    Markup (the page's own SVG, script and style) passes as it is.
    """
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _escaped_text(value)
    return value


@lru_cache(maxsize=1 << 16)
def _escaped_text(text: str):
    """:func:`_escaped` of one string, remembered: a page repeats its owners, stages, amounts and rule names thousands of times."""
    import markupsafe

    return markupsafe.Markup(html_text(text))


@cache
def _environment():
    import jinja2

    # Autoescaping on for every template: deal names, owners and messages come from the export.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("hygiene_plugins.reporters.html", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _static(name: str) -> str:
    return files("hygiene_plugins.reporters.html").joinpath("static", name).read_text(encoding="utf-8")


def script_hash(script: str) -> str:
    """The Content-Security-Policy source that allows exactly the page's own script (as the template wraps it)."""
    digest = hashlib.sha256(f"\n{script}\n".encode()).digest()
    return f"sha256-{base64.b64encode(digest).decode('ascii')}"


class HtmlReporter(Reporter):
    """One self-contained HTML page: header figures, then Leadership, Manager, Rep, Ops and
    All findings views (tabs that work without JavaScript), SVG charts with titles and text
    alternatives, and drill-down panels from team to rep to deal to findings.

    Nothing is fetched: CSS and the small script that sorts and filters tables are inside
    the page, and its Content-Security-Policy forbids every request and any other script,
    so text from the export can never run. Each view shows at most ``--rows-per-view`` rows
    (default 200) and says where the rest is. The same audit gives the same bytes.
    """

    name = "html"
    shows_history = "all"
    summary = "A self-contained HTML page with a view per role, charts and drill-down"

    def write(self, report, stream) -> None:
        from markupsafe import Markup

        script = _static("report.js")
        context = PageBuilder(report, self.settings.rows_per_view).context()
        page = _environment().get_template("report.html.j2").render(
            **context,
            # Our own files, never export data: inlined as they are.
            css=Markup(_static("report.css")),
            script=Markup(script),
            script_hash=script_hash(script),
            # hygiene audit --forecast: the forecast's own section (its charts need no stylesheet).
            forecast=Markup(forecast_html_section(report.forecast)) if report.forecast is not None else "",
        )
        stream.write(page)
