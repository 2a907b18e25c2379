"""Gates: when an audit fails, as a CI job sets it, and the exit code that gives.

Exit codes: 0 when every gate passes (or with ``exit_zero``), 1 when a gate
fails, 2 when a rule raised (``rule-error``, HY999). ``exit_zero`` does not
hide rule errors: an audit a rule could not finish is incomplete, so a gate
built on it means nothing (ruff's ``--exit-zero`` likewise still exits 2 on
an internal error).

The gates (``hygiene.toml`` keys of the same names, or the command line's
options, which beat them):

- ``fail_on``: findings at or above this severity are *counted*, except
  those the baseline knows (``never`` counts none);
- ``max_findings``: the audit fails when more than this many findings are
  counted (0 by default: any counted finding fails);
- ``min_score``: a percentage from 0 to 100; the audit fails when the
  overall hygiene score is below it (an audit without open deals has no
  score, and passes);
- ``strict_baseline``: the audit fails while the baseline lists findings
  that are no longer found, so the baseline can only shrink.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from hygiene.api.errors import ConfigError
from hygiene.api.models import severities_at_or_above
from hygiene.api.presentation import plural
from hygiene.ci.baseline import DEFAULT_BASELINE

if TYPE_CHECKING:
    from hygiene.api.report import AuditReport
    from hygiene.config.settings import Config

FAIL_ON_DEFAULT = "error"
#: New findings a failure line names before "and N more".
NAMED_NEW_FINDINGS = 5


def parse_min_score(text: str) -> Decimal:
    """A ``--min-score`` value: a percentage from 0 to 100, with or without ``%``.

    A value between 0 and 1 (``0.8``) is refused: it is almost certainly a
    fraction meant as a percentage, and would make a gate that never fails.
    """
    number = text.strip().removesuffix("%").strip()
    try:
        value = Decimal(number)
    except decimal.InvalidOperation:
        raise ValueError(f"{text!r} is not a number; give a percentage from 0 to 100, e.g. 80") from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise ValueError(f"{text!r} is not a percentage from 0 to 100")
    if 0 < value < 1 and not text.strip().endswith("%"):
        raise ValueError(f"{text!r} looks like a fraction; give a percentage from 0 to 100 (80 for 80%), or write {text.strip()}% if you mean it")
    return value


def format_percentage(value: Decimal) -> str:
    return f"{value.normalize():f}%"


@attrs.define(frozen=True, kw_only=True)
class Gates:
    """The gates of one audit; see the module documentation."""

    fail_on: str = FAIL_ON_DEFAULT
    max_findings: int = 0
    min_score: Decimal | None = None
    strict_baseline: bool = False
    exit_zero: bool = False

    @classmethod
    def from_config(cls, config: Config, **command_line) -> Gates:
        """The configuration's gates, with what the command line gave (not None) beating them."""
        min_score = None
        if config.min_score is not None:
            try:
                min_score = parse_min_score(config.min_score)
            except ValueError as exc:
                raise ConfigError(f"{config.file or 'configuration'}: min_score: {exc}") from None
        settings = {
            "fail_on": config.fail_on,
            "max_findings": config.max_findings,
            "min_score": min_score,
            "strict_baseline": config.strict_baseline,
        }
        settings.update({key: value for key, value in command_line.items() if value is not None})
        return cls(**settings)

    def failures(self, report: AuditReport) -> list[str]:
        """One line per gate the report fails, empty when it passes them all."""
        failures = []
        counted = report.counted_findings(self.fail_on)
        if counted > self.max_findings:
            line = f"{plural(counted, 'new finding' if report.baseline_file is not None else 'finding')} at or above {self.fail_on} (fail_on)"
            if self.max_findings:
                line += f", more than --max-findings {self.max_findings}"
            if report.baseline_file is not None:
                line += new_findings_named(report, self.fail_on)
            failures.append(line)
        overall = report.score()["overall"]
        if self.min_score is not None and overall is not None:
            # The score is a fraction rounded to four decimals; as a decimal, 0.5714 is exactly 57.14%.
            percentage = Decimal(repr(overall)) * 100
            if percentage < self.min_score:
                failures.append(f"hygiene score {format_percentage(percentage)} is below --min-score {format_percentage(self.min_score)}")
        # Without a baseline there is nothing to be strict about (a configuration's strict_baseline applies to CI runs).
        if self.strict_baseline and report.fixed:
            fixed = sum(entry["count"] for entry in report.fixed)
            prune = "hygiene baseline --prune" + ("" if report.baseline_file == DEFAULT_BASELINE else f" --output {report.baseline_file}")
            failures.append(
                f"--strict-baseline: {report.baseline_file} still lists {plural(fixed, 'fixed finding')}; remove {'it' if fixed == 1 else 'them'} with `{prune}`"
            )
        return failures

    def exit_code(self, report: AuditReport) -> int:
        if report.rule_errors:
            return 2
        if self.exit_zero:
            return 0
        return 1 if self.failures(report) else 0


def new_findings_named(report: AuditReport, fail_on: str) -> str:
    """``: HY003 D1, HY002 D7 and 3 more`` for the new findings that count, and how to adopt a rule the baseline lacks."""
    import polars as pl

    counted = report.findings.filter(
        pl.col("severity").is_in(severities_at_or_above(fail_on)) & (pl.col("baseline_status").fill_null("new") != "known")
    )
    subject = pl.coalesce(pl.col("deal_id"), pl.col("owner"), pl.lit("(audit)"))
    named = counted.head(NAMED_NEW_FINDINGS).select(pl.concat_str(pl.col("code"), pl.lit(" "), subject)).to_series().to_list()
    text = ": " + ", ".join(named) + (f" and {counted.height - len(named)} more" if counted.height > len(named) else "")
    unadopted = [code for code in report.unadopted_rules if code in set(counted["code"].to_list())]
    if unadopted:
        from_unadopted = counted.filter(pl.col("code").is_in(unadopted)).height
        add = " ".join(f"--add {code}" for code in unadopted)
        text += (
            f"; {from_unadopted} of them from rules the baseline does not cover ({', '.join(unadopted)}): "
            f"fix them, or adopt them as known with `hygiene baseline {add}`"
        )
    return text
