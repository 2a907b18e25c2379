"""The ``hygiene`` command: exit codes, errors, sources, outputs, and the documentation commands.

Most tests run the command in-process through click's CliRunner
(``hygiene_cli``); those marked "console script" run the installed
``hygiene`` executable, as a user or CI does.
"""

from __future__ import annotations

import json
import os
import stat

import jsonschema
import pytest

from hygiene.files import shipped_schema

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

HEADER = ["Id", "Owner", "Stage", "Close Date", "Stage Entered Date"]
#: Eleven days in Proposal, closing next quarter: nothing to say.
CLEAN_DEAL = ["D1", "Ada Lovelace", "Proposal", "2026-06-30", "2026-03-20"]
#: 89 days in Proposal (limit 30): a warning.
STALE_DEAL = ["D2", "Grace Hopper", "Proposal", "2026-06-30", "2026-01-01"]
#: Open without a close date: an error.
UNDATED_DEAL = ["D3", "Alan Turing", "Negotiation", "", "2026-03-20"]

EXPORTS = {
    "clean": [HEADER, CLEAN_DEAL],
    "warning": [HEADER, CLEAN_DEAL, STALE_DEAL],
    "error": [HEADER, CLEAN_DEAL, UNDATED_DEAL],
}


def assert_valid_report(text: str) -> dict:
    report = json.loads(text)
    jsonschema.validate(report, shipped_schema("report.schema.json"))
    return report


def temporary_files(folder) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.endswith(".tmp")]


# Exit codes.


@pytest.mark.parametrize(
    ("export", "fail_on", "exit_code"),
    [
        ("clean", "info", 0),
        ("warning", "error", 0),
        ("warning", "warning", 1),
        ("warning", "info", 1),
        ("warning", "never", 0),
        ("error", "error", 1),
        ("error", "info", 1),
        ("error", "never", 0),
    ],
)
def test_the_exit_code_says_whether_a_finding_reaches_fail_on(write_csv, hygiene_cli, export, fail_on, exit_code):
    write_csv(EXPORTS[export])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--fail-on", fail_on)
    assert result.exit_code == exit_code, result.output


@pytest.mark.parametrize(("export", "exit_code"), [("clean", 0), ("error", 1)])
def test_console_script_exit_codes(write_csv, run_hygiene, export, exit_code):
    write_csv(EXPORTS[export])
    completed = run_hygiene("audit", "deals.csv", "--as-of", AS_OF)
    assert completed.returncode == exit_code, completed.stderr
    assert "Summary (deals.csv, as of 2026-03-31, period 2026-Q1)" in completed.stdout


def test_console_script_unusable_input_is_one_line_and_exit_2(run_hygiene):
    completed = run_hygiene("audit", "missing.csv", "--as-of", AS_OF)
    assert (completed.returncode, completed.stdout, completed.stderr) == (2, "", "hygiene: error: missing.csv: no such file\n")


@pytest.mark.parametrize("args", [("--debug", "audit"), ("audit", "--debug")])
def test_console_script_debug_shows_the_traceback_and_keeps_exit_2(run_hygiene, args):
    completed = run_hygiene(*args, "missing.csv", "--as-of", AS_OF)
    assert completed.returncode == 2
    assert completed.stderr.startswith("Traceback (most recent call last):")
    assert completed.stderr.rstrip().endswith("SourceError: missing.csv: no such file")


@pytest.mark.parametrize(("args", "env"), [(("--debug",), {}), ((), {"HYGIENE_DEBUG": "1"})])
def test_debug_shows_the_traceback_in_process(hygiene_cli, args, env):
    assert "Traceback" not in hygiene_cli("audit", "missing.csv", "--as-of", AS_OF).output
    result = hygiene_cli("audit", "missing.csv", "--as-of", AS_OF, *args, env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "SourceError: missing.csv: no such file" in result.stderr


@pytest.mark.parametrize("as_of", ["2026-02-30", "31/03/2026", "yesterday", ""])
def test_as_of_must_be_a_real_iso_date(write_csv, hygiene_cli, as_of):
    write_csv(EXPORTS["clean"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", as_of)
    assert result.exit_code == 2
    assert f"Invalid value for --as-of: '{as_of}' is not a date in YYYY-MM-DD form" in result.stderr
    assert "Traceback" not in result.output


# Where the deals come from.


def test_source_argument_overrides_the_configured_path(tmp_path, write_csv, hygiene_cli):
    (tmp_path / "hygiene.toml").write_text('[source]\npath = "configured.csv"\n', encoding="utf-8")
    write_csv(EXPORTS["error"], name="configured.csv")
    write_csv(EXPORTS["clean"], name="given.csv")
    given = hygiene_cli("audit", "given.csv", "--as-of", AS_OF, "--format", "json")
    assert (given.exit_code, assert_valid_report(given.stdout)["source"]) == (0, "given.csv")
    configured = hygiene_cli("audit", "--as-of", AS_OF, "--format", "json")
    assert (configured.exit_code, assert_valid_report(configured.stdout)["source"]) == (1, "configured.csv")


def test_a_configured_path_is_relative_to_the_config_file(tmp_path, write_csv, hygiene_cli):
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "hygiene.toml").write_text('[source]\npath = "deals.csv"\n', encoding="utf-8")
    write_csv(EXPORTS["error"], name="team/deals.csv")
    result = hygiene_cli("audit", "--config", "team/hygiene.toml", "--as-of", AS_OF)
    assert result.exit_code == 1
    assert "D3" in result.stdout


def test_a_source_without_any_config_is_audited_with_the_defaults(write_csv, hygiene_cli):
    write_csv(EXPORTS["warning"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--fail-on", "warning")
    report = assert_valid_report(result.stdout)
    assert result.exit_code == 1
    assert [(f["code"], f["deal_id"], f["message"]) for f in report["findings"]] == [
        ("HY001", "D2", "in Proposal for 89 days (limit 30)")
    ]
    assert report["summary"]["deals"] == 2


def test_no_source_and_no_config_is_explained(hygiene_cli):
    result = hygiene_cli("audit", "--as-of", AS_OF)
    assert (result.exit_code, result.stderr) == (
        2,
        "hygiene: error: no hygiene.toml found: no source: pass an export (hygiene audit EXPORT) or set [source] path\n",
    )


# Where the report goes.


def test_output_writes_the_report_to_a_file_readable_like_any_new_file(tmp_path, write_csv, hygiene_cli):
    write_csv(EXPORTS["error"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "reports/audit.json")
    report_file = tmp_path / "reports" / "audit.json"
    assert (result.exit_code, result.stdout) == (1, "")
    assert [f["deal_id"] for f in assert_valid_report(report_file.read_text(encoding="utf-8"))["findings"]] == ["D3"]
    assert temporary_files(report_file.parent) == []
    plain = tmp_path / "reports" / "plain.txt"
    plain.write_text("", encoding="utf-8")
    assert stat.S_IMODE(report_file.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_an_existing_report_is_replaced_only_by_a_finished_one(tmp_path, write_csv, hygiene_cli):
    report_file = tmp_path / "audit.json"
    report_file.write_text("last week's report", encoding="utf-8")
    os.chmod(report_file, 0o640)
    failed = hygiene_cli("audit", "missing.csv", "--as-of", AS_OF, "--format", "json", "--output", "audit.json")
    assert failed.exit_code == 2
    assert report_file.read_text(encoding="utf-8") == "last week's report"
    write_csv(EXPORTS["clean"])
    done = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "audit.json")
    assert done.exit_code == 0
    assert assert_valid_report(report_file.read_text(encoding="utf-8"))["findings"] == []
    assert stat.S_IMODE(report_file.stat().st_mode) == 0o640
    assert temporary_files(tmp_path) == []


def test_a_reporter_that_fails_midway_leaves_the_previous_report_and_no_temporary_file(
    tmp_path, write_csv, hygiene_cli, make_plugin, installed
):
    installed(
        make_plugin(
            "half-reporter",
            "half_reporter",
            """
            from hygiene import Reporter, hookimpl

            class HalfReporter(Reporter):
                name = "half"

                def write(self, report, stream):
                    stream.write("the first half")
                    raise RuntimeError("disk quota exceeded")

            @hookimpl
            def hygiene_register_reporters():
                return [HalfReporter]
            """,
        )
    )
    (tmp_path / "audit.txt").write_text("last week's report", encoding="utf-8")
    write_csv(EXPORTS["clean"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "half:audit.txt")
    assert result.exit_code == 2
    assert "disk quota exceeded" in result.stderr
    assert (tmp_path / "audit.txt").read_text(encoding="utf-8") == "last week's report"
    assert temporary_files(tmp_path) == []


def test_several_formats_each_go_to_their_own_file(tmp_path, write_csv, hygiene_cli):
    write_csv(EXPORTS["error"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:out/audit.json", "--format", "console:out/audit.txt")
    assert (result.exit_code, result.stdout) == (1, "")
    assert assert_valid_report((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))["summary"]["findings"] == 1
    assert "HY002 missing-close-date: D3" in (tmp_path / "out" / "audit.txt").read_text(encoding="utf-8")


def test_one_format_may_go_to_stdout_beside_files(tmp_path, write_csv, hygiene_cli):
    write_csv(EXPORTS["error"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "console", "--format", "json:audit.json")
    assert "HY002 missing-close-date: D3" in result.stdout
    assert assert_valid_report((tmp_path / "audit.json").read_text(encoding="utf-8"))["summary"]["deals"] == 2


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("--format", "json", "--format", "console"), "--format: json, console would all write to standard output; give all but one a path (NAME:PATH)"),
        (
            ("--format", "json", "--format", "console", "--output", "audit.json"),
            "--output: give exactly one --format without a path to write to it, or use --format NAME:PATH",
        ),
        (("--format", "json:"), "--format: 'json:' has an empty path"),
    ],
)
def test_formats_that_would_share_one_output_are_refused(tmp_path, write_csv, hygiene_cli, args, line):
    write_csv(EXPORTS["clean"])
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"hygiene: error: {line}\n")
    assert not (tmp_path / "audit.json").exists()


# The documentation commands.


def test_rules_lists_code_name_severity_plugin_group_and_summary(hygiene_cli):
    result = hygiene_cli("rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CODE", "NAME", "SEVERITY", "PLUGIN", "GROUP", "SUMMARY"]
    listed = {line.split()[0]: line.split()[1:4] for line in lines[1:]}
    assert listed["HY001"] == ["stale-stage", "warning", "builtin-rules"]
    assert listed["HY004"] == ["gap-to-quota", "warning", "builtin-rules"]
    assert listed["HY900"] == ["invalid-value", "error", "builtin-rules"]
    assert "Open deal has no close date" in result.stdout
    group_at = lines[0].index("GROUP")
    groups = {line.split()[0]: line[group_at:].split("  ")[0] for line in lines[1:]}
    assert (groups["HY001"], groups["HY020"], groups["HY040"], groups["HY054"]) == ("activity", "next steps", "buying team", "data quality")


@pytest.mark.parametrize("group", ["forecast", "Forecast"])
def test_rules_filters_by_group(hygiene_cli, group):
    result = hygiene_cli("rules", "--group", group)

    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["HY002", "HY003", "HY004", "HY030", "HY031", "HY032", "HY033"]


def test_rules_filters_by_several_groups_written_with_hyphens(hygiene_cli):
    result = hygiene_cli("rules", "--group", "next-steps,buying-team")

    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["HY020", "HY021", "HY040"]


def test_rules_names_the_groups_when_one_is_unknown(hygiene_cli):
    result = hygiene_cli("rules", "--group", "forecasts")

    assert result.exit_code == 2
    assert result.stderr.startswith("hygiene: error: --group: 'forecasts' is not a rule group (groups: activity, buying team, configuration, data quality, forecast,")


@pytest.mark.parametrize("rule", ["stale-stage", "HY001", "hy001"])
def test_explain_shows_why_example_fix_and_the_options_with_defaults(hygiene_cli, rule):
    result = hygiene_cli("explain", rule)
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("HY001 stale-stage (warning, from plugin builtin-rules)")
    assert text.index("**Why**") < text.index("**Example**") < text.index("**Fix**")
    assert "  max_days: integer (default: 30)" in text


def test_explain_an_unknown_rule_exits_2(hygiene_cli):
    result = hygiene_cli("explain", "HY999X")
    assert (result.exit_code, result.stderr) == (2, "hygiene: error: unknown rule 'HY999X' (`hygiene rules` lists them)\n")


def test_help_lists_the_commands(hygiene_cli):
    result = hygiene_cli("--help")
    assert result.exit_code == 0
    for command in ("audit", "rules", "explain", "plugins", "init"):
        assert f"  {command} " in result.stdout


def test_console_script_help(run_hygiene):
    completed = run_hygiene("--help")
    assert completed.returncode == 0
    assert completed.stdout.startswith("Usage: hygiene [OPTIONS] COMMAND [ARGS]...")
