"""Benchmark of household assessment scoring (khm.engines.scoring and a scoring run).

    python benchmarks/bench_scoring.py --units 100000 --people 20000 --seed 1 [--repeat 3] [--out DIR]

1. **Engine.** Generates UNITS households of a Kalasin-like population with the synthetic
   population generator (``khm.engines.synth``: real age, income, disability and illness
   mix) and their answers with the demo's assessment generator
   (``khm.demo.assessments``: latent poverty level 1–4 from the registry facts, every
   five-capitals item, every BMN indicator, income sources, welfare cards), all checked
   with ``scoring.check_answers``. Times ``scoring.score`` + ``scoring.digest`` of the
   result over all of them with the shipped instruments (five capitals, BMN 2560 with
   TPMAP and MPI, needs), in one process: assessments/s, median of ``--repeat`` runs.
2. **Scoring run through Django on SQLite.** A throw-away database (``KHM_SQLITE_PATH``
   points at a temporary file before ``django.setup()``): ``migrate``, ``load_areas``, the
   demo organisations and users, ``generate_population --people PEOPLE``, then
   ``seed_assessments`` gives ``--share`` of the households an assessment in one round
   (without scoring). Times ``khm.assessment.services._run`` over all of them — read the
   answers, score, hash, write every result row, flip the ``current`` flags, hashes of
   inputs and outputs, audit event — median of ``--repeat`` runs (each run makes its
   results current, as a re-score by an officer does).
3. Prints a Markdown table (also written to ``OUT/report.md``) with the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import machine, peak_rss_mib  # noqa: E402  (benchmarks/common.py)

from khm.demo import assessments as gen  # noqa: E402  (Django-free at import)
from khm.engines import scoring  # noqa: E402
from khm.engines.synth import VillageWeight, generate  # noqa: E402

INSTRUMENTS = ROOT / "khm" / "assessment" / "instruments"
ROUND = "2568"


def timed(fn: Callable[[], object], repeat: int) -> float:
    walls = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - started)
    return statistics.median(walls)


def definitions() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(INSTRUMENTS.glob("*.v1.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        scoring.check(d)
        out[d["kind"]] = d
    return out


def synthetic_answers(units: int, seed: int, defs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """UNITS answer sets, one per synthetic household, checked against the instruments."""
    rng = random.Random(seed)
    villages = [
        VillageWeight(f"46{d:02d}{s:02d}{m:02d}", 1.0) for d in range(1, 19) for s in range(1, 9) for m in (1, 2)
    ]
    on = gen.assessed_on(ROUND, 15)
    out: list[dict[str, Any]] = []
    people = int(units * 3.3) + 100  # ≈3.1 people per household
    for hh in itertools.islice(generate(villages=villages, people=people, seed=seed), units):
        members, facts = [], {}
        for i, p in enumerate(hh.members):
            key = f"{hh.code}-{i}"
            age = on.year - p.birth_date.year - ((on.month, on.day) < (p.birth_date.month, p.birth_date.day))
            members.append(
                {"key": key, "age": age, "sex": p.sex, "relation": p.relation, "disabled": bool(p.disability),
                 "chronic": bool(p.chronic_illness), "welfare_card": False}
            )  # fmt: skip
            facts[key] = gen.MemberFacts(p.education, p.occupation, p.income_year)
        level = gen.latent_level(members, facts, listed=rng.random() < 0.7, noise=rng.gauss(0.0, 0.45))
        profile = gen.household_profile(hh.code, seed=seed, capitals=defs["capitals"], bmn=defs["bmn"])
        data = gen.assessment_data(
            capitals=defs["capitals"],
            bmn=defs["bmn"],
            profile=profile,
            level=level,
            members=members,
            facts=facts,
            registry_pp=gen.registry_income_per_member(members, facts),
            round_label=ROUND,
        )
        gen.check(defs["capitals"], defs["bmn"], data, hh.code)
        out.append(data)
    if len(out) < units:
        raise SystemExit(f"the generator gave {len(out):,} households, not {units:,}")
    return out


def engine(args: argparse.Namespace, rows: list[tuple[str, str, str, str]]) -> str:
    defs = definitions()
    started = time.perf_counter()
    answers = synthetic_answers(args.units, args.seed, defs)
    sys.stderr.write(f"generated and checked {len(answers):,} answer sets in {time.perf_counter() - started:.1f} s\n")
    bundle = scoring.Instruments(capitals=defs["capitals"], bmn=defs["bmn"], needs=defs["needs"])
    levels: Counter[int | None] = Counter()

    def run() -> None:
        levels.clear()
        for data in answers:
            result = scoring.score(bundle, data)
            scoring.digest(result)
            levels[result["level"]] += 1

    secs = timed(run, args.repeat)
    rows.append(
        (
            "engine: `scoring.score` + `scoring.digest`",
            f"{args.units:,} assessments in memory",
            f"{secs:.2f}",
            f"{args.units / secs:,.0f}",
        )
    )
    sys.stderr.write(f"engine: {secs:.2f} s, {args.units / secs:,.0f} assessments/s\n")
    return "levels 1–4: " + ", ".join(f"{levels.get(lv, 0) / args.units:.0%}" for lv in (1, 2, 3, 4))


def django_run(args: argparse.Namespace, rows: list[tuple[str, str, str, str]]) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="khm-bench-scoring-"))
    os.environ["KHM_SQLITE_PATH"] = str(tmp / "khm.sqlite3")
    os.environ["KHM_IMPORT_DIR"] = str(tmp / "imports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("KHM_LOG_LEVEL", "WARNING")
    os.environ["KHM_BACKGROUND_JOBS"] = "0"
    os.environ.pop("KHM_DEBUG", None)  # DEBUG would keep every SQL query in memory
    os.environ["DB"] = "sqlite"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from khm.accounts.models import User
    from khm.assessment.models import Assessment
    from khm.assessment.services import _run
    from khm.demo.seed import seed_organisations_and_users

    try:
        started = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_areas", stdout=io.StringIO())
        seed_organisations_and_users()
        call_command("generate_population", people=args.people, seed=args.seed, area="46", stdout=io.StringIO())
        sys.stderr.write(f"database with {args.people:,} people ready in {time.perf_counter() - started:.1f} s\n")
        started = time.perf_counter()
        for line in gen.seed_assessments(seed=args.seed, share=args.share, rounds=(ROUND,), score=False):
            sys.stderr.write(f"  {line}\n")
        seed_s = time.perf_counter() - started
        n = Assessment.objects.filter(round=ROUND).count()
        rows.append(
            (
                "`seed_assessments` (roster, answers, check, insert; no scoring)",
                f"{n:,} households of {args.people:,} people",
                f"{seed_s:.2f}",
                f"{n / seed_s:,.0f}",
            )
        )
        admin = User.objects.get(username="admin")
        runs: list[Any] = []

        def score_all() -> None:
            runs.append(
                _run(actor=admin, assessments=Assessment.objects.filter(round=ROUND), area_code="46", round=ROUND)
            )

        secs = timed(score_all, args.repeat)
        rows.append(
            (
                "scoring run `_run` (read, score, hash, write results, audit)",
                f"{n:,} assessments, SQLite",
                f"{secs:.2f}",
                f"{n / secs:,.0f}",
            )
        )
        sys.stderr.write(f"scoring run: {secs:.2f} s, {n / secs:,.0f} assessments/s\n")
        # The area page's summary for the whole province (levels, mean pentagon,
        # deprivations, MPI by district and by group) read from the current results.
        from khm.assessment.selectors import area_summary

        summaries: list[Any] = []
        secs = timed(lambda: summaries.append(area_summary(admin, "46", ROUND)), max(args.repeat, 3))
        rows.append(
            (
                "area page summary of the province (`area_summary`: levels, pentagon, deprivations, MPI by district and group)",
                f"{summaries[-1].n:,} assessed households, SQLite",
                f"{secs:.2f}",
                "—",
            )
        )
        sys.stderr.write(f"area summary: {secs:.2f} s\n")
        with connection.cursor() as cur:
            cur.execute("select sqlite_version()")
            version = cur.fetchone()[0]
        same = len({r.outputs_hash for r in runs}) == 1
        return f"SQLite {version} (WAL, temporary file); the {len(runs)} runs' outputs hashes are {'identical' if same else 'DIFFERENT'}"
    finally:
        connection.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            sys.stderr.write(f"database kept: {tmp}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100_000, help="answer sets scored by the engine alone")
    parser.add_argument("--people", type=int, default=20_000, help="people in the database of the scoring run")
    parser.add_argument("--share", type=float, default=1.0, help="share of the households assessed (scoring run)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-django", action="store_true", help="only the engine")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "out" / f"scoring-{args.units}-{args.people}-seed{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, str, str, str]] = []
    levels = engine(args, rows)
    db = "" if args.skip_django else django_run(args, rows)
    lines = [
        f"Scoring benchmark ({dt.date.today():%Y-%m-%d}): engine {scoring.ENGINE_VERSION} with the shipped "
        f"instruments (five capitals v1, BMN 2560 v1 with TPMAP and MPI, needs v1); median of {args.repeat} runs; "
        f"{machine()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"peak RSS {peak_rss_mib():,.0f} MiB.",
        "",
        "| step | scale | s | assessments/s |",
        "|---|---|---:|---:|",
        *[f"| {what} | {scale} | {s} | {rate} |" for what, scale, s, rate in rows],
        "",
        f"Engine answers: synthetic households (seed {args.seed}), {levels}." + (f" Database: {db}." if db else ""),
    ]
    report = "\n".join(lines)
    (out / "report.md").write_text(report + "\n", encoding="utf-8")
    sys.stdout.write(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
