"""The five hygiene rules written by hand in polars: the benchmark's tight reference.

    python tests/bench/polars_audit.py deals.csv --config bench.toml --as-of 2026-03-15 --output out.json

This is what a skilled polars user would write to produce hygiene's JSON
findings without hygiene: one lazy ``scan_csv`` of the mapped columns,
typed once; the five rules (HY001-HY005, default options, the default
stage table) as filters over that one plan, collected together; messages
with ``concat_str``; details encoded as JSON by polars; SHA-256
fingerprints (the first 20 hex digits, as hygiene's); hygiene's report
order; the findings written as JSON by polars. It reads the same
``bench.toml`` as ``hygiene audit`` (``[source.fields]``, ``[quotas]``,
``[pipeline] fiscal_year_start_month``).

It does what hygiene does to the data that matters for the result (text
stripped, empty cells and unreadable values null, the first row of a
repeated id kept, stages matched case-insensitively), and none of what it
does for a user (invalid-cell findings, row numbers, config validation,
plugins, baselines): the difference in time is the price of those.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import json
import sys
import tomllib
from pathlib import Path

import polars as pl

# name, probability, max_days, closed, won: the default stage table.
STAGES = [
    ("Prospecting", 10, 30, False, False),
    ("Qualification", 20, 30, False, False),
    ("Needs Analysis", 40, 45, False, False),
    ("Proposal", 60, 30, False, False),
    ("Negotiation", 80, 21, False, False),
    ("Closed Won", 100, None, True, True),
    ("Closed Lost", 0, None, True, False),
]
DEFAULT_MAX_DAYS = 30  # HY001 max_days
MIN_AGE_DAYS, INACTIVE_DAYS, MAX_PUSHES, MAX_PROBABILITY = 180, 60, 3, 20  # HY005
SEVERITY = {"HY001": "warning", "HY002": "error", "HY003": "error", "HY004": "warning", "HY005": "warning"}
NAMES = {"HY001": "stale-stage", "HY002": "missing-close-date", "HY003": "past-due-close-date", "HY004": "gap-to-quota", "HY005": "ruthless-drop"}
TEXT = ["id", "name", "owner", "stage"]
NUMBERS = ["amount", "probability", "close_date_pushes"]
DATES = ["created_date", "close_date", "stage_entered_date", "last_activity_date"]
SEP = "\x1f"


def quarter(as_of: dt.date, fiscal_start: int = 1) -> tuple[str, dt.date, dt.date]:
    months_in = (as_of.month - fiscal_start) % 12
    start_index = as_of.year * 12 + as_of.month - 1 - months_in % 3
    start = dt.date(start_index // 12, start_index % 12 + 1, 1)
    end_index = start_index + 3
    end = dt.date(end_index // 12, end_index % 12 + 1, 1) - dt.timedelta(days=1)
    fy_end = (as_of.year * 12 + as_of.month - 1 - months_in + 11) // 12
    label = str(fy_end) if fiscal_start == 1 else f"FY{fy_end}"
    return f"{label}-Q{months_in // 3 + 1}", start, end


def deals(path: Path, fields: dict[str, str]) -> pl.LazyFrame:
    """The export, mapped and typed, one row per id."""
    header = pl.read_csv(path, n_rows=0).columns
    wanted = {field: fields.get(field, field) for field in [*TEXT, *NUMBERS, *DATES]}
    columns = {field: column for field, column in wanted.items() if column in header}
    scan = pl.scan_csv(path, infer_schema=False).select([pl.col(column).alias(field) for field, column in columns.items()])

    def text(field: str) -> pl.Expr:
        if field not in columns:
            return pl.lit(None, pl.String).alias(field)
        stripped = pl.col(field).str.strip_chars()
        return pl.when(stripped != "").then(stripped).alias(field)

    def number(field: str) -> pl.Expr:
        value = text(field).cast(pl.Float64, strict=False)
        return pl.when(value.is_finite()).then(value).alias(field)

    def date(field: str) -> pl.Expr:
        return text(field).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False).alias(field)

    probability = number("probability")
    pushes = number("close_date_pushes")
    return (
        scan.select(
            *(text(f) for f in TEXT),
            number("amount"),
            pl.when(probability.is_between(0, 100)).then(probability).alias("probability"),
            pl.when((pushes >= 0) & (pushes == pushes.round(0))).then(pushes).cast(pl.Int64).alias("close_date_pushes"),
            *(date(f) for f in DATES),
        )
        .filter(pl.col("id").is_not_null())
        .unique("id", keep="first", maintain_order=True)
    )


def days_since(as_of: dt.date, column: str | pl.Expr) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    return (pl.lit(as_of) - expr).dt.total_days()


def finding(code: str, message: pl.Expr, details: dict[str, pl.Expr]) -> list[pl.Expr]:
    return [
        pl.lit(code).alias("code"),
        pl.col("id").alias("deal_id"),
        pl.col("owner"),
        message.alias("message"),
        pl.struct(**details).struct.json_encode().alias("details"),
    ]


def audit(table: pl.LazyFrame, as_of: dt.date, quotas: dict[str, float], fiscal_start: int) -> pl.DataFrame:
    key = pl.col("stage").str.to_lowercase()
    by_key = {name.lower(): (probability, max_days, closed, won) for name, probability, max_days, closed, won in STAGES}
    table = table.with_columns(
        is_open=~key.replace_strict({k: v[2] for k, v in by_key.items()}, default=False, return_dtype=pl.Boolean).fill_null(False),
        is_won=key.replace_strict({k: v[3] for k, v in by_key.items()}, default=False, return_dtype=pl.Boolean).fill_null(False),
        stage_max=key.replace_strict({k: v[1] for k, v in by_key.items()}, default=None, return_dtype=pl.Int64),
        p=pl.coalesce(pl.col("probability"), key.replace_strict({k: float(v[0]) for k, v in by_key.items()}, default=None, return_dtype=pl.Float64)),
    )
    is_open = pl.col("is_open")
    stage = pl.col("stage").fill_null("(none)")

    days_in_stage = days_since(as_of, "stage_entered_date")
    limit = pl.col("stage_max").fill_null(DEFAULT_MAX_DAYS)
    stale = table.filter(is_open & (days_in_stage > limit)).select(
        finding(
            "HY001",
            pl.concat_str([pl.lit("in "), stage, pl.lit(" for "), days_in_stage.cast(pl.String), pl.lit(" days (limit "), limit.cast(pl.String), pl.lit(")")]),
            {"stage": pl.col("stage"), "stage_entered_date": pl.col("stage_entered_date"), "days_in_stage": days_in_stage, "max_days": limit},
        )
    )
    missing = table.filter(is_open & pl.col("close_date").is_null()).select(
        finding("HY002", pl.concat_str([pl.lit("open deal in "), stage, pl.lit(" has no close date")]), {"stage": pl.col("stage")})
    )
    past_due_days = days_since(as_of, "close_date")
    past_due = table.filter(is_open & (pl.col("close_date") < pl.lit(as_of))).select(
        finding(
            "HY003",
            pl.concat_str([pl.lit("close date "), pl.col("close_date").cast(pl.String), pl.lit(" is "), past_due_days.cast(pl.String), pl.lit(" days past due")]),
            {"close_date": pl.col("close_date"), "days_past_due": past_due_days},
        )
    )
    age = days_since(as_of, "created_date")
    inactive = days_since(as_of, pl.coalesce("last_activity_date", "stage_entered_date", "created_date"))
    pushed = (pl.col("close_date_pushes") >= MAX_PUSHES).fill_null(False)
    unlikely = (pl.col("p") <= MAX_PROBABILITY).fill_null(False)
    reasons = pl.concat_str(
        [
            pl.when(pushed).then(pl.concat_str([pl.lit("close date pushed "), pl.col("close_date_pushes").cast(pl.String), pl.lit(f" times (limit {MAX_PUSHES})")])),
            pl.when(unlikely).then(
                pl.concat_str([pl.lit("probability "), pl.col("p").round(1).cast(pl.String).str.strip_suffix(".0"), pl.lit(f"% (at most {MAX_PROBABILITY}%)")])
            ),
        ],
        separator=" and ",
        ignore_nulls=True,
    )
    drop = table.filter(is_open & (age > MIN_AGE_DAYS) & (inactive > INACTIVE_DAYS) & (pushed | unlikely)).select(
        finding(
            "HY005",
            pl.concat_str([pl.lit("drop candidate: open "), age.cast(pl.String), pl.lit(" days, no activity for "), inactive.cast(pl.String), pl.lit(" days, "), reasons]),
            {"age_days": age, "inactive_days": inactive, "close_date_pushes": pl.col("close_date_pushes"), "probability": pl.col("p")},
        )
    )
    owners = table.select(pl.col("owner").drop_nulls().unique().sort())
    *parts, owners = pl.collect_all([stale, missing, past_due, drop, gap_to_quota(table, as_of, quotas, fiscal_start), owners])
    parts[-1] = without_deals(parts[-1], owners.get_column("owner").to_list())
    return finish(pl.concat(parts), quarter(as_of, fiscal_start)[0])


def without_deals(gaps: pl.DataFrame, owners: list[str]) -> pl.DataFrame:
    """A quota's owner without deals says so, with the export's owners of the closest names (a typo would be a silent full gap)."""
    with_deals = set(owners)
    by_key = {owner.casefold(): owner for owner in owners}
    closest = {
        name: [by_key[key] for key in difflib.get_close_matches(name.casefold(), list(by_key), n=3, cutoff=0.6)]
        for name in gaps.get_column("owner").to_list()
        if name not in with_deals
    }
    if not closest:
        return gaps
    suffix = {name: "; the quota's owner matches no owner of the export: closest " + ", ".join(repr(n) for n in close) for name, close in closest.items() if close}
    listed = {name: ',"closest_owners":' + json.dumps(close, ensure_ascii=False, separators=(",", ":")) + "}" for name, close in closest.items() if close}
    lacking = pl.col("owner").is_in(list(closest))
    return gaps.with_columns(
        pl.when(lacking)
        .then(pl.concat_str([pl.lit("no deals in this export: "), pl.col("message"), pl.col("owner").replace_strict(suffix, default="")]))
        .otherwise(pl.col("message"))
        .alias("message"),
        pl.when(pl.col("owner").is_in(list(listed)))
        .then(pl.concat_str([pl.col("details").str.strip_suffix("}"), pl.col("owner").replace_strict(listed, default="}")]))
        .otherwise(pl.col("details"))
        .alias("details"),
    )


def gap_to_quota(table: pl.LazyFrame, as_of: dt.date, quotas: dict[str, float], fiscal_start: int) -> pl.LazyFrame:
    period, start, end = quarter(as_of, fiscal_start)
    amount = pl.col("amount").fill_null(0.0)

    def exact_sum(values: pl.Expr) -> pl.Expr:
        # Integers in 1/10,000ths add up the same whatever order the threads add them in.
        return (values * 10_000).round(0).cast(pl.Int64).sum() / 10_000

    totals = (
        table.filter(pl.col("owner").is_in(list(quotas)) & pl.col("close_date").is_between(pl.lit(start), pl.lit(end)))
        .group_by("owner")
        .agg(
            exact_sum(amount.filter(pl.col("is_won"))).alias("won"),
            exact_sum((amount * pl.col("p").fill_null(0.0) / 100).filter(pl.col("is_open"))).alias("weighted"),
            exact_sum(amount.filter(pl.col("is_open"))).alias("open_amount"),
            pl.col("is_open").sum().alias("open_deals"),
            pl.col("amount").filter(pl.col("is_open")).count().alias("open_with_amount"),
        )
    )
    # Open deals in the period, none with an amount: coverage is unknown, not zero.
    unknown = (pl.col("open_deals") > 0) & (pl.col("open_with_amount") == 0)

    def whole(column: str) -> pl.Expr:
        # As Python's f"{x:,.0f}" writes it: halves to even, thousands grouped.
        rounded = pl.col(column).round(0, mode="half_to_even").cast(pl.Int64)
        grouped = rounded.abs().cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse().str.strip_chars_start(",")
        return pl.concat_str([pl.when(rounded < 0).then(pl.lit("-")).otherwise(pl.lit("")), grouped])

    quota_table = pl.LazyFrame({"owner": list(quotas), "quota": [float(q) for q in quotas.values()]}, schema={"owner": pl.String, "quota": pl.Float64})
    short = (
        quota_table.join(totals, on="owner", how="left")
        .with_columns(pl.col("won", "weighted", "open_amount").fill_null(0.0), pl.col("open_deals", "open_with_amount").fill_null(0))
        .filter(pl.col("won") + pl.col("weighted") < pl.col("quota"))
        .with_columns(pl.col("won", "weighted", "open_amount").round(2))
        .with_columns(gap=(pl.col("quota") - pl.col("won") - pl.col("weighted")).round(2))
        .with_columns(coverage=pl.when((pl.col("quota") > pl.col("won")) & ~unknown).then((pl.col("open_amount") / (pl.col("quota") - pl.col("won"))).round(2)))
    )
    coverage = pl.when(unknown).then(pl.lit(f"not evaluable (no open deal closing in {period} has an amount)")).when(pl.col("coverage").is_null()).then(pl.lit("n/a")).otherwise(
        pl.concat_str([pl.col("coverage").round(2).cast(pl.String).str.replace(r"^(-?\d+)$", "${1}.00").str.replace(r"\.(\d)$", ".${1}0"), pl.lit("x")])
    )
    message = pl.concat_str(
        [pl.lit("won "), whole("won"), pl.lit(" + weighted "), whole("weighted"), pl.lit(f" of {period} quota "), whole("quota"),
         pl.lit(": gap "), whole("gap"), pl.lit(", coverage "), coverage]
    )
    details = pl.struct(
        period=pl.lit(period), period_start=pl.lit(start.isoformat()), period_end=pl.lit(end.isoformat()),
        quota="quota", won="won", weighted="weighted", gap="gap", open_amount="open_amount", coverage="coverage",
    ).struct.json_encode()
    return short.select(pl.lit("HY004").alias("code"), pl.lit(None, pl.String).alias("deal_id"), "owner", message.alias("message"), details.alias("details"))


def finish(findings: pl.DataFrame, period: str) -> pl.DataFrame:
    """Fingerprints and hygiene's report order: severity, owner, deal id, code."""
    key = (
        pl.when(pl.col("deal_id").is_not_null())
        .then(pl.concat_str([pl.col("code"), pl.lit(f"{SEP}deal{SEP}"), pl.col("deal_id")]))
        .otherwise(pl.concat_str([pl.col("code"), pl.lit(f"{SEP}owner{SEP}"), pl.col("owner").fill_null(""), pl.lit(f"{SEP}{period}")]))
    )
    keys = findings.select(key).to_series().to_list()
    fingerprints = [hashlib.sha256(k.encode("utf-8")).hexdigest()[:20] for k in keys]
    rank = pl.col("code").replace_strict({code: 0 if severity == "error" else 1 for code, severity in SEVERITY.items()}, return_dtype=pl.Int8)
    return (
        findings.with_columns(pl.Series("fingerprint", fingerprints, dtype=pl.String))
        .sort([rank, "owner", "deal_id", "code"], nulls_last=True, maintain_order=True)
        .select(
            "code",
            pl.col("code").replace_strict(NAMES, return_dtype=pl.String).alias("rule"),
            pl.col("code").replace_strict(SEVERITY, return_dtype=pl.String).alias("severity"),
            "deal_id", "owner", "message", "details", "fingerprint",
        )
    )


def write(findings: pl.DataFrame, deals_count: int, as_of: dt.date, path: Path) -> None:
    """The findings as JSON: polars encodes each finding (details spliced in as the JSON they already are)."""
    by_rule = dict(sorted(findings.group_by("code").len().iter_rows()))
    summary = {"deals": deals_count, "findings": findings.height, "by_rule": by_rule}
    # Each finding is its other fields as a JSON object, its closing brace replaced by the details it already has as JSON.
    head = pl.struct(pl.exclude("details")).struct.json_encode()
    lines = findings.select(pl.concat_str([head.str.head(-1), pl.lit(',"details":'), pl.col("details"), pl.lit("}")])).to_series()
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"as_of": "%s", "summary": %s, "findings": [' % (as_of.isoformat(), json.dumps(summary)))
        out.write(",\n".join(lines.to_list()))
        out.write("]}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The five hygiene rules in plain polars (benchmark reference).")
    parser.add_argument("csv", type=Path)
    parser.add_argument("--config", type=Path, required=True, help="the hygiene.toml written by generate_deals.py")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)

    config = tomllib.loads(args.config.read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(args.as_of)
    fiscal_start = config.get("pipeline", {}).get("fiscal_year_start_month", 1)
    table = deals(args.csv, config.get("source", {}).get("fields", {})).collect().lazy()
    findings = audit(table, as_of, {k: float(v) for k, v in config.get("quotas", {}).items()}, fiscal_start)
    write(findings, table.select(pl.len()).collect().item(), as_of, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
