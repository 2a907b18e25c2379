"""Safety of the files a run touches: it never writes over an input, writes atomically, and cleans up when killed.

Every writer of the project goes through :func:`hygiene.files.atomic_text_writer`,
which refuses a target that is an input of the run (the export, the
configuration, a baseline being read, a local plugin) or one another writer
of the run already claimed. Paths are compared as files, not as names:
symlinks are followed and hard links meet.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hygiene.files import atomic_text_writer, begin_run, note_input, remove_stale_temp_files

#: The audit date: no test reads the clock.
AS_OF = "2026-03-31"
#: The console script pip installed beside this interpreter, run as a user runs it.
HYGIENE = str(Path(sys.executable).with_name("hygiene"))

HEADER = ["Id", "Owner", "Stage", "Close Date", "Stage Entered Date"]
EXPORT = [HEADER, ["D1", "Ada Lovelace", "Proposal", "2026-06-30", "2026-01-01"], ["D2", "Alan Turing", "Negotiation", "", "2026-03-20"]]


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def export(write_csv, tmp_path) -> tuple[Path, bytes]:
    path = write_csv(EXPORT)
    return path, path.read_bytes()


# 1. Never a report over an input.


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "csv", "--output", "deals.csv"],
        ["--format", "json:deals.csv"],
        ["--format", "console", "--format", "markdown:./deals.csv"],
        ["--output", "deals.csv"],
    ],
    ids=["output", "format-path", "second-reporter", "console-output"],
)
def test_an_audit_refuses_to_write_a_report_over_its_export(export, hygiene_cli, args):
    path, before = export
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, *args)
    assert result.exit_code == 2
    assert "refusing to write" in one_line(result) and "over the source" in one_line(result)
    assert path.read_bytes() == before


def test_a_symlink_to_the_export_is_the_export(export, hygiene_cli, tmp_path):
    path, before = export
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").symlink_to(path)
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:out/report.json")
    assert result.exit_code == 2
    assert one_line(result).startswith("hygiene: error: out/report.json: refusing to write the json report over the source (deals.csv)")
    assert path.read_bytes() == before
    assert (tmp_path / "out" / "report.json").is_symlink()


def test_a_hard_link_to_the_export_is_the_export(export, hygiene_cli, tmp_path):
    path, before = export
    os.link(path, tmp_path / "copy.csv")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "csv:copy.csv")
    assert result.exit_code == 2 and "over the source" in one_line(result)
    assert path.read_bytes() == before


def test_an_audit_refuses_to_write_over_its_configuration(export, hygiene_cli, tmp_path):
    config = tmp_path / "hygiene.toml"
    config.write_text('[source]\npath = "deals.csv"\n', encoding="utf-8")
    before = config.read_bytes()
    result = hygiene_cli("audit", "--as-of", AS_OF, "--format", "json", "--output", "hygiene.toml")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: hygiene.toml: refusing to write the json report over the configuration: it is an input of this run"
    assert config.read_bytes() == before


def test_an_audit_refuses_to_write_over_the_baseline_it_reads(export, hygiene_cli, tmp_path):
    assert hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "-o", "known.json").exit_code == 0
    before = (tmp_path / "known.json").read_bytes()
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--baseline", "known.json", "--format", "json:known.json")
    assert result.exit_code == 2
    assert "over the hygiene baseline" in one_line(result)
    assert (tmp_path / "known.json").read_bytes() == before


def test_an_audit_refuses_to_write_over_a_local_plugin(export, hygiene_cli, tmp_path):
    plugin = tmp_path / "team_rules.py"
    plugin.write_text("", encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["team_rules.py"]\n', encoding="utf-8")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:team_rules.py")
    assert result.exit_code == 2 and "over a plugin" in one_line(result)
    assert plugin.read_text(encoding="utf-8") == ""


def test_two_reporters_may_not_share_a_path_and_nothing_is_written(export, hygiene_cli, tmp_path):
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:r.out", "--format", "csv:./r.out")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: ./r.out: the csv report and the json report would both be written to this file; give each its own path"
    assert not (tmp_path / "r.out").exists()


def test_a_baseline_refuses_to_replace_the_export(export, hygiene_cli):
    path, before = export
    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "-o", "deals.csv")
    assert result.exit_code == 2 and "refusing to write the baseline over the source" in one_line(result)
    assert path.read_bytes() == before


def test_a_baseline_prune_still_rewrites_its_own_baseline(export, hygiene_cli, tmp_path, write_csv):
    assert hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "-o", "known.json").exit_code == 0
    write_csv(EXPORT[:2])  # D2 fixed
    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "-o", "known.json", "--prune")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("pruned known.json")


def test_a_diff_refuses_to_replace_a_report_it_compares(export, hygiene_cli, tmp_path):
    assert hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:old.json").exit_code == 1
    before = (tmp_path / "old.json").read_bytes()
    result = hygiene_cli("diff", "old.json", "old.json", "-o", "old.json")
    assert result.exit_code == 2 and "refusing to write the diff over" in one_line(result)
    assert (tmp_path / "old.json").read_bytes() == before


def test_init_refuses_to_write_the_configuration_over_the_export(export, hygiene_cli):
    path, before = export
    result = hygiene_cli("init", "deals.csv", "-o", "deals.csv", "--force")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: deals.csv: refusing to write the configuration over the export: it is an input of this run"
    assert path.read_bytes() == before


def test_a_writer_added_later_gets_the_guard_by_using_the_projects_writer(tmp_path):
    begin_run()
    roster = tmp_path / "roster.csv"
    roster.write_text("owner,team\n", encoding="utf-8")
    note_input(roster, "roster.csv", "the roster")
    with pytest.raises(Exception, match="refusing to write the digest over the roster"):
        with atomic_text_writer(roster, what="the digest", display="roster.csv") as stream:
            stream.write("x")
    assert roster.read_text(encoding="utf-8") == "owner,team\n"
    begin_run()


# 2. What is not a regular file.


def _device_copy(tmp_path: Path, device: str) -> Path:
    copy = tmp_path / Path(device).name
    info = os.stat(device)
    try:
        os.mknod(copy, stat.S_IFCHR | 0o666, info.st_rdev)
    except PermissionError:
        pytest.skip(f"creating a device node (a copy of {device}) needs privileges this test run lacks")
    return copy


def test_a_report_to_a_device_is_written_to_it_not_replaced(export, hygiene_cli, tmp_path):
    null = _device_copy(tmp_path, "/dev/null")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "null")
    assert result.exit_code == 1  # the findings' gate, not a write error
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_full_device_is_one_line_and_exit_2(export, hygiene_cli, tmp_path):
    full = _device_copy(tmp_path, "/dev/full")
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "full")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: full: cannot write the json report: No space left on device"
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_a_full_device_fails_a_baseline_too(export, hygiene_cli, tmp_path):
    _device_copy(tmp_path, "/dev/full")
    result = hygiene_cli("baseline", "deals.csv", "--as-of", AS_OF, "-o", "full")
    assert result.exit_code == 2
    assert one_line(result) == "hygiene: error: full: cannot write the baseline: No space left on device"


def test_a_report_to_a_fifo_is_written_into_it(export, run_hygiene, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [HYGIENE, "audit", "deals.csv", "--as-of", AS_OF, "--format", "json", "--output", "pipe"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
    )
    with open(fifo, encoding="utf-8") as reader:
        report = json.loads(reader.read())
    assert process.wait(timeout=60) == 1, process.stderr.read()
    assert report["summary"]["findings"] >= 1
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlinked_report_is_written_through_and_the_link_kept(export, hygiene_cli, tmp_path):
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "latest.json"
    target.write_text("old", encoding="utf-8")
    (tmp_path / "report.json").symlink_to(target)
    result = hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:report.json")
    assert result.exit_code == 1
    assert (tmp_path / "report.json").is_symlink()
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["findings"] >= 1
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.endswith(".tmp")]


def test_a_dangling_symlink_creates_its_target(export, hygiene_cli, tmp_path):
    (tmp_path / "report.json").symlink_to(tmp_path / "made.json")
    assert hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:report.json").exit_code == 1
    assert (tmp_path / "report.json").is_symlink() and (tmp_path / "made.json").is_file()


# 3. Killed runs.


BLOCKING_REPORTER = '''
import os
import time

from hygiene import Reporter, hookimpl


class Blocking(Reporter):
    """Writes half a report, says so on the `ready` FIFO, waits until a `go` file exists, then writes the rest.

    A test that never makes `go` ends the run with a signal.
    """

    name = "blocking"

    def write(self, report, stream):
        stream.write("first half\\n" * 1000)
        stream.flush()
        with open("ready", "w") as ready:
            ready.write("written")
        # Waited out in short slices: the kernel may hand the signal to one of polars' threads, and a main
        # thread blocked in one long system call would then never see it.
        while not os.path.exists("go"):
            time.sleep(0.05)
        stream.write("second half\\n")


@hookimpl
def hygiene_register_reporters():
    return [Blocking]
'''


def _as_in_a_foreground_terminal() -> None:
    # A test run may itself be a background job, which starts with SIGINT ignored and hands that on;
    # the run under test gets the dispositions of a command typed at a terminal.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def _as_under_nohup() -> None:
    _as_in_a_foreground_terminal()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _start_blocked_audit(tmp_path: Path, preexec) -> subprocess.Popen:
    (tmp_path / "blocking_reporter.py").write_text(BLOCKING_REPORTER, encoding="utf-8")
    (tmp_path / "hygiene.toml").write_text('plugins = ["blocking_reporter.py"]\n', encoding="utf-8")
    os.mkfifo(tmp_path / "ready")
    (tmp_path / "out").mkdir()
    process = subprocess.Popen(
        [HYGIENE, "audit", "deals.csv", "--as-of", AS_OF, "--format", "blocking:out/report.txt"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=preexec,
    )
    with open(tmp_path / "ready", encoding="utf-8") as ready:
        assert ready.read() == "written"
    in_flight = [p.name for p in (tmp_path / "out").iterdir()]
    assert len(in_flight) == 1 and in_flight[0].startswith(f".report.txt.hygiene-{process.pid}-"), in_flight
    return process


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_run_killed_mid_write_leaves_no_temporary_file(export, tmp_path, signum):
    process = _start_blocked_audit(tmp_path, _as_in_a_foreground_terminal)
    try:
        process.send_signal(signum)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # SIGTERM: the process dies of the signal, as it would have; Ctrl-C: exit code 130 (128 + SIGINT), as shells report it.
    assert code == (-signum if signum == signal.SIGTERM else 128 + signal.SIGINT), process.stderr.read()
    assert list((tmp_path / "out").iterdir()) == []


def test_a_signal_the_run_was_started_ignoring_leaves_its_report_whole(export, tmp_path):
    # `nohup hygiene audit … &`, then the terminal closes: the hang-up is ignored and the report still lands.
    process = _start_blocked_audit(tmp_path, _as_under_nohup)
    try:
        process.send_signal(signal.SIGHUP)
        (tmp_path / "go").touch()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 1, process.stderr.read()  # the findings' gate: the run went on to its end
    assert (tmp_path / "out" / "report.txt").read_text(encoding="utf-8") == "first half\n" * 1000 + "second half\n"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["report.txt"]


def test_the_next_run_removes_what_a_killed_run_left(export, hygiene_cli, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".report.json.hygiene-{dead.pid}-abc123.tmp"
    stale.write_text("62 MB of half a report", encoding="utf-8")
    live = tmp_path / f".report.json.hygiene-{os.getppid()}-abc123.tmp"
    live.write_text("another run, still writing", encoding="utf-8")
    other = tmp_path / f".other.json.hygiene-{dead.pid}-abc123.tmp"
    other.write_text("not this report's", encoding="utf-8")
    assert finished.returncode == 0
    assert hygiene_cli("audit", "deals.csv", "--as-of", AS_OF, "--format", "json:report.json").exit_code == 1
    assert not stale.exists()
    assert live.exists() and other.exists()


def test_stale_temporary_files_of_other_programs_are_left_alone(tmp_path):
    unrelated = tmp_path / ".report.json.abc.tmp"
    unrelated.write_text("x", encoding="utf-8")
    assert remove_stale_temp_files(tmp_path / "report.json") == []
    assert unrelated.exists()
