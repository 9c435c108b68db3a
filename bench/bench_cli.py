"""Command-line benchmark: what a `geosource` call costs with and without the disk cache.

Measures, in the same run and on the same machine, each case as its own process (wall time
from start to exit, and the process's own peak RSS from ``os.wait4``):
  * ``python -c "import geosource"``: the baseline every command pays;
  * ``geosource paths -m lithium --to IND --no-cache``: layers loaded and validated, graph built;
  * ``geosource paths -m lithium --to IND``: layers and graph read from the cache (after one
    warm-up call that writes it);
  * ``geosource report examples/report.toml -o <tmp>`` (cached; fewer repetitions, or none with
    ``--skip-report``).
The cache lives in a temporary folder (``GEOSOURCE_CACHE_DIR``): the user's cache is never
touched. Prints medians over repetitions and each median against the baseline. Figures are
noisy on shared machines: compare ratios, not absolute times, across runs.

    python bench/bench_cli.py [--reps 5] [--report-reps 2] [--skip-report]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["paths", "-m", "lithium", "--to", "IND"]


def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of ``cmd``; exits on a failed run."""
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode(errors='replace')}")
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def measure(cmd: list[str], env: dict[str, str], reps: int) -> tuple[float, float]:
    """Median wall seconds and largest peak RSS (MB) over ``reps`` runs."""
    runs = [run_once(cmd, env) for _ in range(reps)]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--report-reps", type=int, default=2)
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    geosource = [sys.executable, "-m", "geosource.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GEOSOURCE_CACHE_DIR": str(Path(tmp) / "cache")}
        cases = [
            ("import geosource (baseline)", [sys.executable, "-c", "import geosource"], args.reps),
            ("paths, uncached (--no-cache)", [*geosource, *PATHS, "--no-cache"], args.reps),
            ("paths, cached", [*geosource, *PATHS], args.reps),
        ]
        if not args.skip_report:
            report = [*geosource, "report", "examples/report.toml", "-o", f"{tmp}/report"]
            cases.append(("report examples/report.toml, cached", report, args.report_reps))
        run_once([*geosource, *PATHS], env)  # warm-up: writes the cache
        results = [(name, reps, *measure(cmd, env, reps)) for name, cmd, reps in cases]
    base = results[0][2]
    print("each case in its own process; median wall time, largest peak RSS")
    for name, reps, seconds, rss in results:
        ratio = seconds / base
        print(f"{name:<38} {seconds:7.2f} s  {ratio:5.1f}x baseline  {rss:6.0f} MB  ({reps} runs)")
    by = {name: seconds for name, _, seconds, _ in results}
    uncached, cached = by["paths, uncached (--no-cache)"], by["paths, cached"]
    saved = uncached - cached
    print(f"paths: cached is {uncached / cached:.1f}x faster ({saved:.2f} s saved per call)")


if __name__ == "__main__":
    main()
