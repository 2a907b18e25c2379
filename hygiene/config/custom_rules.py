"""Rules written in ``hygiene.toml``, without Python: ``[[custom_rules]]``.

::

    [[custom_rules]]
    code = "ACME001"
    name = "big-deal-single-threaded"
    summary = "Deal over 100k with fewer than three contacts"
    severity = "warning"
    where = "is_open AND amount > 100000 AND contacts < 3"
    message = "{name}: {amount:,} with only {contacts} contacts"

``where`` is a SQL boolean expression (polars' SQL dialect, limited to the
expression syntax :mod:`hygiene.config.where` allows: no table function,
subquery or file access) over the canonical deal fields, the export's extra
columns and three names the audit provides: ``is_open``, ``is_won`` and
``as_of``. It applies to every deal, open or closed, unless it says
otherwise (``is_open AND ...``). Each entry becomes a vectorised
:class:`hygiene.DealRule` registered under the configuration file's
name, so ``select``, ``ignore``, ``[rules.CODE]``, ``hygiene rules`` and
``hygiene explain`` treat it like a plugin's rule.

What can be checked without the export is checked when the configuration
loads: the code and the name (by the registry, as for any plugin's rule),
clashes with other rules, the SQL, the message
template, names that cannot be extras. The rest (a column the export
lacks, an extra compared as a number that is not one) is checked when the
audit has read the deals. Either way the run stops with one line naming
the rule and the problem, and exit code 2.
"""

from __future__ import annotations

import difflib
import functools
import re
import string
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from hygiene.api.errors import ConfigError, PluginError
from hygiene.api.fields import CANONICAL_FIELDS
from hygiene.api.models import SEVERITIES
from hygiene.api.rule import DealRule, empty_deal_table
from hygiene.api.templates import expand_template
from hygiene.config.settings import RawConfig, validate
from hygiene.config.where import ConditionError, parse_condition
from hygiene.plugin.loading import PluginInfo
from hygiene.plugin.registry import Registered, Registry

if TYPE_CHECKING:
    import polars as pl

    from hygiene.api.rule import RuleContext

CUSTOM_RULES_KEY = "custom_rules"
DEFAULT_SEVERITY = "warning"

CUSTOM_RULES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["code", "name", "summary", "where"],
        "properties": {
            "code": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "summary": {"type": "string", "minLength": 1},
            "severity": {"enum": list(SEVERITIES)},
            "group": {"type": "string", "minLength": 1},
            "weight": {"type": "integer", "minimum": 0, "maximum": 100},
            "where": {"type": "string", "minLength": 1},
            "message": {"type": "string", "minLength": 1},
        },
    },
}

#: What :func:`register_custom_rules` checks the entries against before compiling them.
_ENTRIES_SCHEMA: dict[str, Any] = {"type": "object", "properties": {CUSTOM_RULES_KEY: CUSTOM_RULES_SCHEMA}}

#: Names ``where`` and ``message`` may use besides the deal fields and the extras.
AUDIT_COLUMNS = {
    "is_open": "true for a deal whose stage is not closed (an unknown stage counts as open)",
    "is_won": "true for a deal in a won stage",
    "as_of": "the audit date",
}

class CustomRuleProblem(ValueError):
    """What is wrong with one part (``where``, ``message``, ``code`` ...) of a custom rule."""

    def __init__(self, part: str, problem: str) -> None:
        super().__init__(f"{part}: {problem}")
        self.part = part
        self.problem = problem


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# A rule's condition is compiled when the configuration loads, checked, then asked for its
# condition and its not-evaluable deals: one parse serves them all (polars expressions are immutable).
@functools.lru_cache(maxsize=256)
def parse_where(where: str) -> pl.Expr:
    """``where`` checked against the allow-list of :mod:`hygiene.config.where`, then compiled by polars."""
    import polars as pl

    try:
        condition = parse_condition(where)
    except ConditionError as exc:
        raise CustomRuleProblem("where", f"invalid SQL: {exc}" if exc.kind == "syntax" else str(exc)) from None
    try:
        return condition.to_expr()
    except pl.exceptions.PolarsError as exc:
        raise CustomRuleProblem("where", f"invalid SQL: {_first_line(exc)}") from None


@functools.lru_cache(maxsize=256)
def _parsed(where: str):
    return parse_condition(where)


def template_parts(message: str) -> list[tuple[str, str]]:
    """The ``(column, format spec)`` pairs of a message template."""
    try:
        parsed = list(string.Formatter().parse(message))
    except ValueError as exc:
        raise CustomRuleProblem("message", f"invalid template: {exc}") from None
    parts = []
    for _, field, spec, _ in parsed:
        if field is None:
            continue
        if not field:
            raise CustomRuleProblem("message", "{} names no column; write {amount}, {name} ...")
        parts.append((field, spec or ""))
    return parts


class CustomRule(DealRule):
    """The base of rules compiled from ``[[custom_rules]]``; see :func:`compile_custom_rule`."""

    #: Where the rule was declared, e.g. ``hygiene.toml: custom_rules[0] (ACME001 big-deal)``.
    label: ClassVar[str]
    where: ClassVar[str]
    #: Deal fields and extras the condition reads, in order of appearance: the finding's details.
    where_columns: ClassVar[tuple[str, ...]]
    message_columns: ClassVar[tuple[str, ...]]

    def columns(self, ctx: RuleContext) -> dict[str, pl.Expr]:
        """The audit's names and the typed extras the rule reads, checked against the export's columns."""
        columns = {name: _audit_column(name, ctx) for name in self._names() if name in AUDIT_COLUMNS}
        extras = [name for name in self._names() if name not in AUDIT_COLUMNS and name not in CANONICAL_FIELDS]
        for name in extras:
            if name not in ctx.extra_columns:
                part = "where" if name in self.where_columns else "message"
                raise ConfigError(f"{self.label}: {part}: {_unknown_column(name, ctx.extra_columns)}")
            columns[name] = ctx.extra(name)
        if ctx.typed_extras is not None:
            try:
                check_expressions(ctx.typed_extras.frame.clear().with_columns(**columns), self.where, self.message_template)
            except CustomRuleProblem as exc:
                # Where a comparison met text, the likely cause is an extra with a value that is not a number.
                compared_text = exc.part == "where" and ("string" in exc.problem.lower() or "`str`" in exc.problem)
                hint = _text_extras_hint(extras, ctx) if compared_text else ""
                raise ConfigError(f"{self.label}: {exc}{hint}") from None
        return columns

    def condition(self, ctx: RuleContext) -> pl.Expr:
        return parse_where(self.where)

    def not_evaluable(self, ctx: RuleContext) -> pl.Expr:
        # SQL's unknown: the condition compared an empty field, so the deal can be neither flagged nor cleared.
        # Counted for open deals only, like every rule's not-evaluable count.
        return ctx.is_open & parse_where(self.where).is_null()

    def message_expr(self, ctx: RuleContext) -> pl.Expr:
        import polars as pl

        return super().message_expr(ctx) if self.message_template is not None else pl.lit(self.summary)

    def details(self, ctx: RuleContext) -> dict[str, pl.Expr]:
        import polars as pl

        return {name: pl.col(name) for name in self.where_columns if name not in AUDIT_COLUMNS}

    @classmethod
    def _names(cls) -> list[str]:
        return list(dict.fromkeys([*cls.where_columns, *cls.message_columns]))


def _audit_column(name: str, ctx: RuleContext) -> pl.Expr:
    import polars as pl

    return {"is_open": ctx.is_open, "is_won": ctx.is_won, "as_of": pl.lit(ctx.as_of)}[name]


def _unknown_column(name: str, extras: Iterable[str]) -> str:
    known = [*CANONICAL_FIELDS, *AUDIT_COLUMNS, *extras]
    close = difflib.get_close_matches(name, known, n=1) or [f for f in known if f.casefold() == name.casefold()]
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown column {name!r}: not a deal field, and the export has no such column{hint}"


def _text_extras_hint(extras: Iterable[str], ctx: RuleContext) -> str:
    """Why an extra the condition compares is text: its first value that is not a number."""
    for name in extras:
        if ctx.typed_extras.kind(name) == "text" and (unparsed := ctx.typed_extras.first_unparsed(name, "number")):
            row, value = unparsed
            return f" ({name!r} is text: {value!r} in row {row} is not a number; TRY_CAST({name} AS DOUBLE) reads the others)"
    return ""


def check_expressions(table: pl.DataFrame, where: str, message: str | None) -> None:
    """Evaluate ``where`` and ``message`` on ``table`` (usually empty): types must fit, ``where`` must be true/false.

    What reads a column ``table`` lacks (an extra, before the export is
    read) is left for later; only the template's syntax is checked then.
    """
    import polars as pl

    def known(columns: Iterable[str]) -> bool:
        return all(column in table.columns for column in columns)

    if known(parse_where(where).meta.root_names()):
        try:
            result = table.select(parse_where(where).alias("where"))
        except pl.exceptions.PolarsError as exc:
            raise CustomRuleProblem("where", _first_line(exc)) from None
        if result.schema["where"] not in (pl.Boolean, pl.Null):
            raise CustomRuleProblem("where", f"gives {result.schema['where']} values, not true/false; compare it with something")
        # AND, OR and NOT are combined by polars expressions that would take any value for true/false.
        operands = _parsed(where).operands()
        schema = table.select(operand.to_expr().alias(str(i)) for i, operand in enumerate(operands)).schema if operands else {}
        for operand, dtype in zip(operands, schema.values(), strict=True):
            if dtype not in (pl.Boolean, pl.Null):
                raise CustomRuleProblem("where", f"{operand.text!r} gives {dtype} values, not true/false; compare it with something")
    if message is None:
        return
    parts = template_parts(message)
    for column, spec in parts:
        dtype = table.schema.get(column)
        if spec and dtype is not None and not (dtype.is_numeric() or dtype == pl.Null):
            raise CustomRuleProblem("message", f"{{{column}:{spec}}} formats a number, but {column} is {dtype}")
    try:
        expression = expand_template(message)
        if known(column for column, _ in parts):
            table.select(expression)
    except (ValueError, pl.exceptions.PolarsError) as exc:
        raise CustomRuleProblem("message", _first_line(exc)) from None


def _config_time_problem(name: str, mapped: Mapping[str, Any]) -> str | None:
    """Why ``name`` cannot be a deal field or an extra of any export read with this ``[source.fields]``."""
    if name in CANONICAL_FIELDS or name in AUDIT_COLUMNS:
        return None
    if name.startswith(("__", "_POLARS_")):
        return f"{name!r} is not a column rules can read (the engine's own columns start with '__')"
    for field, column in mapped.items():
        if column == name:
            return f"the export column {name!r} is read as the deal field {field} ([source.fields]); write {field}"
    return None


def label_of(file: str, index: int, entry: Any) -> str:
    """How errors name the ``index``-th custom rule: its position and, when given, its code and name."""
    names = [entry.get(key) for key in ("code", "name")] if isinstance(entry, Mapping) else []
    shown = " ".join(value for value in names if isinstance(value, str) and value)
    return f"{file}: {CUSTOM_RULES_KEY}[{index}]" + (f" ({shown})" if shown else "")


def compile_custom_rule(entry: Mapping[str, Any], label: str, mapped: Mapping[str, Any] | None = None) -> type[CustomRule]:
    """One validated ``[[custom_rules]]`` table as a rule class; :class:`ConfigError` naming ``label`` when it is unusable.

    ``mapped`` is the configuration's ``[source.fields]``: export columns
    it names are read as deal fields, so they cannot be extras.
    """
    from polars.exceptions import PanicException

    try:
        return _compile(entry, label, mapped or {})
    except CustomRuleProblem as exc:
        raise ConfigError(f"{label}: {exc}") from None
    except PanicException as exc:
        # Polars panics (a BaseException) on some expressions it accepts, e.g. CAST(x AS DECIMAL(76, 0)).
        raise ConfigError(f"{label}: where: polars cannot evaluate it (it panicked: {_first_line(exc)})") from None


def _compile(entry: Mapping[str, Any], label: str, mapped: Mapping[str, Any]) -> type[CustomRule]:
    code, name, where, message = entry["code"], entry["name"], entry["where"], entry.get("message")
    # The code and the name are checked when the rule is registered, as every plugin's are.
    where_columns = tuple(dict.fromkeys(parse_where(where).meta.root_names()))
    message_columns = tuple(dict.fromkeys(column for column, _ in template_parts(message))) if message is not None else ()
    for part, columns in (("where", where_columns), ("message", message_columns)):
        for column in columns:
            if problem := _config_time_problem(column, mapped):
                raise CustomRuleProblem(part, problem)
    import polars as pl

    table = empty_deal_table().with_columns(
        pl.lit(False).alias("is_open"),
        pl.lit(False).alias("is_won"),
        pl.lit(None, pl.Date).alias("as_of"),
    )
    check_expressions(table, where, message)
    attributes = {
        "__doc__": describe(label, where, message),
        "__module__": __name__,
        "code": code,
        "name": name,
        "summary": entry["summary"],
        "severity": entry.get("severity", DEFAULT_SEVERITY),
        "group": entry.get("group", "custom"),
        "weight": entry.get("weight"),
        "message_template": message,
        "label": label,
        "where": where,
        "where_columns": where_columns,
        "message_columns": message_columns,
    }
    return type(f"CustomRule{code}", (CustomRule,), attributes)


def describe(label: str, where: str, message: str | None) -> str:
    """The documentation ``hygiene explain`` shows for a custom rule."""
    condition = textwrap.indent(textwrap.dedent(where).strip(), "    ")
    return "\n".join(
        [
            f"A rule declared in {label}, compiled from SQL.",
            "",
            "**Flags** every deal, open or closed, for which this condition is true::",
            "",
            condition,
            "",
            "**Closed deals** are checked like open ones unless the condition leaves",
            "them out: ``is_open AND ...`` limits a rule to open deals. A deal for",
            "which the condition is unknown (it compares an empty field) is not",
            "flagged; the summary counts such open deals as not evaluable.",
            "",
            f"**Message** ``{message if message is not None else '(the summary)'}``",
        ]
    )


def register_custom_rules(raw: RawConfig, registry: Registry, *, strict: bool = True) -> None:
    """Add the configuration's ``[[custom_rules]]`` to ``registry``, as a plugin named after the file.

    With ``strict`` an unusable rule raises :class:`ConfigError`; otherwise
    the error is recorded on the plugin (``hygiene plugins`` shows it) and
    the other custom rules are still registered.
    """
    entries = raw.data.get(CUSTOM_RULES_KEY)
    if entries is None:
        return
    file = raw.file or "configuration"
    info = PluginInfo(name=file, distribution=None, version=None, module=f"[[{CUSTOM_RULES_KEY}]]", builtin=False)
    registry.plugins.append(info)
    try:
        validate(RawConfig(data={CUSTOM_RULES_KEY: entries}, file=file, base_dir=raw.base_dir), _ENTRIES_SCHEMA)
    except ConfigError as exc:
        if strict:
            raise
        info.error = str(exc)
        return
    source = raw.data.get("source")
    mapped = source.get("fields", {}) if isinstance(source, Mapping) else {}
    for index, entry in enumerate(entries):
        label = label_of(file, index, entry)
        try:
            cls = compile_custom_rule(entry, label, mapped if isinstance(mapped, Mapping) else {})
            registry.add_rule(Registered(cls, file, label=label))
        except (ConfigError, PluginError) as exc:
            if strict:
                raise
            info.error = str(exc)
