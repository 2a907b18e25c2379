"""hygiene: a rule-based sales pipeline hygiene engine.

This module is the public API for plugin authors: every name in
``__all__``, and nothing else, is supported for third-party use. Built-in
rules, sources and reporters import only these names too. Names are
resolved lazily so that ``hygiene --help`` does not pay for polars.
"""

from __future__ import annotations

from hygiene.plugin.markers import hookimpl, hookspec

__version__ = "0.1.0"

_LAZY = {
    # Rules
    "DealRule": "hygiene.api.rule",
    "PipelineRule": "hygiene.api.rule",
    "RuleContext": "hygiene.api.rule",
    "empty_deal_table": "hygiene.api.rule",
    # Models
    "Deal": "hygiene.api.models",
    "Finding": "hygiene.api.models",
    "Stage": "hygiene.api.models",
    "Period": "hygiene.api.models",
    "SEVERITIES": "hygiene.api.models",
    "DEFAULT_STAGES": "hygiene.api.models",
    "RULE_ERROR_CODE": "hygiene.api.models",
    "fingerprint": "hygiene.api.models",
    "severities_at_or_above": "hygiene.api.models",
    "StageTable": "hygiene.api.stages",
    "stage_key": "hygiene.api.stages",
    "period_containing": "hygiene.api.periods",
    "CANONICAL_FIELDS": "hygiene.api.fields",
    "REQUIRED_FIELDS": "hygiene.api.fields",
    "ROW_COLUMN": "hygiene.api.fields",
    # Forecasting: the trailing window of closed deals a win rate is taken over
    "TrailingWindow": "hygiene.forecast.settings",
    # The forecast document (AuditReport.forecast) as titled tables, and as an HTML section
    "forecast_sections": "hygiene.forecast.render",
    "forecast_html_section": "hygiene.forecast.html",
    # Message templates
    "expand_template": "hygiene.api.templates",
    "format_number": "hygiene.api.templates",
    # Sources
    "Source": "hygiene.api.source",
    "RawTable": "hygiene.api.source",
    "Preset": "hygiene.api.preset",
    "DealStatus": "hygiene.api.preset",
    # Reporters
    "Reporter": "hygiene.api.reporter",
    "ReporterSettings": "hygiene.api.reporter",
    "AuditReport": "hygiene.api.report",
    "RuleInfo": "hygiene.api.report",
    "FINDING_SCHEMA": "hygiene.api.report",
    "NO_OWNER": "hygiene.api.presentation",
    "AUDIT_SUBJECT": "hygiene.api.presentation",
    "plural": "hygiene.api.presentation",
    "format_share": "hygiene.api.presentation",
    "since_previous_run": "hygiene.api.presentation",
    "deal_expr": "hygiene.api.presentation",
    "deal_with_name_expr": "hygiene.api.presentation",
    "subject_expr": "hygiene.api.presentation",
    "headline_expr": "hygiene.api.presentation",
    "description_expr": "hygiene.api.presentation",
    "known_expr": "hygiene.api.presentation",
    "failing_expr": "hygiene.api.presentation",
    # Figures people read, and narrowing a report to some owners
    "Figure": "hygiene.api.figures",
    "ReportFigures": "hygiene.api.figures",
    "HistoryFigures": "hygiene.api.figures",
    "ReportScope": "hygiene.api.scope",
    # HTML pages: the template environment, Content-Security-Policy hashes, SVG chart geometry
    "page_environment": "hygiene.api.pages",
    "page_text": "hygiene.api.pages",
    "csp_source": "hygiene.api.pages",
    "Chart": "hygiene.api.charts",
    "ChartBar": "hygiene.api.charts",
    "ChartLine": "hygiene.api.charts",
    "ChartLayout": "hygiene.api.charts",
    "BarRow": "hygiene.api.charts",
    "bar_chart": "hygiene.api.charts",
    "waterfall_chart": "hygiene.api.charts",
    "trend_chart": "hygiene.api.charts",
    "short_label": "hygiene.api.charts",
    # Escaping untrusted text, per output kind
    "CONTROL_CHARACTERS": "hygiene.api.escaping",
    "FORMULA_TRIGGERS": "hygiene.api.escaping",
    "terminal_text": "hygiene.api.escaping",
    "terminal_text_expr": "hygiene.api.escaping",
    "log_text": "hygiene.api.escaping",
    "spreadsheet_cell": "hygiene.api.escaping",
    "spreadsheet_cell_expr": "hygiene.api.escaping",
    "neutralise_formulas": "hygiene.api.escaping",
    "markdown_cell": "hygiene.api.escaping",
    "html_text": "hygiene.api.escaping",
    "xml_text": "hygiene.api.escaping",
    "xml_escape": "hygiene.api.escaping",
    "xml_escape_expr": "hygiene.api.escaping",
    "json_text": "hygiene.api.escaping",
    "json_text_expr": "hygiene.api.escaping",
    # Errors
    "HygieneError": "hygiene.api.errors",
    "ConfigError": "hygiene.api.errors",
    "SourceError": "hygiene.api.errors",
    "PluginError": "hygiene.api.errors",
}

__all__ = ["__version__", "hookimpl", "hookspec", *_LAZY]


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hygiene' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
