"""Generate a synthetic CRM opportunity export for the hygiene benchmark.

    python tests/bench/generate_deals.py                       # 1,000,000 deals, seed 42
    python tests/bench/generate_deals.py --rows 100000 --seed 7 --output /tmp/deals.csv

Writes three files into the output's folder (``tests/bench/data/<rows>/`` by
default, git-ignored):

- ``deals.csv``: a Salesforce-style opportunity export (its own column
  names, ISO dates, ``Created Date`` with a time of day, empty cells where
  the CRM has no value, two unmapped columns);
- ``bench.toml``: the hygiene configuration for it: ``[source]`` path,
  ``[source.fields]`` mapping the Salesforce headers onto hygiene's fields,
  and ``[quotas]`` for every owner (plus a few new hires without deals);
- ``meta.json``: seed, rows, audit date and generator version, so the
  benchmark can tell whether the data on disk is the data it asked for.

The data is deterministic for a seed (numpy's PCG64) and reads no clock:
every date is relative to the fixed audit date ``--as-of`` (default
2026-03-15), which the benchmark passes to ``hygiene audit --as-of``.

Shape (defaults): 500 owners with a skewed share of deals each, ~10 % of
deals closed (4 % won, 6 % lost), open deals spread over the five open
stages of the default stage table, and ~22 % of open deals given a problem
(stale stage, past-due or missing close date, old-and-silent drop
candidate), which gives ~200,000 findings at 1,000,000 deals. Problems
overlap the way they do in real pipelines (a drop candidate is often stale
too); the clean deals are built to sit on the safe side of every limit,
including exactly at it (days in stage == max_days, close date == as_of).
The data has no invalid cells, unknown stages or duplicate ids, so the
data checks HY900-HY902 find nothing and the pandas script and hygiene
audit the same deals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

GENERATOR_VERSION = 2
HERE = Path(__file__).resolve().parent
DEFAULT_AS_OF = "2026-03-15"
DEFAULT_ROWS = 1_000_000
DEFAULT_SEED = 42

#: The default stage table of the contract (issue 2, section 5): name, probability, max_days.
OPEN_STAGES = [("Prospecting", 10, 30), ("Qualification", 20, 30), ("Needs Analysis", 40, 45), ("Proposal", 60, 30), ("Negotiation", 80, 21)]
OPEN_STAGE_WEIGHTS = [0.30, 0.25, 0.20, 0.15, 0.10]
FORECAST = {"Prospecting": "Pipeline", "Qualification": "Pipeline", "Needs Analysis": "Best Case", "Proposal": "Best Case", "Negotiation": "Commit"}

#: Salesforce report headers -> hygiene canonical fields (written to bench.toml).
FIELDS = {
    "id": "Opportunity ID",
    "name": "Opportunity Name",
    "account": "Account Name",
    "owner": "Opportunity Owner",
    "team": "Owner Role",
    "stage": "Stage",
    "amount": "Amount",
    "currency": "Opportunity Currency",
    "probability": "Probability (%)",
    "forecast_category": "Forecast Category",
    "created_date": "Created Date",
    "close_date": "Close Date",
    "stage_entered_date": "Last Stage Change Date",
    "last_activity_date": "Last Activity",
    "close_date_pushes": "Push Count",
    "next_step": "Next Step",
    "next_step_date": "Next Step Date",
    "next_activity_date": "Next Activity",
    "contacts": "Contact Roles",
    "owner_active": "Owner Active",
}
#: Columns hygiene does not map: they reach rules as extras.
EXTRA_COLUMNS = ("Type", "Lead Source")
#: Days without activity each open stage allows by default (45 / 30 / 21 / 14 / 7).
MAX_INACTIVE_DAYS = [45, 30, 21, 14, 7]
#: Shares of open deals given each problem of the wider rule catalogue (version 2).
CATALOGUE_PROBLEM_SHARE = 0.01

FIRST = "Ada Alan Grace Linus Barbara Ken Margaret Dennis Frances Edsger Radia John Hedy Claude Katherine Tim Shafi Donald Sophie Guido Anita Bjarne Jean Niklaus Mary Tony Karen Larry Fran Vint Joan Leslie Lynn Whitfield Adele Butler Evelyn Robin Ivan Carol Peter Ruth Seymour Susan Marvin Annie Ward Lois Brian Nancy".split()
LAST = "Lovelace Turing Hopper Torvalds Liskov Thompson Hamilton Ritchie Allen Dijkstra Perlman Backus Lamarr Shannon Johnson Berners-Lee Goldwasser Knuth Wilson Rossum Borg Stroustrup Sammet Wirth Keller Hoare Jones Page Bilas Cerf Clarke Lamport Conway Diffie Goldberg Lampson Berez Milner Sutherland Shaw Naur Teitelman Papert Graham Minsky Easley Cunningham Haibt Kernighan Lynch".split()
ACCOUNT_A = "Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Cyberdyne Soylent Hooli Vandelay Oscorp Gringotts Monarch Aperture Massive Dynamic Nakatomi Virtucon Prestige Ollivander Sirius Weyland Dunder Pied Bluth Krusty Gekko Duff".split()
ACCOUNT_B = "Industries Corp Labs Systems Holdings Logistics Foods Energy Media Health Analytics Robotics Partners Capital Retail Pharma Motors Networks Software Group".split()
PRODUCTS = "Platform Renewal Expansion Pilot Upsell Migration Support Licences Services Add-on".split()
NEXT_STEPS = [
    "Send the revised proposal", "Schedule demo with IT", "Call the CFO about budget", "Legal review of the MSA", "Procurement sign-off call",
    "Complete security questionnaire", "Intro to the economic buyer", "Pricing discussion with CFO", "Technical deep dive with IT",
    "Reference call with a customer", "Send contract redlines back", "Kick-off planning session",
]
TYPES = ["New Business", "Existing Business", "Renewal"]
LEAD_SOURCES = ["Web", "Partner", "Outbound", "Event", "Referral", "Inbound Call"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="number of deals (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="CSV to write (default: tests/bench/data/<rows>/deals.csv); bench.toml and meta.json go beside it")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF, help="the audit date every date is relative to (default: %(default)s)")
    parser.add_argument("--owners", type=int, default=500, help="number of owners (default: %(default)s)")
    parser.add_argument("--closed-share", type=float, default=0.10, help="share of closed deals, won and lost (default: %(default)s)")
    parser.add_argument("--problem-share", type=float, default=0.22, help="share of open deals given a problem (default: %(default)s)")
    return parser.parse_args(argv)


def default_output(rows: int) -> Path:
    return HERE / "data" / str(rows) / "deals.csv"


def owner_names(count: int, rng: np.random.Generator) -> list[str]:
    pairs = [f"{f} {l}" for f in FIRST for l in LAST]
    if count > len(pairs):
        pairs += [f"{p} {i}" for i in range(2, count // len(pairs) + 2) for p in pairs]
    picked = rng.choice(len(pairs), size=count, replace=False)
    return [pairs[i] for i in picked]


def salesforce_ids(n: int) -> pl.Series:
    """Unique 18-character ids like ``006Qk2...``: a bijective scramble of 0..n-1 in base 62."""
    alphabet = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    modulus = 62**9
    # Multiplying by a number coprime with 62 is a bijection modulo 62**9 (no uint64 overflow below 10**10 rows).
    values = (np.arange(n, dtype=np.uint64) * np.uint64(1_000_000_007) + np.uint64(12_345)) % np.uint64(modulus)
    digits = np.empty((n, 18), dtype=np.uint8)
    digits[:, :3] = np.frombuffer(b"006", dtype=np.uint8)
    digits[:, 3:6] = np.frombuffer(b"5J0", dtype=np.uint8)
    for position in range(17, 5, -1):
        if position >= 9:
            digits[:, position] = alphabet[(values % 62).astype(np.intp)]
            values //= 62
        else:
            digits[:, position] = np.frombuffer(b"AAA", dtype=np.uint8)[position - 6]
    return pl.Series("id", digits.view("S18").ravel()).cast(pl.String)


def pick(values: list[str], index: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(index.astype(np.uint32)))


def generate(rows: int, seed: int, as_of: dt.date, owners: int, closed_share: float, problem_share: float):
    rng = np.random.default_rng(seed)
    n = rows
    epoch = dt.date(1970, 1, 1)
    today = (as_of - epoch).days

    names = owner_names(owners, rng)
    # Skewed book sizes: a few reps carry much more than others.
    owner_weights = rng.pareto(2.0, owners) + 1.0
    owner_weights /= owner_weights.sum()
    owner_idx = rng.choice(owners, size=n, p=owner_weights)
    teams = [f"Sales Team {i % 25 + 1:02d}" for i in range(owners)]

    # Status: closed won, closed lost, or open in one of the five open stages.
    won_share = closed_share * 0.4
    status = rng.random(n)
    is_won = status < won_share
    is_lost = (status >= won_share) & (status < closed_share)
    is_open = ~(is_won | is_lost)
    open_stage = rng.choice(len(OPEN_STAGES), size=n, p=OPEN_STAGE_WEIGHTS)
    max_days = np.array([s[2] for s in OPEN_STAGES])[open_stage]
    stage_prob = np.array([s[1] for s in OPEN_STAGES])[open_stage]

    # Problems for open deals: 0 none, 1 stale, 2 past due, 3 missing close date, 4 drop candidate.
    problem = np.where(
        is_open & (rng.random(n) < problem_share),
        rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.30, 0.15, 0.20]),
        0,
    )

    # Clean open deals: inside every limit (boundaries included).
    stage_days = rng.integers(0, max_days + 1)  # days in stage, up to max_days exactly
    close_in = rng.integers(0, 181, size=n)  # close date from today (0 = due today, not past due)
    activity_days = rng.integers(0, 61, size=n)  # last activity, up to 60 days ago exactly
    created_before_stage = rng.integers(0, 400, size=n)
    pushes = rng.poisson(0.8, size=n)

    # Problems.
    stale = problem == 1
    stage_days = np.where(stale, max_days + 1 + rng.exponential(60, n).astype(np.int64), stage_days)
    past_due = problem == 2
    close_in = np.where(past_due, -1 - rng.exponential(45, n).astype(np.int64), close_in)
    drop = problem == 4
    age_days = np.where(drop, 181 + rng.exponential(200, n).astype(np.int64), 0)
    activity_days = np.where(drop, 61 + rng.exponential(90, n).astype(np.int64), activity_days)
    by_pushes = drop & (rng.random(n) < 0.5)
    pushes = np.where(by_pushes, 3 + rng.poisson(1.5, n), pushes)
    # Half of the drop candidates also sat in their stage (stale too); the others moved recently.
    drop_stale = drop & (rng.random(n) < 0.5)
    stage_days = np.where(drop_stale, np.minimum(age_days, activity_days + rng.integers(0, 30, n)), stage_days)

    # Probabilities: the stage's (most exports), the deal's own, or empty.
    prob_kind = rng.random(n)
    own_prob = (rng.integers(1, 20, n) * 5).astype(np.int64)
    probability = np.where(prob_kind < 0.80, stage_prob, own_prob).astype(np.float64)
    low_prob = drop & ~by_pushes
    probability = np.where(low_prob, rng.choice([5, 10, 15, 20], size=n), probability)
    probability = np.where(~low_prob & (prob_kind >= 0.95), np.nan, probability)

    # Dates (days since 1970-01-01).
    stage_entered = today - stage_days
    created = np.where(drop, today - np.maximum(age_days, stage_days), stage_entered - created_before_stage)
    close = today + close_in
    last_activity = today - activity_days
    # Closed history: closed in the last year, stage entered on the close date.
    closed = ~is_open
    close = np.where(closed, today - rng.integers(0, 365, n), close)
    created = np.where(closed, close - rng.integers(10, 300, n), created)
    stage_entered = np.where(closed, close, stage_entered)
    last_activity = np.where(closed, close - rng.integers(0, 10, n), last_activity)
    probability = np.where(is_won, 100.0, np.where(is_lost, 0.0, probability))

    # Missing values, the way CRM exports have them.
    missing_close = (problem == 3) | (closed & (rng.random(n) < 0.01))
    no_stage_date = is_open & (problem == 0) & (rng.random(n) < 0.03)
    no_activity = rng.random(n) < 0.10
    no_amount = rng.random(n) < 0.01

    amount = np.round(rng.lognormal(mean=10.0, sigma=1.0, size=n), 2)
    created_seconds = rng.integers(7 * 3600, 19 * 3600, size=n)

    stage_names = [s[0] for s in OPEN_STAGES] + ["Closed Won", "Closed Lost"]
    stage_idx = np.where(is_won, 5, np.where(is_lost, 6, open_stage))
    forecast_names = [FORECAST[s[0]] for s in OPEN_STAGES] + ["Closed", "Omitted"]

    def dates(days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
        series = pl.Series(days.astype(np.int32)).cast(pl.Date)
        if missing is not None:
            series = series.set(pl.Series(missing), None) if missing.any() else series
        return series

    accounts_idx = rng.integers(0, len(ACCOUNT_A) * len(ACCOUNT_B) * 40, n)
    account_names = [f"{a} {b}" + (f" {k}" if k else "") for k in range(40) for a in ACCOUNT_A for b in ACCOUNT_B]
    account = pick(account_names, accounts_idx)
    product = pick(PRODUCTS, rng.integers(0, len(PRODUCTS), n))
    next_step = pick(NEXT_STEPS, rng.integers(0, len(NEXT_STEPS), n))
    next_step = next_step.set(pl.Series(rng.random(n) < 0.05), None)

    created_dt = (
        pl.Series((created.astype(np.int64) * 86_400 + created_seconds) * 1_000_000, dtype=pl.Int64)
        .cast(pl.Datetime("us"))
    )
    prob_series = pl.Series(probability).fill_nan(None).cast(pl.Int64)
    amount_series = pl.Series(amount).set(pl.Series(no_amount), None)

    frame = pl.DataFrame(
        {
            FIELDS["id"]: salesforce_ids(n),
            FIELDS["name"]: account + " - " + product,
            FIELDS["account"]: account,
            FIELDS["owner"]: pick(names, owner_idx),
            FIELDS["team"]: pick(teams, owner_idx),
            FIELDS["stage"]: pick(stage_names, stage_idx),
            FIELDS["amount"]: amount_series,
            FIELDS["currency"]: pl.repeat("USD", n, eager=True),
            FIELDS["probability"]: prob_series,
            FIELDS["forecast_category"]: pick(forecast_names, stage_idx),
            FIELDS["created_date"]: created_dt,
            FIELDS["close_date"]: dates(close, missing_close),
            FIELDS["stage_entered_date"]: dates(stage_entered, no_stage_date),
            FIELDS["last_activity_date"]: dates(last_activity, no_activity),
            FIELDS["close_date_pushes"]: pl.Series(pushes.astype(np.int64)),
            "Type": pick(TYPES, rng.integers(0, len(TYPES), n)),
            "Lead Source": pick(LEAD_SOURCES, rng.integers(0, len(LEAD_SOURCES), n)),
            FIELDS["next_step"]: next_step,
        }
    )
    frame = with_catalogue_columns(frame, rng, today, is_open, problem, open_stage, names, owner_idx)
    return frame, names


def with_catalogue_columns(frame: pl.DataFrame, rng: np.random.Generator, today: int, is_open, problem, open_stage, names, owner_idx) -> pl.DataFrame:
    """The columns of the wider rule catalogue (generator version 2), drawn after everything else.

    Drawing them last leaves every value the five mission rules read as
    version 1 drew it, so the pandas comparison is unchanged. Clean open
    deals are clean for the catalogue too: last activity within their
    stage's max_inactive_days, a dated next step and a booked activity,
    two or more contacts on large deals, a unique name. About 1 % of open
    deals get each catalogue problem.
    """
    n = frame.height
    share = CATALOGUE_PROBLEM_SHARE
    clean_open = is_open & (problem == 0)
    limit = np.array(MAX_INACTIVE_DAYS)[open_stage]
    activity = (today - frame.get_column(FIELDS["last_activity_date"]).cast(pl.Int32).to_numpy(allow_copy=True)).astype(np.float64)
    quiet = clean_open & (rng.random(n) < share)
    recent = np.where(np.isnan(activity), np.nan, np.minimum(activity, limit))
    activity = np.where(clean_open & ~quiet, recent, np.where(quiet, limit + 1 + rng.integers(0, 30, n), activity))
    last_activity = pl.Series(np.where(np.isnan(activity), np.nan, today - activity)).fill_nan(None).cast(pl.Int32).cast(pl.Date)

    step_overdue = is_open & (rng.random(n) < share)
    step_date = np.where(step_overdue, today - rng.integers(1, 30, n), today + rng.integers(0, 21, n))
    unscheduled = is_open & (rng.random(n) < share)
    activity_date = np.where(unscheduled, today - rng.integers(1, 30, n), today + rng.integers(0, 14, n))
    amount = frame.get_column(FIELDS["amount"]).to_numpy(allow_copy=True)
    contacts = rng.integers(1, 7, n)
    single = is_open & (rng.random(n) < share)
    contacts = np.where((np.nan_to_num(amount) >= 100_000) & ~single, np.maximum(contacts, 2), contacts)
    contacts = np.where(single, 1, contacts)
    # A few reps left with deals still on their name.
    departed = rng.random(len(names)) < 0.01
    active = np.where(departed[owner_idx], "0", "1")

    # Names unique within an account, but for a few deals entered twice.
    number = np.arange(n)
    twice = rng.random(n) < share / 4
    twice[0] = False
    number = np.where(twice, number - 1, number)
    account = frame.get_column(FIELDS["account"]).gather(pl.Series(number))
    product = frame.get_column(FIELDS["name"]).str.split(" - ").list.last().gather(pl.Series(number))
    name = account + " - " + product + " " + pl.Series(number).cast(pl.String).str.zfill(7)

    closed = ~is_open
    return frame.with_columns(
        pl.Series(FIELDS["account"], account),
        pl.Series(FIELDS["name"], name),
        pl.Series(FIELDS["last_activity_date"], last_activity),
        pl.Series(FIELDS["next_step_date"], step_date.astype(np.int32)).cast(pl.Date).set(pl.Series(closed), None),
        pl.Series(FIELDS["next_activity_date"], activity_date.astype(np.int32)).cast(pl.Date).set(pl.Series(closed), None),
        pl.Series(FIELDS["contacts"], contacts.astype(np.int64)),
        pl.Series(FIELDS["owner_active"], active),
    )


def quotas_for(frame: pl.DataFrame, names: list[str], as_of: dt.date, seed: int) -> dict[str, int]:
    """A quota per owner around what the owner can reach this quarter, so that ~60 % miss it."""
    quarter_start = dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1)
    end_month = quarter_start.month + 2
    quarter_end = (dt.date(as_of.year + end_month // 12, end_month % 12 + 1, 1) - dt.timedelta(days=1))
    stage = pl.col(FIELDS["stage"])
    prob = pl.col(FIELDS["probability"]).cast(pl.Float64)
    amount = pl.col(FIELDS["amount"]).fill_null(0.0)
    reach = (
        frame.lazy()
        .filter(pl.col(FIELDS["close_date"]).is_between(quarter_start, quarter_end))
        .group_by(FIELDS["owner"])
        .agg(
            (
                amount.filter(stage == "Closed Won").sum()
                + (amount * prob.fill_null(0.0) / 100).filter(~stage.str.starts_with("Closed")).sum()
            ).alias("reach")
        )
        .collect()
    )
    reach_by_owner = dict(reach.iter_rows())
    rng = np.random.default_rng(seed + 1)
    factors = rng.uniform(0.6, 1.6, size=len(names))
    quotas = {}
    for name, factor in zip(sorted(names), factors):
        base = reach_by_owner.get(name, 0.0) or 100_000.0
        quotas[name] = int(max(10_000, round(base * factor, -3)))
    # New hires: a quota and no deals yet (flagged with the whole quota as gap).
    for i, quota in enumerate((150_000, 200_000, 250_000, 300_000, 350_000)):
        quotas[f"New Hire {i + 1:02d}"] = quota
    return quotas


def write_config(path: Path, csv_path: Path, quotas: dict[str, int]) -> None:
    import tomli_w

    config = {
        "source": {"path": csv_path.name, "fields": dict(FIELDS)},
        "quotas": quotas,
    }
    text = "# Written by tests/bench/generate_deals.py for the benchmark: do not edit.\n" + tomli_w.dumps(config)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    as_of = dt.date.fromisoformat(args.as_of)
    output = args.output or default_output(args.rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame, names = generate(args.rows, args.seed, as_of, args.owners, args.closed_share, args.problem_share)
    frame.write_csv(output, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d", float_precision=2)
    quotas = quotas_for(frame, names, as_of, args.seed)
    config = output.parent / "bench.toml"
    write_config(config, output, quotas)
    meta = {
        "generator_version": GENERATOR_VERSION,
        "rows": args.rows,
        "seed": args.seed,
        "as_of": as_of.isoformat(),
        "owners": args.owners,
        "closed_share": args.closed_share,
        "problem_share": args.problem_share,
        "csv": output.name,
        "config": config.name,
        "bytes": output.stat().st_size,
    }
    (output.parent / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    elapsed = time.perf_counter() - started
    print(f"wrote {output} ({args.rows:,} deals, {meta['bytes'] / 1e6:.1f} MB), {config.name} ({len(quotas)} quotas) in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
