"""Self-contained HTML pages: the template environment and the Content-Security-Policy hashes a hygiene page uses.

A page is rendered by Jinja2 from a plugin package's templates.
:func:`page_environment` gives the environment every hygiene page uses,
the audit's HTML report and the forecast page alike, so that a third-party
HTML reporter gets the same guarantees:

- autoescaping on for every template, and every value a template prints
  passed through :func:`~hygiene.api.escaping.html_text` (entities, and
  control characters and bidi overrides shown escaped: autoescaping alone
  would let an ESC or a U+202E through raw). Markup the page builds itself
  (``markupsafe.Markup``: its SVG, its stylesheet) passes as it is;
- an undefined name is an error, never an empty string;
- whitespace control that keeps the output stable (``trim_blocks``,
  ``lstrip_blocks``, the trailing newline kept): the same values give the
  same bytes.

Pages inline their CSS and script and allow exactly those with
:func:`csp_source` in a ``Content-Security-Policy`` meta element whose
``default-src 'none'`` forbids every request: nothing is fetched, and text
from an export can never run.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from hygiene.api.escaping import html_text

if TYPE_CHECKING:
    import jinja2


def page_text(value: object) -> object:
    """What a page template prints for ``value``: text escaped by the project's HTML policy, markup as it is.

    The environment's ``finalize``: every ``{{ value }}`` goes through it.
    """
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _escaped_text(value)
    return value


@lru_cache(maxsize=1 << 16)
def _escaped_text(text: str):
    """:func:`page_text` of one string, remembered: a page repeats its owners, stages, amounts and rule names thousands of times."""
    import markupsafe

    return markupsafe.Markup(html_text(text))


@cache
def page_environment(package: str, folder: str = "templates") -> jinja2.Environment:
    """The Jinja2 environment for the templates in ``folder`` of ``package`` (an importable package name), made once.

    Autoescaping, :func:`page_text` as ``finalize``, strict undefined
    names, and stable whitespace; see the module's documentation.
    """
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, folder),
        autoescape=True,
        finalize=page_text,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def csp_source(content: str) -> str:
    """The Content-Security-Policy source (``'sha256-…'`` without the quotes) that allows exactly one inline ``<style>`` or ``<script>``.

    ``content`` is the element's text as the template writes it between its
    tags on lines of their own: the hash covers the newline before and after.
    """
    digest = hashlib.sha256(f"\n{content}\n".encode()).digest()
    return f"sha256-{base64.b64encode(digest).decode('ascii')}"
