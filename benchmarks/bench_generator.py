"""Benchmark the synthetic population generator (khm.engines.synth).

    python benchmarks/bench_generator.py [--people 1000000] [--seed 1] [--villages-csv PATH]

Without ``--villages-csv`` the villages are a synthetic Kalasin: 1,584 village codes under
135 subdistricts in 18 districts (the province's real counts), with made-up but fixed
subdistrict populations. A CSV needs the columns ``code,subdistrict_code``; its villages
get equal subdistrict populations (so equal weights within a subdistrict).

Households are streamed and dropped, so the peak RSS measures the generator itself
(name corpora, ID counters), not a million retained objects. Prints a Markdown table;
the CPU-seconds column stays meaningful when other work shares the machine.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import time
from pathlib import Path

from khm.engines.synth import VillageWeight, generate, village_weights_from_population

DISTRICTS = 18
SUBDISTRICTS = 135
VILLAGES = 1_584


def _share(total: int, parts: int, index: int) -> int:
    """Size of part `index` when `total` items are split into `parts` near-equal parts."""
    return (index + 1) * total // parts - index * total // parts


def synthetic_villages(seed: int = 0) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(village_code, subdistrict_code) pairs and subdistrict populations for Kalasin."""
    rnd = random.Random(seed)
    # Spread 135 subdistricts over 18 districts and 1,584 villages over the subdistricts
    # as evenly as the counts allow (7-8 subdistricts per district, 11-12 villages each).
    subdistricts = [
        f"46{district:02d}{number:02d}"
        for district in range(1, DISTRICTS + 1)
        for number in range(1, _share(SUBDISTRICTS, DISTRICTS, district - 1) + 1)
    ]
    villages: list[tuple[str, str]] = []
    for i, sub in enumerate(subdistricts):
        villages += [(f"{sub}{v:02d}", sub) for v in range(1, _share(VILLAGES, SUBDISTRICTS, i) + 1)]
    # Kalasin averages ~7,200 people per subdistrict; vary it realistically.
    population = {sub: int(rnd.lognormvariate(8.8, 0.35)) for sub in subdistricts}
    return villages, population


def read_villages(path: Path) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["code"].strip(), row["subdistrict_code"].strip()) for row in csv.DictReader(fh)]


def peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def run(weights: list[VillageWeight], people: int, seed: int) -> tuple[int, int, float, float]:
    """Households, people, wall seconds and CPU seconds (the latter is robust on a busy box)."""
    households = persons = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for household in generate(villages=weights, people=people, seed=seed):
        households += 1
        persons += len(household.members)
    return households, persons, time.perf_counter() - start, time.process_time() - cpu_start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--villages-csv", type=Path, help="CSV with columns code,subdistrict_code")
    args = parser.parse_args(argv)

    population: dict[str, int] = {}
    if args.villages_csv:
        villages = read_villages(args.villages_csv)
    else:
        villages, population = synthetic_villages()
    weights = village_weights_from_population(villages, population)
    households, persons, seconds, cpu_seconds = run(weights, args.people, args.seed)
    assert persons == args.people, (persons, args.people)

    print(f"villages: {len(weights):,}  subdistricts: {len({s for _, s in villages}):,}  seed: {args.seed}")
    print()
    print("| people | households | persons/household | seconds | CPU seconds | people/s | peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {persons:,} | {households:,} | {persons / max(households, 1):.2f} | {seconds:.2f} | {cpu_seconds:.2f} "
        f"| {persons / seconds:,.0f} | {peak_rss_mib():.0f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
