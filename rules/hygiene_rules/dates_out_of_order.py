import polars as pl

from hygiene import DealRule


class DatesOutOfOrder(DealRule):
    """A deal's dates cannot all be true: it closes before it was created, entered its stage before, or had activity in the future.

    **Why**

    Cycle times, stage ages and activity rules all subtract dates. A deal
    closing before it was created, or with activity logged after the
    audit date, makes those figures negative or nonsense, and usually
    means an import or a bulk update went wrong.

    A deal (open or closed) is flagged when its ``close_date`` is before
    its ``created_date``, when its ``stage_entered_date`` is before its
    ``created_date``, or when its ``last_activity_date`` is after the audit
    date. Deals without a ``created_date`` are not evaluable for the first
    two checks.

    **Example**

    A deal created 2026-03-10 with close date 2026-03-09 is flagged; one
    closing 2026-03-10 (the same day) is not. With ``as_of = 2026-03-31`` a
    last activity on 2026-04-01 is flagged, on 2026-03-31 it is not.

    **Fix**

    Correct the wrong date at the source (often the created date of
    records migrated from another system), then re-export.
    """

    code = "HY061"
    name = "dates-out-of-order"
    summary = "Close or stage date before the created date, or activity after as_of"
    severity = "error"
    group = "integrity"
    weight = 15
    options_schema = {"type": "object", "properties": {}}

    def _problems(self, ctx) -> list[pl.Expr]:
        created = pl.col("created_date")

        def dated(text: str, column: str) -> pl.Expr:
            return pl.concat_str([pl.lit(text + " ("), pl.col(column).cast(pl.String), pl.lit(")")])

        return [
            pl.when(pl.col("close_date") < created).then(pl.concat_str([dated("close date", "close_date"), dated(" before created date", "created_date")])),
            pl.when(pl.col("stage_entered_date") < created).then(pl.concat_str([dated("stage entered", "stage_entered_date"), dated(" before created date", "created_date")])),
            pl.when(pl.col("last_activity_date") > pl.lit(ctx.as_of)).then(pl.concat_str([dated("last activity", "last_activity_date"), pl.lit(" after as_of")])),
        ]

    def condition(self, ctx) -> pl.Expr:
        return pl.any_horizontal(*(problem.is_not_null() for problem in self._problems(ctx)))

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str(self._problems(ctx), separator="; ", ignore_nulls=True)

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "created_date": pl.col("created_date"),
            "close_date": pl.col("close_date"),
            "stage_entered_date": pl.col("stage_entered_date"),
            "last_activity_date": pl.col("last_activity_date"),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        dated = pl.col("close_date").is_not_null() | pl.col("stage_entered_date").is_not_null()
        return {"created_date": dated & pl.col("created_date").is_null()}
