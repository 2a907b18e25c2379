import polars as pl

from hygiene import ROW_COLUMN, PipelineRule, format_number


class CloseDateClumping(PipelineRule):
    """Too many of an owner's open deals close on the same month end: close dates set as placeholders.

    **Why**

    When a rep has no idea when a deal closes, it gets the end of the month
    or quarter. One or two deals on March 31st are normal; half the book on
    it means nobody asked the buyers, and the period's forecast is a wish.

    For each owner with at least ``min_deals`` open deals, the rule counts
    their open deals per close date. A close date that is the last day of
    a month (every quarter end is one) and that more than ``max_share`` of
    the owner's open deals share flags each of those deals. Open deals
    without an owner or a close date are not evaluable.

    **Example**

    An owner with 10 open deals, 5 closing 2026-03-31: 50% is more than
    40%, all 5 are flagged. With 4 of 10 (40%) nothing is flagged, nor with
    5 of 10 on 2026-03-30 (not a month end).

    **Fix**

    Ask each buyer when they expect to sign, and set that date.
    """

    code = "HY053"
    name = "close-date-clumping"
    summary = "More than max_share of an owner's open deals close on one month end"
    severity = "warning"
    group = "data quality"
    weight = 5
    options_schema = {
        "type": "object",
        "properties": {
            "max_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.4, "description": "Share of an owner's open deals one month-end close date may carry."},
            "min_deals": {"type": "integer", "minimum": 1, "default": 5, "description": "Open deals an owner needs before clumping counts."},
        },
    }

    def check(self, deals: pl.DataFrame, ctx) -> pl.DataFrame:
        options = ctx.options
        open_deals = deals.lazy().filter(ctx.is_open & pl.col("owner").is_not_null())
        # Deals sharing a close date share whether it is a month end, and an owner's deals share the
        # owner's count: only month-end deals of owners with enough deals need counting per date.
        flagged = (
            open_deals.select("id", "name", "owner", ROW_COLUMN, "amount", "close_date", pl.len().over("owner").alias("owner_deals"))
            .filter(
                pl.col("close_date").is_not_null()
                & (pl.col("close_date") == pl.col("close_date").dt.month_end())
                & (pl.col("owner_deals") >= options["min_deals"])
            )
            .with_columns(pl.len().over("owner", "close_date").alias("same_date"))
            .filter(pl.col("same_date") / pl.col("owner_deals") > options["max_share"])
            .with_columns(share=pl.col("same_date") / pl.col("owner_deals"))
        )
        return flagged.select(
            pl.col("id").alias("deal_id"),
            pl.col("name").alias("deal_name"),
            "owner",
            pl.col(ROW_COLUMN).alias("row"),
            "amount",
            pl.concat_str(
                [
                    pl.col("same_date").cast(pl.String),
                    pl.lit(" of the owner's "),
                    pl.col("owner_deals").cast(pl.String),
                    pl.lit(" open deals close on "),
                    pl.col("close_date").cast(pl.String),
                    pl.lit(", a month end ("),
                    format_number(pl.col("share") * 100, decimals=0),
                    pl.lit(f"%, at most {options['max_share'] * 100:g}%)"),
                ]
            ).alias("message"),
            pl.struct(
                pl.col("close_date").cast(pl.String),
                pl.col("same_date").cast(pl.Int64).alias("deals_on_date"),
                pl.col("owner_deals").cast(pl.Int64).alias("owner_open_deals"),
                pl.lit(options["max_share"]).cast(pl.Float64).alias("max_share"),
            ).alias("details"),
        ).collect()

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"owner": ctx.is_open & pl.col("owner").is_null(), "close_date": ctx.is_open & pl.col("close_date").is_null()}
