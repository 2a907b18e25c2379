"""Hostile inputs: each is one line naming the file (and the row, key or value), exit code 2, never "internal error".

Exports, configurations and values that are not what they claim to be:
JSON nested thousands deep, integers of thousands of digits, lone
surrogates, UTF-16, FIFOs and endless devices, date formats that cannot
read a date, dates outside any pipeline's years, NaN and infinity.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"

DEEP = 5000


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "internal error" not in lines[0], lines[0]
    return lines[0]


def audit(hygiene_cli, export: str, *extra):
    return hygiene_cli("audit", export, "--as-of", AS_OF, "--format", "json", *extra)


# Exports.


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("deep.json", "[" * DEEP + "]" * DEEP, "hygiene: error: deep.json: the file: arrays or objects nested too deeply to be deal records"),
        ("digits.json", '[{"id": "D1", "amount": ' + "9" * DEEP + "}]", "hygiene: error: digits.json: the file: an integer with thousands of digits, not a deal value"),
        ("deep.jsonl", '{"id": "D1"}\n' + '{"x": ' + "[" * DEEP + "]" * DEEP + "}\n", "hygiene: error: deep.jsonl: line 2: arrays or objects nested too deeply to be deal records"),
        ("digits.jsonl", '{"id": "D1", "amount": ' + "1" * DEEP + "}\n", "hygiene: error: digits.jsonl: line 1: an integer with thousands of digits, not a deal value"),
        (
            "surrogate.jsonl",
            '{"id": "D1", "stage": "Proposal"}\n{"id": "D2", "name": "Acme \\ud800"}\n',
            "hygiene: error: surrogate.jsonl: line 2, key 'name': 'Acme \\\\ud800' holds a lone surrogate (U+D800), not a character",
        ),
        ("empty.jsonl", "{}\n{}\n", "hygiene: error: empty.jsonl: every record is an empty object; expected deal objects with at least an id"),
        ("empty.json", "[{}, {}]", "hygiene: error: empty.json: every record is an empty object; expected deal objects with at least an id"),
    ],
    ids=["json-deep", "json-digits", "jsonl-deep", "jsonl-digits", "jsonl-surrogate", "jsonl-empty-objects", "json-empty-objects"],
)
def test_a_hostile_json_export_is_one_line(tmp_path, hygiene_cli, name, content, expected):
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = audit(hygiene_cli, name)
    assert result.exit_code == 2
    assert one_line(result) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("name", ["deals.csv", "deals.json"])
def test_utf16_and_utf32_exports_are_named_as_such(tmp_path, hygiene_cli, name, encoding):
    text = "id,stage\nD1,Proposal\n" if name.endswith(".csv") else '[{"id": "D1", "stage": "Proposal"}]'
    bom = {"utf-16": b"", "utf-16-be": b"\xfe\xff", "utf-32": b""}[encoding]
    (tmp_path / name).write_bytes(bom + text.encode(encoding))
    result = audit(hygiene_cli, name)
    assert result.exit_code == 2
    family = "UTF-32" if "32" in encoding else "UTF-16"
    assert one_line(result).startswith(f"hygiene: error: {name}: the file is {family} (it starts with a {family} byte-order mark)")


def test_a_utf16_csv_reads_with_its_encoding_set(tmp_path, hygiene_cli):
    (tmp_path / "deals.csv").write_bytes("id,stage,close_date\nD1,Proposal,\n".encode("utf-16"))
    (tmp_path / "hygiene.toml").write_text('[source]\nencoding = "utf-16"\n', encoding="utf-8")
    result = audit(hygiene_cli, "deals.csv")
    assert result.exit_code == 1, result.output
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["HY002"]


def test_a_source_that_is_a_fifo_is_refused_without_blocking(tmp_path, hygiene_cli):
    os.mkfifo(tmp_path / "deals.csv")
    result = audit(hygiene_cli, "deals.csv")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: deals.csv: not a regular file (a FIFO, a device or a socket); give the path of an export"


# Configurations.


def test_a_configuration_that_is_a_fifo_does_not_hang(tmp_path, run_hygiene):
    os.mkfifo(tmp_path / "hygiene.toml")
    # In a process of its own: were the FIFO opened, the run would block until a writer came (the fixture's timeout ends it).
    result = run_hygiene("rules", "-c", "hygiene.toml")
    assert result.returncode == 2
    assert result.stderr.strip() == "hygiene: error: hygiene.toml: not a regular file (a FIFO); give the path of a file"


def test_a_configuration_that_is_an_endless_device_is_refused(tmp_path, hygiene_cli):
    zero = tmp_path / "zero"
    try:
        os.mknod(zero, stat.S_IFCHR | 0o666, os.stat("/dev/zero").st_rdev)
    except PermissionError:
        zero = "/dev/zero"  # the real one: refused before it is opened, so nothing is read from it
    result = hygiene_cli("rules", "-c", str(zero))
    assert result.exit_code == 2
    assert one_line(result) == f"hygiene: error: {zero}: not a regular file (a device); give the path of a file"


def test_a_toml_integer_of_thousands_of_digits_is_one_line(tmp_path, hygiene_cli):
    (tmp_path / "hygiene.toml").write_text("max_findings = " + "9" * DEEP + "\n", encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: hygiene.toml: invalid TOML: an integer with thousands of digits"


def test_toml_nested_thousands_deep_is_one_line(tmp_path, hygiene_cli):
    (tmp_path / "hygiene.toml").write_text("x = " + "[" * DEEP + "]" * DEEP + "\n", encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: hygiene.toml: invalid TOML: arrays or tables nested too deeply to be a configuration"


@pytest.mark.parametrize(
    ("date_format", "problem"),
    [
        ("%Y-%m-%d %H", "not a format polars can read: Invalid format string: Please either specify both hour and minute, or neither."),
        ("%s", "%s reads a Unix timestamp, not a date written as text; write the export's dates with %Y, %m and %d"),
        ("%H:%M", "cannot read a date: it has no a year (%Y or %y) and no a month (%m, %b or %B) and no a day (%d or %e)"),
        ("%m/%Y", "cannot read a date: it has no a day (%d or %e)"),
    ],
    ids=["hour-without-minute", "epoch", "time-only", "no-day"],
)
def test_a_date_format_that_cannot_read_dates_is_refused_at_load(tmp_path, hygiene_cli, date_format, problem):
    (tmp_path / "hygiene.toml").write_text(f'[source]\ndate_format = "{date_format}"\n', encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert one_line(result) == f"hygiene: error: hygiene.toml: source.date_format: {date_format!r}: {problem}"


@pytest.mark.parametrize("date_format", ["%d/%m/%Y", "%Y-%m-%dT%H:%M:%S%z", "%F", "%Y%j", "%b %d, %Y", "%d.%m.%y"])
def test_date_formats_that_read_dates_are_accepted(tmp_path, hygiene_cli, date_format):
    (tmp_path / "hygiene.toml").write_text(f'[source]\ndate_format = "{date_format}"\n', encoding="utf-8")
    assert hygiene_cli("rules").exit_code == 0


# Values that are not values.


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ('[quotas]\n"Ada" = nan\n', "quotas.Ada"),
        ('[quotas]\n"Ada" = inf\n', "quotas.Ada"),
        ("[rules.ruthless-drop]\nmax_probability = nan\n", "rules.ruthless-drop.max_probability"),
        ("[[pipeline.stages]]\nname = \"Open\"\nprobability = -inf\n", "pipeline.stages[0].probability"),
    ],
    ids=["quota-nan", "quota-inf", "rule-option-nan", "stage-probability-inf"],
)
def test_non_finite_numbers_in_the_configuration_are_refused(tmp_path, hygiene_cli, config, key):
    (tmp_path / "hygiene.toml").write_text(config, encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith(f"hygiene: error: hygiene.toml: {key}: ") and "is not a number (use a finite value)" in line


DATES = "id,stage,close_date,stage_entered_date\nD1,Proposal,{close},2026-03-01\n"


@pytest.mark.parametrize(
    ("close", "invalid"),
    [("0000-01-01", True), ("1899-12-31", True), ("1900-01-01", False), ("2200-12-31", False), ("2201-01-01", True), ("9999-12-31", True)],
)
def test_dates_outside_the_window_are_invalid_values(tmp_path, hygiene_cli, close, invalid):
    (tmp_path / "deals.csv").write_text(DATES.format(close=close), encoding="utf-8")
    result = audit(hygiene_cli, "deals.csv")
    report = json.loads(result.stdout)
    codes = [f["code"] for f in report["findings"]]
    assert ("HY900" in codes) is invalid, codes
    if invalid:
        [finding] = [f for f in report["findings"] if f["code"] == "HY900"]
        assert finding["details"]["expected"] == "a date from the year 1900 to 2200 ([source] date_window)"
        assert finding["details"]["value"] == close
        assert "days past due" not in " ".join(f["message"] for f in report["findings"])


def test_the_date_window_is_configurable(tmp_path, hygiene_cli):
    (tmp_path / "deals.csv").write_text(DATES.format(close="1850-06-30"), encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text("[source]\ndate_window = [1800, 2100]\n", encoding="utf-8")
    report = json.loads(audit(hygiene_cli, "deals.csv").stdout)
    assert "HY900" not in [f["code"] for f in report["findings"]]


def test_a_backwards_date_window_is_refused(tmp_path, hygiene_cli):
    (tmp_path / "hygiene.toml").write_text("[source]\ndate_window = [2200, 1900]\n", encoding="utf-8")
    result = hygiene_cli("rules")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: hygiene.toml: source.date_window: [2200, 1900]: the first year must not be after the last"


def test_a_row_at_a_time_rule_survives_a_year_zero_date(tmp_path, hygiene_cli):
    (tmp_path / "deals.csv").write_text(DATES.format(close="0000-01-01"), encoding="utf-8")
    result = audit(hygiene_cli, "deals.csv")
    report = json.loads(result.stdout)
    assert result.exit_code == 1  # a finding, not a rule error (exit code 2)
    assert "HY999" not in [f["code"] for f in report["findings"]]


@pytest.mark.parametrize(
    ("content", "problem"),
    [("[" * DEEP + "]" * DEEP, "nested too deeply (arrays or objects inside each other thousands of levels deep)"), ("9" * DEEP, "an integer with thousands of digits")],
    ids=["deep", "digits"],
)
def test_a_hostile_json_report_given_to_diff_is_one_line(tmp_path, hygiene_cli, content, problem):
    (tmp_path / "old.json").write_text(content, encoding="utf-8")
    result = hygiene_cli("diff", "old.json", "old.json")
    assert result.exit_code == 2
    line = one_line(result)
    assert line.startswith("hygiene: error: old.json: not a ") and line.endswith(f": {problem}")


# The hostile corpus against every reporter: whatever the export, each reporter either writes or the run says why in one line.

FUZZ_EXPORT = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "salesforce_apex_recipes_fuzz" / "Opportunities.csv"

HOSTILE_EXPORTS = {
    "year-zero.csv": DATES.format(close="0000-01-01"),
    "far-future.csv": DATES.format(close="99999-01-01"),
    "short-row.csv": "id,stage,close_date\nD1,Proposal\n",
    "nan-amount.csv": "id,stage,amount,close_date\nD1,Proposal,nan,2026-06-30\nD2,Proposal,inf,2026-06-30\nD3,Proposal,1e400,\n",
    "deep.json": "[" * DEEP + "]" * DEEP,
    "surrogate.jsonl": '{"id": "D1", "name": "\\ud800"}\n',
    "empty.jsonl": "{}\n",
    "controls.csv": "id,name,owner,stage,close_date\nD1,\x1b[31mred\x07,\u202eevil,Proposal,\n",
}


def _hostile_exports(tmp_path) -> list[Path]:
    paths = []
    for name, content in HOSTILE_EXPORTS.items():
        (tmp_path / name).write_text(content, encoding="utf-8", errors="surrogatepass")
        paths.append(tmp_path / name)
    return paths


def test_every_reporter_survives_the_hostile_corpus(tmp_path, hygiene_cli):
    from hygiene.commands.session import load_session

    reporters = sorted(load_session(None).registry.reporters)
    exports = [(export, ()) for export in _hostile_exports(tmp_path)]
    if FUZZ_EXPORT.is_file():
        exports.append((FUZZ_EXPORT, ("-c", _fuzz_config(tmp_path))))
    for export, config in exports:
        formats = [arg for name in reporters for arg in ("--format", f"{name}:out/{export.stem}.{name}")]
        result = hygiene_cli("audit", str(export), "--as-of", AS_OF, *config, *formats)
        assert result.exit_code in (0, 1, 2), (export.name, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.output, (export.name, result.output)
        if result.exit_code == 2:
            assert len(result.stderr.strip().splitlines()) == 1, (export.name, result.stderr)
            continue
        report = json.loads((tmp_path / "out" / f"{export.stem}.json").read_text(encoding="utf-8"))
        assert report["summary"]["deals"] >= 1, export.name
        for name in reporters:
            path = tmp_path / "out" / f"{export.stem}.{name}"
            if zipfile.is_zipfile(path):  # a workbook: every part of it
                with zipfile.ZipFile(path) as workbook:
                    text = "".join(workbook.read(part).decode("utf-8") for part in workbook.namelist())
            else:
                text = path.read_text(encoding="utf-8")
            assert "NaN" not in text and "Infinity" not in text, (export.name, name)


def _fuzz_config(tmp_path) -> Path:
    # The export has no id column: deal names stand in (repeats are HY902 findings, which is the point of a fuzz file).
    config = tmp_path / "fuzz.toml"
    config.write_text('[source.fields]\nid = "name"\nstage = "StageName"\nclose_date = "closedate"\n', encoding="utf-8")
    return config


def test_the_fuzz_export_is_audited(tmp_path, hygiene_cli):
    if not FUZZ_EXPORT.is_file():
        pytest.skip(f"the public fuzz export is not at {FUZZ_EXPORT}: it lives beside the repository in shared/data/real/")
    result = hygiene_cli("audit", str(FUZZ_EXPORT), "--as-of", AS_OF, "-c", _fuzz_config(tmp_path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["summary"]["deals"] >= 1
