"""The HTML reporter: renders the page templates in hygiene's page environment, CSS and JavaScript inlined."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from hygiene import Reporter, csp_source, forecast_html_section, page_environment
from hygiene_plugins.reporters.html.page import PageBuilder, link


@cache
def _static(name: str) -> str:
    return files("hygiene_plugins.reporters.html").joinpath("static", name).read_text(encoding="utf-8")


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
        environment = page_environment("hygiene_plugins.reporters.html")
        # The templates' link(): a global, so that the imported table macros have it too.
        environment.globals["link"] = link
        page = environment.get_template("report.html.j2").render(
            **context,
            # Our own files, never export data: inlined as they are.
            css=Markup(_static("report.css")),
            script=Markup(script),
            script_hash=csp_source(script),
            # hygiene audit --forecast: the forecast's own section (its charts need no stylesheet).
            forecast=Markup(forecast_html_section(report.forecast)) if report.forecast is not None else "",
        )
        stream.write(page)
