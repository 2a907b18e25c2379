import polars as pl

from hygiene import DealRule

from hygiene_rules.text_values import per_distinct_value

_TRUE = ["true", "yes", "y", "1", "active", "t"]
_FALSE = ["false", "no", "n", "0", "inactive", "f"]


def owner_active() -> pl.Expr:
    """``owner_active`` read as a yes/no: true/false, yes/no, 1/0, active/inactive (any case); null otherwise."""
    # A handful of distinct values for any number of deals: each is read once.
    return per_distinct_value("owner_active", _yes_no)


def _yes_no(text: pl.Expr) -> pl.Expr:
    text = text.str.strip_chars().str.to_lowercase()
    return pl.when(text.is_in(_TRUE)).then(pl.lit(True)).when(text.is_in(_FALSE)).then(pl.lit(False)).otherwise(pl.lit(None, pl.Boolean))


class OwnerInactive(DealRule):
    """An open deal belongs to someone who has left, or is marked inactive.

    **Why**

    Deals of a rep who left are nobody's deals: no one calls the buyer,
    and the pipeline still counts them. They should be reassigned on the
    day the rep goes.

    The rule reads the owner's roster entry on each deal: ``owner_active``
    (true/false, yes/no, 1/0, active/inactive) and ``owner_end_date`` (the
    owner's last day), whether the export carries them (a Salesforce
    report's "Opportunity Owner: Active") or a roster joined them onto the
    deals. An open deal is flagged when its owner is inactive, or when the
    audit date is after the owner's end date. An open deal with neither
    value (no roster, or an owner the roster does not list) is not
    evaluable, counted under ``roster``.

    **Example**

    With ``as_of = 2026-03-31``: an owner whose end date is 2026-03-30 has
    left, their open deals are flagged; with 2026-03-31 (their last day)
    they are not. An owner with ``owner_active = false`` is flagged
    whatever the date.

    **Fix**

    Reassign the deals to an active rep and tell the buyer who their
    contact is now.
    """

    code = "HY070"
    name = "owner-inactive"
    summary = "Open deal whose owner is inactive or past their end date in the roster"
    severity = "warning"
    group = "ownership"
    weight = 15
    options_schema = {"type": "object", "properties": {}}

    def _inactive(self) -> pl.Expr:
        return ~owner_active()

    def _left(self, ctx) -> pl.Expr:
        return pl.col("owner_end_date") < pl.lit(ctx.as_of)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._inactive().fill_null(False) | self._left(ctx).fill_null(False))

    def message_expr(self, ctx) -> pl.Expr:
        reasons = pl.concat_str(
            [
                pl.when(self._inactive()).then(pl.lit("is marked inactive")),
                pl.when(self._left(ctx)).then(pl.concat_str([pl.lit("left on "), pl.col("owner_end_date").cast(pl.String)])),
            ],
            separator=" and ",
            ignore_nulls=True,
        )
        return pl.concat_str([pl.lit("owner "), pl.col("owner").fill_null("(none)"), pl.lit(" "), reasons])

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"owner": pl.col("owner"), "owner_active": owner_active(), "owner_end_date": pl.col("owner_end_date")}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"roster": ctx.is_open & owner_active().is_null() & pl.col("owner_end_date").is_null()}
