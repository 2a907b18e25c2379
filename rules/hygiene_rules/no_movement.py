import polars as pl

from hygiene import DealRule

from hygiene_rules.stage_checks import text


class NoMovement(DealRule):
    """An open deal nobody has touched: no field changed and no activity for months.

    **Why**

    A deal whose stage, amount, close date, owner and next step have all
    stayed the same for two months, with no logged activity either, is not
    being worked. It sits in the pipeline as if it were.

    ``last_change_date`` is the last snapshot at which any tracked field
    changed (history derives it); ``last_activity_date`` comes from the
    export. Both must be more than ``max_days`` ago. A deal lacking either
    is not evaluable, with the reason: no activity date is not evidence of
    no activity. When the deal has not changed since the store's first
    snapshot, the days are a lower bound and the message says "at least".

    **Example**

    With ``max_days = 60`` and ``as_of = 2026-11-16``: unchanged since
    2026-09-16 (61 days) and last activity 2026-09-01 is flagged; unchanged
    since 2026-09-17 (60 days) is not.

    **Fix**

    Work the deal (log the call, set a next step with a date) or close it.
    """

    code = "HY205"
    name = "no-movement"
    summary = "Open deal with no field changed and no activity for more than max_days"
    severity = "warning"
    group = "history"
    options_schema = {
        "type": "object",
        "properties": {
            "max_days": {"type": "integer", "minimum": 0, "default": 60, "description": "Days without a change or an activity."},
        },
    }

    def condition(self, ctx) -> pl.Expr:
        limit = ctx.options["max_days"]
        return ctx.is_open & (ctx.days_since("last_change_date") > limit) & (ctx.days_since("last_activity_date") > limit)

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "last_change_date": pl.col("last_change_date"),
            "days_unchanged": ctx.days_since("last_change_date"),
            "last_activity_date": pl.col("last_activity_date"),
            "days_inactive": ctx.days_since("last_activity_date"),
            "max_days": pl.lit(ctx.options["max_days"]),
        }

    def message_expr(self, ctx) -> pl.Expr:
        at_least = pl.when(pl.col("last_change_date") == pl.col("first_seen_date")).then(pl.lit("at least ")).otherwise(pl.lit(""))
        return text(
            "no change for {}{} days (since {}) and no activity for {} days (limit {})",
            at_least,
            ctx.days_since("last_change_date"),
            pl.col("last_change_date"),
            ctx.days_since("last_activity_date"),
            pl.lit(ctx.options["max_days"]),
        )

    def not_evaluable_reason(self, ctx) -> pl.Expr:
        return pl.when(ctx.is_open).then(ctx.history_gap("last_change_date", "last_activity_date"))
