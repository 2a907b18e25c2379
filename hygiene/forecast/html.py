"""``hygiene forecast --format html``: one self-contained page, rendered from the JSON document alone.

The page is the console's tables (:func:`hygiene.forecast.render.sections`)
and SVG charts (:mod:`hygiene.forecast.charts`), its CSS inline and allowed
by hash in its Content-Security-Policy, which forbids every request and
every script: text from the export can never run, and nothing is fetched.
Jinja2 autoescapes everything, and text is escaped by the project's HTML
policy (:func:`hygiene.api.escaping.html_text`: entities, control
characters shown escaped). The same document gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

from hygiene.api.escaping import html_text
from hygiene.forecast.charts import charts
from hygiene.forecast.render import forecast_sections, header_lines


def _escaped(value: object) -> object:
    """Text as HTML by the project's policy; the page's own markup (``__html__``) passes as it is."""
    import markupsafe

    if isinstance(value, str) and not hasattr(value, "__html__"):
        return markupsafe.Markup(html_text(value))
    return value


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("hygiene.forecast", "templates"),
        autoescape=True,
        finalize=_escaped,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _css() -> str:
    return files("hygiene.forecast").joinpath("templates", "forecast.css").read_text(encoding="utf-8").strip()


def style_hash(css: str) -> str:
    """The Content-Security-Policy source that allows exactly the page's own style element (as the template wraps it)."""
    return "sha256-" + base64.b64encode(hashlib.sha256(f"\n{css}\n".encode()).digest()).decode("ascii")


def forecast_html_section(document: dict[str, Any]) -> str:
    """The forecast as one ``<section>`` for another page (the audit's HTML report): the same charts and tables, no style of its own."""
    heading, summary = header_lines(document)
    return _environment().get_template("audit_section.html.j2").render(heading=heading, summary=summary, charts=charts(document), sections=forecast_sections(document))


def render_html(document: dict[str, Any]) -> str:
    from markupsafe import Markup

    css = _css()
    heading, summary = header_lines(document)
    return _environment().get_template("forecast.html.j2").render(
        heading=heading,
        summary=summary,
        charts=charts(document),
        sections=forecast_sections(document),
        tool_version=document["tool_version"],
        schema_version=document["schema_version"],
        # Our own file, never export data.
        css=Markup(css),
        style_hash=style_hash(css),
    )
