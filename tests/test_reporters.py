"""The built-in reporters: the console report, the JSON report and its schema, order and determinism."""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import subprocess
import sys

import jsonschema
import polars as pl
import pytest

from _cli_audit import (
    AUDIT_ENV,
    REPORT_VALIDATOR,
    assert_valid_report,
    audit_report,
    run_audit,
    run_cli,
    source_config,
    write_config,
)
from hygiene.api.models import SEVERITY_RANK
from hygiene.files import shipped_schema
from hygiene.testing import audit_deals
from hygiene_plugins.reporters.console import ConsoleReporter
from hygiene_plugins.reporters.json_report import JsonReporter

AS_OF = "2026-03-31"
ANSI_ESCAPE = "\x1b["

# Default stage table; as of 2026-03-31 (period 2026-Q1), Ada's quota of 50,000 is out of reach.
PIPELINE_CSV = """\
id,name,owner,stage,amount,close_date,stage_entered_date
D3,Gamma,Zoe,Proposal,1000,2026-02-01,2026-03-20
D1,Alpha,Zoe,Negotiation,500,2026-06-30,2026-01-01
D2,Beta,Ada,Proposal,abc,,2026-03-25
D4,Delta,,Qualification,100,,
D5,Epsilon,Ada,Closed Won,100,2026-01-15,
D6,Zeta,Ada,Mystery,10,2026-05-01,2026-03-30
"""
QUOTAS = {"Ada": 50_000}

#: (severity, code, deal) of each finding, under its owner's heading, in report order.
EXPECTED_GROUPS = [
    ("Ada", [("error", "HY002", "D2"), ("error", "HY050", "D2"), ("error", "HY900", "D2"), ("warning", "HY901", "D6"), ("warning", "HY004", "Ada")]),
    ("Zoe", [("error", "HY003", "D3"), ("warning", "HY001", "D1")]),
    ("(no owner)", [("error", "HY002", "D4")]),
]

OWNER_HEADING = re.compile(r"^(?P<owner>\S.*) \((?P<count>\d+) findings?\)$")
FINDING_LINE = re.compile(r"^  (?P<severity>error|warning|info)\s+(?P<code>\S+) (?P<rule>\S+): (?P<subject>[^\s:]+)")


@pytest.fixture
def pipeline_config(tmp_path):
    export = tmp_path / "pipeline.csv"
    export.write_text(PIPELINE_CSV, encoding="utf-8")
    return write_config(tmp_path, source_config(export) | {"quotas": QUOTAS})


@pytest.fixture
def builtins_only(monkeypatch):
    for name, value in AUDIT_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def console_groups(text: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The console report's findings section as (owner, [(severity, code, deal id)])."""
    groups: list[tuple[str, list[tuple[str, str, str]]]] = []
    for line in text.split("\n\nSummary")[0].splitlines():
        if heading := OWNER_HEADING.match(line):
            groups.append((heading["owner"], []))
        elif finding := FINDING_LINE.match(line):
            groups[-1][1].append((finding["severity"], finding["code"], finding["subject"]))
        else:
            assert line == "", f"unexpected line in the findings section: {line!r}"
    return groups


# --- Console ----------------------------------------------------------------------------


def test_console_groups_findings_by_owner_in_alphabetical_order(pipeline_config):
    result = run_audit(pipeline_config, as_of=AS_OF)

    assert result.exit_code == 1
    assert console_groups(result.stdout) == EXPECTED_GROUPS


def test_console_heading_counts_each_owners_findings(pipeline_config):
    headings = [OWNER_HEADING.match(line) for line in run_audit(pipeline_config, as_of=AS_OF).stdout.splitlines()]

    assert [(h["owner"], int(h["count"])) for h in headings if h] == [(owner, len(found)) for owner, found in EXPECTED_GROUPS]


def test_console_summary_counts_rules_severities_deals_and_not_evaluable(pipeline_config):
    summary = run_audit(pipeline_config, as_of=AS_OF).stdout.split("\n\nSummary", 1)[1]

    assert summary.splitlines() == [
        f" ({pipeline_config.parent / 'pipeline.csv'}, as of 2026-03-31, period 2026-Q1)",
        "  deals audited: 6 (5 open)",
        "  open pipeline: 1,610 (5 open deals, 1 without an amount)",
        "  amount at risk: 1,610 (5 open deals with an error or warning, 1 of them without an amount)",
        "  quota: 50,000, won 100, weighted 0, gap 49,900, coverage 0.00x",
        "  win rate: 100.0%",
        "  findings: 8 (5 errors, 3 warnings, 0 infos)",
        "    HY001 stale-stage: 1",
        "    HY002 missing-close-date: 2",
        "    HY003 past-due-close-date: 1",
        "    HY004 gap-to-quota: 1",
        "    HY050 amount-missing: 1",
        "    HY900 invalid-value: 1",
        "    HY901 unknown-stage: 1",
        "  not evaluable by HY001 stale-stage: 1 deal lacks the data",
        "  not evaluable by HY005 ruthless-drop: 5 deals lack the data",
        "  not evaluable by HY010 no-recent-activity: 5 deals lack last_activity_date",
        "  not evaluable by HY011 no-scheduled-activity: 5 deals lack next_activity_date (4), stage (1)",
        "  not evaluable by HY020 next-step-missing: 5 deals lack next_step (4), stage (1)",
        "  not evaluable by HY021 vague-next-step: 5 deals lack next_step",
        "  not evaluable by HY030 commit-in-early-stage: 5 deals lack forecast_category",
        "  not evaluable by HY031 probability-stage-mismatch: 5 deals lack probability (5), stage (1)",
        "  not evaluable by HY032 far-out-close-date: 2 deals lack close_date",
        "  not evaluable by HY033 close-too-soon-for-stage: 3 deals lack close_date (2), stage (1)",
        "  not evaluable by HY040 single-threaded: 1 deal lacks amount",
        "  not evaluable by HY051 amount-outlier: 5 deals lack amount (1), owner (1), peers (3)",
        "  not evaluable by HY053 close-date-clumping: 2 deals lack close_date (2), owner (1)",
        "  not evaluable by HY054 possible-duplicate: 5 deals lack account",
        "  not evaluable by HY060 closed-record-integrity: 5 deals lack probability",
        "  not evaluable by HY061 dates-out-of-order: 5 deals lack created_date",
        "  not evaluable by HY070 owner-inactive: 5 deals lack roster",
        # The change rules need history, which this audit has none of.
        "  not evaluable by HY200 slipped-out-of-period: 5 deals lack the data",
        "  not evaluable by HY201 serial-slippage: 5 deals lack the data",
        "  not evaluable by HY202 big-push: 5 deals lack the data",
        "  not evaluable by HY203 amount-dropped: 5 deals lack the data",
        "  not evaluable by HY204 stage-regressed: 5 deals lack the data",
        "  not evaluable by HY205 no-movement: 5 deals lack the data",
        "  hygiene score: 0.0% of open deals have no error or warning",
        "  by owner:",
        "    owner  score  findings  amount at risk  open  won   quota     gap  coverage",
        "    Zoe     0.0%         2           1,500     2    -       -       -         -",
        "    Ada     0.0%         5              10     2  100  50,000  49,900     0.00x",
        # D2 50 (HY002, HY050, HY900), D3 80 (HY003), D4 80 (HY002), D1 90 (HY001), D6 90 (HY901).
        "  deal health: 78.0 on average (0-100), 5 open deals below 100",
    ]


def test_console_summary_agrees_with_the_json_report(pipeline_config):
    console = run_audit(pipeline_config, as_of=AS_OF).stdout
    summary = audit_report(pipeline_config, as_of=AS_OF)["summary"]

    for code, count in summary["by_rule"].items():
        assert re.search(rf"^    {code} \S+: {count}$", console, re.MULTILINE)
    for code, count in summary["not_evaluable"].items():
        assert bool(re.search(rf"^  not evaluable by {code} \S+: {count} deals? lacks? \S", console, re.MULTILINE)) == (count > 0)


@pytest.mark.parametrize(
    ("environment", "coloured"),
    [({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), ({}, False)],
    ids=["force-color", "no-color-wins", "plain-stream"],
)
def test_console_colour_follows_no_color_and_force_color(pipeline_config, environment, coloured):
    result = run_audit(pipeline_config, as_of=AS_OF, env={"NO_COLOR": None, **environment})

    assert result.exit_code == 1
    assert (ANSI_ESCAPE in result.stdout) is coloured


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)], ids=["terminal", "terminal-no-color"])
def test_console_colours_a_terminal_unless_no_color(builtins_only, monkeypatch, no_color, coloured):
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    report = audit_deals([{"id": "D1", "stage": "Proposal"}], as_of=AS_OF)
    stream = TerminalStream()

    ConsoleReporter().write(report, stream)

    assert (ANSI_ESCAPE in stream.getvalue()) is coloured


def test_console_escapes_control_characters_from_the_export(builtins_only):
    report = audit_deals([{"id": "D1", "name": "Acme\x1b[2J\nFAKE LINE", "owner": "Ann\x07", "stage": "Proposal"}], as_of=AS_OF)
    stream = io.StringIO()

    ConsoleReporter().write(report, stream)

    text = stream.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "Acme\\x1b[2J\\x0aFAKE LINE" in text
    assert text.startswith("Ann\\x07 (")


# --- JSON -------------------------------------------------------------------------------


def test_shipped_schema_is_a_valid_draft_2020_12_schema():
    schema = shipped_schema("report.schema.json")

    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_json_report_matches_its_schema_and_the_report_object(builtins_only):
    report = audit_deals(
        [
            {"id": "D1", "name": "Ünïcode \"quoted\" \\ deal", "owner": "Ada", "stage": "Proposal", "amount": "1e3"},
            {"id": "D2", "owner": "Ada", "stage": "Proposal", "close_date": "31/12/2026"},
        ],
        quotas={"Ada": 10_000, "Bob": 5_000},
        as_of=AS_OF,
    )
    stream = io.StringIO()

    JsonReporter().write(report, stream)

    document = json.loads(stream.getvalue())
    assert_valid_report(document)
    deal_health = report.deal_health().filter(pl.col("health") < 100).to_dicts()
    assert document == {**report.header(), "deal_health": deal_health, "findings": [finding.to_dict() for finding in report.iter_findings()]}
    assert {f["owner"] for f in document["findings"] if f["deal_id"] is None} == {"Ada", "Bob"}
    assert [deal["deal_id"] for deal in document["deal_health"]] == ["D1", "D2"]


def test_json_report_of_an_empty_audit_matches_its_schema(builtins_only):
    stream = io.StringIO()

    JsonReporter().write(audit_deals([], as_of=AS_OF), stream)

    document = json.loads(stream.getvalue())
    assert_valid_report(document)
    assert document["findings"] == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r["findings"][0].pop("fingerprint"),
        lambda r: r["findings"][0].update(severity="fatal"),
        lambda r: r["findings"][0].update(row=0),
        lambda r: r["findings"][0].update(details="{}"),
        lambda r: r["findings"][0].update(extra=True),
        lambda r: r["summary"]["by_severity"].pop("info"),
        lambda r: r["summary"]["by_rule"].update(HY001=-1),
        lambda r: r.update(as_of="31/03/2026"),
        lambda r: r["tool"].update(name="other"),
    ],
    ids=["no-fingerprint", "bad-severity", "row-0", "details-as-text", "unknown-key", "no-info-count", "negative-count", "bad-date", "other-tool"],
)
def test_schema_rejects_a_damaged_report(pipeline_config, damage):
    report = copy.deepcopy(audit_report(pipeline_config, as_of=AS_OF))

    damage(report)

    with pytest.raises(jsonschema.ValidationError):
        REPORT_VALIDATOR.validate(report)


def report_order_key(finding: dict) -> tuple:
    """Severity (most severe first), then owner, deal id and code; missing owners and deal ids last."""
    return (
        SEVERITY_RANK[finding["severity"]],
        finding["owner"] is None,
        finding["owner"] or "",
        finding["deal_id"] is None,
        finding["deal_id"] or "",
        finding["code"],
    )


def test_json_findings_are_ordered_by_severity_owner_deal_and_code(pipeline_config):
    findings = audit_report(pipeline_config, as_of=AS_OF)["findings"]

    assert [(f["severity"], f["owner"], f["deal_id"], f["code"]) for f in findings] == [
        ("error", "Ada", "D2", "HY002"),
        ("error", "Ada", "D2", "HY050"),
        ("error", "Ada", "D2", "HY900"),
        ("error", "Zoe", "D3", "HY003"),
        ("error", None, "D4", "HY002"),
        ("warning", "Ada", "D6", "HY901"),
        ("warning", "Ada", None, "HY004"),
        ("warning", "Zoe", "D1", "HY001"),
    ]
    assert findings == sorted(findings, key=report_order_key)


# --- Determinism ------------------------------------------------------------------------


def generated_pipeline(deals: int, seed: int) -> str:
    """A pipeline with every kind of finding and many ties in the sort keys (repeated ids, missing owners)."""
    rng = random.Random(seed)

    def day() -> str:
        return f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    owners = ["Ada", "Bob", "Chloé", "Dmitri", "Eve", ""]
    stages = ["Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation", "Closed Won", "Closed Lost", "Legacy"]
    lines = ["id,name,owner,stage,amount,probability,created_date,close_date,stage_entered_date,close_date_pushes"]
    for number in range(deals):
        cells = [
            f"D{rng.randrange(deals):05d}",  # ids repeat on purpose
            f"Deal {number}",
            rng.choice(owners),
            rng.choice(stages),
            rng.choice([str(rng.randint(1, 90_000)), f"{rng.random() * 1e5:.2f}", "n/a", ""]),
            rng.choice(["", "15", "150"]),
            day(),
            rng.choice([day(), "", "2026-13-01", "2026-03-15"]),
            rng.choice([day(), ""]),
            rng.choice(["0", "4", "-1", ""]),
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def generated_config(tmp_path):
    export = tmp_path / "generated.csv"
    export.write_text(generated_pipeline(3000, seed=20260331), encoding="utf-8")
    # Zed has a quota and no deals.
    return write_config(tmp_path, source_config(export) | {"quotas": {"Ada": 2e6, "Bob": 1e5, "Zed": 1e4}})


def report_files(directory, config, run) -> tuple[bytes, bytes]:
    """Write the console and JSON reports of one audit with ``run`` and return their bytes."""
    directory.mkdir()
    console, report = directory / "console.txt", directory / "report.json"
    run(["audit", "--config", str(config), "--as-of", AS_OF, "--format", f"console:{console}", "--format", f"json:{report}"])
    assert_valid_report(json.loads(report.read_text(encoding="utf-8")))
    return console.read_bytes(), report.read_bytes()


def in_process(args: list[str]) -> None:
    result = run_cli(args)
    assert result.exit_code == 1, result.output


def in_subprocess(hash_seed: str):
    def run(args: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"} | {k: v for k, v in AUDIT_ENV.items() if v}
        env["PYTHONHASHSEED"] = hash_seed
        command = [sys.executable, "-c", "from hygiene.cli import main; main()", *args]
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 1, completed.stderr

    return run


def test_same_audit_gives_byte_identical_reports(tmp_path, generated_config):
    first = report_files(tmp_path / "first", generated_config, in_process)
    second = report_files(tmp_path / "second", generated_config, in_process)

    assert first == second
    assert first[1].count(b'"code":') > 1000


def test_reports_do_not_depend_on_the_process_or_its_hash_seed(tmp_path, generated_config):
    reference = report_files(tmp_path / "in-process", generated_config, in_process)

    for seed in ("1", "4242"):
        assert report_files(tmp_path / f"seed-{seed}", generated_config, in_subprocess(seed)) == reference
