import polars as pl

from hygiene import DealRule


class SingleThreaded(DealRule):
    """A large open deal rests on fewer contacts than it needs.

    **Why**

    Big deals are bought by committees. A large deal with one contact dies
    when that person changes jobs, goes on leave or loses the argument
    internally; multi-threaded deals close more often and slip less.

    Flags open deals with an ``amount`` of at least ``min_amount`` and
    fewer than ``min_contacts`` ``contacts``. Deals without an amount are
    not evaluable (nobody knows whether they are large), nor are large
    deals without a contact count.

    **Example**

    With the defaults: an open 100,000 deal with 1 contact is flagged
    (the amount is inclusive); 99,999 with 1 contact is not; 100,000 with 2
    contacts is not.

    **Fix**

    Meet the economic buyer, the users and procurement; record every
    contact on the deal.
    """

    code = "HY040"
    name = "single-threaded"
    summary = "Open deal of at least min_amount with fewer than min_contacts contacts"
    severity = "warning"
    group = "buying team"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "min_amount": {"type": "number", "minimum": 0, "default": 100000, "description": "Deals of at least this amount need min_contacts."},
            "min_contacts": {"type": "integer", "minimum": 1, "default": 2, "description": "Contacts a large deal needs."},
        },
    }
    message_template = "{amount:,} with {contacts} contact(s) (at least {min_contacts} needed from {min_amount:,})"

    def _large(self, ctx) -> pl.Expr:
        return pl.col("amount") >= ctx.options["min_amount"]

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & self._large(ctx) & (pl.col("contacts") < ctx.options["min_contacts"])

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {
            "amount": pl.col("amount"),
            "contacts": pl.col("contacts"),
            "min_amount": pl.lit(ctx.options["min_amount"]),
            "min_contacts": pl.lit(ctx.options["min_contacts"]),
        }

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {
            "amount": ctx.is_open & pl.col("amount").is_null(),
            "contacts": ctx.is_open & self._large(ctx) & pl.col("contacts").is_null(),
        }
