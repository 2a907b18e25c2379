"""EX001, a vectorised rule: one polars expression flags every deal at once."""

import polars as pl

from hygiene import DealRule


class DiscountWithoutApproval(DealRule):
    """An open deal is discounted above the limit and nobody approved it.

    **Why**

    A discount past the limit trades margin for speed, which is why a deal
    desk approves it. An unapproved one is a forecast risk: finance may
    refuse the contract, or the deal closes at a loss nobody agreed to.

    The discount is the export's ``discount`` column (option
    ``discount_column``), a percentage written ``25`` or ``25%``; an empty
    cell is no discount. Any value in ``discount_approved_by`` (option
    ``approval_column``) counts as an approval. Both are extras: columns no
    deal field reads. An open deal whose discount is not a number, and every
    open deal of an export without the column, is counted as not evaluable.

    **Example**

    With the default limit of 20, an open deal with ``discount = 25`` and no
    approver is flagged. One at exactly 20 is not (the limit is allowed),
    nor one at 25 approved by "Dana (deal desk)", nor a closed one.

    **Fix**

    Get the discount approved and record who approved it, or bring it back
    under the limit.
    """

    code = "EX001"
    name = "discount-without-approval"
    summary = "Open deal discounted above the limit without an approver"
    severity = "warning"
    options_schema = {
        "type": "object",
        "properties": {
            "max_discount": {
                "type": "number",
                "minimum": 0,
                "maximum": 100,
                "default": 20,
                "description": "The largest discount, in percent, that needs no approval.",
            },
            "discount_column": {
                "type": "string",
                "minLength": 1,
                "default": "discount",
                "description": "The export column holding the discount, in percent.",
            },
            "approval_column": {
                "type": "string",
                "minLength": 1,
                "default": "discount_approved_by",
                "description": "The export column naming who approved the discount.",
            },
        },
    }
    message_template = "{discount}% discount without approval (limit {max_discount}%)"

    def _text(self, ctx, option: str) -> pl.Expr | None:
        column = ctx.options[option]
        if column not in ctx.extra_columns:
            return None
        text = pl.col(column).cast(pl.String).str.strip_chars()
        return pl.when(text != "").then(text)

    def _discount(self, ctx) -> pl.Expr:
        text = self._text(ctx, "discount_column")
        if text is None:
            return pl.lit(None, pl.Float64)
        return text.str.strip_suffix("%").str.strip_chars().cast(pl.Float64, strict=False)

    def condition(self, ctx) -> pl.Expr:
        approver = self._text(ctx, "approval_column")
        unapproved = pl.lit(True) if approver is None else approver.is_null()
        return ctx.is_open & (self._discount(ctx) > ctx.options["max_discount"]) & unapproved

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"discount": self._discount(ctx), "max_discount": pl.lit(ctx.options["max_discount"])}

    def not_evaluable(self, ctx) -> pl.Expr:
        text = self._text(ctx, "discount_column")
        if text is None:
            return ctx.is_open
        return ctx.is_open & text.is_not_null() & self._discount(ctx).is_null()
