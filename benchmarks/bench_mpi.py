"""Benchmark of the multidimensional poverty index (khm.engines.mpi and ``khm mpi``).

    python benchmarks/bench_mpi.py --units 1000000 --seed 1 [--repeat 3] [--out DIR]

1. Generates (or reuses) a synthetic TPMAP-like table: UNITS households of a Kalasin-like
   province (18 districts, ~150 subdistricts, ~1,800 villages, 8-digit DOPA village codes),
   the 17 TPMAP indicators in 5 dimensions (BMN 2560–2564 numbers: health 1 4 5 7, living
   8 9 10 11, education 15 16 17 19, income 20 21 22, access 27 28) as 0/1 with ≈0.2 %
   missing cells, correlated through a household poverty level and a village effect; sex,
   age of head, household size and a sample weight (= household size: people, not
   households). Also a second round (deprivations ≈15 % rarer) for ``--compare``.
   WEIGHTS.json: five dimensions of weight 1/5, equal shares inside; k = 1/3.
2. Times, each the median of ``--repeat`` runs:
   * the engine on the frame in memory (``compute``): overall only, and with every area
     level (district, subdistrict, village) + sex of head + age of head (4 bins) +
     household size, with the sample weight;
   * reading + checking the CSV (``read_deprivations``);
   * the CLI in this process (``khm.cli.main``: read + check + compute + hash + write JSON);
   * the installed console script ``khm mpi`` as a subprocess (adds interpreter start and
     imports), one round and two rounds (``--compare --years 2``).
3. Prints a Markdown table (also written to ``OUT/report.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import peak_rss_mib

from khm.cli import main as cli_main
from khm.engines import mpi

DIMENSIONS = {
    "health": ["bmn01", "bmn04", "bmn05", "bmn07"],
    "living": ["bmn08", "bmn09", "bmn10", "bmn11"],
    "education": ["bmn15", "bmn16", "bmn17", "bmn19"],
    "income": ["bmn20", "bmn21", "bmn22"],
    "access": ["bmn27", "bmn28"],
}
# Rough prevalence of each deprivation among households (TPMAP-like: rare, a few common).
PREVALENCE = [0.02, 0.04, 0.03, 0.12, 0.06, 0.05, 0.04, 0.08, 0.03, 0.02, 0.05, 0.07, 0.10, 0.06, 0.15, 0.03, 0.02]
BY = ["area_code[:4]", "area_code[:6]", "area_code", "sex_head", "age_head:25,40,60", "hh_size"]
AREA_BY = ["area_code[:4]", "area_code[:6]", "area_code"]


def villages(rng: np.random.Generator) -> np.ndarray:
    codes = []
    for district in range(1, 19):
        for sub in range(1, int(rng.integers(5, 13)) + 1):
            codes += [f"46{district:02d}{sub:02d}{moo:02d}" for moo in range(1, int(rng.integers(6, 19)) + 1)]
    return np.array(codes)


def synthesise(units: int, seed: int, shift: float = 0.0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    codes = villages(rng)
    village = rng.integers(0, len(codes), units)
    village_effect = rng.normal(0, 0.5, len(codes))[village]
    level = rng.normal(0, 1, units) + village_effect  # latent poverty of the household
    rng2 = np.random.default_rng(seed + 1000 if shift else seed + 1)  # round 2: new draws
    cols: dict[str, object] = {"id": [f"h{i:07d}" for i in range(units)], "area_code": codes[village]}
    names = [i for inds in DIMENSIONS.values() for i in inds]
    for name, p in zip(names, PREVALENCE, strict=True):
        base = np.log(p / (1 - p)) - 0.5 - shift
        prob = 1 / (1 + np.exp(-(base + 1.2 * level)))
        values = (rng2.random(units) < prob).astype(np.float64)
        values[rng2.random(units) < 0.002] = np.nan
        cols[name] = values
    cols["sex_head"] = np.where(rng.random(units) < 0.42, "F", "M")
    cols["age_head"] = np.clip(rng.normal(52, 14, units), 18, 99).astype(np.int64)
    size = np.clip(rng.poisson(2.1, units) + 1, 1, 12)
    cols["hh_size"] = size
    cols["weight"] = size.astype(np.float64)
    df = pl.DataFrame(cols)
    return df.with_columns([pl.col(n).fill_nan(None).cast(pl.Int8) for n in names])


def make_files(units: int, seed: int, out: Path) -> tuple[Path, Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    round1, round2, weights = out / "round1.csv", out / "round2.csv", out / "weights.json"
    if not (round1.exists() and round2.exists() and weights.exists()):
        started = time.perf_counter()
        synthesise(units, seed).write_csv(round1)
        synthesise(units, seed, shift=0.15).write_csv(round2)
        weights.write_text(json.dumps({"name": "TPMAP-like", "dimensions": DIMENSIONS}, indent=1), encoding="utf-8")
        sys.stderr.write(f"generated {units:,} units x 2 rounds in {time.perf_counter() - started:.1f} s\n")
    return round1, round2, weights


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall time and median CPU time of ``repeat`` runs. On a shared machine the wall
    time grows with the load; the CPU time barely does."""
    walls, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).resolve().parent / "out" / f"mpi-{args.units}-seed{args.seed}"
    round1, round2, weights_path = make_files(args.units, args.seed, out)
    load_before = os.getloadavg()[0]
    weights = mpi.load_weights(weights_path)
    k = mpi.parse_k("1/3")
    size_mb = round1.stat().st_size / 1e6

    rows: list[tuple[str, str, tuple[float, float], str]] = []

    def add(what: str, groups: str, seconds: tuple[float, float], note: str = "") -> None:
        rows.append((what, groups, seconds, note))
        sys.stderr.write(f"{what} [{groups}]: {seconds[0]:.2f} s wall, {seconds[1]:.2f} s CPU {note}\n")

    read_s = timed(lambda: mpi.read_deprivations(round1, weights, sample_weight="weight", by=BY), args.repeat)
    add("read + check CSV (`read_deprivations`)", "6 breakdowns' columns", read_s, f"{size_mb:.0f} MB")
    df = mpi.read_deprivations(round1, weights, sample_weight="weight", by=BY)
    prep_s = timed(lambda: mpi.prepare(df, weights, id_column="id", sample_weight="weight", by=BY), args.repeat)
    add("check a frame in memory (`prepare`)", "—", prep_s)
    s = timed(lambda: mpi.compute(df, weights, k, sample_weight="weight", check=False), args.repeat)
    add("engine (`compute`)", "overall only", s)
    s = timed(lambda: mpi.compute(df, weights, k, by=AREA_BY, sample_weight="weight", check=False), args.repeat)
    add("engine (`compute`)", "overall + 3 area levels", s)
    result: dict[str, Any] = {}

    def full() -> None:
        result.update(mpi.compute(df, weights, k, by=BY, sample_weight="weight", check=False))

    s = timed(full, args.repeat)
    groups = sum(len(v) for v in result["by"].values())
    add("engine (`compute`)", "overall + 3 area levels + sex, age, size", s, f"{groups:,} groups")

    target = out / "result.json"
    cli_args = ["mpi", str(round1), "--weights", str(weights_path), "--k", "1/3", "--sample-weight", "weight"]
    cli_args += ["--by", *BY, "--out", str(target), "-q"]
    s = timed(lambda: cli_main(cli_args), args.repeat)
    add(
        "CLI in process (read + check + compute + write)",
        "all 6 breakdowns",
        s,
        f"JSON {target.stat().st_size / 1e6:.1f} MB",
    )

    khm = Path(sys.executable).parent / "khm"
    s = timed(lambda: subprocess.run([str(khm), *cli_args], check=True), args.repeat)
    add("`khm mpi` subprocess, one round", "all 6 breakdowns", s, "incl. Python start + imports")
    two = [*cli_args[:-3], "--out", str(out / "change.json"), "-q", "--compare", str(round2), "--years", "2"]
    s = timed(lambda: subprocess.run([str(khm), *two], check=True), args.repeat)
    add("`khm mpi --compare` subprocess, two rounds", "all 6 breakdowns", s, "incl. Python start + imports")

    overall = result["overall"]
    change = json.loads((out / "change.json").read_text())["change"]["overall"]["M0"]
    cpu = platform.processor() or platform.machine()
    lines = [
        f"MPI benchmark: {args.units:,} units, 17 indicators in 5 dimensions, k = 1/3, sample weight = household "
        f"size; median of {args.repeat} runs; {os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"polars {pl.__version__}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"peak RSS {peak_rss_mib():,.0f} MiB (this process).",
        "",
        "| step | breakdowns | wall s | CPU s | note |",
        "|---|---|---:|---:|---|",
        *[f"| {w} | {g} | {s[0]:.2f} | {s[1]:.2f} | {n} |" for w, g, s, n in rows],
        "",
        f"Result: H {overall['H']:.4f}, A {overall['A']:.4f}, M0 {overall['M0']:.4f} "
        f"({overall['n_dropped_missing']:,} units left out for missing values); "
        f"round 2: ΔM0 {change['absolute']:+.4f} ({change['annualised_absolute']:+.4f} a year).",
    ]
    report = "\n".join(lines)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    sys.stdout.write(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
