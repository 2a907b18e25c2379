"""The guard against polars' streaming-engine panic on ``pl.format`` (polars issue #25525).

At ten million deals ``pl.format`` in a rule's message, collected on the
streaming engine, panicked (``assertion failed: i < self.len()`` in polars'
string-view code); see ``hygiene.audit.engine.STREAMING_UNSAFE_MARKERS`` for
the plan. Three guards: no built-in code calls ``pl.format``; every plan the
engine collects for the built-in rules streams safely; a plan that does
format (a third-party rule's) is collected by the in-memory engine. And the
audit's result does not depend on how the streaming engine cuts the table:
with morsels of 500 rows (so a 20,000-deal export spans forty of them, the
many-chunk string-view inputs that the panic needed ten million rows of
at the default morsel size) every finding is the same as with the default.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import polars as pl

from hygiene.audit import engine

REPO = Path(__file__).resolve().parent.parent
BUILT_IN_CODE = [REPO / "hygiene", REPO / "rules", REPO / "plugins"]


def _format_calls(path: Path) -> list[int]:
    """Lines of ``path`` that call ``pl.format`` / ``polars.format``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"pl", "polars"}
    ]


def test_no_built_in_code_calls_pl_format():
    found = [f"{path.relative_to(REPO)}:{line}" for root in BUILT_IN_CODE for path in sorted(root.rglob("*.py")) for line in _format_calls(path)]
    assert found == [], "pl.format can panic on polars' streaming engine; build the text with pl.concat_str: " + ", ".join(found)


def test_the_check_sees_pl_format_in_a_plan():
    table = pl.LazyFrame({"n": [1, 2, 3], "s": ["a", "b", "c"]})
    assert not engine.streams_safely(table.filter(pl.col("n") > 1).select(pl.when(pl.col("n") > 2).then(pl.format("{} x {}", "n", "s"))))
    assert engine.streams_safely(table.select(pl.concat_str([pl.col("s"), pl.lit(" x "), pl.col("n").cast(pl.String)])))
    # A column or a literal text that merely says "format" is not the function.
    assert engine.streams_safely(pl.LazyFrame({"format": ["str.format("]}).select(pl.col("format"), pl.lit(".format(")))


def test_every_plan_of_the_built_in_rules_streams(hygiene_cli, tmp_path, monkeypatch):
    """The sample audit runs every built-in rule; none of the plans the engine collects needs the in-memory engine."""
    engines: list[str] = []
    collect = engine._collect_together

    def recording(plans, used):
        engines.extend([used] * len(plans))
        return collect(plans, used)

    monkeypatch.setattr(engine, "_collect_together", recording)
    result = hygiene_cli("audit", "--config", REPO / "hygiene.toml", "--format", f"json:{tmp_path / 'report.json'}")
    assert result.exit_code == 1, result.output
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]["findings"] > 100
    assert engines and set(engines) == {"auto"}


FORMATTING_RULE = '''
import polars as pl
from hygiene import DealRule, hookimpl


class FormattedMessage(DealRule):
    """A third-party rule whose message still uses pl.format."""

    code = "ACME001"
    name = "formatted-message"
    summary = "Every deal with an amount, its message made by pl.format"
    severity = "info"

    def condition(self, ctx):
        return pl.col("amount").is_not_null()

    def message_expr(self, ctx):
        return pl.when(pl.col("amount") > 0).then(pl.format("amount {} of {}", pl.col("amount"), pl.col("owner")))


@hookimpl
def hygiene_register_rules():
    return [FormattedMessage]
'''


def test_a_rule_that_formats_is_collected_by_the_in_memory_engine_and_its_findings_are_right(hygiene_cli, tmp_path, monkeypatch, installed):
    (tmp_path / "acme_format.py").write_text(FORMATTING_RULE, encoding="utf-8")
    installed(tmp_path)
    engines: dict[str, list[int]] = {}
    collect = engine._collect_together

    def recording(plans, used):
        engines.setdefault(used, []).append(len(plans))
        return collect(plans, used)

    monkeypatch.setattr(engine, "_collect_together", recording)
    (tmp_path / "deals.csv").write_text("id,owner,stage,amount\nD1,Ada,Prospecting,100\nD2,Bo,Prospecting,\nD3,Cy,Prospecting,250.5\n", encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["acme_format"]\nselect = ["ACME001", "HY002"]\n[source]\npath = "deals.csv"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = hygiene_cli("audit", "--as-of", "2026-03-15", "--format", "json:report.json")
    assert result.exit_code in (0, 1), result.output
    findings = [f for f in json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["findings"] if f["code"] == "ACME001"]
    assert sorted((f["deal_id"], f["message"]) for f in findings) == [("D1", "amount 100.0 of Ada"), ("D3", "amount 250.5 of Cy")]
    assert engines.get("in-memory") == [1]
    assert "auto" in engines  # the other rule's plans still stream


def _sample_many_times(target: Path, copies: int) -> None:
    """``examples/pipeline.csv`` ``copies`` times, with the deal ids and names made distinct per copy."""
    with open(REPO / "examples" / "pipeline.csv", newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))
    header, body = rows[0], rows[1:]
    id_at, name_at = header.index("Opportunity ID"), header.index("Opportunity Name")
    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for copy in range(copies):
            for row in body:
                row = list(row)
                row[id_at] = f"{row[id_at]}-{copy}"
                row[name_at] = f"{row[name_at]} {copy}"
                writer.writerow(row)


def _audit_findings(run_hygiene, tmp_path: Path, export: Path, morsel_rows: int | None) -> list[dict]:
    config = (REPO / "hygiene.toml").read_text(encoding="utf-8").replace('path = "examples/pipeline.csv"', f'path = "{export.name}"')
    (tmp_path / "hygiene.toml").write_text(config, encoding="utf-8")
    report = tmp_path / f"report-{morsel_rows}.json"
    env = {} if morsel_rows is None else {"POLARS_IDEAL_MORSEL_SIZE": str(morsel_rows)}
    done = run_hygiene("audit", "--format", f"json:{report}", env=env)
    assert done.returncode == 1, done.stderr[-2000:]
    return json.loads(report.read_text(encoding="utf-8"))["findings"]


def test_findings_do_not_depend_on_how_the_streaming_engine_cuts_the_table(run_hygiene, tmp_path, monkeypatch):
    monkeypatch.delenv("POLARS_IDEAL_MORSEL_SIZE", raising=False)
    export = tmp_path / "pipeline.csv"
    _sample_many_times(export, 100)
    many_morsels = _audit_findings(run_hygiene, tmp_path, export, 500)
    default = _audit_findings(run_hygiene, tmp_path, export, None)
    assert len(many_morsels) > 10_000
    assert {f["code"] for f in many_morsels} >= {"HY001", "HY002", "HY003", "HY005", "HY901", "HY902"}
    assert many_morsels == default
