import polars as pl

from hygiene import DealRule, HygieneError, format_number

from hygiene_rules.text_values import comparable_text, per_distinct_value

#: Regular expressions (case-insensitive) for names and next steps nobody meant to keep.
DEFAULT_PATTERNS = [
    r"^\s*test\b",
    r"\btest\s+(deal|opp|opportunity)\b",
    r"^\s*(new\s+)?(opportunity|deal|opp)\s*\d*\s*$",
    r"x{3,}",
    r"^\s*(tbd|tba|tbc|placeholder|dummy|sample|example|untitled|asdf\w*|qwerty|foo|bar|n/?a|\?+|-+|\.+)\s*$",
    r"\bdo\s+not\s+use\b",
    r"\bdelete\s+me\b",
]
SHARE_COLUMN = "__placeholder_amount_share__"
OPEN_COUNT_COLUMN = "__placeholder_open_deals__"
NAME_MATCH_COLUMN = "__placeholder_name__"
STEP_MATCH_COLUMN = "__placeholder_next_step__"


class PlaceholderDeal(DealRule):
    """An open deal looks like a placeholder: a test name, a copied account name, a default amount.

    **Why**

    "Test opp", "New Opportunity", "xxx", a deal named after its account
    and an amount of exactly 50,000 on half a rep's deals are records
    created to get past a required field or to try the CRM. They sit in
    the pipeline for months and count in every total.

    An open deal is flagged when:

    - its ``name`` or ``next_step`` matches one of ``patterns`` (regular
      expressions, case-insensitive; the defaults catch "test", "new
      opportunity", "xxx", "tbd", "placeholder" ...);
    - or (``name_equals_account``) its name, ignoring case and punctuation,
      is its account's name;
    - or its amount is a multiple of ``round_to`` that more than
      ``max_share`` of its owner's open deals carry, for an owner with at
      least ``min_deals`` open deals.

    Deals without a name are not evaluable for the name checks (counted
    under ``name``).

    **Example**

    "Test - ignore" and "Acme Corp" (for account "ACME Corp.") are flagged.
    An owner with 10 open deals, 3 of them at exactly 50,000: 30% is more
    than 20%, so those 3 are flagged; with 2 of 10 (20%) they are not.

    **Fix**

    Delete test records; give real deals a name that says what is being
    sold and the amount actually discussed.
    """

    code = "HY052"
    name = "placeholder-deal"
    summary = "Open deal with a placeholder name or next step, the account's name, or a repeated round amount"
    severity = "warning"
    group = "data quality"
    weight = 15
    options_schema = {
        "type": "object",
        "properties": {
            "patterns": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "default": DEFAULT_PATTERNS,
                "description": "Regular expressions (case-insensitive) a placeholder name or next step matches.",
            },
            "name_equals_account": {"type": "boolean", "default": True, "description": "Flag deals named exactly like their account."},
            "round_to": {"type": "number", "exclusiveMinimum": 0, "default": 1000, "description": "Amounts that are multiples of this are round."},
            "max_share": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.2, "description": "Share of an owner's open deals one round amount may appear on."},
            "min_deals": {"type": "integer", "minimum": 1, "default": 5, "description": "Open deals an owner needs before repeated amounts count."},
        },
    }

    def _pattern(self, ctx) -> str | None:
        patterns = ctx.options["patterns"]
        for index, pattern in enumerate(patterns):
            try:
                pl.select(pl.lit("").str.contains(pattern))
            except pl.exceptions.PolarsError:
                raise HygieneError(f"rules.{self.name}.patterns[{index}]: {pattern!r} is not a valid regular expression") from None
        return "(?i)" + "|".join(f"(?:{p})" for p in patterns) if patterns else None

    def _matches(self, ctx, column: str) -> pl.Expr:
        # The patterns are matched once, in columns(); the other methods read the result.
        return pl.col(NAME_MATCH_COLUMN if column == "name" else STEP_MATCH_COLUMN)

    def _named_as_account(self, ctx) -> pl.Expr:
        if not ctx.options["name_equals_account"]:
            return pl.lit(False)
        # An account has many deals (its name is normalised once); deal names are nearly all distinct.
        return (comparable_text(pl.col("name")) == per_distinct_value("account", comparable_text)).fill_null(False)

    def columns(self, ctx) -> dict[str, pl.Expr]:
        round_amount = ctx.is_open & (pl.col("amount") > 0) & ((pl.col("amount") % ctx.options["round_to"]) == 0)
        counted = pl.when(ctx.is_open & pl.col("owner").is_not_null()).then(pl.lit(1))
        open_deals = counted.count().over("owner")
        same_amount = pl.when(round_amount & pl.col("owner").is_not_null()).then(pl.lit(1)).count().over("owner", "amount")
        pattern = self._pattern(ctx)

        def matches(column: str) -> pl.Expr:
            if pattern is None:
                return pl.lit(False)
            # Next steps repeat from deal to deal, names hardly ever: a next step is matched once per distinct value.
            found = pl.col(column).str.contains(pattern) if column == "name" else per_distinct_value(column, lambda text: text.str.contains(pattern))
            return (ctx.is_open & found).fill_null(False)

        return {
            NAME_MATCH_COLUMN: matches("name"),
            STEP_MATCH_COLUMN: matches("next_step"),
            OPEN_COUNT_COLUMN: open_deals.cast(pl.Int64),
            SHARE_COLUMN: pl.when(round_amount.fill_null(False)).then(same_amount / open_deals),
        }

    def _repeated_amount(self, ctx) -> pl.Expr:
        return ((pl.col(SHARE_COLUMN) > ctx.options["max_share"]) & (pl.col(OPEN_COUNT_COLUMN) >= ctx.options["min_deals"])).fill_null(False)

    def condition(self, ctx) -> pl.Expr:
        return ctx.is_open & (self._matches(ctx, "name") | self._matches(ctx, "next_step") | self._named_as_account(ctx) | self._repeated_amount(ctx))

    def _reasons(self, ctx) -> pl.Expr:
        share = format_number(pl.col(SHARE_COLUMN) * 100, decimals=0)
        return pl.concat_str(
            [
                pl.when(self._matches(ctx, "name")).then(pl.lit("the name looks like a placeholder")),
                pl.when(self._named_as_account(ctx)).then(pl.lit("the name is the account's")),
                pl.when(self._matches(ctx, "next_step")).then(pl.lit("the next step looks like a placeholder")),
                pl.when(self._repeated_amount(ctx)).then(
                    pl.concat_str([pl.lit("amount "), format_number(pl.col("amount")), pl.lit(" is on "), share, pl.lit(f"% of the owner's open deals (max {ctx.options['max_share'] * 100:g}%)")])
                ),
            ],
            separator="; ",
            ignore_nulls=True,
        )

    def message_expr(self, ctx) -> pl.Expr:
        return pl.concat_str([pl.lit("placeholder? "), self._reasons(ctx)])

    def details(self, ctx) -> dict[str, pl.Expr]:
        return {"name": pl.col("name"), "account": pl.col("account"), "next_step": pl.col("next_step"), "amount": pl.col("amount"), "reasons": self._reasons(ctx)}

    def not_evaluable(self, ctx) -> dict[str, pl.Expr]:
        return {"name": ctx.is_open & pl.col("name").is_null()}
