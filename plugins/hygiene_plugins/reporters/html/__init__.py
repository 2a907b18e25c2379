"""The HTML report: one self-contained page with a view per role, charts and drill-down."""

from hygiene_plugins.reporters.html.reporter import HtmlReporter

__all__ = ["HtmlReporter"]
