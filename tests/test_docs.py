"""The documentation is executed: every hook is documented, and every example runs as written."""

from __future__ import annotations

import re

from _markdown_examples import MarkdownExamples, code_blocks
from _throwaway_install import REPO

from hygiene.plugin import hookspecs
from hygiene.testing import run_rules

WRITING_PLUGINS = REPO / "docs" / "writing-plugins.md"
README = REPO / "README.md"


def hook_names() -> set[str]:
    return {name for name, function in vars(hookspecs).items() if hasattr(function, "hygiene_spec")}


def section(markdown: str, heading: str) -> str:
    """The text under ``## heading``, up to the next heading of that level."""
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def test_every_hook_has_a_section_in_the_hook_reference():
    reference = section(WRITING_PLUGINS.read_text(encoding="utf-8"), "Hook reference")
    documented = set(re.findall(r"^### (\w+)$", reference, flags=re.MULTILINE))

    assert hook_names(), "no hookspec found"
    assert sorted(hook_names() - documented) == [], "hooks missing from docs/writing-plugins.md"
    assert sorted(documented - hook_names()) == [], "documented hooks that do not exist"


def test_every_example_of_writing_plugins_runs(tmp_path):
    blocks = code_blocks(WRITING_PLUGINS.read_text(encoding="utf-8"))
    assert [block.line for block in blocks if not block.runnable] == [], "blocks that are neither a file nor run"

    with MarkdownExamples(WRITING_PLUGINS, tmp_path) as examples:
        examples.run(blocks)


def test_the_readmes_plugin_example_installs_and_flags_what_its_docstring_says(tmp_path):
    example = section(README.read_text(encoding="utf-8"), "Writing a rule plugin").split("\n### ", 1)[0]
    blocks = [block for block in code_blocks(example) if block.runnable]
    assert sorted(block.attributes.get("file") for block in blocks) == ["acme_hygiene.py", "pyproject.toml"]

    with MarkdownExamples(README, tmp_path) as examples:
        examples.run(blocks)
        # Its docstring: "An open 250,000 deal with 1 contact is flagged."
        deals = [
            {"id": "D1", "stage": "Proposal", "amount": 250000, "contacts": 1},
            {"id": "D2", "stage": "Closed Won", "amount": 250000, "contacts": 1},
            {"id": "D3", "stage": "Proposal", "amount": 250000, "contacts": 3},
        ]
        findings = run_rules(deals, rules=["big-deal-single-threaded"], as_of="2026-03-31")
        smaller = run_rules(deals, rules=["ACME001"], options={"ACME001": {"min_amount": 300000}}, as_of="2026-03-31")

    assert [(f.deal_id, f.message) for f in findings] == [("D1", "250,000 with only 1 contacts")]
    assert smaller == []


def test_every_tagged_example_of_the_readme_runs(tmp_path):
    blocks = [block for block in code_blocks(README.read_text(encoding="utf-8")) if block.runnable]

    with MarkdownExamples(README, tmp_path) as examples:
        examples.run(blocks)


def readme_rule_table() -> dict[str, dict[str, str]]:
    """The rows of the README's rule table (the first table under ``## Rules``), by code."""
    lines = section(README.read_text(encoding="utf-8"), "Rules").splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("| code |"))
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        row = dict(zip(header, cells, strict=True))
        rows[row["code"]] = row
    return rows


def test_the_readmes_rule_table_lists_every_builtin_rule_as_the_registry_has_it():
    from hygiene.plugin.registry import load_registry

    registry = load_registry()
    builtin = {code: entry.cls for code, entry in registry.rules.items() if entry.plugin == "builtin-rules"}
    table = readme_rule_table()

    assert sorted(table) == sorted(builtin)
    for code, rule in builtin.items():
        row = table[code]
        assert (row["name"], row["group"], row["severity"]) == (rule.name, rule.group, rule.severity), code
        assert len(row["flags (option defaults in parentheses)"]) > 20, f"{code}: the table says what it flags"
