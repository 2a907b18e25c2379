"""A team's road to a CI job that fails on hygiene regressions, in a git repository, with the installed ``hygiene`` script.

Then the ready-made CI wiring: every ``hygiene`` command line in the
examples, the pre-commit hook and the README runs with options that exist.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from _ci_gate import AS_OF, CLEAN, NO_CLOSE_DATE, PAST_DUE, STALE, deal
from hygiene.cli import cli
from hygiene.api.models import fingerprint
from hygiene.plugin.registry import load_registry

REPO = Path(__file__).resolve().parent.parent
EXPORT = "exports/opportunities.csv"
BASELINE = ".hygiene-baseline.json"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Revenue Ops",
    "GIT_AUTHOR_EMAIL": "revops@example.com",
    "GIT_COMMITTER_NAME": "Revenue Ops",
    "GIT_COMMITTER_EMAIL": "revops@example.com",
    # The developer's own git settings (hooks, signing, default branch) must not change the scenario.
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
ONLY_BUILTINS = {"HYGIENE_DISABLE_PLUGIN_AUTOLOAD": "1"}


@pytest.fixture
def git(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def run(*args: str) -> str:
        completed = subprocess.run(["git", *args], cwd=tmp_path, env={**os.environ, **GIT_IDENTITY}, capture_output=True, text=True, timeout=30)
        assert completed.returncode == 0, completed.stderr
        return completed.stdout

    return run


@pytest.fixture
def hygiene(run_hygiene):
    """The installed ``hygiene`` script in the repository, audits pinned to :data:`AS_OF`."""

    def run(command: str, *args: str) -> subprocess.CompletedProcess:
        dated = ("--as-of", AS_OF) if command in ("audit", "baseline") else ()
        return run_hygiene(command, *args, *dated, env=ONLY_BUILTINS)

    return run


def commit(git, message: str) -> None:
    git("add", "-A")
    git("commit", "-q", "-m", message)
    assert git("status", "--porcelain") == ""


def test_a_team_goes_from_zero_to_a_pipeline_failing_on_regressions(tmp_path, git, hygiene, make_deals):
    git("init", "-q")
    (tmp_path / "exports").mkdir()
    make_deals([STALE, NO_CLOSE_DATE, CLEAN], name=EXPORT)
    initialised = hygiene("init", EXPORT)
    assert initialised.returncode == 0, initialised.stderr
    commit(git, "Export and hygiene.toml")

    # The pipeline carries debt: a plain audit fails.
    assert hygiene("audit").returncode == 1

    # Record the debt and commit the baseline: the audit against it passes.
    recorded = hygiene("baseline")
    assert (recorded.returncode, recorded.stdout) == (0, f"wrote {BASELINE}: 2 findings recorded as known\n")
    commit(git, "Baseline")
    gate = ("--baseline", BASELINE, "--strict-baseline")
    assert hygiene("audit", *gate).returncode == 0

    # A bad deal arrives: the job fails and names it.
    make_deals([STALE, NO_CLOSE_DATE, CLEAN, PAST_DUE], name=EXPORT)
    commit(git, "This week's export")
    regressed = hygiene("audit", *gate, "--format", "console", "--format", "json:reports/hygiene.json")
    assert regressed.returncode == 1
    assert regressed.stderr == "hygiene: 1 new finding at or above error (fail_on): HY003 D4\n"
    assert "  error   HY003 past-due-close-date: D4 Delta: close date 2026-02-01 is 58 days past due [row 5]\n" in regressed.stdout
    report = json.loads((tmp_path / "reports" / "hygiene.json").read_text(encoding="utf-8"))
    assert [(f["deal_id"], f["baseline_status"]) for f in report["findings"] if f["baseline_status"] == "new"] == [("D4", "new")]

    # The new problem is fixed, and an old one too: the job passes without the ratchet, and reports the fix.
    make_deals([STALE, deal(NO_CLOSE_DATE, "D2", close_date="2026-05-29"), CLEAN, deal(PAST_DUE, "D4", close_date="2026-04-30")], name=EXPORT)
    commit(git, "Fixed D4 and D2")
    fixed = hygiene("audit", "--baseline", BASELINE)
    assert fixed.returncode == 0
    assert fixed.stdout.endswith(f"  baseline {BASELINE}: 0 new, 1 known, 1 fixed\n    fixed: HY002 D2\n")

    # With the ratchet, the fix must be recorded: the job fails until the baseline is pruned.
    ratchet = hygiene("audit", *gate)
    assert (ratchet.returncode, ratchet.stderr) == (
        1,
        f"hygiene: --strict-baseline: {BASELINE} still lists 1 fixed finding; remove it with `hygiene baseline --prune`\n",
    )
    pruned = hygiene("baseline", "--prune")
    assert (pruned.returncode, pruned.stdout) == (0, f"pruned {BASELINE}: removed 1 fixed finding, 1 remain\n")
    assert hygiene("audit", *gate).returncode == 0

    # The baseline only shrank: its diff in git removes lines and adds none.
    changes = git("diff", "--unified=0", "--", BASELINE).splitlines()
    assert [line for line in changes if line.startswith("+") and not line.startswith("+++")] == []
    assert f'-    "{fingerprint("HY002", "D2")}": {{' in changes
    commit(git, "Prune the baseline")


# The ready-made CI wiring.

CI_FILES = ["examples/ci/github-actions.yml", "examples/ci/gitlab-ci.yml", "examples/ci/weekly-history.yml", ".pre-commit-hooks.yaml", "README.md"]
#: A command line starts with ``hygiene COMMAND`` and, in YAML folded blocks, continues on lines starting with ``--``.
COMMAND_LINE = re.compile(r"(?m)^[ \t]*(?:-[ \t]+|entry:[ \t]*|run:[ \t]*)?(hygiene[ \t]+[a-z]+\b[^\n#]*)((?:\n[ \t]+--[^\n]*)*)")


FENCED_BLOCK = re.compile(r"(?ms)^```[a-z]*\n(.*?)^```")


def command_lines(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8").replace('"$(date -u +%F)"', AS_OF)
    if path.suffix == ".md":
        text = "\n".join(FENCED_BLOCK.findall(text))
    return [shlex.split(first + rest.replace("\n", " ")) for first, rest in COMMAND_LINE.findall(text)]


@pytest.mark.parametrize("name", CI_FILES)
def test_every_hygiene_command_in_the_ci_wiring_parses(name):
    lines = command_lines(REPO / name)
    assert lines, f"no hygiene command in {name}"
    reporters = set(load_registry().reporters)
    for words in lines:
        assert words[0] == "hygiene"
        command = cli.commands[words[1]]
        context = command.make_context(words[1], words[2:], resilient_parsing=False)
        for spec in context.params.get("formats", ()):
            assert spec.partition(":")[0] in reporters, f"{name}: {' '.join(words)}"


def test_the_ci_examples_audit_with_the_baseline_and_publish_what_their_ci_reads():
    github = (REPO / "examples/ci/github-actions.yml").read_text(encoding="utf-8")
    gitlab = (REPO / "examples/ci/gitlab-ci.yml").read_text(encoding="utf-8")

    for text in (github, gitlab):
        assert f"--baseline {BASELINE}" in text and "--strict-baseline" in text
    assert "--format github" in github and "--format junit:reports/hygiene.xml" in github
    code_quality = re.search(r"--format gitlab:(\S+)", gitlab)[1]
    junit = re.search(r"--format junit:(\S+)", gitlab)[1]
    assert re.search(r"codequality: (\S+)", gitlab)[1] == code_quality == "gl-code-quality-report.json"
    assert re.search(r"junit: (\S+)", gitlab)[1] == junit


def test_the_pre_commit_hook_runs_the_audit_when_an_export_or_its_settings_change():
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")

    assert re.search(r"(?m)^- id: hygiene-audit$", hooks)
    assert re.search(r"(?m)^  entry: hygiene audit$", hooks)
    assert re.search(r"(?m)^  pass_filenames: false$", hooks)
    files = re.compile(re.search(r"(?m)^  files: (.+)$", hooks)[1])
    triggering = ["hygiene.toml", "team/hygiene.toml", BASELINE, "exports/opportunities.csv", "deals.json", "deals.jsonl"]
    assert [path for path in triggering if not files.search(path)] == []
    assert [path for path in ["README.md", "notes/hygiene.toml.bak", "src/app.py"] if files.search(path)] == []
