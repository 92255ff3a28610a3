"""Benchmark of poverty forums at province scale: agenda building, graduation candidates,
the minutes PDF and a village's posted list (khm.forums).

    .venv/bin/python benchmarks/bench_forums.py --people 200000 --seed 1 [--repeat 5] [--out DIR]
    .venv/bin/python benchmarks/bench_forums.py --people 1000000 --keep        # keep the database
    .venv/bin/python benchmarks/bench_forums.py --reuse /tmp/khm-bench-forums-…/khm.sqlite3

1. **Setup** (timed, reported apart) on a throw-away SQLite database (``KHM_SQLITE_PATH``
   points at a temporary file before ``django.setup()``; the dashboard refresh is left
   manual, ``KHM_INSIGHTS_REFRESH=manual``): ``migrate``, ``load_areas``, the
   demo organisations and users, ``generate_population --people PEOPLE --area 46`` (all of
   Kalasin), then ``khm.demo.assessments.seed_assessments`` gives ``--share`` of the
   households (the demo's 60 %) an assessment in round 2567 and most of them another in
   2568, and scores both rounds; ``khm.demo.referrals.seed_referrals`` adds the demo's
   agencies, services and ≈120 referrals in Mueang Kalasin (4601), some returned or overdue.
2. **The poor list.** The demo puts households on a list by importing the TPMAP, KHM and
   bottom-20 source lists through the staged import, which is slow at this scale. Instead,
   ``--listed`` (30 %) of the households, drawn at random with the seed, get a
   ``HouseholdStanding`` row with status ``LISTED`` (``bulk_create``): this is what agenda
   building, graduation and posting read (``khm.forums.standing.on_list``). No household
   has a source-list row, so the assessments do not favour listed households (the demo
   draws 85 % of its assessed households from the lists).
3. **Measurements**, each median and p95 of ``--repeat`` runs (with 5 runs the p95 is the
   slowest). Every run happens inside a transaction that is rolled back, so each starts
   from the same database and ``--reuse`` can measure a kept database again:

   - ``services.agenda_build`` on a fresh forum (``forum_create``, not timed) of the
     largest village of the largest subdistrict of Mueang Kalasin, of that subdistrict and
     of the district 4601; items built, by kind. District forums get no household items
     (they read what lower forums escalated or carried over and overdue referrals grouped
     by agency), so their agenda stays short whatever the population;
   - ``graduation.candidates`` for the listed households of district 4601 (the query the
     graduation page and agenda building run);
   - ``minutes.minutes_pdf`` of the subdistrict forum after its agenda was built, twelve
     attendees recorded and ``--resolutions`` (50) resolutions recorded through
     ``services.resolve`` (``confirm_poor`` on unverified households, ``noted`` on the
     rest): pages and seconds; the resolutions' own time is reported too;
   - ``validation.posting_create`` for the village with the most households of the
     province: entries posted.
4. Prints a Markdown table with the machine and the scale (also written to
   ``OUT/report.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import log, machine, p95, peak_rss_mib, setup_lines, write_report  # noqa: E402  (benchmarks/common.py)

ROUND = "2568"
DISTRICT = "4601"  # Mueang Kalasin
ATTENDEES = 12


# --------------------------------------------------------------------------- helpers


@dataclass
class Row:
    what: str
    area: str
    scale: str
    walls: list[float] = field(default_factory=list)
    result: str = ""

    def line(self) -> str:
        return (
            f"| {self.what} | {self.area} | {self.scale} | {self.result} | {statistics.median(self.walls):.3f} "
            f"| {p95(self.walls):.3f} | {len(self.walls)} |"
        )


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a transaction that is always rolled back."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def timed(steps: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    out = fn()
    steps[name] = time.perf_counter() - started
    log(f"{name}: {steps[name]:.1f} s")
    return out


# --------------------------------------------------------------------------- setup


def configure(args: argparse.Namespace) -> tuple[Path, Path]:
    """Point the settings at the SQLite file (before django.setup()); returns it and the
    temporary directory of this run."""
    if args.reuse:
        path = Path(args.reuse).resolve()
        if not path.exists():
            raise SystemExit(f"--reuse {path}: no such file")
        tmp = Path(tempfile.mkdtemp(prefix="khm-bench-forums-imports-"))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="khm-bench-forums-"))
        path = tmp / "khm.sqlite3"
    os.environ["KHM_SQLITE_PATH"] = str(path)
    os.environ["KHM_IMPORT_DIR"] = str(tmp / "imports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("KHM_LOG_LEVEL", "WARNING")
    os.environ["KHM_BACKGROUND_JOBS"] = "0"
    os.environ["KHM_INSIGHTS_REFRESH"] = "manual"  # no dashboard refresh thread during the timings
    os.environ.pop("KHM_DEBUG", None)  # DEBUG would keep every SQL query in memory
    os.environ["DB"] = "sqlite"
    return path, tmp


def standing_bulk(share: float, seed: int) -> int:
    """``share`` of the households, drawn with ``seed``, get standing LISTED (see the docstring)."""
    from django.db import transaction

    from khm.forums.models import HouseholdStanding, Standing
    from khm.registry.models import Household

    rng = random.Random(seed * 7919 + 46)
    since = dt.date(2025, 7, 1)
    rows = [
        HouseholdStanding(household_id=hid, area_code=area, status=Standing.LISTED, since=since, round=ROUND)
        for hid, area in Household.objects.order_by("id").values_list("id", "area_code")
        if rng.random() < share
    ]
    with transaction.atomic():
        HouseholdStanding.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def build(args: argparse.Namespace) -> tuple[dict[str, float], list[str]]:
    from django.core.management import call_command

    from khm.demo.assessments import seed_assessments
    from khm.demo.referrals import seed_referrals
    from khm.demo.seed import seed_organisations_and_users

    steps: dict[str, float] = {}
    notes: list[str] = []
    timed(steps, "migrate", lambda: call_command("migrate", interactive=False, verbosity=0))
    timed(steps, "load_areas", lambda: call_command("load_areas", stdout=io.StringIO()))
    timed(steps, "demo organisations and users", seed_organisations_and_users)
    timed(
        steps,
        f"generate_population --people {args.people:,}",
        lambda: call_command(
            "generate_population", people=args.people, seed=args.seed, area="46", stdout=io.StringIO()
        ),
    )
    lines = timed(
        steps,
        f"seed_assessments (share {args.share:.0%}, rounds 2567 + 2568, scored)",
        lambda: seed_assessments(seed=args.seed, share=args.share),
    )
    notes += [ln for ln in lines if ln.startswith(("assessments:", "scoring run"))]
    lines = timed(
        steps, "seed_referrals (agencies, services, referrals in 4601)", lambda: seed_referrals(seed=args.seed)
    )
    notes += lines[:1]
    n = timed(
        steps,
        f"HouseholdStanding LISTED for {args.listed:.0%} of households (bulk_create)",
        lambda: standing_bulk(args.listed, args.seed),
    )
    notes.append(f"{n:,} households given standing LISTED")
    for line in notes:
        log(f"  {line}")
    return steps, notes


# --------------------------------------------------------------------------- measurements


@dataclass
class Areas:
    village: str  # the largest village of the subdistrict
    subdistrict: str  # the largest subdistrict of DISTRICT
    province_village: str  # the largest village of the province
    households: dict[str, int]  # per village


def pick_areas() -> Areas:
    from django.db.models import Count

    from khm.registry.models import Household

    per_village = dict(
        Household.objects.values("area_code").annotate(n=Count("id")).order_by().values_list("area_code", "n")
    )
    sub: Counter[str] = Counter()
    for code, n in per_village.items():
        if code.startswith(DISTRICT):
            sub[code[:6]] += n
    subdistrict = min(sub, key=lambda c: (-sub[c], c))
    village = min((c for c in per_village if c.startswith(subdistrict)), key=lambda c: (-per_village[c], c))
    province_village = min(per_village, key=lambda c: (-per_village[c], c))
    return Areas(village, subdistrict, province_village, per_village)


def area_label(code: str) -> str:
    from khm.areas.models import Area

    a = Area.objects.filter(code=code).first()
    return f"{a.name_th} ({code})" if a is not None else code


def scope(code: str) -> tuple[int, int]:
    """(households, on the list) in the area."""
    from khm.areas.models import code_range
    from khm.forums.standing import on_list
    from khm.registry.models import Household

    low, high = code_range(code)
    hh = Household.objects.filter(area_code__gte=low, area_code__lte=high)
    return hh.count(), on_list(hh).count()


def new_forum(actor: Any, code: str, held_on: dt.date) -> Any:
    from khm.forums import services

    return services.forum_create(
        actor=actor,
        data=services.ForumInput(
            area_code=code, round=ROUND, title=f"เวทีแก้จน {code} (benchmark)", held_on=held_on,
            place="ศาลาประชาคม", starts_at=dt.time(9, 30), ends_at=dt.time(12, 0), chair_name="นายประธาน ทดสอบ",
            chair_position="ประธานเวที", recorder_name="นางสาวเลขา ทดสอบ", recorder_position="เลขานุการเวที",
            opening="ประธานแจ้งวัตถุประสงค์ของการประชุม",
        ),
    )  # fmt: skip


def bench_agenda(actor: Any, code: str, level: str, repeat: int, held_on: dt.date) -> Row:
    from khm.forums import services

    households, listed = scope(code)
    row = Row(
        f"`agenda_build`, {level} forum",
        area_label(code),
        f"{households:,} households, {listed:,} on the list",
    )
    built: list[int] = []
    kinds: Counter[str] = Counter()
    for _ in range(repeat):
        with rolled_back():
            forum = new_forum(actor, code, held_on)
            started = time.perf_counter()
            built.append(services.agenda_build(actor=actor, forum=forum))
            row.walls.append(time.perf_counter() - started)
            kinds = Counter(forum.items.values_list("kind", flat=True))
    same = "" if len(set(built)) == 1 else f" (runs: {sorted(set(built))})"
    row.result = f"{built[-1]:,} items{same}: " + (", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())) or "—")
    log(f"{row.what} {code}: {statistics.median(row.walls):.3f} s, {row.result}")
    return row


def bench_graduation(repeat: int) -> Row:
    from khm.areas.models import code_range
    from khm.forums import graduation
    from khm.forums.standing import on_list
    from khm.registry.models import Household

    households, listed = scope(DISTRICT)
    low, high = code_range(DISTRICT)
    row = Row(
        "`graduation.candidates` of the listed households",
        area_label(DISTRICT),
        f"{listed:,} listed of {households:,} households",
    )
    found: list[Any] = []
    for _ in range(repeat):
        qs = on_list(Household.objects.filter(area_code__gte=low, area_code__lte=high))
        started = time.perf_counter()
        found = graduation.candidates(qs)
        row.walls.append(time.perf_counter() - started)
    assessed = len(graduation.histories(on_list(Household.objects.filter(area_code__gte=low, area_code__lte=high))))
    row.result = f"{len(found):,} candidates ({assessed:,} listed households assessed)"
    log(f"{row.what}: {statistics.median(row.walls):.3f} s, {row.result}")
    return row


def bench_minutes(actor: Any, code: str, resolutions: int, repeat: int, held_on: dt.date) -> tuple[Row, Row]:
    from pypdf import PdfReader

    from khm.forums import minutes, services
    from khm.forums.models import ItemKind, ItemStatus

    signatures = [{"name": "นายประธาน ทดสอบ", "role": "ประธานเวที"}, {"name": "นางสาวเลขา ทดสอบ", "role": "เลขานุการเวที"}]
    attendees = [
        {"name": f"ผู้เข้าร่วม ที่{i + 1}", "position": "กรรมการหมู่บ้าน", "present": i < ATTENDEES - 2}
        for i in range(ATTENDEES)
    ]
    with rolled_back():
        forum = new_forum(actor, code, held_on)
        services.attendees_set(actor=actor, forum=forum, rows=attendees)
        services.agenda_build(actor=actor, forum=forum)
        items = list(forum.items.filter(status=ItemStatus.OPEN).select_related("household", "forum").order_by("number"))
        kinds: Counter[str] = Counter()
        walls: list[float] = []
        confirm_quota = round(resolutions * 0.8)
        for item in items:
            if len(walls) >= resolutions:
                break
            allowed = services.ALLOWED.get(item.kind, ())
            if item.kind == ItemKind.UNVERIFIED and kinds["confirm_poor"] < confirm_quota:
                kind = "confirm_poor"
            elif "noted" in allowed:
                kind = "noted"
            else:
                continue
            data = services.ResolutionInput(
                kind=kind, text=f"ที่ประชุมมีมติ ({kind}) ตามที่เสนอ", decided_on=held_on, signatures=signatures
            )
            started = time.perf_counter()
            services.resolve(actor=actor, item=item, data=data)
            walls.append(time.perf_counter() - started)
            kinds[kind] += 1
        n_items = forum.items.count()
        recorded = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        res_row = Row(
            "`services.resolve` (one resolution, takes effect, audited)",
            area_label(code),
            f"{len(walls)} resolutions on an agenda of {n_items:,} items",
            walls,
            recorded,
        )
        pdf_row = Row(
            "`minutes_pdf` (WeasyPrint)",
            area_label(code),
            f"{n_items:,} items, {len(walls)} resolutions ({recorded}), {ATTENDEES} attendees",
        )
        pdf = b""
        for _ in range(repeat):
            started = time.perf_counter()
            pdf = minutes.minutes_pdf(forum)
            pdf_row.walls.append(time.perf_counter() - started)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        pdf_row.result = f"{pages:,} pages, {len(pdf) / 1024:,.0f} KiB"
    log(
        f"resolve: median {statistics.median(res_row.walls):.3f} s; minutes_pdf: {statistics.median(pdf_row.walls):.3f} s, {pdf_row.result}"
    )
    return res_row, pdf_row


def bench_posting(actor: Any, code: str, repeat: int, held_on: dt.date) -> Row:
    from khm.forums import validation

    households, listed = scope(code)
    row = Row(
        "`posting_create` (masked list of the village)",
        area_label(code),
        f"{households:,} households, {listed:,} on the list",
    )
    entries = 0
    for _ in range(repeat):
        with rolled_back():
            started = time.perf_counter()
            p = validation.posting_create(actor=actor, village_code=code, round=ROUND, opens_on=held_on, days=15)
            row.walls.append(time.perf_counter() - started)
            entries = p.entries.count()
    row.result = f"{entries:,} entries"
    log(f"{row.what} {code}: {statistics.median(row.walls):.3f} s, {row.result}")
    return row


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200_000, help="people generated over Kalasin (default 200,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--share", type=float, default=0.6, help="share of households assessed (the demo's 0.6)")
    parser.add_argument("--listed", type=float, default=0.3, help="share of households given standing LISTED")
    parser.add_argument("--resolutions", type=int, default=50, help="resolutions recorded before the minutes")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--reuse", metavar="PATH", help="measure a database kept with --keep (no setup)")
    args = parser.parse_args(argv)
    path, tmp = configure(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from khm.accounts.models import User
    from khm.assessment.models import Assessment, AssessmentResult
    from khm.forums import graduation
    from khm.forums.models import HouseholdStanding
    from khm.referrals.models import Referral
    from khm.registry.models import Household, Person

    load_before = os.getloadavg()[0]
    try:
        steps: dict[str, float] = {}
        if args.reuse:
            log(f"reusing {path}: no setup (migrate only, for migrations added since it was built)")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            log(f"building {path} with {args.people:,} people …")
            steps, _notes = build(args)
        graduation.criteria_current()  # installs the default criteria once, outside the timed runs
        admin = User.objects.get(username="admin")
        held_on = timezone.localdate()
        areas = pick_areas()
        people, households = Person.objects.count(), Household.objects.count()
        per_round = dict(Counter(Assessment.objects.values_list("round", flat=True).order_by()))
        results = AssessmentResult.objects.filter(current=True).count()
        listed = HouseholdStanding.objects.count()
        referrals = Referral.objects.count()
        scale = (
            f"{people:,} people in {households:,} households over Kalasin (46, 18 districts; seed {args.seed}); "
            f"assessments {', '.join(f'{r}: {n:,}' for r, n in sorted(per_round.items()))} "
            f"({results:,} current scored results); {listed:,} households LISTED ({listed / households:.0%}); "
            f"{referrals:,} referrals (demo, 4601)"
        )
        log(scale)

        rows: list[Row] = []
        rows.append(bench_agenda(admin, areas.village, "village", args.repeat, held_on))
        rows.append(bench_agenda(admin, areas.subdistrict, "subdistrict", args.repeat, held_on))
        rows.append(bench_agenda(admin, DISTRICT, "district", args.repeat, held_on))
        rows.append(bench_graduation(args.repeat))
        res_row, pdf_row = bench_minutes(admin, areas.subdistrict, args.resolutions, args.repeat, held_on)
        rows += [res_row, pdf_row]
        rows.append(bench_posting(admin, areas.province_village, args.repeat, held_on))

        with connection.cursor() as cur:
            cur.execute("select sqlite_version()")
            version = cur.fetchone()[0]
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e9
        import weasyprint

        lines = [
            f"Forums benchmark ({dt.date.today():%Y-%m-%d}): {machine()}; Django {django.get_version()}, "
            f"SQLite {version} (WAL, {size:.2f} GB file), WeasyPrint {weasyprint.__version__}; "
            f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; peak RSS {peak_rss_mib():,.0f} MiB.",
            "",
            f"Scale: {scale}.",
            "",
            f"Median and p95 of {args.repeat} runs (p95 of 5 = the slowest; `resolve`: one run per resolution), "
            "each run in a rolled-back transaction, agendas on a fresh forum each time.",
            "",
            "| step | area | scale | result | median s | p95 s | n |",
            "|---|---|---|---|---:|---:|---:|",
            *[r.line() for r in rows],
        ]
        report = "\n".join(lines + setup_lines(steps))
        out = args.out or ROOT / "benchmarks" / "out" / f"forums-{people}-seed{args.seed}"
        write_report(report, out)
    finally:
        connection.close()
        if args.keep and not args.reuse:
            log(f"database kept: {path}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
