"""The built-in sources: how CSV, JSON and JSON Lines exports are read, and how they fail.

Most tests write an export, audit it through the command line and read
the JSON report (validated against its schema): the row numbers in
findings are what a user sees, so that is what these tests pin down.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _cli_audit import audit_error, audit_report, findings_of, sha256_of, source_config, write_config
from hygiene import ROW_COLUMN
from hygiene_plugins.sources.csv_source import CHUNK_BYTES, CsvSource

AS_OF = "2026-03-31"


def write_export(directory: Path, name: str, content: str | bytes) -> Path:
    export = directory / name
    export.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return export


def audit_export(directory: Path, name: str, content: str | bytes, **source_options) -> dict:
    """Audit ``content`` written as ``name``, with ``[source]`` options, and return the JSON report."""
    export = write_export(directory, name, content)
    return audit_report(write_config(directory, source_config(export, **source_options)), as_of=AS_OF)


def export_error(directory: Path, name: str, content: str | bytes, **source_options) -> str:
    """The one-line error for an export that cannot be audited (exit code 2)."""
    export = write_export(directory, name, content)
    return audit_error(write_config(directory, source_config(export, **source_options)))


def invalid_rows(report: dict) -> list[tuple[str, int, str]]:
    return [(f["deal_id"], f["row"], f["details"]["column"]) for f in findings_of(report, "HY900")]


# --- CSV: encodings ---------------------------------------------------------------------


def test_a_utf8_bom_is_not_part_of_the_first_column_name(tmp_path):
    report = audit_export(tmp_path, "bom.csv", "\ufeffid,stage,close_date\nD1,Proposal,\n")

    assert [(f["deal_id"], f["row"]) for f in findings_of(report, "HY002")] == [("D1", 2)]


def test_cp1252_export_reads_with_the_configured_encoding(tmp_path):
    content = "id,name,owner,stage\nD1,Café €5k,Jörg Müller,Proposal\n".encode("cp1252")

    report = audit_export(tmp_path, "latin.csv", content, encoding="cp1252")

    [finding] = findings_of(report, "HY002")
    assert (finding["deal_name"], finding["owner"]) == ("Café €5k", "Jörg Müller")


def test_non_utf8_export_without_an_encoding_names_the_file_and_byte(tmp_path):
    content = "id,owner,stage\nD1,Jörg Müller,Proposal\n".encode("cp1252")

    error = export_error(tmp_path, "latin.csv", content)

    assert "latin.csv: not valid UTF-8 at byte 19" in error
    assert content[19:20] == "ö".encode("cp1252")
    assert 'encoding = "cp1252"' in error


def test_invalid_utf8_offset_is_exact_when_a_character_straddles_two_read_chunks(tmp_path):
    # "é" takes the last byte of the first chunk and the first of the second; 0xFF follows it.
    prefix = b"id,stage\nD1,"
    content = prefix + b"a" * (CHUNK_BYTES - 1 - len(prefix)) + "é".encode() + b"\xff\n"

    error = export_error(tmp_path, "big.csv", content)

    assert f"big.csv: not valid UTF-8 at byte {CHUNK_BYTES + 1}" in error


def test_a_character_cut_off_at_the_end_of_the_file_is_located(tmp_path):
    content = b"id,stage\nD1,Proposal \xc3"

    error = export_error(tmp_path, "cut.csv", content)

    assert f"cut.csv: not valid UTF-8 at byte {content.index(0xC3)}" in error


# --- CSV: delimiters and numbers --------------------------------------------------------


def test_semicolon_export_with_decimal_comma(tmp_path):
    content = (
        "id;owner;stage;amount;close_date\n"
        "D1;Ada;Proposal;1.234,56;2026-03-31\n"
        "D2;Ada;Proposal;1,234.56;2026-03-31\n"  # US form: not a decimal-comma number
        "D3;Ada;Proposal;1.5;2026-03-31\n"  # a lone dot cannot be a thousands separator
    )
    export = write_export(tmp_path, "eu.csv", content)
    config = source_config(export, decimal=",") | {"quotas": {"Ada": 100_000}}

    report = audit_report(write_config(tmp_path, config), as_of=AS_OF)

    [gap] = findings_of(report, "HY004")
    assert gap["details"]["open_amount"] == pytest.approx(1234.56)
    assert invalid_rows(report) == [("D2", 3, "amount"), ("D3", 4, "amount")]


def test_tab_delimiter_is_sniffed(tmp_path):
    report = audit_export(tmp_path, "tabs.tsv", "id\tname\tstage\nD1\tAcme, Inc; EU\tProposal\n")

    assert [f["deal_name"] for f in findings_of(report, "HY002")] == ["Acme, Inc; EU"]


@pytest.mark.parametrize(
    ("delimiter", "content"),
    [
        ("|", "id|name|stage\nD1|Acme, Inc|Proposal\n"),
        # The last column name holds commas: sniffing would split on them.
        (";", "id;stage;name, as shown, in the CRM\nD1;Proposal;Acme, Inc\n"),
    ],
)
def test_explicit_delimiter_overrides_sniffing(tmp_path, delimiter, content):
    fields = {"name": "name, as shown, in the CRM"} if delimiter == ";" else None
    export = write_export(tmp_path, "export.csv", content)
    config = write_config(tmp_path, source_config(export, fields, delimiter=delimiter))

    report = audit_report(config, as_of=AS_OF)

    assert [f["deal_name"] for f in findings_of(report, "HY002")] == ["Acme, Inc"]


# --- CSV: shape of the file -------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf"], ids=["empty", "blank-lines", "bom-only"])
def test_empty_csv_is_an_error(tmp_path, content):
    assert "empty.csv: the file is empty" in export_error(tmp_path, "empty.csv", content)


@pytest.mark.parametrize("content", ["id,stage,close_date\n", "id,stage,close_date"], ids=["newline", "no-newline"])
def test_header_only_csv_audits_no_deals(tmp_path, content):
    export = write_export(tmp_path, "header.csv", content)
    config = write_config(tmp_path, source_config(export))

    report = audit_report(config, as_of=AS_OF, exit_codes=(0,))

    assert (report["summary"]["deals"], report["findings"]) == (0, [])


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_record_spanning_lines_is_numbered_by_the_line_it_starts_on(tmp_path, newline):
    lines = [
        "id,name,stage,amount,close_date",
        'D1,"Notes line one',
        "line two",
        'line three",Proposal,abc,2026-06-30',
        "D2,Plain,Proposal,xyz,2026-06-30",
    ]
    report = audit_export(tmp_path, "multi.csv", newline.join(lines) + newline)

    assert invalid_rows(report) == [("D1", 2, "amount"), ("D2", 5, "amount")]
    assert findings_of(report, "HY900")[0]["deal_name"] == newline.join(["Notes line one", "line two", "line three"])


def test_blank_lines_are_skipped_without_shifting_row_numbers(tmp_path):
    content = "id,stage,amount\n\nD1,Proposal,abc\n,,\n\nD2,Proposal,xyz\n"

    report = audit_export(tmp_path, "gaps.csv", content)

    assert invalid_rows(report) == [("D1", 3, "amount"), ("D2", 6, "amount")]
    assert report["summary"]["deals"] == 2


def test_crlf_line_endings_do_not_leak_into_the_last_column(tmp_path):
    report = audit_export(tmp_path, "crlf.csv", "id,stage,close_date\r\nD1,Proposal,31/12/2026\r\n")

    [finding] = findings_of(report, "HY900")
    assert finding["details"]["value"] == "31/12/2026"


def test_short_rows_are_an_error_like_long_ones(tmp_path):
    # Padding a short row would read its last columns as empty: a shifted or truncated record passes unseen.
    content = "id,stage,close_date\nD1,Proposal\nD2,Proposal,2026-06-30\n"
    assert "short.csv: row 2: 2 fields where the header has 3" in export_error(tmp_path, "short.csv", content)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('id,name,stage\nD1,"Acme, Inc",Proposal\nD2,"Beta ""B"", Ltd"\n', "row 3: 2 fields where the header has 3"),
        ('id,name,stage\r\nD1,"Acme, Inc",Proposal\r\nD2,Beta,Proposal,x\r\n', "row 3: 4 fields where the header has 3"),
        ('id;name;stage\nD1;"A;B";Proposal\nD2\n', "row 3: 1 field where the header has 3"),
        ('id,name,stage\nD1,"Acme\nInc",Proposal\nD2,Beta\n', "row 4: 2 fields where the header has 3"),
    ],
    ids=["quoted-delimiters", "crlf-long", "semicolon-one-field", "multiline-record"],
)
def test_ragged_rows_are_found_past_quoted_delimiters(tmp_path, content, problem):
    assert f"bad.csv: {problem}" in export_error(tmp_path, "bad.csv", content)


def test_rows_of_empty_fields_and_blank_lines_are_not_ragged(tmp_path):
    export = write_export(tmp_path, "ok.csv", 'id,name,stage\nD1,"a,b",Proposal\n,,\n\nD2,,\n')
    assert CsvSource().read(export, options={}, display_name="ok.csv").frame.height >= 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("id,stage\nD1,Proposal\nD2,Proposal,extra\n", "row 3: 3 fields where the header has 2"),
        ('id,stage\nD1,Proposal\nD2,"Proposal\n', "row 3: not readable as CSV"),
        ('id,stage\nD1,"Pro"posal\n', "row 2: not readable as CSV"),
        ("id,stage,amount,stage\nD1,Proposal,1,x\n", "row 1, column 4: the header repeats the column name 'stage'"),
    ],
    ids=["long-row", "unclosed-quote", "text-after-quote", "duplicate-header"],
)
def test_malformed_csv_is_an_error_naming_the_row(tmp_path, content, problem):
    assert f"bad.csv: {problem}" in export_error(tmp_path, "bad.csv", content)


def test_blank_header_cells_are_named_by_position(tmp_path):
    export = write_export(tmp_path, "trailing.csv", "id,stage,,\nD1,Proposal,,\n")

    raw = CsvSource().read(export, options={}, display_name="trailing.csv")

    assert raw.frame.columns == ["id", "stage", "column_3", "column_4"]


# --- JSON and JSON Lines ----------------------------------------------------------------


def test_json_array_records_are_numbered_from_one(tmp_path):
    records = [
        {"id": "D1", "stage": "Proposal", "amount": "abc", "close_date": "2026-06-30"},
        {"id": "D2", "stage": "Proposal", "amount": 12.5, "close_date": None},
    ]
    report = audit_export(tmp_path, "deals.json", json.dumps(records, indent=2))

    assert invalid_rows(report) == [("D1", 1, "amount")]
    assert [(f["deal_id"], f["row"]) for f in findings_of(report, "HY002")] == [("D2", 2)]


def test_json_lines_rows_are_line_numbers(tmp_path):
    content = '{"id": "D1", "stage": "Proposal", "amount": "abc"}\n\n{"id": "D2", "stage": "Proposal", "amount": "x"}\n'

    report = audit_export(tmp_path, "deals.jsonl", content)

    assert invalid_rows(report) == [("D1", 1, "amount"), ("D2", 3, "amount")]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("deals.json", '[\n  {"id": "D1", "stage": "Proposal"},\n  {"id": "D2" "stage": "Proposal"}\n]', "line 3, column 15: invalid JSON"),
        ("deals.jsonl", '{"id": "D1", "stage": "Proposal"}\n{"id": "D2", "stage": Proposal}\n', "line 2, column 23: invalid JSON"),
        ("deals.json", '[{"id": "D1", "stage": "Proposal"}, ["D2", "Proposal"]]', "record 2: expected an object"),
        ("deals.json", '{"id": "D1", "stage": "Proposal"}', "expected a JSON array of objects"),
        ("deals.jsonl", '{"id": "D1", "stage": "Proposal"}\n"D2"\n', "line 2: expected an object"),
        ("deals.json", "", "the file is empty"),
        ("deals.jsonl", "\n\n", "the file is empty"),
    ],
    ids=["json-syntax", "jsonl-syntax", "json-non-object", "json-not-array", "jsonl-non-object", "json-empty", "jsonl-empty"],
)
def test_malformed_json_is_an_error_naming_the_place(tmp_path, name, content, problem):
    assert f"{name}: {problem}" in export_error(tmp_path, name, content)


# --- Every source -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deals.csv", "id,stage,amount\nD1,Proposal,abc\n"),
        ("deals.json", '[{"id": "D1", "stage": "Proposal", "amount": "abc"}]'),
        ("deals.jsonl", '{"id": "D1", "stage": "Proposal", "amount": "abc"}\n'),
    ],
)
def test_an_audit_never_modifies_its_source(tmp_path, name, content):
    export = write_export(tmp_path, name, content)
    export.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # the audit needs read access only
    before = (sha256_of(export), os.stat(export).st_mtime_ns)

    report = audit_report(write_config(tmp_path, source_config(export)), as_of=AS_OF)

    assert report["summary"]["findings"] > 0
    assert (sha256_of(export), os.stat(export).st_mtime_ns) == before


# --- Round trip: whatever Python's csv module writes, the CSV source reads back ---------

column_names = st.lists(
    st.text(st.characters(categories=["L", "N"], include_characters=" _-"), min_size=1, max_size=8).filter(str.strip),
    min_size=2,
    max_size=5,
    unique=True,
)


def line_breaks(text: str) -> int:
    """Line breaks as an editor counts them: \\n, \\r\\n, or a lone \\r."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@st.composite
def tables(draw):
    columns = draw(column_names)
    cells = st.one_of(st.text(max_size=12), st.sampled_from(['"', ",", ";", "\t", "\r\n", "\r", "\n", " ", "", "é€😀"]))
    records = draw(st.lists(st.lists(cells, min_size=len(columns), max_size=len(columns)), max_size=8))
    return columns, records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    table=tables(),
    delimiter=st.sampled_from([",", ";", "\t"]),
    lineterminator=st.sampled_from(["\r\n", "\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
def test_csv_written_by_python_reads_back_unchanged(tmp_path_factory, table, delimiter, lineterminator, quoting):
    columns, records = table
    # Python's writer quotes only the characters of its own line terminator: with "\n" it
    # leaves a lone "\r" bare, which no reader (Python's included) takes as part of a cell.
    assume(not (quoting == csv.QUOTE_MINIMAL and lineterminator == "\n" and any("\r" in c for r in records for c in r)))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator, quoting=quoting)
    writer.writerow(columns)
    writer.writerows(records)
    export = tmp_path_factory.getbasetemp() / "round-trip.csv"
    export.write_bytes(buffer.getvalue().encode("utf-8"))

    raw = CsvSource().read(export, options={}, display_name=export.name)

    # An empty cell reads as null, and a record with only empty cells is a blank line.
    expected_records, expected_rows, line = [], [], 2
    for record in records:
        if any(record):
            expected_records.append({c: v or None for c, v in zip(columns, record, strict=True)})
            expected_rows.append(line)
        line += 1 + sum(line_breaks(cell) for cell in record)
    assert raw.frame.columns == columns
    assert raw.frame.to_dicts() == expected_records
    assert list(raw.rows) == expected_rows


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("id,stage,close_date\nD1,Proposal,2026-06-30\nD2,Proposal\n", "row 3: 2 fields where the header has 3: column 3 ('close_date') and after have no value"),
        ("id,stage\nD1,Proposal\nD2,Proposal,Extra value\n", "row 3: 3 fields where the header has 2: value 'Extra value' (field 3) has no column"),
        ('id,name,stage\nD1,"A, B",Proposal\nD2,"C, D"\n', "row 3: 2 fields where the header has 3: column 3 ('stage') and after have no value"),
        ('id,name,stage\nD1,"A, B",Proposal\nD2,"C, D",Proposal,"E, F"\n', "row 3: 4 fields where the header has 3: value 'E, F' (field 4) has no column"),
    ],
    ids=["short-plain", "long-plain", "short-quoted", "long-quoted"],
)
def test_a_ragged_row_names_the_column_left_empty_or_the_value_without_one(tmp_path, content, problem):
    assert f"bad.csv: {problem}" in export_error(tmp_path, "bad.csv", content)


def test_quoted_delimiters_never_make_a_right_row_ragged(tmp_path):
    # A line with quotes is counted past its quoted delimiters; plain lines by their delimiters alone.
    lines = ["id,name,stage"] + [f'D{i},"Acme, Inc {i}",Proposal' if i % 2 else f"D{i},Plain {i},Proposal" for i in range(50)]
    export = write_export(tmp_path, "ok.csv", "\n".join(lines) + "\n")
    assert CsvSource().read(export, options={}, display_name="ok.csv").lazy.collect().height == 50


def test_a_short_row_is_found_among_rows_whose_last_field_is_empty(tmp_path):
    # The streaming read marks records with an empty last field; only those are counted again, and the
    # full-length ones among them (empty close dates, quoted or not) are fine.
    rows = [f"D{i},Proposal,{'' if i % 3 else '2026-06-30'}" for i in range(1, 40)] + ['D40,Proposal,""', "D41,Proposal", "D42,Proposal,"]
    content = "id,stage,close_date\n" + "\n".join(rows) + "\n"
    assert "short.csv: row 42: 2 fields where the header has 3: column 3 ('close_date') and after have no value" in export_error(tmp_path, "short.csv", content)


def test_the_streaming_read_marks_only_records_with_an_empty_last_field(tmp_path):
    export = write_export(tmp_path, "ok.csv", "id,stage,close_date\nD1,Proposal,2026-06-30\nD2,Proposal,\nD3,Proposal,2026-07-31\n")
    raw = CsvSource().read(export, options={}, display_name="ok.csv")
    marked = raw.lazy.filter(raw.suspect_rows).select(ROW_COLUMN).collect().to_series().to_list()
    assert marked == [3]
    raw.check_rows(marked)  # a full-length record: no error
