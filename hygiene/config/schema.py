"""The JSON Schema of ``hygiene.toml``, completed with what the loaded plugins declare."""

from __future__ import annotations

import copy
from typing import Any

from hygiene.api.fields import CANONICAL_FIELDS, FORECAST_CATEGORIES, ROSTER_ROW_FIELDS
from hygiene.api.models import SEVERITIES
from hygiene.api.periods import PERIOD_KINDS
from hygiene.config.custom_rules import CUSTOM_RULES_KEY, CUSTOM_RULES_SCHEMA
from hygiene.config.waivers import WAIVERS_SCHEMA

FAIL_ON = ("error", "warning", "info", "never")

_STRING_LIST = {"type": "array", "items": {"type": "string", "minLength": 1}}

#: The fields a win rate can be split by besides the owner (not canonical fields yet: read from a column of that name).
SEGMENT_FIELDS = ("lead_source", "deal_type", "product")
#: The roster's fields: a canonical column, a configured column, or an export column of that name.
ROSTER_FIELDS = ("team", "manager", "region")

#: ``[forecast]``: read by :class:`hygiene.forecast.settings.ForecastSettings`.
FORECAST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "window": {"type": "string", "description": "Trailing window of closed deals, e.g. \"4 quarters\", \"6 months\", \"365 days\"."},
        "min_deals": {"type": "integer", "minimum": 1},
        "period": {"enum": list(PERIOD_KINDS)},
        "simulations": {"type": "integer", "minimum": 100, "maximum": 100000},
        "seed": {"type": "integer", "minimum": 0},
        "size_bands": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1},
        "columns": {
            "type": "object",
            "additionalProperties": False,
            "properties": {field: {"type": "string", "minLength": 1} for field in (*SEGMENT_FIELDS, *ROSTER_FIELDS)},
        },
        "plan_b_limit": {"type": "integer", "minimum": 1},
        "in_audit": {"type": "boolean", "description": "Add the forecast to the audit's JSON, Markdown and HTML reports (default false; --forecast / --no-forecast)."},
    },
}

BASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # A pinned audit date keeps a committed sample (or a CI baseline) meaningful
        # whenever it runs; --as-of beats it, and without either the audit is as of today.
        "as_of": {"type": "string", "description": "Audit date, YYYY-MM-DD."},
        "select": _STRING_LIST,
        "ignore": _STRING_LIST,
        "fail_on": {"enum": list(FAIL_ON)},
        # The other CI gates, as the command line's --max-findings, --min-score and --strict-baseline.
        "max_findings": {"type": "integer", "minimum": 0},
        "min_score": {"type": ["number", "string"], "description": "A percentage from 0 to 100 (80 or \"80%\")."},
        "strict_baseline": {"type": "boolean"},
        "plugins": _STRING_LIST,
        "source": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "date_format": {"type": "string", "minLength": 2},
                "date_window": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 1, "maximum": 9999},
                    "minItems": 2,
                    "maxItems": 2,
                    "description": "The years a date may fall in, both included (default [1900, 2200]); dates outside are invalid values (HY900).",
                },
                "decimal": {"enum": [".", ","]},
                "fields": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {field: {"type": "string", "minLength": 1} for field in CANONICAL_FIELDS},
                },
                "preset": {"type": "string", "minLength": 1},
                "status": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "column": {"type": "string", "minLength": 1},
                        "open": _STRING_LIST,
                        "won": _STRING_LIST,
                        "lost": _STRING_LIST,
                        "closed_flag": {"type": "string", "minLength": 1},
                        "won_flag": {"type": "string", "minLength": 1},
                    },
                },
                "forecast_categories": {"type": "object", "additionalProperties": {"enum": list(FORECAST_CATEGORIES)}},
                "stage_entered_columns": {"type": "string", "pattern": "\\{stage\\}"},
                "pipeline_column": {"type": "string", "minLength": 1},
                "lookups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["column", "path"],
                        "properties": {
                            "column": {"type": "string", "minLength": 1},
                            "path": {"type": "string", "minLength": 1},
                            "key": {"type": "string", "minLength": 1},
                            "value": {"type": "string", "minLength": 1},
                        },
                    },
                },
            },
        },
        "roster": {
            "type": "object",
            "additionalProperties": False,
            "required": ["path"],
            "properties": {
                "path": {"type": "string", "minLength": 1},
                "sheet": {"type": ["string", "integer"]},
                "fields": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {field: {"type": "string", "minLength": 1} for field in ROSTER_ROW_FIELDS},
                },
            },
        },
        "currency": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "base": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                "rates": {"type": "object", "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
                "rates_path": {"type": "string", "minLength": 1},
                "on_mixed": {"enum": ["error", "per-currency"]},
            },
        },
        "pipeline": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "fiscal_year_start_month": {"type": "integer", "minimum": 1, "maximum": 12},
                "stages": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "probability": {"type": "number", "minimum": 0, "maximum": 100},
                            "max_days": {"type": "integer", "minimum": 0},
                            "closed": {"type": "boolean"},
                            "won": {"type": "boolean"},
                            "order": {"type": "integer"},
                            "max_inactive_days": {"type": "integer", "minimum": 0},
                            "requires_next_step": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "quotas": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "rules": {"type": "object", "additionalProperties": False, "properties": {}},
        CUSTOM_RULES_KEY: CUSTOM_RULES_SCHEMA,
        "waivers": WAIVERS_SCHEMA,
        "forecast": FORECAST_SCHEMA,
        "report": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "color": {"enum": ["auto", "always", "never"], "description": "Colour in the console report and `hygiene explain` (auto: on a terminal, unless NO_COLOR is set); --color beats it."},
                "rows_per_view": {"type": "integer", "minimum": 1, "description": "Rows per table in the HTML report and HTML digests before they point to the JSON/CSV report (default 200); --rows-per-view beats it."},
            },
        },
        "history": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "url": {"type": "string", "minLength": 1, "description": "SQLAlchemy URL of the snapshot store (no password: use HYGIENE_HISTORY_URL)."},
                "record_runs": {"type": "boolean", "description": "Record each audit's figures and findings in the store (default true)."},
            },
        },
    },
}


def rule_table_schema(options_schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of one ``[rules.NAME]`` table: common keys plus the rule's options."""
    properties = {
        "severity": {"enum": list(SEVERITIES)},
        "enabled": {"type": "boolean"},
        "weight": {"type": "integer", "minimum": 0, "maximum": 100},
    }
    properties.update(copy.deepcopy(options_schema.get("properties", {})))
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    for keyword in ("required", "dependentRequired", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"):
        if keyword in options_schema:
            schema[keyword] = copy.deepcopy(options_schema[keyword])
    return schema


def config_schema(rules: dict[str, type], source_options: dict[str, Any]) -> dict[str, Any]:
    """The whole configuration schema for these rules (by code) and source options."""
    schema = copy.deepcopy(BASE_SCHEMA)
    rule_tables = schema["properties"]["rules"]["properties"]
    for code, cls in rules.items():
        table = rule_table_schema(dict(cls.options_schema))
        rule_tables[code] = table
        rule_tables[cls.name] = table
    schema["properties"]["source"]["properties"].update(copy.deepcopy(source_options))
    return schema
