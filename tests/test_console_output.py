"""What a sales manager reads in a terminal: the console report's figures and tables, colour, progress, explain."""

from __future__ import annotations

import io
import re
import threading

import pytest

from hygiene import ReporterSettings
from hygiene.commands.progress import CLEAR_LINE, slow_load_notice
from hygiene.commands.terminal_text import render_for_terminal
from hygiene.testing import audit_deals
from hygiene_plugins.reporters.console import ConsoleReporter

AS_OF = "2026-03-31"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    """A stream that says it is a terminal, and signals its first write."""

    def __init__(self) -> None:
        super().__init__()
        self.written = threading.Event()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.set()
        return super().write(text)


def deal(id, owner="Ada", **fields):
    return {"id": id, "name": f"Deal {id}", "owner": owner, "stage": "Proposal", "amount": 1000, "close_date": "2026-04-15", "stage_entered_date": "2026-03-20", **fields}


def console(report, colour="never", stream=None) -> str:
    reporter = ConsoleReporter()
    reporter.settings = ReporterSettings(colour=colour)
    stream = stream or io.StringIO()
    reporter.write(report, stream)
    return stream.getvalue()


def test_each_deal_line_carries_its_amount_and_an_owner_finding_names_the_owner():
    report = audit_deals([deal("D1", close_date="2026-03-01", amount=12345.6), deal("D2", amount=None, close_date=None)], rules=["HY002", "HY003", "HY004"], quotas={"Ada": 50000}, as_of=AS_OF)
    text = console(report)
    assert "  error   HY003 past-due-close-date: D1 Deal D1 (12,346): close date 2026-03-01 is 30 days past due [row 2]\n" in text
    assert "  error   HY002 missing-close-date: D2 Deal D2 (no amount): " in text
    assert "  warning HY004 gap-to-quota: Ada: won 0 + weighted" in text
    assert "(owner)" not in text


def test_an_unreadable_cell_names_its_row_once():
    report = audit_deals([deal("D1", close_date="31/03/2026")], rules=["HY900"], as_of=AS_OF)
    line = next(line for line in console(report).splitlines() if "HY900" in line)
    assert line.count("row 2") == 1 and "[row" not in line


def test_score_tables_per_owner_and_team_are_aligned_and_worst_first():
    deals = [deal("A1", team="EMEA"), deal("B1", "Bo", team="US", close_date="2026-03-01"), deal("B2", "Bo", team="US"), deal("C1", "Cyrille", team="US", close_date="2026-03-02")]
    text = console(audit_deals(deals, rules=["HY003"], as_of=AS_OF))
    table = text[text.index("  by owner:") :].splitlines()
    # One table per level: score, findings, amount at risk and open deals (no [quotas]: no quota columns).
    assert table[:5] == [
        "  by owner:",
        "    owner     score  findings  amount at risk  open",
        "    Cyrille    0.0%         1           1,000     1",
        "    Bo        50.0%         1           1,000     2",
        "    Ada      100.0%         0               0     1",
    ]
    assert table[5:9] == [
        "  by team:",
        "    team   score  findings  amount at risk  open",
        "    US     33.3%         2           2,000     3",
        "    EMEA  100.0%         0               0     1",
    ]
    assert text.count("  by owner:") == 1 and text.count("  by team:") == 1  # one table per level, not two


def test_with_quotas_the_level_table_adds_won_quota_gap_and_coverage_and_says_why_coverage_is_not_evaluable():
    deals = [deal("A1", amount=None, close_date="2026-03-31"), deal("B1", "Bo", close_date="2026-03-30", amount=4000.0)]
    text = console(audit_deals(deals, rules=["HY003"], quotas={"Ada": 10000, "Bo": 8000}, as_of=AS_OF))
    table = text[text.index("  by owner:") :].splitlines()
    assert table[1].split() == ["owner", "score", "findings", "amount", "at", "risk", "open", "won", "quota", "gap", "coverage"]
    rows = {line.split()[0]: line.split() for line in table[2:4]}
    assert rows["Bo"][-1] == "0.50x"  # 4,000 open closing in the period / 8,000 left to win
    assert rows["Ada"][-1] == "n/e"  # never 0.00x: the open deal has no amount
    assert "      coverage not evaluable for Ada: no open deal closing in the period has an amount" in table


def test_a_figure_that_cannot_be_computed_is_not_evaluable_with_the_reason_never_zero():
    report = audit_deals([deal("D1", amount=None, close_date="2026-03-31")], rules=["HY004"], quotas={"Ada": 10000}, as_of=AS_OF)
    text = console(report)
    assert "coverage not evaluable (no open deal closing in the period has an amount)" in text
    assert "win rate: not evaluable (no closed deal)" in text
    assert "open pipeline: not evaluable (no open deal has an amount) (1 open deal, 1 without an amount)" in text
    # The rule's own message says the same.
    assert "coverage not evaluable (no open deal closing in 2026-Q1 has an amount)" in text
    assert "0.00x" not in text


@pytest.mark.parametrize(
    ("colour", "environment", "terminal", "coloured"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_color_option_then_no_color_and_force_color(monkeypatch, colour, environment, terminal, coloured):
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    report = audit_deals([deal("D1", close_date="2026-03-01")], rules=["HY003"], as_of=AS_OF)
    text = console(report, colour=colour, stream=Terminal() if terminal else io.StringIO())
    assert bool(ANSI.search(text)) is coloured


def test_the_color_option_reaches_the_console_report(hygiene_cli, make_deals):
    export = make_deals([deal("D1", close_date="2026-03-01")])
    assert "\x1b[" in hygiene_cli("audit", export, "--as-of", AS_OF, "--color", "always").stdout
    assert "\x1b[" not in hygiene_cli("audit", export, "--as-of", AS_OF, "--color", "never", env={"FORCE_COLOR": "1"}).stdout


def test_progress_is_shown_on_a_terminal_and_erased_when_the_load_ends():
    stream = Terminal()
    with slow_load_notice("big.csv", stream=stream, after=0, refresh=3600):
        # The notice thread writes at once (after=0): wait for that write, not for a time.
        assert stream.written.wait(timeout=30)
    text = stream.getvalue()
    assert text.startswith(f"{CLEAR_LINE}hygiene: auditing big.csv... ")
    assert text.endswith(CLEAR_LINE)


def test_progress_is_never_written_to_a_log_or_a_pipe():
    stream = io.StringIO()
    with slow_load_notice("big.csv", stream=stream, after=0):
        pass
    assert stream.getvalue() == ""


def test_a_fast_load_shows_nothing_on_a_terminal():
    stream = Terminal()
    with slow_load_notice("small.csv", stream=stream, after=3600):
        pass
    assert stream.getvalue() == ""


def test_explain_renders_headings_emphasis_and_code_for_a_terminal():
    text = "Intro.\n\n**Why**\n\nThe ``max_days`` of a *stage*.\n\n**Fix** Move it::\n\n    is_open AND x > 1\n"
    rendered = render_for_terminal(text)
    plain = ANSI.sub("", rendered)
    assert "**" not in plain and "``" not in plain and "*stage*" not in plain
    assert plain == "Intro.\n\nWhy\n\nThe max_days of a stage.\n\nFix\nMove it:\n\n    is_open AND x > 1\n"
    assert "\x1b[1m\x1b[4mWhy\x1b[0m" in rendered and "\x1b[36mmax_days\x1b[0m" in rendered and "\x1b[3mstage\x1b[0m" in rendered


def test_explain_prints_markdown_when_piped_and_renders_it_with_color_always(hygiene_cli):
    piped = hygiene_cli("explain", "stale-stage").stdout
    assert "**Why**" in piped
    rendered = hygiene_cli("explain", "stale-stage", "--color", "always").stdout
    assert "**Why**" not in rendered and "``" not in rendered and "\x1b[1m\x1b[4mWhy" in rendered


def test_the_segment_table_is_shown_when_the_deals_have_segments_and_left_out_when_they_have_none():
    with_segments = audit_deals(
        [deal("D1", segment="SMB", close_date="2026-03-01"), deal("D2", segment="Enterprise"), deal("D3", owner="Bo", segment="SMB", close_date="2026-03-02")],
        rules=["HY003"],
        as_of=AS_OF,
    )
    text = console(with_segments)
    table = text[text.index("  by segment:\n") :]
    rows = [line.split() for line in table.splitlines()[2:4]]
    # Worst score first: both SMB deals are past due, the Enterprise deal is clean.
    assert [row[:3] for row in rows] == [["SMB", "0.0%", "2"], ["Enterprise", "100.0%", "0"]]
    without = console(audit_deals([deal("D1", close_date="2026-03-01")], rules=["HY003"], as_of=AS_OF))
    assert "by segment" not in without and "by owner:" in without
