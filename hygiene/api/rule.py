"""The rule API for plugin authors: :class:`DealRule`, :class:`PipelineRule`, :class:`RuleContext`.

A rule is a class with explicit metadata (``code``, ``name``, ``summary``,
``severity``, ``group``, ``weight``, ``options_schema``) and a docstring with **Why**, **Example**
and **Fix** sections, which ``hygiene explain`` renders. The engine calls it
once per audit, never once per deal (except :meth:`DealRule.check`, the
simple row-at-a-time form).
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from hygiene.api.fields import CANONICAL_FIELDS, ROW_COLUMN, polars_dtype
from hygiene.api.models import Deal, Finding, Period
from hygiene.api.stages import StageTable

if TYPE_CHECKING:
    import polars as pl

    from hygiene.api.extras import ExtraColumns

# Columns the engine derives from the stage table before rules run.
OPEN_COLUMN = "__open__"
WON_COLUMN = "__won__"
KNOWN_STAGE_COLUMN = "__known_stage__"
STAGE_PROBABILITY_COLUMN = "__stage_probability__"
STAGE_MAX_DAYS_COLUMN = "__stage_max_days__"
STAGE_ORDER_COLUMN = "__stage_order__"
STAGE_MAX_INACTIVE_DAYS_COLUMN = "__stage_max_inactive_days__"
STAGE_REQUIRES_NEXT_STEP_COLUMN = "__stage_requires_next_step__"

#: A rule's weight when it declares none: what one of its findings takes off a deal's health score.
DEFAULT_WEIGHTS = {"error": 20, "warning": 10, "info": 0}
#: Their types, as :func:`empty_deal_table` and the engine give them.
STAGE_COLUMN_KINDS = {
    KNOWN_STAGE_COLUMN: "bool",
    OPEN_COLUMN: "bool",
    WON_COLUMN: "bool",
    STAGE_PROBABILITY_COLUMN: "float",
    STAGE_MAX_DAYS_COLUMN: "int",
    STAGE_ORDER_COLUMN: "int",
    STAGE_MAX_INACTIVE_DAYS_COLUMN: "int",
    STAGE_REQUIRES_NEXT_STEP_COLUMN: "bool",
}


def empty_deal_table() -> pl.DataFrame:
    """The deal table rules see, with no deal: the canonical fields, the row number and the stage columns, typed."""
    import polars as pl

    schema = {field: polars_dtype(kind) for field, kind in CANONICAL_FIELDS.items()}
    schema[ROW_COLUMN] = pl.Int64
    schema.update({column: pl.Boolean if kind == "bool" else polars_dtype(kind) for column, kind in STAGE_COLUMN_KINDS.items()})
    return pl.DataFrame(schema=schema)


@attrs.define(frozen=True, kw_only=True)
class RuleContext:
    """What a rule knows about the audit besides the deals.

    ``options`` is the rule's validated options table, defaults filled in
    from its ``options_schema``. Expression helpers (``is_open``,
    ``probability``, ``days_since`` ...) read columns the engine prepares,
    so every rule agrees on what "open" and "probability" mean.
    """

    as_of: dt.date
    period: Period
    stages: StageTable = attrs.field(factory=StageTable)
    quotas: Mapping[str, float] = attrs.field(factory=dict)
    options: Mapping[str, Any] = attrs.field(factory=dict)
    #: Cells that could not be read as their field's type (a polars frame), see ``hygiene.audit.normalise``.
    invalid_values: Any = None
    #: Rows dropped because their id was seen before (a polars frame).
    duplicate_rows: Any = None
    #: Column names of the export that are not mapped to a canonical field.
    extra_columns: tuple[str, ...] = ()
    #: The extras of the audited table, typed on request (see :meth:`extra`).
    typed_extras: ExtraColumns | None = None
    #: The canonical fields the export provides (mapped to one of its columns); None when unknown.
    source_fields: frozenset[str] | None = None
    #: Every column of the audited deal table: canonical fields, extras, and columns joined onto it.
    table_columns: tuple[str, ...] = ()

    def has_field(self, name: str) -> bool:
        """Whether the export provides the canonical field ``name``.

        A field the export has no column for is null on every deal: that is
        missing data, not evidence, so a rule reading it should count the
        deals as not evaluable rather than flag (or clear) them all.
        """
        return self.source_fields is None or name in self.source_fields

    @property
    def is_open(self) -> pl.Expr:
        """True for deals whose stage is not a closed stage (unknown stages count as open)."""
        import polars as pl

        return pl.col(OPEN_COLUMN)

    @property
    def is_won(self) -> pl.Expr:
        import polars as pl

        return pl.col(WON_COLUMN)

    @property
    def is_known_stage(self) -> pl.Expr:
        import polars as pl

        return pl.col(KNOWN_STAGE_COLUMN)

    @property
    def probability(self) -> pl.Expr:
        """The deal's own probability when present, else its stage's."""
        import polars as pl

        return pl.coalesce(pl.col("probability"), pl.col(STAGE_PROBABILITY_COLUMN))

    @property
    def stage_probability(self) -> pl.Expr:
        """The stage table's probability for the deal's stage (null for unknown stages)."""
        import polars as pl

        return pl.col(STAGE_PROBABILITY_COLUMN)

    @property
    def stage_order(self) -> pl.Expr:
        """The position of the deal's open stage in the sales process, 0 for the first (null when closed or unknown).

        See :meth:`hygiene.StageTable.order_of`; compare with
        ``ctx.stages.order_of(name)`` for "before stage X".
        """
        import polars as pl

        return pl.col(STAGE_ORDER_COLUMN)

    @property
    def stage_max_inactive_days(self) -> pl.Expr:
        """Days without activity the deal's open stage allows (null when closed or unknown)."""
        import polars as pl

        return pl.col(STAGE_MAX_INACTIVE_DAYS_COLUMN)

    @property
    def stage_requires_next_step(self) -> pl.Expr:
        """Whether the deal's open stage requires a next step (null when closed or unknown)."""
        import polars as pl

        return pl.col(STAGE_REQUIRES_NEXT_STEP_COLUMN)

    @property
    def forecast_category(self) -> pl.Expr:
        """``forecast_category`` in one spelling: lower case, spaces and hyphens as underscores ("Best Case" is ``best_case``)."""
        import polars as pl

        # An export has a handful of categories for any number of deals: each spelling is
        # normalised once and looked up per deal, not rewritten deal by deal.
        spellings = pl.col("forecast_category").drop_nulls().unique(maintain_order=True)
        one_spelling = spellings.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")
        return pl.col("forecast_category").replace_strict(spellings, one_spelling, default=None)

    @property
    def stage_max_days(self) -> pl.Expr:
        """The stage table's ``max_days`` for the deal's stage (null where it has none)."""
        import polars as pl

        return pl.col(STAGE_MAX_DAYS_COLUMN)

    @property
    def stage_entered_is_lower_bound(self) -> pl.Expr:
        """True where ``stage_entered_date`` came from history and the stage run began at the store's
        first snapshot: the deal has been in its stage *at least* that long (see ``hygiene.history.derive``)."""
        import polars as pl

        from hygiene.api.fields import STAGE_ENTERED_LOWER_BOUND_COLUMN

        return pl.col(STAGE_ENTERED_LOWER_BOUND_COLUMN)

    def days_since(self, column: str | pl.Expr) -> pl.Expr:
        """Whole calendar days from a date column to ``as_of`` (negative for future dates)."""
        import polars as pl

        expr = pl.col(column) if isinstance(column, str) else column
        return (pl.lit(self.as_of) - expr).dt.total_days()

    def extra(self, name: str) -> pl.Expr:
        """The extra column ``name`` typed from its values: Int64, Float64 or Date when every
        non-empty value is a whole number, a number or an ISO date, else text (empty cells null).

        Raises ``KeyError`` when the export has no such column (see ``extra_columns``).
        """
        if self.typed_extras is None:
            raise KeyError(f"no deal table to read the extra column {name!r} from")
        return self.typed_extras.expr(name)

    def history_gap(self, *fields: str) -> pl.Expr:
        """Why a deal lacks ``fields`` (categorical text), or null where it has them all.

        For rules that need what history derives (``close_date_pushes``,
        ``amount_previous`` ...): a deal without them is not evaluable, and
        the reason says what is missing: ``"history has 1 snapshot"``,
        ``"deal seen in 1 snapshot"``, or that neither the export nor a
        history store has the field. Missing is never zero.
        """
        import polars as pl

        from hygiene.api.fields import HISTORY_SNAPSHOTS_COLUMN, SNAPSHOTS_SEEN_COLUMN

        # Every reason a deal can have is known here, so each deal gets a small code and the code its
        # text, a categorical: no text is built per deal, and counting the reasons compares codes.
        texts: dict[int, str] = {}
        for index, field in enumerate(fields):
            texts[index] = f"no {field} in the export, and no history to derive it from"
            texts[len(fields) + index] = "history has 1 snapshot"
            texts[2 * len(fields) + index] = "deal seen in 1 snapshot"
            texts[3 * len(fields) + index] = f"no {field} in the export or its history"
        lacking = pl.any_horizontal(*(pl.col(f).is_null() for f in fields))
        first_missing = pl.coalesce(*(pl.when(pl.col(f).is_null()).then(pl.lit(index, pl.UInt32)) for index, f in enumerate(fields)))
        snapshots = pl.col(HISTORY_SNAPSHOTS_COLUMN)
        seen = pl.col(SNAPSHOTS_SEEN_COLUMN)
        state = pl.when(snapshots.is_null()).then(0).when(snapshots < 2).then(1).when(seen.fill_null(0) < 2).then(2).otherwise(3).cast(pl.UInt32)
        return pl.when(lacking).then((state * len(fields) + first_missing).replace_strict(texts, return_dtype=pl.Categorical))

    def in_period(self, column: str | pl.Expr) -> pl.Expr:
        """True where a date column falls in the current period, bounds inclusive."""
        import polars as pl

        expr = pl.col(column) if isinstance(column, str) else column
        return expr.is_between(pl.lit(self.period.start), pl.lit(self.period.end), closed="both")


class Rule:
    """What every rule declares. Subclass :class:`DealRule` or :class:`PipelineRule`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[str] = "info"
    #: The family of checks the rule belongs to (``activity``, ``forecast`` ...): ``select``, ``ignore``
    #: and ``hygiene rules --group`` take it.
    group: ClassVar[str] = "other"
    #: Points one finding takes off a deal's health score (0-100); None: by severity (:data:`DEFAULT_WEIGHTS`).
    #: ``[rules.X] weight`` overrides it.
    weight: ClassVar[int | None] = None
    options_schema: ClassVar[Mapping[str, Any]] = {"type": "object", "properties": {}}
    #: Detail keys that grow with time alone (``days_past_due``): a finding whose counters moved
    #: between two reports is the same finding, unchanged, for ``hygiene diff``.
    counter_details: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def default_weight(cls, severity: str | None = None) -> int:
        """The rule's weight, or the default for ``severity`` (its own by default) when it declares none."""
        if cls.weight is not None:
            return cls.weight
        return DEFAULT_WEIGHTS.get(severity or cls.severity, 0)

    def not_evaluable(self, ctx: RuleContext) -> pl.Expr | Mapping[str, pl.Expr] | None:
        """True for deals the rule would look at but cannot judge (missing data); counted in the summary.

        Return one expression, or a mapping from the missing field (or
        input) to an expression: the summary then also counts deals per
        field. A deal true under several fields counts once for the rule.
        """
        return None

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        properties = cls.options_schema.get("properties", {})
        return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


class DealRule(Rule):
    """A rule that flags deals one by one.

    Implement either the vectorised pair :meth:`condition` (a polars
    expression, True where a deal is flagged) and :meth:`message`, or the
    simple row-at-a-time :meth:`check`. Vectorised rules may set
    ``message_template`` (``"{stage} for {days_in_stage} days"``, fields from
    the deal's columns and :meth:`details`) or override
    :meth:`message_expr`, so that messages are built by polars too.
    """

    message_template: ClassVar[str | None] = None

    def condition(self, ctx: RuleContext) -> pl.Expr:
        raise NotImplementedError

    def message(self, deal: Deal, ctx: RuleContext) -> str:
        """The message for one flagged deal (called only where no template or expression exists)."""
        return self.summary

    def message_expr(self, ctx: RuleContext) -> pl.Expr | None:
        """A polars expression building every flagged deal's message at once."""
        if self.message_template is None:
            return None
        from hygiene.api.templates import expand_template

        return expand_template(self.message_template, self.details(ctx))

    def details(self, ctx: RuleContext) -> dict[str, pl.Expr]:
        """The figures behind a finding, as named expressions over the deal table."""
        return {}

    def columns(self, ctx: RuleContext) -> dict[str, pl.Expr]:
        """Columns added to the deal table for this rule alone, before its other methods' expressions run.

        A vectorised rule's :meth:`condition`, messages, :meth:`details` and
        :meth:`not_evaluable` may then read them by name, e.g. an extra
        typed by ``ctx.extra(name)`` under its own name. Other rules never
        see them.
        """
        return {}

    def not_evaluable(self, ctx: RuleContext) -> pl.Expr | Mapping[str, pl.Expr] | None:
        """True for deals the rule would look at but cannot judge (missing data); counted in the summary.

        Rules that define :meth:`not_evaluable_reason` get this from it. A
        rule may instead return a mapping from the missing field to a mask
        (see :meth:`Rule.not_evaluable`): the summary then counts per field.
        """
        reason = self.not_evaluable_reason(ctx)
        return None if reason is None else reason.is_not_null()

    def not_evaluable_reason(self, ctx: RuleContext) -> pl.Expr | None:
        """Why a deal the rule would look at cannot be judged (text), null where it can.

        The summary counts the deals per reason (``not_evaluable_reasons``),
        e.g. ``{"HY201": {"history has 1 snapshot": 120}}``.
        """
        return None

    def severity_expr(self, ctx: RuleContext, severity: str) -> pl.Expr | None:
        """Per-finding severity, for rules whose findings are graver on some deals.

        ``severity`` is the rule's configured severity; return an expression
        giving each flagged deal's, or None (the default) for ``severity``
        on every finding.
        """
        return None

    def check(self, deal: Deal, ctx: RuleContext) -> str | None:
        """Row-at-a-time form: return a message where ``deal`` is flagged, else ``None``."""
        raise NotImplementedError

    @classmethod
    def is_vectorised(cls) -> bool:
        return cls.condition is not DealRule.condition

    @classmethod
    def is_row_at_a_time(cls) -> bool:
        return cls.check is not DealRule.check


class PipelineRule(Rule):
    """A rule over many deals at once (per owner, per team, the whole pipeline).

    :meth:`check` receives the audited deal table and returns findings: an
    iterable of :class:`hygiene.Finding`, or, for large outputs, a polars
    frame with the columns ``deal_id``, ``message`` and optionally
    ``deal_name``, ``owner``, ``row`` and ``details`` (a struct).
    """

    def check(self, deals: pl.DataFrame, ctx: RuleContext) -> Iterable[Finding] | pl.DataFrame:
        raise NotImplementedError


#: A section heading of a rule's docstring: ``**Fix**`` at the start of a line.
_SECTION = re.compile(r"^\*\*(?P<heading>[^*]+)\*\*\s*", re.MULTILINE)


def doc_sections(doc: str | None) -> dict[str, str]:
    """A rule docstring's ``**Why**``, ``**Example**``, ``**Fix**`` ... sections, by heading, as one-paragraph text.

    The text before the first heading is under ``""``. Line breaks within a
    paragraph are joined; paragraphs are separated by a blank line.
    """
    text = inspect.cleandoc(doc or "")
    sections: dict[str, str] = {}
    heading, start = "", 0
    for match in _SECTION.finditer(text):
        sections[heading] = text[start : match.start()]
        heading, start = match["heading"].strip(), match.end()
    sections[heading] = text[start:]
    return {
        key: "\n\n".join(" ".join(line.strip() for line in block.splitlines()) for block in re.split(r"\n\s*\n", value.strip()) if block.strip())
        for key, value in sections.items()
        if value.strip() or key
    }
