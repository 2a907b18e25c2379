"""What each built-in rule costs on its own, on the benchmark's export (issue 12).

    python tests/bench/rule_costs.py                      # 1,000,000 deals
    python tests/bench/rule_costs.py --rows 100000 --rounds 3
    python tests/bench/rule_costs.py --only HY014,HY027   # some rules only

The export is read, normalised and prepared once, as ``hygiene audit``
does (the benchmark's ``bench.toml``, no history store); then the engine
(``evaluate_rules``) runs with no rule at all, with each built-in rule
alone, with the five mission rules and with every rule. A rule's cost is
its run's wall and CPU seconds (all of polars' threads) minus those of the
run with no rule, which is the engine's fixed work (stage columns, the
pipeline table, the deal groups). The part spent turning flagged deals
into findings (``hygiene.audit.findings.finish``: fingerprints, the report
order) is shown apart, because it grows with the number of findings rather
than with the rule's expression. With ``--rounds`` above 1 each figure is
the median of the rounds, the rules taken in turn within each round (A, B,
C, A, B, C, ...), so that a machine getting busier affects all alike.

The table is sorted by wall seconds, most expensive first; the load
average is printed before and after. On a shared machine read the shares.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run_benchmark  # noqa: E402  (the benchmark's data)

MISSION_RULES = tuple(run_benchmark.MISSION_RULES)


def _timer():
    return time.perf_counter(), time.process_time()


def _since(start) -> tuple[float, float]:
    wall, cpu = _timer()
    return wall - start[0], cpu - start[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Each built-in rule's cost alone, on the benchmark's export.")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="rounds (default: %(default)s); medians are reported")
    parser.add_argument("--seed", type=int, default=run_benchmark.DEFAULT_SEED)
    parser.add_argument("--as-of", default=run_benchmark.DEFAULT_AS_OF)
    parser.add_argument("--python", default=sys.executable, help="the Python that generates missing data (default: this one)")
    parser.add_argument("--only", help="comma-separated rule codes or names to time (default: every built-in rule)")
    parser.add_argument("--no-groups", action="store_true", help="skip the five-rule and every-rule runs")
    parser.add_argument("--profile", metavar="FILE", help="also profile one every-rule run with pyinstrument and write its text here")
    args = parser.parse_args(argv)
    args.regenerate = False

    import datetime as dt

    import hygiene.audit.engine as engine
    from hygiene.audit.run import AuditOptions, read_deals, stage_table, with_history, with_roster_and_currency
    from hygiene.audit.engine import AuditInputs, evaluate_rules
    from hygiene.audit.run import _report_period as report_period
    from hygiene.commands.session import load_session
    from hygiene.config.presets import apply_preset
    from hygiene.config.selection import configure_rules

    csv, config_path = run_benchmark.ensure_data(args, args.rows)
    load_before = os.getloadavg()
    start = _timer()
    os.chdir(csv.parent)
    session = load_session(str(config_path))
    config = apply_preset(session.config, session.registry)
    options = AuditOptions(as_of=dt.date.fromisoformat(args.as_of), source_path=str(csv))
    every = configure_rules(config, session.registry.rules)
    deals = read_deals(config, session.registry, options.source_path)
    stages = stage_table(config)
    frame, _ = with_history(deals, options.as_of, stages, None)
    frame, _, _ = with_roster_and_currency(config, session.registry, frame, deals.location)
    read_wall, read_cpu = _since(start)
    print(f"{frame.height:,} deals read and normalised in {read_wall:.1f} s wall, {read_cpu:.1f} s CPU", flush=True)

    def inputs_for(rules):
        period = report_period(rules or every, options.as_of, config.fiscal_year_start_month)
        return AuditInputs(
            as_of=options.as_of,
            period=period,
            stages=stages,
            quotas=dict(config.quotas),
            invalid_values=deals.invalid_values,
            duplicate_rows=deals.duplicate_rows,
            extra_columns=deals.extra_columns,
            fiscal_year_start_month=config.fiscal_year_start_month,
            source_fields=deals.column_for_field,
        )

    # Time spent in finish() (fingerprints, the report order), measured around the engine's own call.
    finish_time = [0.0, 0.0]
    original_finish = engine.finish

    def timed_finish(*a, **k):
        began = _timer()
        try:
            return original_finish(*a, **k)
        finally:
            wall, cpu = _since(began)
            finish_time[0] += wall
            finish_time[1] += cpu

    engine.finish = timed_finish

    wanted = None if not args.only else {part.strip() for part in args.only.split(",") if part.strip()}
    singles = [(c.code, c.name, [c]) for c in every if wanted is None or c.code in wanted or c.name in wanted]
    runs = [("(no rule)", "the engine's fixed work", [])] + singles
    if not args.no_groups:
        runs += [
            ("five", "the five mission rules", [c for c in every if c.code in MISSION_RULES]),
            ("every", f"every built-in rule ({len(every)})", every),
        ]

    figures: dict[str, list[tuple[float, float, float, float, int]]] = {label: [] for label, _, _ in runs}
    # One untimed run first: polars' first collection of a table pays for its thread pool and caches.
    evaluate_rules(frame, [], inputs_for([]))
    for _ in range(args.rounds):
        for label, _, rules in runs:
            finish_time[:] = [0.0, 0.0]
            began = _timer()
            run = evaluate_rules(frame, rules, inputs_for(rules))
            wall, cpu = _since(began)
            figures[label].append((wall, cpu, finish_time[0], finish_time[1], run.findings.height))
    load_after = os.getloadavg()
    if args.profile:
        from pyinstrument import Profiler

        with Profiler(interval=0.005) as profiler:
            evaluate_rules(frame, every, inputs_for(every))
        Path(args.profile).write_text(profiler.output_text(unicode=False, show_all=False), encoding="utf-8")
        print(f"profile of one every-rule run written to {args.profile}")

    def median(label: str, index: int) -> float:
        return statistics.median(values[index] for values in figures[label])

    base_wall, base_cpu = median("(no rule)", 0), median("(no rule)", 1)
    print(
        f"{frame.height:,} deals, {args.rounds} round(s); load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
        f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}"
    )
    print(f"the engine's fixed work (no rule): {base_wall:.2f} s wall, {base_cpu:.2f} s CPU; rule figures below are net of it")
    header = f"{'code':<7} {'rule':<30} {'findings':>9} {'wall s':>7} {'CPU s':>7} {'of which findings wall/CPU':>27}"
    print(header)
    print("-" * len(header))
    rows = []
    for label, name, _ in runs[1:]:
        rows.append(
            (
                label,
                name,
                int(median(label, 4)),
                median(label, 0) - base_wall,
                median(label, 1) - base_cpu,
                median(label, 2),
                median(label, 3),
            )
        )
    singles_rows = sorted((row for row in rows if row[0] not in ("five", "every")), key=lambda row: -row[3])
    for code, name, findings, wall, cpu, fwall, fcpu in singles_rows + [row for row in rows if row[0] in ("five", "every")]:
        print(f"{code:<7} {name[:30]:<30} {findings:>9,} {wall:>7.2f} {cpu:>7.2f} {fwall:>13.2f} / {fcpu:.2f}")
    if not args.no_groups and len(singles) == len(every):
        total_wall = sum(row[3] for row in singles_rows)
        total_cpu = sum(row[4] for row in singles_rows)
        print(f"sum of the rules alone: {total_wall:.2f} s wall, {total_cpu:.2f} s CPU (every rule together runs their plans in one pass)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
