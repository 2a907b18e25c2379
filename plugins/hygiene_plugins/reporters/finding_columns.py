"""What the CI reporters say about each finding, as polars expressions over ``AuditReport.findings``.

Every CI format names a finding the same way, so a deal flagged in a
JUnit report, a GitHub annotation, a GitLab issue and a Markdown table is
recognisably the same finding.
"""

from __future__ import annotations

import polars as pl

NO_OWNER = "(no owner)"
#: The subject of a finding about neither a deal nor an owner (an unused or expired waiver).
AUDIT_SUBJECT = "(audit)"

#: The deal a finding is about: its id, else its row (``row 7``); null for owner-level findings.
DEAL = pl.coalesce(pl.col("deal_id"), pl.lit("row ") + pl.col("row").cast(pl.String))

#: The deal with its name, when it has one: ``D1 Acme``.
DEAL_WITH_NAME = pl.concat_str(
    DEAL,
    pl.when(pl.col("deal_name").fill_null("") != "").then(pl.lit(" ") + pl.col("deal_name")).otherwise(pl.lit("")),
)

#: What a finding is about: its deal, else its owner (owner-level findings), else the audit.
SUBJECT = pl.coalesce(DEAL, pl.col("owner"), pl.lit(AUDIT_SUBJECT))

#: The deal with its name and owner, ``D1 Acme (owner Ada)``; an owner-level finding is just the owner.
HEADLINE = pl.coalesce(
    pl.concat_str(DEAL_WITH_NAME, pl.when(pl.col("owner").is_not_null()).then(pl.lit(" (owner ") + pl.col("owner") + pl.lit(")")).otherwise(pl.lit(""))),
    pl.col("owner"),
    pl.lit(AUDIT_SUBJECT),
)

#: One line a reader understands without the rest of the report: ``D1 Acme (owner Ada): in Proposal for 95 days``.
DESCRIPTION = pl.concat_str(HEADLINE, pl.lit(": "), pl.col("message"))

#: A finding the baseline already records: reported, but not a regression.
KNOWN = pl.col("baseline_status").eq_missing("known")

#: Error and warning findings fail a check; info findings only inform.
FAILING = pl.col("severity").is_in(["error", "warning"])
