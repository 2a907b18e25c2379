"""``hygiene diff`` of reports of any size: read in slices, paired by a join, errors that say where."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _ci_gate import CLEAN, NO_CLOSE_DATE, PAST_DUE, STALE, deal, one_error_line
from hygiene.api.errors import HygieneError
from hygiene.ci import report_reader
from hygiene.ci.diff import diff_reports, read_report

MANY = [deal(NO_CLOSE_DATE, f"D{i}", name=f"Deal {i}") for i in range(40)]


@pytest.fixture
def small_slices(monkeypatch):
    """Slices of 3 findings and reads of 64 characters: every boundary of the reader is crossed many times."""
    monkeypatch.setattr(report_reader, "SLICE_FINDINGS", 3)
    monkeypatch.setattr(report_reader, "_READ_CHARS", 64)


def test_reports_bigger_than_the_limit_are_diffed_in_slices(tmp_path, report_file, hygiene_cli, small_slices):
    old = report_file("old.json", [STALE, *MANY[:30]])
    new = report_file("new.json", [*MANY[5:], PAST_DUE])
    # Room for each report's header, not for its findings.
    limit = max(len(json.dumps({**json.loads((tmp_path / name).read_text(encoding="utf-8")), "findings": [], "deal_health": []}, indent=2)) for name in (old, new)) + 500
    assert (tmp_path / old).stat().st_size > 2 * limit and (tmp_path / new).stat().st_size > 2 * limit

    diff = diff_reports(read_report(tmp_path / old, old, limit=limit), read_report(tmp_path / new, new, limit=limit))

    found = {name: json.loads((tmp_path / name).read_text(encoding="utf-8"))["findings"] for name in (old, new)}
    old_prints, new_prints = ({f["fingerprint"] for f in found[name]} for name in (old, new))
    found_new = diff.new_findings.select("code", "deal_id").rows()
    assert found_new == [(f["code"], f["deal_id"]) for f in found[new] if f["fingerprint"] not in old_prints]
    assert diff.fixed_findings.select("code", "deal_id").rows() == [(f["code"], f["deal_id"]) for f in found[old] if f["fingerprint"] not in new_prints]
    assert {("HY002", "D35"), ("HY003", "D4")} <= set(found_new) and ("HY001", "D1") in diff.fixed_findings.select("code", "deal_id").rows()
    # The same answer as the command gives with whole reads.
    document = json.loads(hygiene_cli("diff", old, new, "--format", "json", "--fail-on", "never").stdout)
    assert [(f["code"], f["deal_id"]) for f in document["new_findings"]] == found_new
    assert document["summary"] == diff.summary


def test_the_limit_still_bounds_what_is_held_whole(tmp_path, report_file):
    old = report_file("old.json", [STALE, *MANY])
    with pytest.raises(HygieneError) as caught:
        read_report(tmp_path / old, old, limit=200)
    assert str(caught.value).startswith("old.json: not a hygiene JSON report: a value at line ")
    assert str(caught.value).endswith("is larger than 0 MB")


# Pairing is exact for any two sets of findings.

FINGERPRINTS = [f"{i:020x}" for i in range(6)]


def _report_with(template: dict, fingerprints: list[str], severity: str = "warning") -> dict:
    finding = template["findings"][0]
    findings = [{**finding, "fingerprint": fp, "deal_id": f"D-{fp[-1]}", "severity": severity, "row": n + 2} for n, fp in enumerate(fingerprints)]
    return {**template, "findings": findings}


@pytest.fixture
def template(tmp_path, report_file) -> dict:
    return json.loads((tmp_path / report_file("template.json", [STALE])).read_text(encoding="utf-8"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old=st.lists(st.sampled_from(FINGERPRINTS), max_size=12), new=st.lists(st.sampled_from(FINGERPRINTS), max_size=12))
def test_new_fixed_and_paired_partition_both_reports_exactly(tmp_path, template, monkeypatch, old, new):
    monkeypatch.setattr(report_reader, "SLICE_FINDINGS", 2)
    monkeypatch.setattr(report_reader, "_READ_CHARS", 50)
    for name, fingerprints in (("old.json", old), ("new.json", new)):
        (tmp_path / name).write_text(json.dumps(_report_with(template, fingerprints), indent=1), encoding="utf-8")

    diff = diff_reports(read_report(tmp_path / "old.json", "old.json"), read_report(tmp_path / "new.json", "new.json"))

    before, after = Counter(old), Counter(new)
    assert Counter(diff.new_findings.get_column("fingerprint").to_list()) == after - before
    assert Counter(diff.fixed_findings.get_column("fingerprint").to_list()) == before - after
    # New findings are NEW's later occurrences of a fingerprint, in NEW's order; fixed ones OLD's, in OLD's order.
    seen: Counter = Counter()
    expected_new = []
    for position, fp in enumerate(new):
        seen[fp] += 1
        if seen[fp] > before[fp]:
            expected_new.append(position)
    assert diff.new_findings.get_column("index").to_list() == expected_new
    assert diff.fixed_findings.get_column("index").to_list() == sorted(diff.fixed_findings.get_column("index").to_list())
    assert diff.changed_findings.height == 0  # the pairs are the same findings


def test_a_paired_finding_that_changed_severity_is_changed_not_new(tmp_path, template):
    (tmp_path / "old.json").write_text(json.dumps(_report_with(template, FINGERPRINTS[:3])), encoding="utf-8")
    (tmp_path / "new.json").write_text(json.dumps(_report_with(template, FINGERPRINTS[:3], severity="error")), encoding="utf-8")

    diff = diff_reports(read_report(tmp_path / "old.json", "old.json"), read_report(tmp_path / "new.json", "new.json"))

    assert diff.summary == {"new": 0, "fixed": 0, "changed": 3}
    assert [json.loads(c) for c in diff.changed_findings.get_column("changes")] == [{"severity": {"old": "warning", "new": "error"}}] * 3


# A report that is cut off or broken is one line saying where.


def test_a_truncated_report_names_the_finding_it_ends_in(tmp_path, report_file, hygiene_cli):
    new = report_file("new.json", MANY)
    text = (tmp_path / new).read_text(encoding="utf-8")
    cut = text.index('"fingerprint"', text.index('"findings": ['))
    (tmp_path / "cut.json").write_text(text[:cut], encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", "cut.json", new))

    assert line.startswith("cut.json: not a hygiene JSON report: the file ends inside findings[0], at line ")
    assert line.endswith(": truncated")


def test_a_report_cut_between_findings_says_after_which(tmp_path, report_file, hygiene_cli, small_slices):
    new = report_file("new.json", MANY)
    text = (tmp_path / new).read_text(encoding="utf-8")
    findings = text.index('"findings": [')
    second = text.index("\n", text.index("{", findings))
    (tmp_path / "cut.json").write_text(text[:second], encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", "cut.json", new))

    assert line.startswith("cut.json: not a hygiene JSON report: the file ends after findings[0], at line ")


def test_a_malformed_finding_names_the_line_column_and_text(tmp_path, report_file, hygiene_cli, small_slices):
    new = report_file("new.json", MANY)
    lines = (tmp_path / new).read_text(encoding="utf-8").split("\n")
    target = next(n for n, line in enumerate(lines) if '"code":"HY002"' in line) + 3
    column = lines[target].index('"row":') + len('"row":') + 1
    lines[target] = lines[target].replace('"row":', '"row":oops', 1)
    (tmp_path / "bad.json").write_text("\n".join(lines), encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", "bad.json", new))

    assert line == f"bad.json: not a hygiene JSON report: invalid JSON at line {target + 1} column {column}: Expecting value (at {lines[target][column - 1:][:30]!r})"


def test_a_finding_off_the_schema_in_a_later_slice_is_named_by_its_index(tmp_path, report_file, hygiene_cli, small_slices):
    new = report_file("new.json", MANY)
    document = json.loads((tmp_path / new).read_text(encoding="utf-8"))
    document["findings"][7]["row"] = "seven"
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", new, "bad.json"))

    assert line == "bad.json: not a hygiene JSON report: findings[7].row: 'seven' is not of type 'integer', 'null'"


def test_text_after_the_report_is_refused(tmp_path, report_file, hygiene_cli):
    new = report_file("new.json", [STALE])
    Path(tmp_path / "extra.json").write_text((tmp_path / new).read_text(encoding="utf-8") + "{}", encoding="utf-8")

    line = one_error_line(hygiene_cli("diff", "extra.json", new))

    assert line.startswith("extra.json: not a hygiene JSON report: invalid JSON at line ") and line.endswith(": Extra data (at '{}')")


def test_the_diff_json_is_one_finding_per_line_and_decodes_to_the_findings(tmp_path, report_file, hygiene_cli):
    old = report_file("old.json", [CLEAN])
    new = report_file("new.json", [CLEAN, deal(NO_CLOSE_DATE, "D9", name="Évian \u202e")])

    text = hygiene_cli("diff", old, new, "--format", "json").stdout

    report_text = (tmp_path / new).read_text(encoding="utf-8")
    assert json.loads(text)["new_findings"] == json.loads(report_text)["findings"]
    # The very line the report holds, its bidi control escaped.
    line = next(line for line in text.splitlines() if '"D9"' in line)
    assert line in report_text.splitlines() and line.startswith('    {"code":"HY002"') and "\\u202e" in line
