"""How reports name findings and write figures, shared by every reporter, built-in or third-party.

Every format names a finding the same way, so a deal flagged in the
console, a JUnit report, a GitHub annotation, a GitLab issue and a
Markdown table is recognisably the same finding. The expressions run over
:attr:`hygiene.AuditReport.findings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

#: The group of findings (and the table row) of deals without an owner.
NO_OWNER = "(no owner)"
#: The subject of a finding about neither a deal nor an owner (a rule error, an unused or expired waiver).
AUDIT_SUBJECT = "(audit)"


def plural(count: int, noun: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_share(fraction: float) -> str:
    """A fraction from 0 to 1 as a percentage with one decimal: ``0.6218`` -> ``62.2%``."""
    return f"{fraction * 100:.1f}%"


def deal_expr() -> pl.Expr:
    """The deal a finding is about: its id, else its row (``row 7``); null for owner-level findings."""
    import polars as pl

    return pl.coalesce(pl.col("deal_id"), pl.lit("row ") + pl.col("row").cast(pl.String))


def deal_with_name_expr() -> pl.Expr:
    """The deal with its name, when it has one: ``D1 Acme``."""
    import polars as pl

    name = pl.when(pl.col("deal_name").fill_null("") != "").then(pl.lit(" ") + pl.col("deal_name")).otherwise(pl.lit(""))
    return pl.concat_str(deal_expr(), name)


def subject_expr() -> pl.Expr:
    """What a finding is about: its deal, else its owner (owner-level findings), else the audit."""
    import polars as pl

    return pl.coalesce(deal_expr(), pl.col("owner"), pl.lit(AUDIT_SUBJECT))


def headline_expr() -> pl.Expr:
    """The deal with its name and owner, ``D1 Acme (owner Ada)``; an owner-level finding is just the owner."""
    import polars as pl

    owner = pl.when(pl.col("owner").is_not_null()).then(pl.lit(" (owner ") + pl.col("owner") + pl.lit(")")).otherwise(pl.lit(""))
    return pl.coalesce(pl.concat_str(deal_with_name_expr(), owner), pl.col("owner"), pl.lit(AUDIT_SUBJECT))


def description_expr() -> pl.Expr:
    """One line a reader understands without the rest of the report: ``D1 Acme (owner Ada): in Proposal for 95 days``."""
    import polars as pl

    return pl.concat_str(headline_expr(), pl.lit(": "), pl.col("message"))


def known_expr() -> pl.Expr:
    """A finding the baseline already records: reported, but not a regression."""
    import polars as pl

    return pl.col("baseline_status").eq_missing("known")


def failing_expr() -> pl.Expr:
    """Error and warning findings fail a check; info findings only inform."""
    import polars as pl

    return pl.col("severity").is_in(["error", "warning"])


def since_previous_run(report) -> str | None:
    """The header figures' change since the previous recorded run, in one line of plain text (None without one).

    ``since the previous run (2026-11-09): score 38.7% (-1.4 pts from 40.1%),
    open pipeline 12,402,000 (+245,400 from 12,156,600), ...``. A figure
    either run could not compute is left out, never shown as a change from
    or to zero. The caller escapes the line for its output.
    """
    history = report.history_figures
    previous = history.previous if history is not None else None
    if not previous:
        return None
    figures = report.figures()

    def money(value: float) -> str:
        return f"{value:,.0f}"

    def points(value: float) -> str:
        return f"{value * 100:.1f} pts"

    parts = []
    for label, current, key, render, render_change in (
        ("score", figures.score.value, "score", format_share, points),
        ("open pipeline", figures.open_amount.value, "open_amount", money, money),
        ("amount at risk", figures.amount_at_risk.value, "amount_at_risk", money, money),
        ("findings", report.findings.height, "findings", lambda v: f"{v:,}", lambda v: f"{v:,}"),
    ):
        before = previous.get(key)
        if current is None or not isinstance(before, (int, float)):
            continue
        change = current - before
        if round(change, 6) == 0:
            parts.append(f"{label} {render(current)} (no change)")
        else:
            parts.append(f"{label} {render(current)} ({'+' if change > 0 else '-'}{render_change(abs(change))} from {render(before)})")
    if not parts:
        return None
    return f"since the previous run ({previous.get('as_of', '?')}): " + ", ".join(parts)
