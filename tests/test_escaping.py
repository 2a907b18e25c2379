"""One corpus of hostile strings through every registered reporter: what each output kind must never carry raw.

The reporters come from the registry, so a reporter added later (HTML, XLSX, a digest) is covered
by this file as soon as it is registered: its output kind is looked up in ``OUTPUT_KINDS`` and an
unknown one gets the checks every text output passes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import polars as pl
import pytest
from click.testing import CliRunner

from hygiene import CONTROL_CHARACTERS, html_text, json_text, log_text, markdown_cell, spreadsheet_cell, terminal_text, xml_text
from hygiene.cli import cli
from hygiene.plugin.registry import load_registry
from hygiene.testing import audit_deals

AS_OF = "2026-03-31"
REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
APEX_FUZZ_OPPORTUNITIES = REAL_DATA / "salesforce_apex_recipes_fuzz" / "Opportunities.csv"

C0 = [chr(code) for code in range(0x20)]
C1 = [chr(code) for code in range(0x80, 0xA0)]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
SEPARATORS = ["\u2028", "\u2029"]

#: The hostile strings: each goes into a deal's id, name, owner and message.
CORPUS = [
    "\x1b[31mred\x1b[0m",
    "bell\x07 nul\x00 vt\x0b ff\x0c bs\x08 del\x7f",
    "csi\x9b31m nel\x85 c1\x80\x9f",
    "bidi \u202eexe.doct\u202c \u2066iso\u2069 \u202a\u202b\u202d",
    "line\u2028separator\u2029paragraph",
    "ok\nFORGED line\rFORGED too",
    "<script>alert(1)</script>",
    "</style><b>bold</b></textarea>",
    "javascript:alert(1)",
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=tab first",
    "\r=cr first",
    "emoji 🎉 family 👩\u200d👩\u200d👧",
    "zalgo Z\u0337\u0327\u031ba\u0336l\u0335g\u0338o\u0335",
    "long " + "x" * 5_000,
    "quotes \" ' ` & ; | * _ [x](y) @octocat",
]
#: Raw in no output kind, whatever it keeps (tab, CR and LF are each kind's own business).
NEVER_RAW = [char for char in [*C0, "\x7f", *C1] if char not in "\t\n\r"]

#: Output kind of each reporter; a reporter not listed is held to the checks of any text output.
OUTPUT_KINDS = {
    "console": "terminal",
    "json": "json",
    "gitlab": "json",
    "chat": "json",
    "junit": "xml",
    "markdown": "markdown",
    "csv": "csv",
    "github": "log",
    "html": "html",
    "xlsx": "xlsx",
}


def registered_reporters() -> dict[str, type]:
    return {name: entry.cls for name, entry in load_registry(strict=False).reporters.items()}


def hostile_report():
    """A report whose every text column, the source and the baseline file name are hostile."""
    deals = [{"id": f"D{i}", "owner": f"O{i}", "stage": "Proposal", "amount": i} for i in range(len(CORPUS))]
    report = audit_deals(deals, rules=["HY002"], as_of=AS_OF)
    n = report.findings.height
    texts = [CORPUS[i % len(CORPUS)] for i in range(n)]
    findings = report.findings.with_columns(
        pl.Series("deal_id", [f"{t[:40]}#{i}" for i, t in enumerate(texts)]),
        pl.Series("deal_name", texts),
        pl.Series("owner", texts[::-1]),
        pl.Series("message", texts),
        pl.Series("details", [json.dumps({"note": t}, ensure_ascii=False) for t in texts]),
        pl.Series("baseline_status", ["new" if i % 2 else "known" for i in range(n)]),
    )
    fixed = [{"fingerprint": "f" * 20, "code": "HY002", "deal_id": CORPUS[0], "owner": CORPUS[3], "count": 1}]
    return attrs.evolve(report, findings=findings, source="exports/\x1b[31m\u202edeals\x9b.csv", baseline_file="base\x1b]0;t\x07\u202e.json", fixed=fixed)


def render(reporter: type, report) -> str | bytes:
    buffer = io.BytesIO()
    if reporter.binary:  # a workbook: written to a binary stream, as the atomic writer gives it
        reporter().write(report, buffer)
        return buffer.getvalue()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    reporter().write(report, stream)
    stream.flush()
    data = buffer.getvalue()
    return data if data.startswith(b"PK") else data.decode("utf-8")


def check_text(kind: str, text: str) -> None:
    """What output ``kind`` must never carry raw, and that it is still well formed."""
    raw = [char for char in NEVER_RAW if char in text]
    assert not raw, f"{kind}: raw control characters {raw!r}"
    if kind != "csv":  # a spreadsheet cell keeps right-to-left text as the export has it
        raw = [char for char in [*BIDI, *SEPARATORS] if char in text]
        assert not raw, f"{kind}: raw bidi controls or separators {raw!r}"
    check = {"terminal": check_terminal, "json": check_json, "xml": check_xml, "markdown": check_markdown, "csv": check_csv, "log": check_log, "html": check_html}
    check.get(kind, lambda text: None)(text)


def check_terminal(text: str) -> None:
    assert "\r" not in text and "\t" not in text
    assert not [line for line in text.splitlines() if line.startswith("FORGED")], "a newline in the data forged a line"


def check_json(text: str) -> None:
    json.loads(text)  # valid JSON, always


def check_xml(text: str) -> None:
    root = ET.fromstring(text.encode("utf-8"))
    tags = {element.tag for element in root.iter()}
    assert tags <= {"testsuites", "testsuite", "properties", "property", "testcase", "failure", "skipped", "system-out", "system-err"}
    assert "<script>" not in text and "</style>" not in text


def check_markdown(text: str) -> None:
    assert "<script" not in text and "</style" not in text and "</textarea" not in text
    assert "@octocat" not in text, "a mention would notify"
    for line in text.splitlines():
        assert not line.startswith("FORGED")


def check_csv(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def check_log(text: str) -> None:
    for line in text.splitlines():
        assert line.startswith(("::", "hygiene: ")), f"a forged log line: {line[:80]!r}"


def check_html(text: str) -> None:
    assert "<script>alert(1)</script>" not in text
    assert "</style><b>" not in text and "</textarea>" not in text
    assert not re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", text, re.I), "a javascript: URL from the data"


def check_xlsx(data: bytes) -> None:
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed: the xlsx report's cells cannot be read back")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    assert not [char for char in NEVER_RAW if char in value], value
                    assert not value.startswith(("=", "+", "-", "@")), value
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"a formula cell: {cell.value!r}"


def check_output(name: str, output: str | bytes) -> None:
    kind = OUTPUT_KINDS.get(name, "text")
    if isinstance(output, bytes):
        assert kind == "xlsx", f"{name} wrote binary output of unknown kind"
        check_xlsx(output)
    else:
        check_text(kind, output)


@pytest.mark.parametrize("name", sorted(registered_reporters()))
def test_every_reporter_escapes_the_hostile_corpus(name, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    output = render(registered_reporters()[name], hostile_report())
    assert output, f"{name} wrote nothing"
    check_output(name, output)
    if name == "json":
        findings = json.loads(output)["findings"]
        assert [f["deal_name"] for f in findings] == hostile_report().findings["deal_name"].to_list(), "JSON escapes lose nothing"
    if OUTPUT_KINDS.get(name) == "terminal":
        assert "\\x1b[31m" in output, "controls are shown, not dropped"


def test_the_corpus_reaches_the_console_through_the_command_line(tmp_path, monkeypatch):
    """The source path and the data, as a user's terminal receives them."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "deals\x1b[31m\u202e.csv"
    rows = [["id", "name", "owner", "stage"]] + [[f"D{i}", text, text, "Proposal"] for i, text in enumerate(CORPUS)]
    with source.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(rows)
    result = CliRunner().invoke(cli, ["audit", str(source), "--as-of", AS_OF, "--select", "HY002"])
    assert result.exit_code == 1, result.output
    check_text("terminal", result.stdout)
    assert "deals\\x1b[31m\\u202e.csv" in result.stdout


def test_errors_quoting_a_file_name_are_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["audit", str(tmp_path / "missing\x1b[2J\u202e.csv")])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "\\x1b[2J\\u202e" in result.stderr and result.stderr.count("\n") == 1


def test_the_columns_an_error_quotes_from_a_file_are_capped_and_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    passwd = tmp_path / "passwd.csv"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash-and-a-long-tail\x1b[31m," + ",".join(f"c{i}" for i in range(50)) + "\n" + ",".join(["x"] * 51) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["audit", str(passwd)])
    assert result.exit_code == 2
    line = result.stderr
    assert "root:x:0:0:root:/root:/b" not in line, "a column name is cut"
    assert "\x1b" not in line
    assert "'c10'" in line and "'c11'" not in line and "(51 in all)" in line


@pytest.mark.realdata
def test_the_real_hostile_export_through_every_reporter(tmp_path, monkeypatch):
    if not APEX_FUZZ_OPPORTUNITIES.is_file():
        pytest.skip(f"real CRM exports not found at {APEX_FUZZ_OPPORTUNITIES}: they live beside the repository in shared/data/real/")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    fields = {"id": "name", "name": "description", "owner": "accountId", "amount": "amount", "stage": "StageName", "close_date": "closedate"}
    config = tmp_path / "hygiene.toml"
    config.write_text(
        f"[source]\npath = {json.dumps(str(APEX_FUZZ_OPPORTUNITIES))}\n[source.fields]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items()),
        encoding="utf-8",
    )
    for name in sorted(registered_reporters()):
        target = tmp_path / f"report-{name}"
        args = ["audit", "--config", str(config), "--as-of", "2021-12-31", "--format", name]
        if name not in ("console", "github"):
            args += ["--output", str(target)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code in (0, 1), (name, result.output)
        output = target.read_bytes() if target.exists() else result.stdout.encode("utf-8")
        check_output(name, output if output.startswith(b"PK") else output.decode("utf-8"))


# --- The policy, function by function ---------------------------------------------------


@pytest.mark.parametrize("text", CORPUS)
def test_each_policy_leaves_no_control_character_raw(text):
    for escaped in (terminal_text(text), log_text(text), html_text(text), markdown_cell(text, 10_000)):
        assert not [char for char in CONTROL_CHARACTERS - {"\n", "\r", "\t"} if char in escaped]
    assert not [char for char in NEVER_RAW if char in spreadsheet_cell(text) or char in xml_text(text)]


def test_terminal_text_shows_every_control_character():
    assert terminal_text("a\x1bb\x9bc\u202ed\u2028e\nf\tg") == "a\\x1bb\\x9bc\\u202ed\\u2028e\\x0af\\x09g"


def test_spreadsheet_cells_keep_line_breaks_and_neutralise_formulas():
    assert spreadsheet_cell("=1+1") == "'=1+1"
    assert spreadsheet_cell("two\nlines\x1b") == "two\nlines\\x1b"
    assert spreadsheet_cell("a=b") == "a=b"


def test_html_text_escapes_markup_and_quotes():
    assert html_text("<a href=\"x\" onclick='y'>&\x9b</a>") == "&lt;a href=&quot;x&quot; onclick=&#x27;y&#x27;&gt;&amp;\\x9b&lt;/a&gt;"


def test_xml_text_replaces_what_xml_forbids_and_shows_the_rest():
    assert xml_text("a\x00b\ud800c\x85d\u202e") == "a\ufffdb\ufffdc\\x85d\\u202e"


def test_json_text_writes_unsafe_characters_as_escapes_and_decodes_to_the_same_value():
    value = {"name": "a\x85b\u2028c\u202ed\x7f\ud800"}
    encoded = json_text(json.dumps(value, ensure_ascii=False))
    assert not [char for char in "\x85\u2028\u202e\x7f\ud800" if char in encoded]
    assert json.loads(encoded) == value


def test_the_rules_listing_escapes_what_a_configuration_says(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hygiene.toml").write_text(
        '[[custom_rules]]\ncode = "ACME001"\nname = "evil"\nsummary = "looks \\u001b[2J fine \\u202e"\nwhere = "amount > 1"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["rules"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
    assert "looks \\x1b[2J fine \\u202e" in result.stdout


def test_explain_escapes_a_custom_rules_condition_line_by_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hygiene.toml").write_text(
        '[[custom_rules]]\ncode = "ACME001"\nname = "evil"\nsummary = "Evil"\nwhere = "name = \'\\u001b]0;owned\\u0007\'"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["explain", "ACME001"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "name = '\\x1b]0;owned\\x07'" in result.stdout
    assert result.stdout.count("\n") > 5, "the documentation keeps its lines"


def test_init_escapes_the_column_names_it_quotes(tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIENE_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.csv").write_text("Opportunity ID,Stage,Owner\x1b[31m\u202e\nD1,Proposal,Ada\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", "export.csv"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout
