"""The five hygiene rules written by hand in pandas: the benchmark's baseline.

    python tests/bench/pandas_audit.py deals.csv --config bench.toml --as-of 2026-03-15 --output out.json

This is what a competent analyst would write without hygiene: one
``pd.read_csv`` of the mapped columns, vectorised date and number parsing,
boolean masks for the rules, string concatenation for the messages, and
``DataFrame.to_json`` for the output. It reads the same ``bench.toml`` as
``hygiene audit`` (``[source.fields]`` for the column names, ``[quotas]``,
``[pipeline] fiscal_year_start_month``) and applies the contract's rules
(issue 2, section 5) with their default options and the default stage table
(it does not read ``[rules.*]`` options or ``[[pipeline.stages]]``; the
benchmark's configuration sets neither):

- HY001 stale-stage: open, days since ``stage_entered_date`` > the stage's
  ``max_days`` (30 for stages without one);
- HY002 missing-close-date: open, no ``close_date``;
- HY003 past-due-close-date: open, ``close_date`` < as_of;
- HY004 gap-to-quota: per owner in ``[quotas]``, won + weighted (open deals,
  amount x probability / 100) closing in the quarter < quota;
- HY005 ruthless-drop: open, age > 180, no activity for > 60 days
  (last activity, else stage entered, else created), and pushes >= 3 or
  probability <= 20.

Messages and details are the ones hygiene writes, so the two outputs can be
compared finding by finding. Like hygiene it strips text, treats empty
cells and unreadable values as missing, keeps the first row of a repeated
id, and matches stages case-insensitively. Findings are written as
``{"code", "deal_id", "owner", "message", "details"}`` objects, ordered like
hygiene's (severity, owner, deal id, code).
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

# name, probability, max_days, closed, won: the contract's default stage table.
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
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
TEXT = ["id", "name", "owner", "stage"]
NUMBERS = ["amount", "probability", "close_date_pushes"]
DATES = ["created_date", "close_date", "stage_entered_date", "last_activity_date"]


def quarter(as_of: dt.date, fiscal_start: int = 1) -> tuple[str, dt.date, dt.date]:
    months_in = (as_of.month - fiscal_start) % 12
    start_index = as_of.year * 12 + as_of.month - 1 - months_in % 3
    start = dt.date(start_index // 12, start_index % 12 + 1, 1)
    end_index = start_index + 3
    end = dt.date(end_index // 12, end_index % 12 + 1, 1) - dt.timedelta(days=1)
    fy_end = (as_of.year * 12 + as_of.month - 1 - months_in + 11) // 12
    label = str(fy_end) if fiscal_start == 1 else f"FY{fy_end}"
    return f"{label}-Q{months_in // 3 + 1}", start, end


def load(path: Path, fields: dict[str, str]) -> pd.DataFrame:
    header = set(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)
    wanted = {field: fields.get(field, field) for field in [*TEXT, *NUMBERS, *DATES]}
    columns = {field: column for field, column in wanted.items() if column in header}
    raw = pd.read_csv(path, usecols=list(columns.values()), dtype={columns[f]: str for f in TEXT if f in columns}, encoding="utf-8-sig")
    df = raw.rename(columns={column: field for field, column in columns.items()})
    for field in wanted.keys() - columns.keys():  # a field the export does not have is empty
        df[field] = pd.Series(np.nan, index=df.index, dtype=object if field in TEXT else "float64")
    for field in TEXT:
        df[field] = df[field].str.strip().replace("", np.nan)
    for field in NUMBERS:
        df[field] = pd.to_numeric(df[field], errors="coerce")
    for field in DATES:
        df[field] = pd.to_datetime(df[field], format="ISO8601", errors="coerce").dt.normalize()
    df.loc[~df["probability"].between(0, 100), "probability"] = np.nan
    pushes = df["close_date_pushes"]
    df["close_date_pushes"] = pushes.where((pushes >= 0) & (pushes % 1 == 0)).astype("Int64")
    df = df.dropna(subset=["id"]).drop_duplicates(subset="id", keep="first")
    return df


def iso(series: pd.Series) -> pd.Series:
    return series.dt.strftime("%Y-%m-%d")


def deal_findings(code: str, df: pd.DataFrame, message: pd.Series, details: dict[str, pd.Series]) -> pd.DataFrame:
    out = pd.DataFrame({"code": code, "deal_id": df["id"], "owner": df["owner"], "message": message})
    detail = pd.DataFrame(details).astype(object)
    out["details"] = detail.where(detail.notna(), None).to_dict("records")
    return out


def audit(df: pd.DataFrame, as_of: dt.date, quotas: dict[str, float], fiscal_start: int) -> pd.DataFrame:
    today = pd.Timestamp(as_of)
    key = df["stage"].str.lower()
    table = {name.lower(): (prob, max_days, closed, won) for name, prob, max_days, closed, won in STAGES}
    is_open = ~key.map({k: v[2] for k, v in table.items()}).fillna(False).astype(bool)
    is_won = key.map({k: v[3] for k, v in table.items()}).fillna(False).astype(bool)
    stage_max = key.map({k: v[1] for k, v in table.items() if v[1] is not None})
    probability = df["probability"].fillna(key.map({k: v[0] for k, v in table.items()}))
    stage = df["stage"].fillna("(none)")
    parts = []

    # HY001 stale-stage
    days_in_stage = (today - df["stage_entered_date"]).dt.days
    limit = stage_max.fillna(DEFAULT_MAX_DAYS).astype("int64")
    hit = is_open & (days_in_stage > limit)
    d = df[hit]
    days, lim = days_in_stage[hit].astype("int64"), limit[hit]
    parts.append(deal_findings(
        "HY001", d,
        "in " + stage[hit] + " for " + days.astype(str) + " days (limit " + lim.astype(str) + ")",
        {"stage": d["stage"], "stage_entered_date": iso(d["stage_entered_date"]), "days_in_stage": days, "max_days": lim},
    ))

    # HY002 missing-close-date
    hit = is_open & df["close_date"].isna()
    d = df[hit]
    parts.append(deal_findings("HY002", d, "open deal in " + stage[hit] + " has no close date", {"stage": d["stage"]}))

    # HY003 past-due-close-date
    hit = is_open & (df["close_date"] < today)
    d = df[hit]
    close, past_due = iso(d["close_date"]), (today - d["close_date"]).dt.days
    parts.append(deal_findings(
        "HY003", d, "close date " + close + " is " + past_due.astype(str) + " days past due",
        {"close_date": close, "days_past_due": past_due},
    ))

    # HY005 ruthless-drop
    age = (today - df["created_date"]).dt.days
    last = df["last_activity_date"].fillna(df["stage_entered_date"]).fillna(df["created_date"])
    inactive = (today - last).dt.days
    pushed = (df["close_date_pushes"] >= MAX_PUSHES).fillna(False).astype(bool)
    unlikely = (probability <= MAX_PROBABILITY).fillna(False)
    hit = is_open & (age > MIN_AGE_DAYS) & (inactive > INACTIVE_DAYS) & (pushed | unlikely)
    d = df[hit]
    reason_push = ("close date pushed " + d["close_date_pushes"].astype(str) + f" times (limit {MAX_PUSHES})").where(pushed[hit])
    reason_prob = ("probability " + probability[hit].round(1).astype(str).str.removesuffix(".0") + f"% (at most {MAX_PROBABILITY}%)").where(unlikely[hit])
    reasons = (reason_push.fillna("") + np.where(pushed[hit] & unlikely[hit], " and ", "") + reason_prob.fillna(""))
    age_h, inactive_h = age[hit].astype("int64"), inactive[hit].astype("int64")
    parts.append(deal_findings(
        "HY005", d,
        "drop candidate: open " + age_h.astype(str) + " days, no activity for " + inactive_h.astype(str) + " days, " + reasons,
        {"age_days": age_h, "inactive_days": inactive_h, "close_date_pushes": d["close_date_pushes"], "probability": probability[hit]},
    ))

    # HY004 gap-to-quota: one finding per owner with a quota.
    period, start, end = quarter(as_of, fiscal_start)
    in_period = df["close_date"].between(pd.Timestamp(start), pd.Timestamp(end)) & df["owner"].isin(list(quotas))
    amount = df["amount"].fillna(0.0)
    sums = pd.DataFrame({
        "owner": df["owner"],
        "won": amount.where(in_period & is_won, 0.0),
        "weighted": (amount * probability.fillna(0.0) / 100).where(in_period & is_open, 0.0),
        "open_amount": amount.where(in_period & is_open, 0.0),
        "open_deals": (in_period & is_open).astype("int64"),
        "open_with_amount": (in_period & is_open & df["amount"].notna()).astype("int64"),
    })[in_period].groupby("owner").sum()
    q = pd.DataFrame({"quota": pd.Series(quotas, dtype="float64")}).join(sums).fillna(0.0)
    q = q[q["won"] + q["weighted"] < q["quota"]].sort_index()  # the contract's test, on the sums as they are
    q[["won", "weighted", "open_amount"]] = q[["won", "weighted", "open_amount"]].round(2)  # cents, for the report
    q["gap"] = (q["quota"] - q["won"] - q["weighted"]).round(2)
    # Open deals in the period, none with an amount: coverage is unknown, not zero.
    unknown = (q["open_deals"] > 0) & (q["open_with_amount"] == 0)
    q["coverage"] = (q["open_amount"] / (q["quota"] - q["won"])).round(2).where((q["quota"] > q["won"]) & ~unknown)
    q["unknown"] = unknown
    owners = sorted(df["owner"].dropna().unique())
    with_deals = set(owners)
    messages = [
        ("" if r.Index in with_deals else "no deals in this export: ")
        + f"won {r.won:,.0f} + weighted {r.weighted:,.0f} of {period} quota {r.quota:,.0f}: gap {r.gap:,.0f}, coverage "
        + (f"not evaluable (no open deal closing in {period} has an amount)" if r.unknown else "n/a" if pd.isna(r.coverage) else f"{r.coverage:.2f}x")
        + ("" if r.Index in with_deals else did_you_mean(r.Index, owners))
        for r in q.itertuples()
    ]
    details = [
        {"period": period, "period_start": start.isoformat(), "period_end": end.isoformat(), "quota": r.quota, "won": r.won,
         "weighted": r.weighted, "gap": r.gap, "open_amount": r.open_amount, "coverage": None if pd.isna(r.coverage) else r.coverage,
         **({"closest_owners": closest(r.Index, owners)} if r.Index not in with_deals and closest(r.Index, owners) else {})}
        for r in q.itertuples()
    ]
    parts.append(pd.DataFrame({"code": "HY004", "deal_id": None, "owner": q.index, "message": messages, "details": details}))

    findings = pd.concat(parts, ignore_index=True)
    findings["rank"] = findings["code"].map(SEVERITY).map(SEVERITY_RANK)
    return findings.sort_values(["rank", "owner", "deal_id", "code"], na_position="last", kind="stable").drop(columns="rank")


def closest(name: str, owners: list[str]) -> list[str]:
    """For a quota's owner without deals: the export's owners with the closest names (a typo would be a silent full gap)."""
    by_key = {owner.casefold(): owner for owner in owners}
    return [by_key[key] for key in difflib.get_close_matches(name.casefold(), list(by_key), n=3, cutoff=0.6)]


def did_you_mean(name: str, owners: list[str]) -> str:
    names = closest(name, owners)
    return "; the quota's owner matches no owner of the export: closest " + ", ".join(repr(n) for n in names) if names else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The five hygiene rules in plain pandas (benchmark baseline).")
    parser.add_argument("csv", type=Path)
    parser.add_argument("--config", type=Path, required=True, help="the hygiene.toml written by generate_deals.py")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)

    config = tomllib.loads(args.config.read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(args.as_of)
    fiscal_start = config.get("pipeline", {}).get("fiscal_year_start_month", 1)
    df = load(args.csv, config.get("source", {}).get("fields", {}))
    findings = audit(df, as_of, {k: float(v) for k, v in config.get("quotas", {}).items()}, fiscal_start)

    summary = {"deals": len(df), "findings": len(findings), "by_rule": findings["code"].value_counts().sort_index().to_dict()}
    with open(args.output, "w", encoding="utf-8") as out:
        out.write('{"as_of": "%s", "summary": %s, "findings": ' % (as_of.isoformat(), json.dumps(summary)))
        findings.to_json(out, orient="records", force_ascii=False)
        out.write("}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
