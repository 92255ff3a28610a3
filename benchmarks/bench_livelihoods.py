"""Benchmark of livelihood matching and impact (khm.engines.matching) at province scale.

    python benchmarks/bench_livelihoods.py [--households 320000] [--linked 10000] [--seed 1] [--repeat 3]

Synthetic Kalasin-like households (18 districts, 10 subdistricts each, 10 villages each;
random capitals on the 1–4 scale, levels, 1–6 members with age, occupation, education) and
income periods. Times, median of ``--repeat`` runs, in one process:

1. **Suggest households for one need** over one district (about HOUSEHOLDS / 18).
2. **Suggest households for every need** of 100 enterprises spread over the province (each
   against its own district).
3. **Suggest enterprises for one household** against the 300 needs of the province.
4. **Impact** (``compare``): LINKED linked households against a pool of 5 × LINKED
   never-linked households of the same districts, each with a baseline and a follow-up.

Prints a Markdown table with the machine. Engine only: the Django read of the same data
(``khm.livelihoods.selectors``) adds the queries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from khm.engines import matching as m  # noqa: E402

OCCUPATIONS = ["farmer", "farm_labourer", "general_labourer", "unemployed", "", "trader", "student", "company"]
EDUCATION = ["primary", "lower_secondary", "upper_secondary", "vocational", "none", "bachelor"]
BASE = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
FOLLOW = (dt.date(2025, 1, 1), dt.date(2025, 6, 30))


def village(rng: random.Random) -> str:
    return f"46{rng.randint(1, 18):02d}{rng.randint(1, 10):02d}{rng.randint(1, 10):02d}"


def households(n: int, rng: random.Random) -> list[m.Household]:
    out = []
    for i in range(n):
        members = tuple(
            m.Member(age=rng.randint(0, 85), occupation=rng.choice(OCCUPATIONS), education=rng.choice(EDUCATION))
            for _ in range(rng.randint(1, 6))
        )
        caps = {c: round(rng.uniform(1, 4), 2) for c in m.CAPITALS}
        out.append(m.Household(f"H{i:07d}", village(rng), caps, rng.randint(1, 4), members))
    return out


def needs(n: int, rng: random.Random) -> list[m.Need]:
    return [
        m.Need(f"N{i}", rng.choice(m.NEED_KINDS), rng.choice(m.STAGES), village(rng), rng.randint(1, 8))
        for i in range(n)
    ]


def units(n: int, rng: random.Random, linked: bool) -> list[m.Unit]:
    out = []
    for i in range(n):
        before = rng.uniform(1_500, 9_000)
        after = before * (1 + (rng.gauss(0.28, 0.15) if linked else rng.gauss(0.05, 0.08)))
        periods = [m.Period(*BASE, before * 12), m.Period(*FOLLOW, max(after, 0) * 6)]
        out.append(
            m.Unit(
                key=f"{'L' if linked else 'C'}{i:07d}", area_code=village(rng),
                levels=[(dt.date(2024, 6, 1), rng.randint(1, 3))], periods=periods,
                cut=dt.date(2025, 1, 1) if linked else None,
            )
        )  # fmt: skip
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {platform.system()}, Python {platform.python_version()}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--households", type=int, default=320_000)
    p.add_argument("--linked", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    rng = random.Random(a.seed)
    t = time.perf_counter()
    hhs = households(a.households, rng)
    by_district: dict[str, list[m.Household]] = defaultdict(list)
    for h in hhs:
        by_district[h.area_code[:4]].append(h)
    ns = needs(300, rng)
    linked, pool = units(a.linked, rng, True), units(a.linked * 5, rng, False)
    made = time.perf_counter() - t
    one = ns[0]
    district = by_district[one.area_code[:4]]
    rows: list[tuple[str, str, float, str]] = []
    w = timed(lambda: m.suggest_households(one, district), a.repeat)
    found = len(m.suggest_households(one, district, limit=10**9))
    rows.append(("suggest households for one need", f"{len(district):,} households of a district", w,
                 f"{found:,} fit; {len(district) / w:,.0f} households/s"))  # fmt: skip
    hundred = ns[:100]
    w = timed(lambda: [m.suggest_households(n, by_district[n.area_code[:4]]) for n in hundred], a.repeat)
    rows.append(("suggest households for 100 enterprise needs", f"{a.households:,} households", w, ""))
    w = timed(lambda: [m.suggest_enterprises(h, ns) for h in hhs[:1000]], a.repeat)
    rows.append(("suggest enterprises for 1,000 households", "300 needs each", w, f"{w:.4f} s per 1,000"))
    w = timed(lambda: m.compare(linked, pool), a.repeat)
    comp = m.compare(linked, pool)
    rows.append(
        ("impact with comparison group", f"{len(linked):,} linked, {len(pool):,} pool", w,
         f"linked median {comp.linked.pct_median:.1f} %, comparison {comp.comparison.pct_median:.1f} %, "
         f"matched {comp.matched:,}")
    )  # fmt: skip
    print(f"Machine: {machine()}; data generated in {made:.1f} s; median of {a.repeat} runs\n")
    print("| What | Scale | Wall time | Note |\n|---|---|---:|---|")
    for what, scale, wall, note in rows:
        print(f"| {what} | {scale} | {wall:.3f} s | {note} |")


if __name__ == "__main__":
    main()
