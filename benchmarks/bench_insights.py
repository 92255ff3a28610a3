"""Benchmark of the pre-aggregated figures (issue 9): dashboard and map latency, refresh times.

    .venv/bin/python benchmarks/bench_insights.py --people 1000000 --seed 1            # SQLite
    .venv/bin/python benchmarks/bench_insights.py --people 200000 --db postgres        # PostgreSQL
    .venv/bin/python benchmarks/bench_insights.py --people 20000 --repeat 5            # quick check
    .venv/bin/python benchmarks/bench_insights.py --people 1000000 --keep              # keep the SQLite file
    .venv/bin/python benchmarks/bench_insights.py --reuse /tmp/khm-bench-insights-…/khm.sqlite3 --people 1000000

1. **Setup** (timed, reported apart). SQLite: a throw-away file (``KHM_SQLITE_PATH`` set
   before ``django.setup()``); ``--db postgres`` re-runs this script under
   ``scripts/with_postgres.py`` (a throw-away server, fsync off) unless ``DB=postgres`` is
   already set. The dashboard refresh thread is off (``KHM_INSIGHTS_REFRESH=manual``): every
   refresh below is called here. Steps: ``migrate``, ``load_areas``, the demo organisations
   and users, ``generate_population --people PEOPLE --area 46`` (all of Kalasin),
   ``seed_assessments`` (the demo's 60 % of households assessed in 2567, most again in 2568,
   both rounds scored), ``seed_referrals`` (agencies, services, ≈120 referrals in 4601). On
   PostgreSQL then ``ANALYZE`` (what autovacuum does soon after a bulk load).
2. **Full refresh**: ``khm.insights.refresh.refresh(full=True)`` — every village's figures
   from the data, then the subdistrict, district and province rows as sums; seconds and the
   number of ``Fact`` rows (PostgreSQL: ``ANALYZE insights_fact`` after it, timed apart).
3. **Latency through the whole Django stack** (``django.test.Client``: middleware, session,
   scoping, selectors, template or JSON; no network): median and p95 of ``--repeat`` timed
   requests after ``--warmup`` untimed ones, for the province admin (``admin``, 46) and the
   district officer (``district``, 4601): the dashboard ``/insights/`` of the province, the
   district 4601, its largest subdistrict and that subdistrict's largest village, one filter
   (``dim=level:1``); the map page ``/insights/map/`` of 46 and 4601; the layers
   ``map/areas.geojson?area=46`` and ``map/households.geojson?area=4601``; anonymously the
   open-data page ``/open/?area=46`` and ``/api/v1/open/areas/46``. The first request of each
   is run once more inside ``CaptureQueriesContext``: the table reports its SQL queries and
   whether any reads a registry table (``registry_household`` / ``registry_person``).
4. **Incremental refresh after a 10,000-row import**: the TPMAP-like list
   (``khm.engines.sources_synth``, TIS-620 CSV) of the district 4601 of the *same* synthetic
   population (same seed, people and village weights as ``generate_population``, so its rows
   mostly match registry people), ``--import-rows`` rows of whole households drawn at random
   with the seed, is imported as the province admin through ``batch_upload`` →
   ``batch_stage`` → ``batch_commit`` (as ``bench_import.py`` does; the household checks run
   by the commit are included). The import records the villages it touched
   (``core.ChangedArea``); ``refresh()`` — the incremental one, what the background thread
   runs — is then timed: villages refreshed and seconds. For comparison ``--edits`` single
   household edits (``registry.services.household_update`` of ``address_extra``), each
   followed by a timed ``refresh()``.
5. Prints a Markdown report with the machine, the scale and the load average before and
   after (also written to ``OUT/report.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import takewhile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from common import log, machine, p95, peak_rss_mib, setup_lines, write_report  # noqa: E402  (benchmarks/common.py)

PROVINCE = "46"
DISTRICT = "4601"  # Mueang Kalasin
USERS = (("admin", "province admin (46)"), ("district", "district officer (4601)"))
REGISTRY_TABLES = ("registry_household", "registry_person")


# --------------------------------------------------------------------------- helpers


def loadavg() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def code_fingerprint() -> str:
    """The code under test changes while others work on it: a short hash of khm/insights
    (Python and templates) and khm/accounts/scoping.py, and the newest file's time."""
    import hashlib

    files = sorted(
        [*(ROOT / "khm" / "insights").rglob("*.py"), *(ROOT / "khm" / "insights" / "templates").rglob("*.html")]
    )
    files = [f for f in files if "/tests/" not in str(f)] + [ROOT / "khm" / "accounts" / "scoping.py"]
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    newest = max(f.stat().st_mtime for f in files)
    return (
        f"khm/insights sha256 {h.hexdigest()[:12]} (newest file {dt.datetime.fromtimestamp(newest):%Y-%m-%d %H:%M:%S})"
    )


def git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


def timed(steps: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    out = fn()
    steps[name] = time.perf_counter() - started
    log(f"{name}: {steps[name]:.1f} s")
    return out


# --------------------------------------------------------------------------- setup


def configure(args: argparse.Namespace) -> tuple[Path | None, Path]:
    """Environment before django.setup(): returns the SQLite file (None on PostgreSQL) and
    this run's temporary directory."""
    tmp = Path(tempfile.mkdtemp(prefix="khm-bench-insights-"))
    path: Path | None = None
    if args.db == "sqlite":
        if args.reuse:
            path = Path(args.reuse).resolve()
            if not path.exists():
                raise SystemExit(f"--reuse {path}: no such file")
        else:
            path = tmp / "khm.sqlite3"
        os.environ["KHM_SQLITE_PATH"] = str(path)
        os.environ["DB"] = "sqlite"
    os.environ["KHM_IMPORT_DIR"] = str(tmp / "imports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("KHM_LOG_LEVEL", "WARNING")
    os.environ["KHM_BACKGROUND_JOBS"] = "0"
    os.environ["KHM_INSIGHTS_REFRESH"] = "manual"  # no background refresh thread: refreshes are timed here
    os.environ.pop("KHM_DEBUG", None)  # DEBUG would keep every SQL query in memory
    return path, tmp


def analyze(tables: tuple[str, ...] = ()) -> float:
    """PostgreSQL: ANALYZE (all, or these tables); what autovacuum does after bulk writes."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    started = time.perf_counter()
    with connection.cursor() as cur:
        if tables:
            for t in tables:
                cur.execute(f"ANALYZE {connection.ops.quote_name(t)}")
        else:
            cur.execute("ANALYZE")
    return time.perf_counter() - started


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
        f"generate_population --people {args.people:,} --area 46",
        lambda: call_command(
            "generate_population", people=args.people, seed=args.seed, area=PROVINCE, stdout=io.StringIO()
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
    if args.db == "postgres":
        steps["ANALYZE (PostgreSQL)"] = analyze()
        log(f"ANALYZE: {steps['ANALYZE (PostgreSQL)']:.1f} s")
    for line in notes:
        log(f"  {line}")
    return steps, notes


# --------------------------------------------------------------------------- areas


@dataclass
class Areas:
    subdistrict: str  # the largest subdistrict of DISTRICT (households)
    village: str  # the largest village of that subdistrict
    households: dict[str, int]  # per area code (from the figures)


def pick_areas() -> Areas:
    """From the refreshed figures (no registry read)."""
    from khm.insights.models import Fact

    hh = dict(
        Fact.objects.filter(level__in=(3, 4), round="", dim="", metric="households").values_list("area_code", "value")
    )
    households = {k: int(v) for k, v in hh.items()}
    subs = [c for c in households if len(c) == 6 and c.startswith(DISTRICT)]
    subdistrict = min(subs, key=lambda c: (-households[c], c))
    villages = [c for c in households if len(c) == 8 and c.startswith(subdistrict)]
    village = min(villages, key=lambda c: (-households[c], c))
    return Areas(subdistrict, village, households)


# --------------------------------------------------------------------------- latency


@dataclass
class Page:
    what: str
    user: str  # "admin", "district" or "" (anonymous)
    url: str
    times_ms: list[float] = field(default_factory=list)
    queries: int = 0
    registry_queries: int = 0
    status: int = 0
    size_kb: float = 0.0
    note: str = ""

    def line(self) -> str:
        who = dict(USERS).get(self.user, "anonymous")
        reads = f"**yes ({self.registry_queries})**" if self.registry_queries else "no"
        return (
            f"| {self.what} | `{self.url}` | {who} | {statistics.median(self.times_ms):.1f} | {p95(self.times_ms):.1f} "
            f"| {len(self.times_ms)} | {self.queries} | {reads} | {self.size_kb:,.1f} | {self.note} |"
        )


def pages(areas: Areas) -> list[Page]:
    sub, vil = areas.subdistrict, areas.village
    out: list[Page] = []
    for user, _label in USERS:
        out += [
            Page("dashboard, province", user, "/insights/?area=46"),
            Page("dashboard, district", user, f"/insights/?area={DISTRICT}"),
            Page("dashboard, subdistrict", user, f"/insights/?area={sub}"),
            Page("dashboard, village", user, f"/insights/?area={vil}"),
            Page("dashboard, filter level 1", user, f"/insights/?area={DISTRICT}&dim=level:1"),
            Page("map page, province", user, "/insights/map/?area=46"),
            Page("map page, district", user, f"/insights/map/?area={DISTRICT}"),
            Page("map layer, areas of the province", user, "/insights/map/areas.geojson?area=46"),
            Page("map layer, households of 4601", user, f"/insights/map/households.geojson?area={DISTRICT}"),
        ]
    out += [
        Page("open-data page, province", "", "/open/?area=46"),
        Page("open-data API, province", "", "/api/v1/open/areas/46"),
    ]
    return out


def describe(page: Page, resp: Any) -> str:
    """What the response holds (features, points, children)."""
    ctype = resp.get("Content-Type", "")
    if "json" in ctype:
        data = resp.json()
        if page.url.startswith("/insights/map/households"):
            n = len(data.get("features", []))
            return (
                f"{n:,} points"
                + (" (truncated)" if data.get("truncated") else "")
                + (" — no household has coordinates (synthetic data)" if n == 0 else "")
            )
        if "features" in data:
            return f"{len(data['features'])} areas"
        if "children" in data:
            return f"{len(data['children'])} child areas"
    return ""


def measure(page: Page, client: Any, repeat: int, warmup: int) -> Page:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(page.url)
    page.status = resp.status_code
    if resp.status_code != 200:
        raise SystemExit(f"{page.user or 'anonymous'} {page.url}: HTTP {resp.status_code}\n{resp.content[:1500]!r}")
    page.queries = len(ctx.captured_queries)
    page.registry_queries = sum(1 for q in ctx.captured_queries if any(t in q["sql"] for t in REGISTRY_TABLES))
    page.size_kb = len(resp.content) / 1024
    page.note = describe(page, resp)
    for _ in range(warmup):
        client.get(page.url)
    for _ in range(repeat):
        started = time.perf_counter()
        resp = client.get(page.url)
        page.times_ms.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200, (page.url, resp.status_code)
    log(
        f"{page.user or 'anonymous':<8} {page.url:<52} median {statistics.median(page.times_ms):7.1f} ms  "
        f"p95 {p95(page.times_ms):7.1f} ms  queries {page.queries} (registry {page.registry_queries})"
    )
    return page


# --------------------------------------------------------------------------- import + refresh


def district_list(args: argparse.Namespace, out: Path) -> tuple[Path, int, int]:
    """The TPMAP-like list of DISTRICT of the registry's own synthetic population (same
    village weights, people and seed as ``generate_population``), cut to ``--import-rows``
    rows of whole households drawn at random (the last one may be cut). Returns the file,
    its rows and the district's list rows before the cut."""
    import polars as pl

    from khm.areas.models import Area, AreaLevel, code_range
    from khm.engines.sources_synth import SourceLists, build_lists, write_lists
    from khm.engines.synth import generate, village_weights_from_population

    low, high = code_range(PROVINCE)
    villages = list(
        Area.objects.filter(level=AreaLevel.VILLAGE, active=True, path__gte=low, path__lte=high)
        .order_by("code")
        .values_list("code", "parent__code")
    )
    pop = dict(
        Area.objects.filter(
            level=AreaLevel.SUBDISTRICT, population__isnull=False, path__gte=low, path__lte=high
        ).values_list("code", "population")
    )
    weights = village_weights_from_population(villages, {k: v for k, v in pop.items() if v is not None})
    # Households come village by village in code order: the district's come first.
    households = list(
        takewhile(
            lambda h: h.village_code.startswith(DISTRICT),
            generate(villages=weights, people=args.people, seed=args.seed),
        )
    )
    built = build_lists(households, seed=args.seed, lists=["tpmap"])
    tp = built["tpmap"]
    by_household: dict[str, list[int]] = {}
    for i, code in enumerate(tp.household_codes):
        by_household.setdefault(code, []).append(i)
    order = sorted(by_household)
    random.Random(args.seed * 7919 + 9).shuffle(order)
    keep: list[int] = []
    for code in order:
        keep += by_household[code]
        if len(keep) >= args.import_rows:
            break
    keep = sorted(keep[: args.import_rows])
    frame = tp.frame[keep]
    cut = SourceLists(
        lists={"tpmap": type(tp)(
            name=tp.name, frame=frame, fields=tp.fields,
            discrepancies=[tp.discrepancies[i] for i in keep], household_codes=[tp.household_codes[i] for i in keep],
        )},
        seed=built.seed, rates=built.rates, selection=built.selection, people=built.people,
        households=built.households, as_of=built.as_of,
    )  # fmt: skip
    written = write_lists(cut, out)
    assert isinstance(frame, pl.DataFrame)
    return written["tpmap"], frame.height, tp.frame.height


@dataclass
class ImportResult:
    rows: int
    district_rows: int
    counts: dict[str, int]
    steps: dict[str, float]
    marks: int
    villages_marked: int


def import_list(args: argparse.Namespace, admin: Any, tmp: Path) -> ImportResult:
    from khm.core.models import ChangedArea
    from khm.insights.refresh import _villages_of
    from khm.sources import services
    from khm.sources.models import MappingProfile, Source

    steps: dict[str, float] = {}
    path, rows, district_rows = timed(
        steps, "list generated (sources_synth)", lambda: district_list(args, tmp / "list")
    )
    # A source of its own, so a --reuse run can import the same file again.
    n = Source.objects.filter(code__startswith="bench-tpmap-").count()
    source = Source.objects.create(
        code=f"bench-tpmap-{n + 1}", kind="tpmap", name_th="TPMAP (benchmark)", round_label="2568"
    )
    profile = MappingProfile.objects.get(kind="tpmap")
    batch = timed(
        steps,
        "batch_upload",
        lambda: services.batch_upload(
            actor=admin, source=source, profile=profile, file_name=path.name, content=path.read_bytes()
        ),
    )
    batch = timed(steps, "batch_stage (read, validate, link)", lambda: services.batch_stage(actor=admin, batch=batch))
    batch = timed(steps, "batch_commit (+ household checks)", lambda: services.batch_commit(actor=admin, batch=batch))
    counts = {k: int(v) for k, v in batch.counts.items()}
    marks = list(ChangedArea.objects.values_list("area_code", flat=True))
    log(f"import: {rows:,} rows, {counts}; {len(marks):,} changed-area marks")
    return ImportResult(rows, district_rows, counts, steps, len(marks), len(_villages_of(marks)))


@dataclass
class RefreshRow:
    what: str
    villages: str
    walls: list[float]
    note: str = ""

    def line(self) -> str:
        walls = self.walls
        if len(walls) == 1:
            shown = f"{walls[0]:.2f}"
        else:
            shown = f"{statistics.median(walls):.2f} (median of {len(walls)}; max {max(walls):.2f})"
        return f"| {self.what} | {self.villages} | {shown} | {self.note} |"


def timed_refresh(**kw: Any) -> tuple[float, Any]:
    from khm.insights.refresh import refresh

    started = time.perf_counter()
    run = refresh(**kw)
    return time.perf_counter() - started, run


def household_edits(admin: Any, areas: Areas, n: int) -> RefreshRow:
    from khm.areas.models import code_range
    from khm.registry.models import Household
    from khm.registry.services import household_update

    low, high = code_range(areas.subdistrict)
    ids = list(
        Household.objects.filter(area_code__gte=low, area_code__lte=high).order_by("id").values_list("id", flat=True)
    )
    rng = random.Random(4601)
    walls: list[float] = []
    edit_walls: list[float] = []
    villages: set[int] = set()
    for i in range(n):
        hh = Household.objects.get(pk=rng.choice(ids))
        started = time.perf_counter()
        household_update(actor=admin, household=hh, address_extra=f"benchmark edit {i} {time.time():.0f}")
        edit_walls.append(time.perf_counter() - started)
        secs, run = timed_refresh()
        walls.append(secs)
        villages.add(run.villages)
        log(
            f"household edit {i + 1}: edit {edit_walls[-1] * 1000:.0f} ms, refresh {secs:.3f} s, {run.villages} villages"
        )
    return RefreshRow(
        "incremental `refresh()` after one household edit (`household_update`)",
        ", ".join(str(v) for v in sorted(villages)),
        walls,
        f"{n} edits in subdistrict {areas.subdistrict}; the edit itself {statistics.median(edit_walls) * 1000:.0f} ms",
    )


# --------------------------------------------------------------------------- main


def db_description(sqlite_path: Path | None) -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            assert sqlite_path is not None
            size = sum(p.stat().st_size for p in sqlite_path.parent.glob(sqlite_path.name + "*")) / 1e9
            return f"SQLite {cur.fetchone()[0]} (WAL, {size:.2f} GB file)"
        cur.execute("show server_version")
        ver = cur.fetchone()[0].split()[0]
        cur.execute("show shared_buffers")
        buffers = cur.fetchone()[0]
        cur.execute("select pg_database_size(current_database())")
        size = cur.fetchone()[0] / 1e9
        return (
            f"PostgreSQL {ver} (throw-away server of scripts/with_postgres.py, fsync off, shared_buffers {buffers}; "
            f"{size:.2f} GB database)"
        )


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--people", type=int, default=1_000_000, help="people generated over Kalasin (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--share", type=float, default=0.6, help="share of households assessed (the demo's 0.6)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed requests per page before timing")
    p.add_argument("--import-rows", type=int, default=10_000, help="rows of the imported list (default 10,000)")
    p.add_argument("--edits", type=int, default=5, help="single household edits, each followed by a refresh")
    p.add_argument("--out", type=Path, help="report directory (default benchmarks/out/insights-<db>-<people>)")
    p.add_argument("--keep", action="store_true", help="keep the temporary SQLite database")
    p.add_argument("--reuse", metavar="PATH", help="SQLite file kept with --keep (no setup; pass the same --people)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.db == "postgres" and os.environ.get("DB") != "postgres":
        log("starting a throw-away PostgreSQL server (scripts/with_postgres.py)")
        cmd = [sys.executable, str(ROOT / "scripts" / "with_postgres.py"), "--", sys.executable, __file__, *argv]
        return subprocess.run(cmd, cwd=ROOT, check=False).returncode
    if args.db == "postgres" and args.reuse:
        raise SystemExit("--reuse is for SQLite files (the PostgreSQL server is thrown away)")
    wall_started = time.perf_counter()
    code = code_fingerprint()
    sqlite_path, tmp = configure(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from khm.accounts.models import User
    from khm.assessment.models import Assessment, AssessmentResult
    from khm.core.models import ChangedArea
    from khm.insights.models import Fact
    from khm.referrals.models import Referral
    from khm.registry.models import Household, Person

    load_before = loadavg()
    try:
        steps: dict[str, float] = {}
        if args.reuse:
            log(f"reusing {sqlite_path}: no setup (migrate only)")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            log(f"building the {args.db} database with {args.people:,} people …")
            steps, _notes = build(args)
        people, households = Person.objects.count(), Household.objects.count()
        per_round = dict(Assessment.objects.values_list("round").annotate(n=Count("id")).order_by())
        results = AssessmentResult.objects.filter(current=True).count()
        referrals = Referral.objects.count()
        scale = (
            f"{people:,} people in {households:,} households over Kalasin (46, 18 districts; seed {args.seed}); "
            f"assessments {', '.join(f'{r}: {n:,}' for r, n in sorted(per_round.items()))} "
            f"({results:,} current scored results); {referrals:,} referrals (demo, 4601)"
        )
        log(scale)

        # ---- full refresh
        refresh_rows: list[RefreshRow] = []
        pending_before = ChangedArea.objects.count()
        secs, run = timed_refresh(full=True)
        facts = Fact.objects.count()
        by_level = dict(Fact.objects.values_list("level").annotate(n=Count("id")).order_by())
        log(f"full refresh: {secs:.1f} s, {run.villages:,} villages, {facts:,} Fact rows")
        refresh_rows.append(
            RefreshRow(
                "`refresh(full=True)`: every village from the data, then the sums",
                f"{run.villages:,}",
                [secs],
                f"{facts:,} `Fact` rows (village {by_level.get(4, 0):,}, subdistrict {by_level.get(3, 0):,}, "
                f"district {by_level.get(2, 0):,}, province {by_level.get(1, 0):,}); {pending_before:,} "
                "changed-area marks of the setup cleared",
            )
        )
        analyze_fact = analyze(("insights_fact",))
        if analyze_fact:
            log(f"ANALYZE insights_fact: {analyze_fact:.1f} s")

        # ---- latency
        areas = pick_areas()
        clients: dict[str, Any] = {"": Client()}
        users = {u: User.objects.get(username=u) for u, _ in USERS}
        for u, user in users.items():
            clients[u] = Client()
            clients[u].force_login(user)
        measured = [measure(p, clients[p.user], args.repeat, args.warmup) for p in pages(areas)]

        # ---- import + incremental refresh
        pending_before_import = ChangedArea.objects.count()
        imported = import_list(args, users["admin"], tmp)
        secs, run = timed_refresh()
        log(f"incremental refresh after the import: {secs:.2f} s, {run.villages:,} villages")
        c = imported.counts
        refresh_rows.append(
            RefreshRow(
                f"incremental `refresh()` after a {imported.rows:,}-row import (district {DISTRICT})",
                f"{run.villages:,}",
                [secs],
                f"{imported.marks:,} changed-area marks → {imported.villages_marked:,} villages; rows new "
                f"{c.get('new', 0):,} / matched {c.get('matched', 0):,} / uncertain {c.get('uncertain', 0):,} / "
                f"duplicate {c.get('duplicate', 0):,} / rejected {c.get('rejected', 0):,}; "
                f"{c.get('people_created', 0):,} people and {c.get('households_created', 0):,} households created",
            )
        )
        refresh_rows.append(household_edits(users["admin"], areas, args.edits))

        # ---- report
        total = time.perf_counter() - wall_started
        scale_word = "1,000,000 people" if people >= 1_000_000 else f"**{people:,} people (not 1M)**"
        lines = [
            f"## Insights — {connection.vendor}, {scale_word} ({dt.date.today():%Y-%m-%d})",
            "",
            f"- Machine: {machine()}; Django {django.get_version()}; {db_description(sqlite_path)}.",
            f"- Load average (1 / 5 / 15 min): {load_before} before, {loadavg()} after (other work shared the "
            f"2 cores); peak RSS {peak_rss_mib():,.0f} MiB; whole run {total / 60:.1f} min.",
            f"- Scale: {scale}.",
            f"- Code under test: {code} (git {git_head()}, uncommitted work included).",
            f"- Areas: subdistrict {areas.subdistrict} ({areas.households.get(areas.subdistrict, 0):,} households, "
            f"the largest of {DISTRICT}), village {areas.village} "
            f"({areas.households.get(areas.village, 0):,} households, its largest); district {DISTRICT} "
            f"{areas.households.get(DISTRICT, 0) or sum(v for k, v in areas.households.items() if len(k) == 6 and k.startswith(DISTRICT)):,} "
            "households.",
            "",
            "### Refresh of the pre-aggregated figures",
            "",
            "| refresh | villages refreshed | s | notes |",
            "|---|---:|---:|---|",
            *[r.line() for r in refresh_rows],
            "",
            f"Import of the {imported.rows:,}-row list (of {imported.district_rows:,} TPMAP-like rows of {DISTRICT}), as "
            "the province admin: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in imported.steps.items())
            + f". Changed-area marks before the import: {pending_before_import}."
            + (f" `ANALYZE insights_fact` after the full refresh: {analyze_fact:.1f} s." if analyze_fact else ""),
            "",
            f"### Latency through the Django stack (median and p95 of {args.repeat} requests after {args.warmup} "
            "warm-up)",
            "",
            "Queries = SQL statements of one request (session, user, roles, areas, figures, audit); "
            "registry = whether any of them reads `registry_household` / `registry_person`.",
            "",
            "| page | URL | user | median ms | p95 ms | n | queries | registry | KiB | response |",
            "|---|---|---|---:|---:|---:|---:|---|---:|---|",
            *[p.line() for p in measured],
            "",
            "The map page and the households layer read `registry_household` by design: the household dots "
            "(page, up to 2,000) and points (layer, up to 5,000) of users who may see households — code, village "
            "and coordinates only. The dashboard, the area layer and open data read only `insights_fact` "
            "(and areas, session, roles, audit).",
        ]
        report = "\n".join(lines + setup_lines(steps))
        out = args.out or ROOT / "benchmarks" / "out" / f"insights-{connection.vendor}-{people}-seed{args.seed}"
        write_report(report, out)
    finally:
        connection.close()
        if args.keep and sqlite_path is not None and not args.reuse:
            keep = tmp / "khm.sqlite3"
            log(f"database kept: {keep}")
            shutil.rmtree(tmp / "imports", ignore_errors=True)
            shutil.rmtree(tmp / "list", ignore_errors=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
