"""Benchmark ``hygiene`` as whole processes: against hand-written polars and pandas scripts, and every command that scales.

    python tests/bench/run_benchmark.py                          # 1,000,000 deals, 3 runs each
    python tests/bench/run_benchmark.py --rows 100000 --rows 1000000
    python tests/bench/run_benchmark.py --rows 100000 --rows 1000000 --ten-million   # the README's scaling table
    python tests/bench/run_benchmark.py --rows 20000 --repeat 1   # a quick smoke run

For each size it generates the data when missing (``generate_deals.py``,
into ``tests/bench/data/<rows>/``; 500 owners up to a million deals, one
owner per 200 deals above), then measures, each a fresh process:

- the five mission rules, ``hygiene audit deals.csv --config bench.toml --as-of D --select HY001,...,HY005
  --format json --output hygiene.json``, against ``polars_audit.py`` (the hand-written polars
  reference) and ``pandas_audit.py`` (the second reference), in alternating runs (hygiene, polars,
  pandas, hygiene, ...) after one untimed warm-up of each; the medians and the ratios;
- ``hygiene audit`` with every built-in rule to JSON ("audit (JSON)"), and with every built-in
  reporter at once ("audit (all reporters)"), then each reporter's own time and memory on that
  audit (``reporter_benchmark.py``);
- ``hygiene baseline``, ``hygiene diff`` of the two JSON reports, ``hygiene snapshot add`` into a
  fresh store, ``hygiene forecast`` and the HTML report (``hygiene audit --format html:FILE``).

The ten-million-deal size (a 2.7 GB CSV, minutes per run) only runs with
``--ten-million``; it is timed once (``--repeat`` does not apply).

Wall time is measured with ``time.perf_counter`` around spawn-to-exit, peak
RSS is the child's ``ru_maxrss`` from ``os.wait4``, CPU is user + system
seconds; each figure carries the machine's load average when it was taken.
``hygiene --help`` is timed too (median of ``--help-repeat`` runs).

Unless ``--check none``, the reports of the three programs are compared after
the warm-up: finding counts per rule must agree, and with ``--check full``
(default) every finding too (same code, deal id, owner, message, details,
and fingerprint where both have one; owner totals of HY004 within a cent,
since float sums may differ in the last bit), in the same order. A
disagreement makes the exit code 1. The results are printed as Markdown
tables ready for the README and written as JSON to ``tests/bench/results/``
(git-ignored).
"""

from __future__ import annotations

import argparse
import re
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DATA = HERE / "data"
RESULTS = HERE / "results"
GENERATOR = HERE / "generate_deals.py"
PANDAS_SCRIPT = HERE / "pandas_audit.py"
POLARS_SCRIPT = HERE / "polars_audit.py"
TEN_MILLION = 10_000_000
#: Every built-in reporter, each with the file ``audit (all reporters)`` writes it to.
REPORT_FILES = {
    "console": "report.txt",
    "json": "report.json",
    "csv": "report.csv",
    "markdown": "report.md",
    "junit": "report.xml",
    "gitlab": "gitlab.json",
    "github": "github.txt",
    "html": "report.html",
    "xlsx": "report.xlsx",
}
#: hygiene at most this many times the hand-written polars script's wall time, at 1M deals (issue 14).
TARGET_POLARS_RATIO = 1.2
#: 10M deals: at most this much memory, and at most this many times the 1M time (issue 14).
TARGET_TEN_MILLION_RSS_MB = 4096
TARGET_TEN_MILLION_SCALE = 12
DEFAULT_SEED = 42
DEFAULT_AS_OF = "2026-03-15"
#: The contract's first targets (issue 2): hygiene at most half the pandas script's wall time, ``--help`` quick.
TARGET_PANDAS_RATIO = 0.5
TARGET_HELP_S = 0.3
#: Every built-in rule may take at most this many times the five mission rules' wall time (issue 12).
TARGET_CATALOGUE_RATIO = 1.5
#: The rules the pandas script implements.
MISSION_RULES = ("HY001", "HY002", "HY003", "HY004", "HY005")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, action="append", help="deals to audit; repeatable (default: 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each command (default: %(default)s); the median is reported")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (default: %(default)s)")
    parser.add_argument("--help-repeat", type=int, default=10, help="timed runs of `hygiene --help` (default: %(default)s)")
    parser.add_argument("--quiet-wait", type=float, default=120, help="before each timed run, wait up to this many seconds for other processes to go quiet (default: %(default)s; 0: don't)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", default=DEFAULT_AS_OF)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the pandas script and the generator (default: this one)")
    parser.add_argument("--hygiene", help="the hygiene executable (default: the one beside --python, else on PATH)")
    parser.add_argument("--check", choices=["full", "counts", "none"], default="full", help="compare the two reports (default: %(default)s)")
    parser.add_argument("--skip-pandas", action="store_true", help="do not run the pandas script")
    parser.add_argument("--skip-polars", action="store_true", help="do not run the polars script")
    parser.add_argument("--ten-million", action="store_true", help="add the 10,000,000-deal size (minutes per run, about 4 GB of memory, 2.7 GB of data)")
    parser.add_argument("--only-references", action="store_true", help="only the mission rules against the polars and pandas scripts (no scaling table)")
    parser.add_argument("--regenerate", action="store_true", help="write the data again even when it is there")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results (default: tests/bench/results)")
    return parser.parse_args(argv)


# -- processes ---------------------------------------------------------------------------------


def busy_ticks() -> tuple[int, int] | None:
    """Busy and total CPU ticks of the whole machine so far (Linux /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(x) for x in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def wait_for_quiet(limit_s: float, threshold_cores: float = 0.25) -> float:
    """Wait (at most ``limit_s``) until other processes use less than ``threshold_cores``; the load seen last."""
    deadline = time.monotonic() + limit_s
    said = False
    while True:
        before = busy_ticks()
        time.sleep(1.0)
        after = busy_ticks()
        if before is None or after is None:
            return 0.0
        load = (after[0] - before[0]) / TICK
        if load < threshold_cores or time.monotonic() >= deadline:
            return load
        if not said:
            print(f"  (machine busy: {load:.1f} cores in use by other processes; waiting up to {limit_s:.0f} s)", file=sys.stderr)
            said = True


def timed(command: list[str], *, cwd: Path | None = None, ok_codes=(0,), env: dict | None = None) -> dict:
    """Run ``command`` as a child process: wall seconds, its peak RSS in MB, and its exit code.

    ``foreign_cores`` is the CPU other processes used meanwhile (machine busy time minus the
    child's own, per second of wall time): above ~0.2 on a small machine the timing is suspect.
    """
    ticks = busy_ticks()
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or child_env())
    # Read stderr in full before waiting, so a chatty child cannot block on a full pipe.
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}:\n{err.decode(errors='replace')[-3000:]}")
    after = busy_ticks()
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    cpu = usage.ru_utime + usage.ru_stime
    foreign = max(0.0, ((after[0] - ticks[0]) / TICK - cpu) / wall) if ticks and after else None
    return {
        "wall_s": wall,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "peak_rss_mb": rss,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "cpu_s": cpu,
        "foreign_cores": foreign,
        "exit_code": process.returncode,
    }


def child_env() -> dict:
    """The environment of the timed processes: bytecode caching on, as on a user's machine.

    Some sandboxes set PYTHONDONTWRITEBYTECODE, which makes every run compile the
    project's modules from source; the cache goes to a prefix folder under data/
    (git-ignored) so that nothing is written beside the sources.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(DATA / ".pycache")
    return env


def median_of(runs: list[dict]) -> dict:
    median = {key: statistics.median(run[key] for run in runs) for key in ("wall_s", "peak_rss_mb", "user_s", "sys_s", "cpu_s")}
    foreign = [run["foreign_cores"] for run in runs if run["foreign_cores"] is not None]
    median["max_foreign_cores"] = max(foreign) if foreign else None
    loads = [run["load_average"] for run in runs if run.get("load_average") is not None]
    median["load_average"] = statistics.median(loads) if loads else None
    return median


def measure(name: str, command: list[str], args: argparse.Namespace, ok_codes=(0,), before=None, repeat: int | None = None) -> dict:
    """``command`` timed ``repeat`` (default ``--repeat``) times after the warm-up; ``before()`` runs, untimed, before each run."""
    return measure_alternating({name: command}, args, ok_codes=ok_codes, before=before, repeat=repeat)[name]


def measure_alternating(commands: dict[str, list[str]], args: argparse.Namespace, ok_codes=(0,), before=None, repeat: int | None = None) -> dict[str, dict]:
    """Each command timed in turn (A, B, C, A, B, C, ...), so that a change of load meets them all alike."""
    repeat = args.repeat if repeat is None else repeat
    for _ in range(args.warmup if repeat > 1 else 0):
        for command in commands.values():
            if before is not None:
                before()
            timed(command, ok_codes=ok_codes)
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    for index in range(repeat):
        for name, command in commands.items():
            if before is not None:
                before()
            if args.quiet_wait:
                wait_for_quiet(args.quiet_wait)
            run = timed(command, ok_codes=ok_codes)
            runs[name].append(run)
            noisy = f"  (other processes used {run['foreign_cores']:.1f} cores meanwhile)" if (run["foreign_cores"] or 0) > 0.2 else ""
            print(
                f"  {name:<22} run {index + 1}/{repeat}: {run['wall_s']:7.2f} s  {run['cpu_s']:7.2f} CPU s  {run['peak_rss_mb']:7.0f} MB"
                f"  load {run['load_average']:.1f}{noisy}",
                file=sys.stderr,
            )
    return {name: {"command": commands[name], "runs": runs[name], "median": median_of(runs[name])} for name in commands}


# -- data ----------------------------------------------------------------------------------------


def generator_version() -> int:
    """``GENERATOR_VERSION`` of generate_deals.py: data written by another version is written again."""
    match = re.search(r"^GENERATOR_VERSION = (\d+)$", GENERATOR.read_text(encoding="utf-8"), re.MULTILINE)
    return int(match.group(1))


def _reporter_benchmark():
    """``reporter_benchmark.py``, which imports this module: imported when first needed."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import reporter_benchmark

    return reporter_benchmark


def owners_for(rows: int) -> int:
    """Owners of the generated export: 500 up to a million deals, then one per 200 deals (50,000 at ten million)."""
    return 500 if rows <= 1_000_000 else rows // 200


def ensure_data(args: argparse.Namespace, rows: int) -> tuple[Path, Path]:
    folder = DATA / str(rows)
    csv, config, meta_path = folder / "deals.csv", folder / "bench.toml", folder / "meta.json"
    owners = owners_for(rows)
    wanted = {"rows": rows, "seed": args.seed, "as_of": args.as_of, "generator_version": generator_version(), "owners": owners}
    fresh = False
    if csv.exists() and config.exists() and meta_path.exists() and not args.regenerate:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        fresh = all(meta.get(k) == v for k, v in wanted.items()) and meta.get("bytes") == csv.stat().st_size
    if not fresh:
        print(f"generating {rows:,} deals into {folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder} ...", file=sys.stderr)
        subprocess.run(
            [args.python, str(GENERATOR), "--rows", str(rows), "--seed", str(args.seed), "--as-of", args.as_of, "--owners", str(owners), "--output", str(csv)],
            check=True,
        )
    return csv, config


# -- comparing the reports -----------------------------------------------------------------------


def compare(hygiene_report: dict, other_report: dict, full: bool, reference: str = "pandas") -> dict:
    """Counts per rule, and (``full``) the findings themselves, in order; fingerprints too where both reports have them."""
    rules = MISSION_RULES
    h_counts = {code: 0 for code in rules}
    o_counts = dict(h_counts)
    for finding in hygiene_report["findings"]:
        h_counts[finding["code"]] = h_counts.get(finding["code"], 0) + 1
    for finding in other_report["findings"]:
        o_counts[finding["code"]] = o_counts.get(finding["code"], 0) + 1
    result = {
        "hygiene_by_rule": h_counts,
        f"{reference}_by_rule": o_counts,
        "counts_agree": h_counts == o_counts,
    }
    if not full:
        return result
    problems: list[str] = []
    h, o = hygiene_report["findings"], other_report["findings"]
    keys = ("code", "deal_id", "owner", "message")
    if h and o and "fingerprint" in o[0]:
        keys += ("fingerprint",)
    for index, (a, b) in enumerate(zip(h, o)):
        where = f"finding {index} ({a['code']} {a['deal_id'] or a['owner']})"
        for key in keys:
            if a[key] != b[key]:
                problems.append(f"{where}: {key} {a[key]!r} (hygiene) != {b[key]!r} ({reference})")
                break
        else:
            if not _same_details(a["details"], b["details"], cents=a["code"] == "HY004"):
                problems.append(f"{where}: details {a['details']} (hygiene) != {b['details']} ({reference})")
        if len(problems) >= 20:
            break
    if len(h) != len(o):
        problems.append(f"hygiene has {len(h)} findings, {reference} {len(o)}")
    result["findings_agree"] = not problems
    result["differences"] = problems
    return result


def _same_details(a: dict, b: dict, cents: bool) -> bool:
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, float) or isinstance(other, float):
            if value is None or other is None:
                if value is not other:
                    return False
            elif abs(value - other) > (0.0101 if cents else 1e-9):
                return False
        elif value != other:
            return False
    return True


# -- facts ---------------------------------------------------------------------------------------


def machine_facts(python: str) -> dict:
    probe = (
        "import json, platform, sys\n"
        "out = {'python': platform.python_version()}\n"
        "for name in ('polars', 'pandas', 'numpy', 'hygiene'):\n"
        "    try:\n"
        "        out[name] = __import__(name).__version__\n"
        "    except Exception:\n"
        "        out[name] = None\n"
        "print(json.dumps(out))\n"
    )
    versions = json.loads(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout)
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    cpu = None
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), None)
    except OSError:
        pass
    return {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "platform": platform.platform(),
        "polars_max_threads": os.environ.get("POLARS_MAX_THREADS"),
        **versions,
        "git": _git(),
    }


def _git() -> dict | None:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": commit, "modified_files": [line[3:] for line in dirty.splitlines()]}


# -- main ----------------------------------------------------------------------------------------


def find_hygiene(args: argparse.Namespace) -> str:
    if args.hygiene:
        return args.hygiene
    beside = Path(args.python).parent / "hygiene"
    if beside.exists():
        return str(beside)
    found = shutil.which("hygiene")
    if not found:
        raise SystemExit("no hygiene executable found: install the project (pip install -e .) or pass --hygiene")
    return found


def bench_size(args: argparse.Namespace, hygiene: str, rows: int) -> dict:
    csv, config = ensure_data(args, rows)
    out = csv.parent
    repeat = 1 if rows >= TEN_MILLION else args.repeat
    print(f"{rows:,} deals ({csv.stat().st_size / 1e6:.0f} MB CSV, {owners_for(rows):,} owners)", file=sys.stderr)
    result: dict = {"rows": rows, "csv_mb": round(csv.stat().st_size / 1e6, 1), "owners": owners_for(rows), "repeat": repeat}
    common = ["--config", str(config), "--as-of", args.as_of]
    audit = [hygiene, "audit", str(csv), *common]

    # The five mission rules against the hand-written scripts, in alternating runs.
    reports = {"hygiene": out / "hygiene.json", "polars": out / "polars.json", "pandas": out / "pandas.json"}
    references = {"hygiene": [*audit, "--format", "json", "--select", ",".join(MISSION_RULES), "--output", str(reports["hygiene"])]}
    if not args.skip_polars:
        references["polars"] = [args.python, str(POLARS_SCRIPT), str(csv), *common, "--output", str(reports["polars"])]
    if not args.skip_pandas:
        references["pandas"] = [args.python, str(PANDAS_SCRIPT), str(csv), *common, "--output", str(reports["pandas"])]
    # hygiene exits 1 when it finds errors, which is the point of the data.
    result.update(measure_alternating(references, args, ok_codes=(0, 1), repeat=repeat))
    hygiene_report = json.loads(reports["hygiene"].read_text(encoding="utf-8"))
    result["hygiene"]["findings"] = len(hygiene_report["findings"])
    for reference in ("polars", "pandas"):
        if reference not in result:
            continue
        other = json.loads(reports[reference].read_text(encoding="utf-8"))
        result[reference]["findings"] = len(other["findings"])
        h, o = result["hygiene"]["median"], result[reference]["median"]
        result[f"{reference}_ratio"] = {"wall": h["wall_s"] / o["wall_s"], "cpu": h["cpu_s"] / o["cpu_s"], "rss": h["peak_rss_mb"] / o["peak_rss_mb"]}
        if args.check != "none":
            result[f"{reference}_check"] = compare(hygiene_report, other, full=args.check == "full", reference=reference)
        del other
    del hygiene_report
    if args.only_references:
        return result

    # What a user runs, every built-in rule.
    catalogue_json = out / "catalogue.json"
    reports_dir = out / "reports"
    reports_dir.mkdir(exist_ok=True)
    all_reporters = [argument for name, file in REPORT_FILES.items() for argument in ("--format", f"{name}:{reports_dir / file}")]
    steps: dict[str, dict] = {}
    steps["audit (JSON)"] = measure("audit (JSON)", [*audit, "--format", f"json:{catalogue_json}"], args, ok_codes=(0, 1), repeat=repeat)
    steps["audit (JSON)"]["findings"] = _finding_count(catalogue_json)
    steps["audit (all reporters)"] = measure("audit (all reporters)", [*audit, *all_reporters], args, ok_codes=(0, 1), repeat=repeat)
    steps["baseline"] = measure("baseline", [hygiene, "baseline", str(csv), *common, "--output", str(out / "baseline.json")], args, repeat=repeat)
    diff = [hygiene, "diff", str(reports["hygiene"]), str(catalogue_json), "--format", "json", "--output", str(out / "diff.json"), "--fail-on", "never"]
    steps["diff"] = measure("diff", diff, args, repeat=repeat)
    store_config = _snapshot_config(config)

    def fresh_store() -> None:
        shutil.rmtree(store_config.parent / ".hygiene", ignore_errors=True)

    snapshot = [hygiene, "snapshot", "add", str(csv), "--config", str(store_config), "--date", args.as_of]
    steps["snapshot add"] = measure("snapshot add", snapshot, args, before=fresh_store, repeat=repeat)
    fresh_store()
    steps["forecast"] = measure("forecast", [hygiene, "forecast", str(csv), *common, "--format", "json", "--output", str(out / "forecast.json")], args, repeat=repeat)
    steps["HTML report"] = measure("HTML report", [*audit, "--format", f"html:{out / 'report.html'}"], args, ok_codes=(0, 1), repeat=repeat)
    result["steps"] = steps
    print("  each reporter on one audit ...", file=sys.stderr)
    result["reporters"] = _reporter_benchmark().measure(
        argparse.Namespace(rows=rows, seed=args.seed, as_of=args.as_of, python=args.python, regenerate=False, reporter=None, select=None)
    )
    return result


def _finding_count(report: Path) -> int:
    return len(json.loads(report.read_text(encoding="utf-8"))["findings"])


def _snapshot_config(config: Path) -> Path:
    """A copy of ``bench.toml`` in a folder of its own, so that its history store (the default file beside it) is the snapshot's alone.

    Beside ``bench.toml`` the store would make every later audit of the benchmark an audit with history.
    """
    folder = config.parent / "snapshot"
    folder.mkdir(exist_ok=True)
    copy = folder / config.name
    copy.write_text(config.read_text(encoding="utf-8").replace('path = "deals.csv"', 'path = "../deals.csv"'), encoding="utf-8")
    return copy


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def _cell(measured: dict | None) -> str:
    if measured is None:
        return ""
    m = measured["median"]
    load = "" if m.get("load_average") is None else f", load {m['load_average']:.1f}"
    return f"{_seconds(m['wall_s'])} ({_seconds(m['cpu_s'])} CPU), {m['peak_rss_mb']:,.0f} MB{load}"


def markdown_tables(results: list[dict]) -> list[str]:
    """The README's tables: the references, the scaling table, and each size's reporters."""
    lines = [
        "| deals | findings | hygiene | polars script | pandas script | hygiene / polars (wall, CPU, RSS) | hygiene / pandas (wall) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        polars = r.get("polars_ratio")
        pandas = r.get("pandas_ratio")
        versus_polars = f"{polars['wall']:.2f}x, {polars['cpu']:.2f}x, {polars['rss']:.2f}x" if polars else ""
        versus_pandas = f"{pandas['wall']:.2f}x" if pandas else ""
        lines.append(
            f"| {r['rows']:,} | {r['hygiene']['findings']:,} | {_cell(r['hygiene'])} | {_cell(r.get('polars'))} | {_cell(r.get('pandas'))} | {versus_polars} | {versus_pandas} |"
        )
    scaled = [r for r in results if "steps" in r]
    if scaled:
        lines += ["", "| step | " + " | ".join(f"{r['rows']:,} deals" for r in scaled) + " |", "|---|" + "---|" * len(scaled)]
        for step in scaled[0]["steps"]:
            lines.append(f"| {step} | " + " | ".join(_cell(r["steps"].get(step)) for r in scaled) + " |")
        lines.append("| findings (every rule) | " + " | ".join(f"{r['steps']['audit (JSON)']['findings']:,}" for r in scaled) + " |")
    for r in scaled:
        lines += ["", f"Reporters at {r['rows']:,} deals:", "", *_reporter_benchmark().table(r["reporters"])]
    return lines


def verdicts(results: list[dict]) -> list[str]:
    """The issue's targets, met or not."""
    lines = []
    by_rows = {r["rows"]: r for r in results}
    for r in results:
        if "polars_ratio" in r and r["rows"] == 1_000_000:
            ratio = r["polars_ratio"]["wall"]
            lines.append(f"1M deals: hygiene / polars wall {ratio:.2f}x (target <= {TARGET_POLARS_RATIO}x: {'OK' if ratio <= TARGET_POLARS_RATIO else 'MISSED'})")
        if "pandas_ratio" in r:
            ratio = r["pandas_ratio"]["wall"]
            lines.append(f"{r['rows']:,} deals: hygiene / pandas wall {ratio:.2f}x (target <= {TARGET_PANDAS_RATIO}x: {'OK' if ratio <= TARGET_PANDAS_RATIO else 'MISSED'})")
        if "steps" in r:
            ratio = r["steps"]["audit (JSON)"]["median"]["wall_s"] / r["hygiene"]["median"]["wall_s"]
            lines.append(
                f"{r['rows']:,} deals: every built-in rule / the five mission rules, wall {ratio:.2f}x "
                f"(target <= {TARGET_CATALOGUE_RATIO}x: {'OK' if ratio <= TARGET_CATALOGUE_RATIO else 'MISSED'})"
            )
        for reference in ("polars", "pandas"):
            check = r.get(f"{reference}_check")
            if check:
                agree = check["counts_agree"] and check.get("findings_agree", True)
                lines.append(f"{r['rows']:,} deals: every finding of hygiene and the {reference} script {'agrees' if agree else 'DOES NOT agree'}")
                lines += [f"    {problem}" for problem in check.get("differences", [])[:10]]
        if "reporters" in r:
            lines += [f"{r['rows']:,} deals: MISSED {line}" for line in _reporter_benchmark().verdicts(r["reporters"])]
    ten, one = by_rows.get(TEN_MILLION), by_rows.get(1_000_000)
    if ten is not None and "steps" in ten:
        for step in ("audit (JSON)", "audit (all reporters)"):
            rss = ten["steps"][step]["median"]["peak_rss_mb"]
            lines.append(f"10M deals, {step}: peak {rss:,.0f} MB (target <= {TARGET_TEN_MILLION_RSS_MB} MB: {'OK' if rss <= TARGET_TEN_MILLION_RSS_MB else 'MISSED'})")
            if one is not None and "steps" in one:
                scale = ten["steps"][step]["median"]["wall_s"] / one["steps"][step]["median"]["wall_s"]
                lines.append(f"10M deals, {step}: {scale:.1f}x the 1M wall time (target <= {TARGET_TEN_MILLION_SCALE}x: {'OK' if scale <= TARGET_TEN_MILLION_SCALE else 'MISSED'})")
    return lines


def print_table(results: list[dict], help_time: dict, facts: dict) -> None:
    print()
    print(f"machine: {facts['cores']} cores, {facts['memory_gb']} GB, {facts['cpu']}; python {facts['python']}, "
          f"polars {facts['polars']}, pandas {facts['pandas']}, numpy {facts['numpy']}, hygiene {facts['hygiene']}")
    print()
    print("\n".join(markdown_tables(results)))
    print()
    for line in verdicts(results):
        print(line)
    verdict = "OK" if help_time["median_s"] < TARGET_HELP_S else "MISSED"
    print(f"hygiene --help: median {help_time['median_s']:.3f} s of {len(help_time['runs'])} (target < {TARGET_HELP_S} s: {verdict})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = args.rows or [1_000_000]
    if args.ten_million and TEN_MILLION not in sizes:
        sizes = [*sizes, TEN_MILLION]
    hygiene = find_hygiene(args)
    facts = machine_facts(args.python)
    results = [bench_size(args, hygiene, rows) for rows in sizes]

    for _ in range(2):  # warm the import caches
        timed([hygiene, "--help"])
    if args.quiet_wait:
        wait_for_quiet(args.quiet_wait)
    help_runs = [timed([hygiene, "--help"])["wall_s"] for _ in range(args.help_repeat)]
    help_time = {"median_s": statistics.median(help_runs), "runs": help_runs}

    print_table(results, help_time, facts)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "latest.md").write_text("\n".join(markdown_tables(results)) + "\n", encoding="utf-8")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")  # a results file name, not data: the clock is fine here
    document = {
        "when": stamp,
        "machine": facts,
        "targets": {
            "ratio_to_polars": TARGET_POLARS_RATIO,
            "ten_million_peak_rss_mb": TARGET_TEN_MILLION_RSS_MB,
            "ten_million_scale": TARGET_TEN_MILLION_SCALE,
            "reporter_peak_mb": _reporter_benchmark().TARGET_PEAK_MB,
            "reporter_ratio_to_json": _reporter_benchmark().TARGET_RATIO_TO_JSON,
            "ratio_to_pandas": TARGET_PANDAS_RATIO,
            "ratio_catalogue": TARGET_CATALOGUE_RATIO,
            "help_s": TARGET_HELP_S,
        },
        "seed": args.seed,
        "as_of": args.as_of,
        "repeat": args.repeat,
        "results": results,
        "help": help_time,
    }
    text = json.dumps(document, indent=2) + "\n"
    name = f"bench-{'-'.join(str(r) for r in sizes)}-{stamp}.json"
    (args.results / name).write_text(text, encoding="utf-8")
    (args.results / "latest.json").write_text(text, encoding="utf-8")
    print(f"results: {(args.results / name).relative_to(REPO) if args.results.is_relative_to(REPO) else args.results / name}")
    checks = [r[key] for r in results for key in ("polars_check", "pandas_check") if key in r]
    ok = all(c["counts_agree"] and c.get("findings_agree", True) for c in checks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
