import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import option_percent, percent


class RuthlessDrop(DealRule):
    """An old, silent deal that keeps slipping or never had a real chance: close it lost.

    **Why**

    Pipelines carry deals that everyone knows are dead. They inflate
    coverage, eat the rep's attention and distort win rates. This rule
    names the candidates with the evidence, so a manager can close them
    lost with confidence.

    A deal is a candidate when all of these hold:

    - it is open;
    - it is older than ``min_age_days`` since ``created_date``;
    - it had no activity for more than ``inactive_days`` (last activity is
      ``last_activity_date``, else ``stage_entered_date``, else
      ``created_date``);
    - and its close date was pushed at least ``max_pushes`` times, or its
      probability (its own, else its stage's) is at most
      ``max_probability``.

    Deals without a ``created_date`` are not evaluable. Neither is a deal
    old and inactive enough whose probability does not qualify and whose
    ``close_date_pushes`` is unknown (not in the export, not derivable from
    history): a missing push count is not zero pushes.

    **Example**

    With the defaults and ``as_of = 2026-06-30``: a Prospecting deal
    created 2025-10-01 (272 days), last touched 2026-03-01 (121 days), at
    10% is flagged: "open 272 days, no activity for 121 days, probability
    10% (at most 20%)".

    **Fix**

    Close it lost with the reason, or, if it really is alive, log the
    activity and a next step that proves it.
    """

    code = "HY005"
    name = "ruthless-drop"
    summary = "Old, inactive deal that slipped repeatedly or has a low probability"
    severity = "warning"
    group = "activity"
    weight = 15
    options_schema = {
        "type": "object",
        "properties": {
            "min_age_days": {"type": "integer", "minimum": 0, "default": 180, "description": "Deals older than this many days since created_date are considered."},
            "inactive_days": {"type": "integer", "minimum": 0, "default": 60, "description": "No activity for more than this many days."},
            "max_pushes": {"type": "integer", "minimum": 1, "default": 3, "description": "Close date pushed at least this many times."},
            "max_probability": {"type": "number", "minimum": 0, "maximum": 100, "default": 20, "description": "Probability at or below this percentage."},
        },
    }

    def _age(self, ctx) -> pl.Expr:
        return ctx.days_since("created_date")

    def _inactive(self, ctx) -> pl.Expr:
        return ctx.days_since(pl.coalesce("last_activity_date", "stage_entered_date", "created_date"))

    def _pushed(self, ctx) -> pl.Expr:
        return (pl.col("close_date_pushes") >= ctx.options["max_pushes"]).fill_null(False)

    def _unlikely(self, ctx) -> pl.Expr:
        return (ctx.probability <= ctx.options["max_probability"]).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return (
            ctx.is_open
            & (self._age(ctx) > ctx.options["min_age_days"])
            & (self._inactive(ctx) > ctx.options["inactive_days"])
            & (self._pushed(ctx) | self._unlikely(ctx))
        )

    counter_details = ("age_days", "inactive_days")

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "age_days": self._age(ctx),
            "inactive_days": self._inactive(ctx),
            "close_date_pushes": pl.col("close_date_pushes"),
            "probability": ctx.probability,
        }

    def message_expr(self, ctx) -> pl.Expr:
        options = ctx.options
        reasons = pl.concat_str(
            [
                pl.when(self._pushed(ctx)).then(
                    pl.concat_str([pl.lit("close date pushed "), pl.col("close_date_pushes").cast(pl.String), pl.lit(f" times (limit {options['max_pushes']})")])
                ),
                pl.when(self._unlikely(ctx)).then(
                    pl.concat_str([pl.lit("probability "), percent(ctx.probability), pl.lit(f"% (at most {option_percent(options['max_probability'])}%)")])
                ),
            ],
            separator=" and ",
            ignore_nulls=True,
        )
        return pl.concat_str(
            [
                pl.lit("drop candidate: open "),
                self._age(ctx).cast(pl.String),
                pl.lit(" days, no activity for "),
                self._inactive(ctx).cast(pl.String),
                pl.lit(" days, "),
                reasons,
            ]
        )

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        old_and_silent = (self._age(ctx) > ctx.options["min_age_days"]) & (self._inactive(ctx) > ctx.options["inactive_days"])
        return (
            pl.when(~ctx.is_open)
            .then(pl.lit(None, pl.String))
            .when(pl.col("created_date").is_null())
            .then(pl.lit("no created_date"))
            .when(old_and_silent & ~self._unlikely(ctx) & pl.col("close_date_pushes").is_null())
            .then(ctx.history_gap("close_date_pushes"))
        )
