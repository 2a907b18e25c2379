"""Benchmark ``hygiene audit`` against a hand-written pandas script, as whole processes.

    python tests/bench/run_benchmark.py                      # 1,000,000 deals, 3 runs each
    python tests/bench/run_benchmark.py --rows 100000 --rows 1000000
    python tests/bench/run_benchmark.py --rows 20000 --repeat 1   # a quick smoke run

For each size it generates the data when missing (``generate_deals.py``,
into ``tests/bench/data/<rows>/``), then runs, ``--repeat`` times each
after one untimed warm-up run:

- ``hygiene audit deals.csv --config bench.toml --as-of D --select HY001,...,HY005 --format json --output hygiene.json``
  (the five mission rules, which the pandas script implements too);
- ``python pandas_audit.py deals.csv --config bench.toml --as-of D --output pandas.json``;
- ``hygiene audit deals.csv --config bench.toml --as-of D --format json --output catalogue.json``
  (every built-in rule: the catalogue's cost against the mission rules').

Each run is a fresh process: wall time is measured with
``time.perf_counter`` around spawn-to-exit, peak RSS is the child's
``ru_maxrss`` from ``os.wait4``. It also times ``hygiene --help`` (median of
``--help-repeat`` runs). The medians, the hygiene/pandas ratio and the
contract's targets (issue 2, section 12: hygiene <= 0.5x pandas' wall time,
peak RSS <= 600 MB, ``--help`` < 0.3 s) are printed as a table and written
as JSON to ``tests/bench/results/`` (git-ignored).

Unless ``--check none``, the two reports are compared after the warm-up:
finding counts per rule must agree, and with ``--check full`` (default)
every finding too (same code, deal id, owner, message, details; owner
totals of HY004 within a cent, since float sums may differ in the last
bit), in the same order. A disagreement makes the exit code 1.
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
DEFAULT_SEED = 42
DEFAULT_AS_OF = "2026-03-15"
TARGET_RATIO = 0.5
TARGET_RSS_MB = 600
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
    parser.add_argument("--skip-pandas", action="store_true", help="time hygiene only")
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
    return median


def measure(name: str, command: list[str], args: argparse.Namespace, ok_codes=(0,)) -> dict:
    for _ in range(args.warmup):
        timed(command, ok_codes=ok_codes)
    runs = []
    for index in range(args.repeat):
        if args.quiet_wait:
            wait_for_quiet(args.quiet_wait)
        run = timed(command, ok_codes=ok_codes)
        runs.append(run)
        noisy = f"  (other processes used {run['foreign_cores']:.1f} cores meanwhile)" if (run["foreign_cores"] or 0) > 0.2 else ""
        print(f"  {name:<8} run {index + 1}/{args.repeat}: {run['wall_s']:6.2f} s  {run['cpu_s']:6.2f} CPU s  {run['peak_rss_mb']:7.0f} MB{noisy}", file=sys.stderr)
    return {"command": command, "runs": runs, "median": median_of(runs)}


# -- data ----------------------------------------------------------------------------------------


def generator_version() -> int:
    """``GENERATOR_VERSION`` of generate_deals.py: data written by another version is written again."""
    match = re.search(r"^GENERATOR_VERSION = (\d+)$", GENERATOR.read_text(encoding="utf-8"), re.MULTILINE)
    return int(match.group(1))


def ensure_data(args: argparse.Namespace, rows: int) -> tuple[Path, Path]:
    folder = DATA / str(rows)
    csv, config, meta_path = folder / "deals.csv", folder / "bench.toml", folder / "meta.json"
    wanted = {"rows": rows, "seed": args.seed, "as_of": args.as_of, "generator_version": generator_version()}
    fresh = False
    if csv.exists() and config.exists() and meta_path.exists() and not args.regenerate:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        fresh = all(meta.get(k) == v for k, v in wanted.items()) and meta.get("bytes") == csv.stat().st_size
    if not fresh:
        print(f"generating {rows:,} deals into {folder.relative_to(REPO)} ...", file=sys.stderr)
        subprocess.run(
            [args.python, str(GENERATOR), "--rows", str(rows), "--seed", str(args.seed), "--as-of", args.as_of, "--output", str(csv)],
            check=True,
        )
    return csv, config


# -- comparing the reports -----------------------------------------------------------------------


def compare(hygiene_report: dict, pandas_report: dict, full: bool) -> dict:
    """Counts per rule, and (``full``) the findings themselves, in order."""
    rules = MISSION_RULES
    h_counts = {code: 0 for code in rules}
    p_counts = dict(h_counts)
    for finding in hygiene_report["findings"]:
        h_counts[finding["code"]] = h_counts.get(finding["code"], 0) + 1
    for finding in pandas_report["findings"]:
        p_counts[finding["code"]] = p_counts.get(finding["code"], 0) + 1
    result = {
        "hygiene_by_rule": h_counts,
        "pandas_by_rule": p_counts,
        "counts_agree": h_counts == p_counts,
    }
    if not full:
        return result
    problems: list[str] = []
    h, p = hygiene_report["findings"], pandas_report["findings"]
    for index, (a, b) in enumerate(zip(h, p)):
        where = f"finding {index} ({a['code']} {a['deal_id'] or a['owner']})"
        for key in ("code", "deal_id", "owner", "message"):
            if a[key] != b[key]:
                problems.append(f"{where}: {key} {a[key]!r} (hygiene) != {b[key]!r} (pandas)")
                break
        else:
            if not _same_details(a["details"], b["details"], cents=a["code"] == "HY004"):
                problems.append(f"{where}: details {a['details']} (hygiene) != {b['details']} (pandas)")
        if len(problems) >= 20:
            break
    if len(h) != len(p):
        problems.append(f"hygiene has {len(h)} findings, pandas {len(p)}")
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
    hygiene_json, pandas_json = out / "hygiene.json", out / "pandas.json"
    audit = [hygiene, "audit", str(csv), "--config", str(config), "--as-of", args.as_of, "--format", "json"]
    hygiene_cmd = [*audit, "--select", ",".join(MISSION_RULES), "--output", str(hygiene_json)]
    catalogue_json = out / "catalogue.json"
    catalogue_cmd = [*audit, "--output", str(catalogue_json)]
    pandas_cmd = [args.python, str(PANDAS_SCRIPT), str(csv), "--config", str(config), "--as-of", args.as_of, "--output", str(pandas_json)]
    print(f"{rows:,} deals ({csv.stat().st_size / 1e6:.0f} MB CSV)", file=sys.stderr)
    result: dict = {"rows": rows, "csv_mb": round(csv.stat().st_size / 1e6, 1)}
    # hygiene exits 1 when it finds errors, which is the point of the data.
    result["hygiene"] = measure("hygiene", hygiene_cmd, args, ok_codes=(0, 1))
    hygiene_report = json.loads(hygiene_json.read_text(encoding="utf-8"))
    result["hygiene"]["findings"] = len(hygiene_report["findings"])
    result["catalogue"] = measure("catalogue", catalogue_cmd, args, ok_codes=(0, 1))
    result["catalogue"]["findings"] = len(json.loads(catalogue_json.read_text(encoding="utf-8"))["findings"])
    result["ratio_catalogue"] = result["catalogue"]["median"]["wall_s"] / result["hygiene"]["median"]["wall_s"]
    if not args.skip_pandas:
        result["pandas"] = measure("pandas", pandas_cmd, args)
        pandas_report = json.loads(pandas_json.read_text(encoding="utf-8"))
        result["pandas"]["findings"] = len(pandas_report["findings"])
        result["ratio_wall"] = result["hygiene"]["median"]["wall_s"] / result["pandas"]["median"]["wall_s"]
        result["ratio_cpu"] = result["hygiene"]["median"]["cpu_s"] / result["pandas"]["median"]["cpu_s"]
        result["ratio_rss"] = result["hygiene"]["median"]["peak_rss_mb"] / result["pandas"]["median"]["peak_rss_mb"]
        if args.check != "none":
            result["check"] = compare(hygiene_report, pandas_report, full=args.check == "full")
    return result


def print_table(results: list[dict], help_time: dict, facts: dict) -> None:
    print()
    print(f"machine: {facts['cores']} cores, {facts['memory_gb']} GB, {facts['cpu']}; python {facts['python']}, "
          f"polars {facts['polars']}, pandas {facts['pandas']}, numpy {facts['numpy']}, hygiene {facts['hygiene']}")
    header = f"{'rows':>10}  {'tool':<8} {'findings':>9}  {'wall s':>7}  {'CPU s':>7}  {'peak RSS MB':>11}  {'other load':>10}"
    print(header)
    print("-" * len(header))
    for result in results:
        for tool in ("hygiene", "pandas", "catalogue"):
            if tool not in result:
                continue
            m = result[tool]["median"]
            foreign = "" if m["max_foreign_cores"] is None else f"{m['max_foreign_cores']:.2f} cores"
            print(f"{result['rows']:>10,}  {tool:<8} {result[tool]['findings']:>9,}  {m['wall_s']:>7.2f}  {m['cpu_s']:>7.2f}  {m['peak_rss_mb']:>11.0f}  {foreign:>10}")
        if "ratio_wall" in result:
            rss = result["hygiene"]["median"]["peak_rss_mb"]
            verdict = "OK" if result["ratio_wall"] <= TARGET_RATIO else "MISSED"
            rss_verdict = "OK" if rss <= TARGET_RSS_MB else "MISSED"
            print(f"{'':>10}  hygiene/pandas wall {result['ratio_wall']:.2f}x (target <= {TARGET_RATIO}x: {verdict}), "
                  f"CPU {result['ratio_cpu']:.2f}x, RSS {result['ratio_rss']:.2f}x; hygiene RSS {rss:.0f} MB (target <= {TARGET_RSS_MB}: {rss_verdict})")
        if "ratio_catalogue" in result:
            verdict = "OK" if result["ratio_catalogue"] <= TARGET_CATALOGUE_RATIO else "MISSED"
            print(f"{'':>10}  every built-in rule / the five mission rules: wall {result['ratio_catalogue']:.2f}x (target <= {TARGET_CATALOGUE_RATIO}x: {verdict})")
        check = result.get("check")
        if check:
            agree = "agree" if check["counts_agree"] else "DISAGREE"
            line = f"{'':>10}  findings per rule {agree}: " + ", ".join(f"{c} {n}" for c, n in check["hygiene_by_rule"].items())
            if not check["counts_agree"]:
                line += " (pandas: " + ", ".join(f"{c} {n}" for c, n in check["pandas_by_rule"].items()) + ")"
            if "findings_agree" in check:
                line += "; every finding " + ("agrees" if check["findings_agree"] else "DOES NOT agree")
            print(line)
            for problem in check.get("differences", [])[:10]:
                print(f"{'':>12}{problem}")
    verdict = "OK" if help_time["median_s"] < TARGET_HELP_S else "MISSED"
    print(f"hygiene --help: median {help_time['median_s']:.3f} s of {len(help_time['runs'])} (target < {TARGET_HELP_S} s: {verdict})")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = args.rows or [1_000_000]
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
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")  # a results file name, not data: the clock is fine here
    document = {
        "when": stamp,
        "machine": facts,
        "targets": {"ratio_wall": TARGET_RATIO, "peak_rss_mb": TARGET_RSS_MB, "help_s": TARGET_HELP_S, "ratio_catalogue": TARGET_CATALOGUE_RATIO},
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
    checks = [r["check"] for r in results if "check" in r]
    ok = all(c["counts_agree"] and c.get("findings_agree", True) for c in checks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
