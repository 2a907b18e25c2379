"""``[report]`` in the configuration (colour, rows per view), and the scope a narrowed report records."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import tomllib
import tomli_w

from _cli_audit import assert_valid_report, run_audit, run_cli
from hygiene.api.scope import glob_matches

REPOSITORY = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-16"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def sample_config(tmp_path: Path, report: dict | None = None) -> Path:
    """The sample's hygiene.toml, reading the repository's sample export, with a ``[report]`` table."""
    config = tomllib.loads((REPOSITORY / "hygiene.toml").read_text(encoding="utf-8"))
    config["source"]["path"] = str(REPOSITORY / "examples" / "pipeline.csv")
    if report is not None:
        config["report"] = report
    path = tmp_path / "hygiene.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


def test_report_color_always_colours_the_console_and_the_command_line_wins(tmp_path):
    config = sample_config(tmp_path, {"color": "always"})
    coloured = run_audit(config, "--exit-zero", as_of=AS_OF)
    assert coloured.exit_code == 0, coloured.output
    assert ANSI.search(coloured.output)  # NO_COLOR is set: "always" beats it, as --color always does
    plain = run_audit(config, "--exit-zero", "--color", "never", as_of=AS_OF)
    assert plain.exit_code == 0 and not ANSI.search(plain.output)


def test_without_report_color_the_console_follows_no_color(tmp_path):
    result = run_audit(sample_config(tmp_path), "--exit-zero", as_of=AS_OF)
    assert result.exit_code == 0 and not ANSI.search(result.output)


def test_report_rows_per_view_caps_the_page_and_the_command_line_wins(tmp_path):
    config = sample_config(tmp_path, {"rows_per_view": 3})
    page = tmp_path / "report.html"
    assert run_audit(config, "--exit-zero", "--format", f"html:{page}", as_of=AS_OF).exit_code == 0
    assert "Showing the first 3 of" in page.read_text(encoding="utf-8")
    assert run_audit(config, "--exit-zero", "--format", f"html:{page}", "--rows-per-view", "4", as_of=AS_OF).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert "Showing the first 4 of" in text and "Showing the first 3 of" not in text


def test_a_bad_report_table_is_one_line_and_exit_2(tmp_path):
    for table, key in (({"rows_per_view": 0}, "rows_per_view"), ({"color": "sometimes"}, "color"), ({"colour": "auto"}, "colour")):
        result = run_audit(sample_config(tmp_path, table), as_of=AS_OF)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "hygiene.toml" in lines[0] and key in lines[0] and "Traceback" not in result.output


def test_the_json_report_records_the_scope_and_every_header_shows_it(tmp_path):
    config = sample_config(tmp_path)
    output = tmp_path / "report.json"
    args = ("--exit-zero", "--team", "*EMEA*", "--owner", "C*", "--owner", "D*")
    markdown, workbook = tmp_path / "report.md", tmp_path / "report.xlsx"
    result = run_audit(config, *args, "--format", f"json:{output}", "--format", f"markdown:{markdown}", "--format", f"xlsx:{workbook}", "--format", "console", as_of=AS_OF)
    assert result.exit_code == 0, result.output
    report = json.loads(output.read_text(encoding="utf-8"))
    assert_valid_report(report)
    assert report["scope"] == [{"by": "owner", "pattern": "C*"}, {"by": "owner", "pattern": "D*"}, {"by": "team", "pattern": "*EMEA*"}]
    assert "| Only | owner C\\*, owner D\\*, team \\*EMEA\\* |" in markdown.read_text(encoding="utf-8")  # Markdown's emphasis escaped
    assert "only: owner C*, owner D*, team *EMEA*" in result.output
    whole = tmp_path / "whole.json"
    assert run_audit(config, "--exit-zero", "--format", f"json:{whole}", as_of=AS_OF).exit_code == 0
    assert json.loads(whole.read_text(encoding="utf-8"))["scope"] == []


def test_a_digest_records_its_exact_name_as_scope(tmp_path):
    config = sample_config(tmp_path)
    folder = tmp_path / "digests"
    result = run_cli(["digest", "--config", str(config), "--as-of", AS_OF, "--by", "owner", "--format", "html", "--output-dir", str(folder)])
    assert result.exit_code == 0, result.output
    page = next(p for p in sorted(folder.glob("*.html")) if p.name != "index.html").read_text(encoding="utf-8")
    assert '<span class="scope">only owner ' in page


@settings(max_examples=300, deadline=None)
@given(
    pattern=st.text(alphabet=st.sampled_from("ab*?[]!-^\\\\.$( é\\n"), max_size=8),
    names=st.lists(st.text(alphabet=st.sampled_from("ab*?[]!-^\\\\.$( é\\n"), max_size=8), min_size=1, max_size=8),
)
def test_a_glob_matches_in_polars_exactly_as_fnmatch_says(pattern, names):
    """--owner/--team/--manager patterns: the polars expression agrees with fnmatch, special characters included."""
    frame = pl.DataFrame({"owner": names})
    matched = frame.select(glob_matches("owner", [pattern], ignore_case=False)).to_series().to_list()
    assert matched == [fnmatch.fnmatchcase(name, pattern) for name in names]


def test_a_glob_with_a_star_on_each_side_matches_inside_the_name():
    frame = pl.DataFrame({"team": ["North EMEA", "EMEA", "Americas", None]})
    assert frame.select(glob_matches("team", ["*emea*"])).to_series().to_list() == [True, True, False, False]
