import polars as pl

from hygiene import DealRule, format_number

MEDIAN_COLUMN = "__amount_outlier_median__"
PEERS_COLUMN = "__amount_outlier_peers__"
GROUPS = ["owner", "team", "account", "deal_type", "product", "lead_source"]


class AmountOutlier(DealRule):
    """An open deal's amount is many times what its owner's deals usually are.

    **Why**

    A 5,000,000 deal in a book of 50,000 deals is either the deal of the
    year or a typo (an extra zero, cents typed as units, the wrong
    currency). Either way it dominates the forecast and deserves a look.

    An open deal is flagged when its ``amount`` is more than ``factor``
    times the median amount of the open deals (with an amount above 0) of
    the same ``compare_by`` group: its owner by default, or its team,
    account, deal type, product or lead source. A group needs at least
    ``min_deals`` such deals to compare with; deals in smaller groups are
    not evaluable ("peers"), as are deals without an amount or without a
    group.

    **Example**

    An owner with ten open deals of 20,000 and one of 200,000: the median
    is 20,000; 200,000 is exactly 10 times it, not flagged; 200,001 would
    be.

    **Fix**

    Check the amount and currency with the owner; correct it, or leave a
    note on the deal when it really is that large.
    """

    code = "HY051"
    name = "amount-outlier"
    summary = "Open deal whose amount exceeds factor times the median of its owner's open deals"
    severity = "warning"
    group = "data quality"
    weight = 5
    options_schema = {
        "type": "object",
        "properties": {
            "factor": {"type": "number", "exclusiveMinimum": 1, "default": 10, "description": "Amounts above this many times the group's median are outliers."},
            "min_deals": {"type": "integer", "minimum": 2, "default": 10, "description": "Open deals with an amount a group needs before its deals are compared."},
            "compare_by": {"enum": GROUPS, "default": "owner", "description": "Whose deals a deal is compared with: its owner's, or its team's, account's, deal type's, product's or lead source's."},
        },
    }

    def _valued(self, ctx) -> pl.Expr:
        return ctx.is_open & (pl.col("amount") > 0) & pl.col(ctx.options["compare_by"]).is_not_null()

    def columns(self, ctx) -> dict[str, pl.Expr]:
        group = ctx.options["compare_by"]
        amount = pl.when(self._valued(ctx)).then(pl.col("amount"))
        return {
            MEDIAN_COLUMN: amount.median().over(group),
            PEERS_COLUMN: amount.count().over(group).cast(pl.Int64),
        }

    def _compared(self, ctx) -> pl.Expr:
        return self._valued(ctx) & (pl.col(PEERS_COLUMN) >= ctx.options["min_deals"])

    def condition(self, ctx) -> pl.Expr:
        return self._compared(ctx) & (pl.col("amount") > ctx.options["factor"] * pl.col(MEDIAN_COLUMN))

    def message_expr(self, ctx) -> pl.Expr:
        group = ctx.options["compare_by"].replace("_", " ")
        return pl.concat_str(
            [
                format_number(pl.col("amount")),
                pl.lit(" is "),
                format_number(pl.col("amount") / pl.col(MEDIAN_COLUMN), decimals=1, thousands=False),
                pl.lit("x the median "),
                format_number(pl.col(MEDIAN_COLUMN)),
                pl.lit(f" of its {group}'s "),
                pl.col(PEERS_COLUMN).cast(pl.String),
                pl.lit(f" open deals (limit {ctx.options['factor']:g}x)"),
            ]
        )

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "amount": pl.col("amount"),
            "median": pl.col(MEDIAN_COLUMN),
            "deals_compared": pl.col(PEERS_COLUMN),
            "compare_by": pl.lit(ctx.options["compare_by"]),
            "factor": pl.lit(ctx.options["factor"]),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        group = ctx.options["compare_by"]
        return {
            "amount": ctx.is_open & pl.col("amount").is_null(),
            group: ctx.is_open & pl.col(group).is_null(),
            "peers": self._valued(ctx) & (pl.col(PEERS_COLUMN) < ctx.options["min_deals"]),
        }
