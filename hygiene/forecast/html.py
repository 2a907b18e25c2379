"""``hygiene forecast --format html``: one self-contained page, rendered from the JSON document alone.

The page is the console's tables (:func:`hygiene.forecast.render.sections`)
and SVG charts (:mod:`hygiene.forecast.charts`, drawn with :mod:`hygiene.api.charts`), its CSS inline and allowed
by hash in its Content-Security-Policy, which forbids every request and
every script: text from the export can never run, and nothing is fetched.
It is rendered in hygiene's page environment
(:func:`hygiene.api.pages.page_environment`: autoescaping, and text escaped
by the project's HTML policy, entities and control characters shown
escaped). The same document gives the same bytes.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from hygiene.api.pages import csp_source, page_environment
from hygiene.forecast.charts import charts
from hygiene.forecast.render import forecast_sections, header_lines


@cache
def _css() -> str:
    return files("hygiene.forecast").joinpath("templates", "forecast.css").read_text(encoding="utf-8").strip()


def forecast_html_section(document: dict[str, Any]) -> str:
    """The forecast as one ``<section>`` for another page (the audit's HTML report): the same charts and tables, no style of its own."""
    heading, summary = header_lines(document)
    return page_environment("hygiene.forecast").get_template("audit_section.html.j2").render(heading=heading, summary=summary, charts=charts(document), sections=forecast_sections(document))


def render_html(document: dict[str, Any]) -> str:
    from markupsafe import Markup

    css = _css()
    heading, summary = header_lines(document)
    return page_environment("hygiene.forecast").get_template("forecast.html.j2").render(
        heading=heading,
        summary=summary,
        charts=charts(document),
        sections=forecast_sections(document),
        tool_version=document["tool_version"],
        schema_version=document["schema_version"],
        # Our own file, never export data.
        css=Markup(css),
        style_hash=csp_source(css),
    )
