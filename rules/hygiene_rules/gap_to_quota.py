import difflib

import polars as pl

from hygiene import Finding, PipelineRule, TrailingWindow, format_number


#: Amounts are summed in units of 1/10,000 (a hundredth of a cent), as integers.
_SCALE = 10_000


def _exact_sum(values: pl.Expr) -> pl.Expr:
    """A sum that does not depend on the order of its terms.

    A float sum does, and the order of a group's rows depends on how polars
    split the table among threads: the same export could report a different
    last cent from one run to the next. Integers add up exactly.
    """
    return (values * _SCALE).round(0).cast(pl.Int64).sum() / _SCALE


class GapToQuota(PipelineRule):
    """An owner's won plus weighted pipeline for the period falls short of quota.

    **Why**

    The forecast call is too late to learn that a rep cannot make the
    number. For every owner with a quota in ``[quotas]``, this rule adds
    what is already won in the period to the probability-weighted value of
    the open deals closing in it; when that is below quota, the gap is
    visible weeks earlier.

    - won: the sum of ``amount`` over won deals whose ``close_date`` falls in
      the period;
    - weighted: the sum of ``amount x probability / 100`` over open deals
      whose ``close_date`` falls in the period (the deal's probability, else
      its stage's);
    - gap: ``quota - won - weighted``;
    - coverage: the open amount closing in the period divided by what is
      still to win (``quota - won``).

    With ``coverage_basis = "win_rate"`` the test is on coverage instead:
    an owner is flagged when coverage is below the **required coverage**,
    ``1 / trailing win rate``, where the win rate is the share of the
    amount the owner closed in the trailing ``window`` (default
    ``"4 quarters"`` up to the audit date) that was won. With fewer than
    ``min_deals`` (10) closed deals, or none won, the required coverage is
    the usual rule of thumb, 3x, and the finding says so.

    With ``clean_pipeline = true`` the open amounts count only the deals
    without an error this rule can see: a close date before the audit date
    (as ``past-due-close-date`` flags) or a cell that could not be read
    (``invalid-value``). Pipeline that needs fixing before it can be
    trusted does not cover a quota.

    The period is the quarter containing the audit date (``period`` option:
    ``month``, ``quarter`` or ``year``), in the fiscal calendar set by
    ``[pipeline] fiscal_year_start_month``; bounds are inclusive. An owner
    with a quota and no deals at all in the export (a roster owner who sells
    nothing yet) is flagged with the whole quota as gap, saying "no deals in
    this export"; when the name is close to an owner's who has deals (a
    typo in ``[quotas]``), the message names the closest owner names.
    The finding is about the owner, not a deal.

    **Example**

    Quota 100,000; won 40,000; open deals closing this quarter: 50,000 at
    60% and 20,000 at 10%. Weighted = 32,000, so 72,000 < 100,000: flagged
    with a gap of 28,000 and coverage 70,000 / 60,000 = 1.17x.

    **Fix**

    Build pipeline for the period (new deals, pull-ins), or agree a
    realistic number with the owner before the forecast call.
    """

    code = "HY004"
    name = "gap-to-quota"
    summary = "Owner's won plus weighted pipeline in the period is below quota"
    severity = "warning"
    group = "forecast"
    weight = 10
    options_schema = {
        "type": "object",
        "properties": {
            "period": {
                "enum": ["month", "quarter", "year"],
                "default": "quarter",
                "description": "The period the quotas in [quotas] are for.",
            },
            "coverage_basis": {
                "enum": ["probability", "win_rate"],
                "default": "probability",
                "description": "probability: flag when won + weighted pipeline < quota; win_rate: flag when coverage < 1 / the owner's trailing win rate.",
            },
            "window": {
                "type": "string",
                "pattern": r"^\s*[1-9][0-9]*\s*(day|week|month|quarter|year)s?\s*$",
                "default": "4 quarters",
                "description": "The trailing window of closed deals the win rate is taken over (coverage_basis = win_rate).",
            },
            "min_deals": {"type": "integer", "minimum": 1, "default": 10, "description": "Fewer closed deals in the window: required coverage 3x."},
            "clean_pipeline": {"type": "boolean", "default": False, "description": "Count only open deals without a past-due close date or an unreadable cell."},
        },
    }

    def check(self, deals: pl.DataFrame, ctx):
        if not ctx.quotas:
            return []
        if ctx.options["coverage_basis"] == "win_rate":
            return _coverage_findings(deals, ctx)
        quotas = pl.LazyFrame(
            {"owner": list(ctx.quotas), "quota": [float(q) for q in ctx.quotas.values()]},
            schema={"owner": pl.String, "quota": pl.Float64},
        )
        owners_with_deals = deals.get_column("owner").drop_nulls().unique().sort().to_list()
        table = (
            _shortfalls(quotas.join(_owner_totals(deals, ctx), on="owner", how="left"))
            .with_columns(pl.col("owner").is_in(owners_with_deals).alias("has_deals"))
            .with_columns(message=_message(ctx))
            .collect()
        )
        closest = {owner: _closest(owner, owners_with_deals) for owner in table.filter(~pl.col("has_deals")).get_column("owner").to_list()}
        return [
            Finding(
                message=row["message"] + _did_you_mean(closest.get(row["owner"], [])),
                owner=row["owner"],
                details={
                    "period": ctx.period.name,
                    "period_start": ctx.period.start.isoformat(),
                    "period_end": ctx.period.end.isoformat(),
                    "quota": row["quota"],
                    "won": row["won"],
                    "weighted": row["weighted"],
                    "gap": row["gap"],
                    "open_amount": row["open_amount"],
                    "coverage": row["coverage"],
                    **({"closest_owners": closest[row["owner"]]} if closest.get(row["owner"]) else {}),
                },
            )
            for row in table.iter_rows(named=True)
        ]


def _counted_open(deals: pl.DataFrame, ctx) -> pl.Expr:
    """The open deals whose amount counts: all of them, or only the clean ones (``clean_pipeline``)."""
    if not ctx.options["clean_pipeline"]:
        return ctx.is_open
    unreadable = [] if ctx.invalid_values is None else ctx.invalid_values.get_column("deal_id").drop_nulls().unique().to_list()
    past_due = (pl.col("close_date") < pl.lit(ctx.as_of)).fill_null(False)
    return ctx.is_open & ~past_due & ~pl.col("id").is_in(unreadable)


def _owner_totals(deals: pl.DataFrame, ctx) -> pl.LazyFrame:
    """Won, weighted and open amounts closing in the period, per owner with a quota."""
    in_period = ctx.in_period("close_date").fill_null(False)
    amount = pl.col("amount").fill_null(0.0)
    counted = _counted_open(deals, ctx)
    return (
        deals.lazy()
        .filter(pl.col("owner").is_in(list(ctx.quotas)) & in_period)
        .group_by("owner")
        .agg(
            _exact_sum(amount.filter(ctx.is_won)).alias("won"),
            _exact_sum((amount * ctx.probability.fill_null(0.0) / 100).filter(counted)).alias("weighted"),
            _exact_sum(amount.filter(counted)).alias("open_amount"),
            counted.sum().alias("open_deals"),
            pl.col("amount").filter(counted).count().alias("open_with_amount"),
        )
    )


#: Open deals in the period, none with an amount: coverage is unknown, not zero.
AMOUNTS_UNKNOWN = (pl.col("open_deals") > 0) & (pl.col("open_with_amount") == 0)


def _shortfalls(table: pl.LazyFrame) -> pl.LazyFrame:
    """The owners whose won plus weighted amount is below quota, with their gap and coverage, by owner."""
    return (
        table.with_columns(pl.col("won", "weighted", "open_amount").fill_null(0.0), pl.col("open_deals", "open_with_amount").fill_null(0))
        # The test is on the sums as they are: 99,999.996 is short of 100,000 even if it shows as 100,000.00.
        .filter(pl.col("won") + pl.col("weighted") < pl.col("quota"))
        # Cents for the report.
        .with_columns(pl.col("won", "weighted", "open_amount").round(2))
        .with_columns((pl.col("quota") - pl.col("won") - pl.col("weighted")).round(2).alias("gap"))
        .with_columns(
            pl.when((pl.col("quota") > pl.col("won")) & ~AMOUNTS_UNKNOWN)
            .then((pl.col("open_amount") / (pl.col("quota") - pl.col("won"))).round(2))
            .alias("coverage")
        )
        .sort("owner")
    )


def _closest(name: str, owners: list[str]) -> list[str]:
    """Owner names like ``name``: a quota under a misspelt name would otherwise be a silent full gap."""
    by_key = {owner.casefold(): owner for owner in owners}
    return [by_key[key] for key in difflib.get_close_matches(name.casefold(), list(by_key), n=3, cutoff=0.6)]


def _did_you_mean(names: list[str]) -> str:
    if not names:
        return ""
    return "; the quota's owner matches no owner of the export: closest " + ", ".join(repr(n) for n in names)


def _message(ctx) -> pl.Expr:
    # An owner with a quota and no deals at all says so: a roster owner who sells nothing yet, or a typo.
    no_deals = pl.when(~pl.col("has_deals")).then(pl.lit("no deals in this export: ")).otherwise(pl.lit(""))
    return no_deals + pl.concat_str(
        [
            pl.lit("won "),
            format_number(pl.col("won")),
            pl.lit(" + weighted "),
            format_number(pl.col("weighted")),
            pl.lit(f" of {ctx.period.name} quota "),
            format_number(pl.col("quota")),
            pl.lit(": gap "),
            format_number(pl.col("gap")),
            pl.lit(", coverage "),
            pl.when(AMOUNTS_UNKNOWN)
            .then(pl.lit(f"not evaluable (no open deal closing in {ctx.period.name} has an amount)"))
            .when(pl.col("coverage").is_null())
            .then(pl.lit("n/a"))
            .otherwise(pl.concat_str([format_number(pl.col("coverage"), decimals=2, thousands=False), pl.lit("x")])),
        ]
    )


#: The required coverage when the trailing win rate is not known: the usual rule of thumb.
FALLBACK_COVERAGE = 3.0


def _coverage_findings(deals: pl.DataFrame, ctx) -> list[Finding]:
    """Owners whose coverage of what is left to win is below 1 / their trailing win rate by amount."""
    start = TrailingWindow.parse(ctx.options["window"], "rules.gap-to-quota.window").start(ctx.as_of)
    closed = ~ctx.is_open & pl.col("close_date").is_between(start, ctx.as_of).fill_null(False)
    amount = pl.col("amount").fill_null(0.0)
    history = (
        deals.lazy()
        .filter(pl.col("owner").is_in(list(ctx.quotas)) & closed)
        .group_by("owner")
        .agg(pl.len().alias("closed_deals"), _exact_sum(amount).alias("closed_amount"), _exact_sum(amount.filter(ctx.is_won)).alias("won_amount"))
    )
    quotas = pl.LazyFrame({"owner": list(ctx.quotas), "quota": [float(q) for q in ctx.quotas.values()]}, schema={"owner": pl.String, "quota": pl.Float64})
    table = (
        quotas.join(_owner_totals(deals, ctx), on="owner", how="left")
        .join(history, on="owner", how="left")
        .with_columns(pl.col("won", "weighted", "open_amount", "closed_amount", "won_amount").fill_null(0.0), pl.col("closed_deals").fill_null(0))
        .collect()
    )
    findings = []
    for row in table.sort("owner").iter_rows(named=True):
        enough = row["closed_deals"] >= ctx.options["min_deals"] and row["won_amount"] > 0
        win_rate = row["won_amount"] / row["closed_amount"] if enough else None
        required = round(1 / win_rate, 2) if win_rate else FALLBACK_COVERAGE
        to_win = row["quota"] - row["won"]
        if to_win <= 0:
            continue
        coverage = round(row["open_amount"] / to_win, 2)
        if row["open_amount"] / to_win >= required:
            continue
        basis = f"a {win_rate * 100:.1f}% trailing win rate" if win_rate else f"the 3x rule (fewer than {ctx.options['min_deals']} closed deals, or none won, in {ctx.options['window']})"
        message = (
            f"coverage {coverage:.2f}x of the {required:.2f}x needed at {basis}: "
            f"open {_number(row['open_amount'])} "
            f"for the {_number(to_win)} left of {ctx.period.name} quota {_number(row['quota'])}"
        )
        findings.append(
            Finding(
                message=message,
                owner=row["owner"],
                details={
                    "period": ctx.period.name,
                    "period_start": ctx.period.start.isoformat(),
                    "period_end": ctx.period.end.isoformat(),
                    "quota": row["quota"],
                    "won": round(row["won"], 2),
                    "open_amount": round(row["open_amount"], 2),
                    "coverage": coverage,
                    "required_coverage": required,
                    "win_rate": None if win_rate is None else round(win_rate, 4),
                    "closed_deals": row["closed_deals"],
                    "window_start": start.isoformat(),
                    "clean_pipeline": ctx.options["clean_pipeline"],
                },
            )
        )
    return findings


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
