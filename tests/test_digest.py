"""``hygiene digest``: one private file per owner, team or manager, an index, safe names; and --owner/--team filters."""

from __future__ import annotations

import json

import pytest

from hygiene.commands.digest import file_stem

AS_OF = "2026-03-31"


def deal(id, owner, team, **fields):
    return {"id": id, "name": f"Deal {id}", "owner": owner, "team": team, "stage": "Proposal", "amount": 1000, "close_date": "2026-03-01", **fields}


DEALS = [
    deal("ADA-1", "Ada", "EMEA"),
    deal("ADA-2", "Ada", "EMEA", close_date="2026-05-01"),
    deal("BOB-1", "Bob", "EMEA"),
    deal("EVE-1", "../../etc/evil", "US"),
    deal("ADA-LOUD", "ADA", "US"),
    deal("NOBODY-1", None, None),
]


@pytest.fixture
def export(make_deals):
    return make_deals(DEALS)


def test_one_digest_per_owner_holds_only_that_owners_deals(export, hygiene_cli, tmp_path):
    out = tmp_path / "digests"
    result = hygiene_cli("digest", export, "--as-of", AS_OF, "--by", "owner", "--output-dir", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote 4 owner digests and index.md to {out}\n"
    files = {path.name: path.read_text(encoding="utf-8") for path in out.iterdir()}
    ada = files[file_stem("Ada") + ".md"]
    assert "ADA-1" in ada and "BOB-1" not in ada and "EVE-1" not in ada and "ADA-LOUD" not in ada and "NOBODY-1" not in ada
    loud = files[file_stem("ADA") + ".md"]
    assert "ADA-LOUD" in loud and "ADA-1" not in loud
    index = files["index.md"]
    for owner in ("Ada", "ADA", "Bob"):
        assert f"]({file_stem(owner)}.md)" in index
    assert "1 deals have no owner and are in no digest." in index


def test_digest_file_names_are_safe_and_distinct():
    assert file_stem("../../etc/evil").startswith("etc-evil-")
    assert "/" not in file_stem("a/b") and not file_stem(".hidden").startswith(".")
    assert file_stem("Ada") != file_stem("ADA")
    assert file_stem("Zoë Ångström").startswith("zoe-angstrom-")
    assert file_stem("日本").startswith("unnamed-")


def test_digests_by_team_in_html_each_with_its_own_deals(export, hygiene_cli, tmp_path):
    out = tmp_path / "teams"
    result = hygiene_cli("digest", export, "--as-of", AS_OF, "--by", "team", "--format", "html", "--output-dir", out)
    assert result.exit_code == 0, result.output
    emea = (out / (file_stem("EMEA") + ".html")).read_text(encoding="utf-8")
    assert "ADA-1" in emea and "BOB-1" in emea and "EVE-1" not in emea
    index = (out / "index.html").read_text(encoding="utf-8")
    assert f'<a href="{file_stem("US")}.html">US</a>' in index


def test_digest_by_manager_without_a_manager_column_exits_2_with_one_line(export, hygiene_cli, tmp_path):
    result = hygiene_cli("digest", export, "--as-of", AS_OF, "--by", "manager", "--output-dir", tmp_path / "m")
    assert result.exit_code == 2
    assert result.stderr == "hygiene: error: --by manager: the export has no manager column (or it is empty everywhere); map one in [source.fields] or use --by owner\n"


def test_a_manager_column_of_the_export_groups_deals(make_deals, hygiene_cli, tmp_path):
    export = make_deals([{**deal("A1", "Ada", "EMEA"), "manager": "Grace"}, {**deal("B1", "Bob", "EMEA"), "manager": "Linus"}])
    out = tmp_path / "managers"
    assert hygiene_cli("digest", export, "--as-of", AS_OF, "--by", "manager", "--output-dir", out).exit_code == 0
    grace = (out / (file_stem("Grace") + ".md")).read_text(encoding="utf-8")
    assert "A1" in grace and "B1" not in grace


def test_owner_and_team_filters_narrow_every_report(export, hygiene_cli):
    report = json.loads(hygiene_cli("audit", export, "--as-of", AS_OF, "--format", "json", "--owner", "ad*").stdout)
    deals = {f["deal_id"] for f in report["findings"]}
    assert deals == {"ADA-1", "ADA-LOUD"}  # globs ignore case on the command line
    assert report["summary"]["deals"] == 3
    by_team = json.loads(hygiene_cli("audit", export, "--as-of", AS_OF, "--format", "json", "--team", "EMEA", "--owner", "Bob").stdout)
    assert {f["deal_id"] for f in by_team["findings"]} == {"BOB-1"}
    console = hygiene_cli("audit", export, "--as-of", AS_OF, "--team", "US", "--team", "emea").stdout
    assert "only: team US, team emea" in console and "NOBODY-1" not in console


def test_a_filter_also_narrows_the_gates(export, hygiene_cli):
    # No deal matches: no finding is left to fail the audit.
    result = hygiene_cli("audit", export, "--as-of", AS_OF, "--owner", "nobody-matches-this")
    assert result.exit_code == 0, result.output
