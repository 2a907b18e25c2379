"""Benchmark ``hygiene forecast`` on a synthetic export (1,000,000 deals by default).

    python tests/bench/forecast_benchmark.py                 # 1M deals: generates tests/bench/data/1000000/ if absent
    python tests/bench/forecast_benchmark.py --rows 100000 --runs 5

Runs the whole process, ``hygiene forecast -c bench.toml --as-of AS_OF
--format json --output FILE``, once to warm up and then ``--runs`` times,
and prints the median wall time and the JSON's size. The data is the audit
benchmark's (``generate_deals.py``, seeded), with a quota for every owner,
so every figure (lead-generation need and plan B included) is computed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
HYGIENE = Path(sys.executable).with_name("hygiene")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    folder = HERE / "data" / str(args.rows)
    if not (folder / "meta.json").is_file():
        subprocess.run([sys.executable, str(HERE / "generate_deals.py"), "--rows", str(args.rows)], check=True)
    as_of = json.loads((folder / "meta.json").read_text(encoding="utf-8"))["as_of"]
    output = HERE / "results" / f"forecast-{args.rows}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [str(HYGIENE), "forecast", "-c", str(folder / "bench.toml"), "--as-of", as_of, "--format", "json", "--output", str(output)]
    times = []
    for run in range(args.runs + 1):
        start = time.perf_counter()
        subprocess.run(command, check=True)
        if run:  # the first run warms the page cache
            times.append(time.perf_counter() - start)
    print(f"hygiene forecast, {args.rows:,} deals: median {statistics.median(times):.2f} s over {args.runs} runs ({', '.join(f'{t:.2f}' for t in times)}); JSON {output.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
