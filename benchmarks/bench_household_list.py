#!/usr/bin/env python
"""Household-list latency at scale, measured through the real Django stack.

    .venv/bin/python benchmarks/bench_household_list.py --people 1000000            # SQLite
    .venv/bin/python benchmarks/bench_household_list.py --people 1000000 --db postgres
    .venv/bin/python benchmarks/bench_household_list.py --reuse benchmarks/out/households-1000000-seed1.sqlite3

1. Builds a database with ``--people`` people: ``migrate``, ``load_areas``, ``seed_demo``
   (Kalasin organisations, the demo users and ``generate_population``), and reports the
   load time. SQLite goes to a file under ``benchmarks/out/`` (git-ignored) that
   ``--reuse PATH`` measures again without rebuilding. ``--db postgres`` re-runs this
   script under ``scripts/with_postgres.py`` (a throw-away server) unless ``DB=postgres``
   and the ``PG*`` variables are already set; there ``--reuse`` (any value) means "the
   database already holds the population".
2. Logs in the province admin, a district officer and a local-government officer with
   ``django.test.Client.force_login`` (sessions, middleware, declared access, scoping,
   selectors, templates: everything but the network) and times, after a warm-up,
   ``--requests`` requests of each scenario: first page, next pages through the keyset
   cursor, a deep page, the area filter, searches (common first-name prefix, "first last",
   13-digit national ID, house number) the way the page sends them (htmx POST), and the
   REST API list. Prints one Markdown table (median, p95, rows, SQL queries per request).
3. EXPLAINs (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on PostgreSQL) every query of
   those requests that reads ``registry_household`` / ``registry_person`` and says whether
   it is served by indexes or scans a whole table.

The national ID searched for is decrypted from the database here, inside the benchmark
only; it is never printed.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
USERS = [("admin", "province admin"), ("district", "district officer"), ("local", "local officer")]
TABLES = ("registry_household", "registry_person")
ROW_RE = re.compile(r'<td[^>]*>\s*<a href="/households/([^"/]+)/"')


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--people", type=int, default=1_000_000, help="people to generate (default 1,000,000)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic population (default 1)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--requests", type=int, default=200, help="timed requests per scenario (default 200)")
    p.add_argument("--warmup", type=int, default=5, help="untimed requests per scenario first (default 5)")
    p.add_argument("--pages", type=int, default=10, help="'next page' requests cycle through pages 2..PAGES")
    p.add_argument("--max-seconds", type=float, default=60.0, help="stop a scenario early after this many seconds")
    p.add_argument(
        "--reuse", metavar="PATH", help="SQLite file built earlier (PostgreSQL: any value, reuse PGDATABASE)"
    )
    p.add_argument("--batch", type=int, default=2000, help="households per bulk-load transaction")
    p.add_argument("--output", metavar="FILE", help="also write the report here (default benchmarks/out/...md)")
    return p.parse_args(argv)


# --------------------------------------------------------------------------- environment


def configure(args: argparse.Namespace) -> Path | None:
    """Point the settings at the database to use; returns the SQLite file (None on PostgreSQL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("KHM_LOG_LEVEL", "WARNING")
    os.environ.pop("KHM_DEBUG", None)  # DEBUG would keep every SQL query in memory
    sys.path.insert(0, str(ROOT))
    if args.db == "postgres":
        return None
    os.environ["DB"] = "sqlite"
    if args.reuse:
        path = Path(args.reuse).resolve()
        if not path.exists():
            raise SystemExit(f"--reuse {path}: no such file")
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"households-{args.people}-seed{args.seed}.sqlite3"
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
    os.environ["KHM_SQLITE_PATH"] = str(path)
    return path


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    import platform

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def db_description() -> str:
    import django
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("select sqlite_version()")
            ver = f"SQLite {cur.fetchone()[0]} (WAL, file {connection.settings_dict['NAME']})"
        else:
            cur.execute("show server_version")
            ver = f"PostgreSQL {cur.fetchone()[0]}"
            cur.execute("show shared_buffers")
            ver += f" (shared_buffers {cur.fetchone()[0]}"
            cur.execute("show work_mem")
            ver += f", work_mem {cur.fetchone()[0]}; throw-away server of scripts/with_postgres.py, fsync off)"
    return f"{ver}; Django {django.get_version()}"


# --------------------------------------------------------------------------- build


def build(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    steps: dict[str, Any] = {}
    t = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    steps["migrate"] = time.perf_counter() - t
    t = time.perf_counter()
    call_command("load_areas", stdout=io.StringIO())
    steps["load_areas"] = time.perf_counter() - t
    t = time.perf_counter()
    out = io.StringIO()
    call_command("seed_demo", people=args.people, seed=args.seed, no_assessments=True, stdout=out)
    steps["seed_demo"] = time.perf_counter() - t
    steps["seed_demo_output"] = next((ln for ln in out.getvalue().splitlines() if ln.startswith("generated")), "")
    if connection.vendor == "postgresql":
        # What autovacuum does shortly after a bulk load; done here so plans are reproducible.
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        steps["analyze"] = time.perf_counter() - t
    return steps


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    name: str
    user: str
    send: Callable[[int], Any]  # i -> response
    rows: Callable[[Any], int]
    note: str = ""


@dataclass
class Result:
    scenario: Scenario
    times_ms: list[float] = field(default_factory=list)
    rows: int = 0
    queries: int = 0
    sql: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        xs = sorted(self.times_ms)
        return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]


def html_rows(resp: Any) -> int:
    return len(set(ROW_RE.findall(resp.content.decode())))


def api_rows(resp: Any) -> int:
    return len(resp.json()["items"])


def common_first_name_prefix() -> tuple[str, int]:
    """The most frequent two-character start of a first name (what people type first)."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from khm.registry.models import Person

    row = (
        Person.objects.annotate(p=Substr("first_name", 1, 2))
        .values("p")
        .annotate(n=Count("id"))
        .order_by("-n", "p")
        .first()
    )
    assert row is not None, "no people"
    return row["p"], row["n"]


def cursors_for(user: Any, pages: int) -> list[str]:
    """Cursors of pages 2..pages of the user's unfiltered list (computed outside timing)."""
    from khm.registry.selectors import household_list

    out: list[str] = []
    after = None
    for _ in range(pages - 1):
        page = household_list(user, after=after)
        if not page.next_cursor:
            break
        out.append(page.next_cursor)
        after = page.next_cursor
    return out


def build_scenarios(client_for: dict[str, Any], users: dict[str, Any], pages: int) -> tuple[list[Scenario], str]:
    from khm.registry.models import Relation
    from khm.registry.selectors import encode_cursor, households_visible, people_visible

    prefix, prefix_people = common_first_name_prefix()
    notes = f"Common first-name prefix: '{prefix}' ({prefix_people:,} people in the database start with it)."
    scenarios: list[Scenario] = []
    hx = {"HX-Request": "true"}
    for username, _label in USERS:
        c, user = client_for[username], users[username]
        visible = households_visible(user).order_by("area_code", "code")
        n = visible.count()
        middle = visible[n // 2]
        deep = visible[int(n * 0.9)]
        subdistrict = middle.area_code[:6]
        head = (
            people_visible(user).filter(household=middle, relation=Relation.HEAD).first()
            or people_visible(user).filter(household=middle).first()
        )
        assert head is not None
        nid = head.national_id()
        assert len(nid) == 13
        full_name = f"{head.first_name} {head.last_name}"
        cursors = cursors_for(user, pages) or [""]
        deep_cursor = encode_cursor(deep.area_code, deep.code)

        def get(url: str, c: Any = c, **kw: Any) -> Callable[[int], Any]:
            return lambda i: c.get(url, **kw)

        def post(url: str, data: dict[str, str], c: Any = c) -> Callable[[int], Any]:
            return lambda i: c.post(url, data, headers=hx)

        def page_n(i: int, c: Any = c, cursors: list[str] = cursors) -> Any:
            return c.post("/households/", {"q": "", "area": "", "after": cursors[i % len(cursors)]}, headers=hx)

        def api_page_n(i: int, c: Any = c, cursors: list[str] = cursors) -> Any:
            return c.get("/api/v1/households", {"after": cursors[i % len(cursors)]})

        scenarios += [
            Scenario("list, first page (GET /households/)", username, get("/households/"), html_rows),
            Scenario(f"list, pages 2..{len(cursors) + 1} (cursor)", username, page_n, html_rows),
            Scenario(
                "list, deep page (cursor at 90 %)", username, post("/households/", {"after": deep_cursor}), html_rows
            ),
            Scenario(
                f"area filter (?area=<subdistrict {subdistrict}>)",
                username,
                get("/households/", data={"area": subdistrict}),
                html_rows,
            ),
            Scenario(f"search first-name prefix '{prefix}'", username, post("/households/", {"q": prefix}), html_rows),
            Scenario("search 'first last'", username, post("/households/", {"q": full_name}), html_rows),
            Scenario("search national ID (13 digits)", username, post("/households/", {"q": nid}), html_rows),
            Scenario(
                f"search house no. '{middle.house_no}'",
                username,
                post("/households/", {"q": middle.house_no}),
                html_rows,
            ),
            Scenario("API GET /api/v1/households", username, get("/api/v1/households"), api_rows),
            Scenario("API GET /api/v1/households?after=", username, api_page_n, api_rows),
        ]
        notes += (
            f"\n- {username}: {n:,} households in scope; searched household {middle.code} (subdistrict {subdistrict})."
        )
    return scenarios, notes


def run(s: Scenario, requests: int, warmup: int, max_seconds: float) -> Result:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    res = Result(s)
    connection.queries_log.clear()  # a full log (9,000 queries of the build) would capture nothing
    with CaptureQueriesContext(connection) as ctx:
        resp = s.send(0)
    if resp.status_code != 200:
        raise SystemExit(f"{s.user} {s.name}: HTTP {resp.status_code}\n{resp.content[:2000]!r}")
    res.rows = s.rows(resp)
    res.queries = len(ctx.captured_queries)
    res.sql = [q["sql"] for q in ctx.captured_queries if any(f'"{t}"' in q["sql"] for t in TABLES)]
    for i in range(warmup):
        s.send(i)
    started = time.perf_counter()
    for i in range(requests):
        t = time.perf_counter()
        resp = s.send(i)
        res.times_ms.append((time.perf_counter() - t) * 1000)
        assert resp.status_code == 200, (s.name, resp.status_code)
        if time.perf_counter() - started > max_seconds:
            break
    return res


# --------------------------------------------------------------------------- EXPLAIN


@dataclass
class Plan:
    text: str
    full_scans: list[str]
    indexes: list[str]
    temp_sort: bool


def explain(sql: str) -> Plan:
    from django.db import connection

    aliases = {m.group(2): m.group(1) for m in re.finditer(r'"(registry_\w+)" (U\d+|T\d+)\b', sql)}
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + sql)
            rows = cur.fetchall()
            lines = [r[3] for r in rows]
            text = "\n".join(lines)
            full, idx = [], []
            for d in lines:
                m = re.match(r"SCAN (\S+)(?: AS (\S+))?(.*)", d)
                if m and "USING" not in m.group(3):
                    table = aliases.get(m.group(1), m.group(1))
                    if table in TABLES:
                        full.append(table)
                idx += ["rowid" if "PRIMARY KEY" in i else i.split()[-1] for i in re.findall(
                    r"USING (INTEGER PRIMARY KEY|(?:COVERING )?INDEX \w+)", d)]  # fmt: skip
            return Plan(text, full, sorted(set(idx)), "TEMP B-TREE" in text)
        cur.execute("EXPLAIN " + sql)
        text = "\n".join(r[0] for r in cur.fetchall())
    full = re.findall(r"Seq Scan on (registry_household|registry_person)\b", text)
    idx = re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:Backward )?(?:using|on) (\w+)", text)
    return Plan(text, full, sorted(set(idx)), bool(re.search(r"\bSort\b", text)))


# --------------------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.db == "postgres" and os.environ.get("DB") != "postgres":
        print("starting a throw-away PostgreSQL server (scripts/with_postgres.py)", flush=True)
        cmd = [sys.executable, str(ROOT / "scripts" / "with_postgres.py"), "--", sys.executable, __file__, *argv]
        return subprocess.run(cmd, cwd=ROOT).returncode
    sqlite_path = configure(args)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from khm.accounts.models import User
    from khm.registry.models import Household, Person

    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    print(
        f"[{datetime.datetime.now():%H:%M:%S}] database: {sqlite_path or 'PostgreSQL ' + os.environ.get('PGHOST', '')}"
    )
    steps: dict[str, Any] = {}
    if args.reuse and (connection.vendor == "sqlite" or Household.objects.exists()):
        print("reusing the existing database: nothing loaded")
    else:
        print(f"building: migrate, load_areas, seed_demo --people {args.people:,} --seed {args.seed} …", flush=True)
        steps = build(args)
    people, households = Person.objects.count(), Household.objects.count()

    m = machine()
    say(f"## Household list — {args.db}, {people:,} people ({datetime.date.today():%Y-%m-%d})")
    say()
    say(f"- Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; {m['os']}; Python {m['python']}")
    say(f"- Database: {db_description()}")
    say(f"- Scale: {people:,} people in {households:,} households (seed {args.seed})")
    if steps:
        load = steps["seed_demo"]
        say(
            f"- Load: migrate {steps['migrate']:.1f} s, load_areas {steps['load_areas']:.1f} s, "
            f"seed_demo {load:.1f} s → **{people / load:,.0f} people/s** "
            f"(total {sum(v for v in steps.values() if isinstance(v, float)):.1f} s"
            + (f", incl. ANALYZE {steps['analyze']:.1f} s" if "analyze" in steps else "")
            + ")"
        )
        say(f"  - `{steps['seed_demo_output']}`")
    else:
        say("- Load: not measured (--reuse)")
    if sqlite_path:
        size = sum(p.stat().st_size for p in sqlite_path.parent.glob(sqlite_path.name + "*"))
        say(f"- Database file: {size / 1e9:.2f} GB")
    elif connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("select pg_database_size(current_database())")
            say(f"- Database size: {cur.fetchone()[0] / 1e9:.2f} GB")

    users = {u: User.objects.get(username=u) for u, _ in USERS}
    clients: dict[str, Any] = {}
    for u, user in users.items():
        clients[u] = Client()
        clients[u].force_login(user)
    scenarios, notes = build_scenarios(clients, users, args.pages)
    say(f"- {notes}")
    say(
        f"- {args.requests} timed requests per scenario after {args.warmup} warm-up requests "
        f"(fewer when a scenario passes {args.max_seconds:.0f} s); time = django.test.Client call, "
        "i.e. the whole Django stack (middleware, session, scoping, SQL, template/JSON) without network."
    )
    say()

    results: list[Result] = []
    for s in scenarios:
        r = run(s, args.requests, args.warmup, args.max_seconds)
        results.append(r)
        print(f"  {s.user:<8} {s.name:<48} median {r.median:7.1f} ms  p95 {r.p95:7.1f} ms  rows {r.rows}", flush=True)

    say("| Scenario | User | Median ms | p95 ms | Rows | SQL queries | n |")
    say("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        label = dict(USERS)[r.scenario.user]
        say(
            f"| {r.scenario.name} | {label} | {r.median:.1f} | {r.p95:.1f} | {r.rows} | {r.queries} "
            f"| {len(r.times_ms)} |"
        )
    slow = [r for r in results if r.p95 > 300]
    say()
    say(
        "Slow scenarios (p95 > 300 ms): "
        + (", ".join(f"{r.scenario.user} / {r.scenario.name}" for r in slow) or "none")
    )

    say()
    kind = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
    say(f"### Query plans ({kind}) of the registry queries of each request")
    say()
    say("| Scenario | User | Queries | Indexes used | Full scan of | Sort |")
    say("|---|---|---:|---|---|---|")
    shown: dict[str, Plan] = {}
    any_full = False
    for r in results:
        plans = [explain(sql) for sql in r.sql]
        full = sorted({t for p in plans for t in p.full_scans})
        any_full = any_full or bool(full)
        idx = sorted({i for p in plans for i in p.indexes})
        say(
            f"| {r.scenario.name} | {dict(USERS)[r.scenario.user]} | {len(plans)} | {', '.join(idx) or '—'} "
            f"| {'**' + ', '.join(full) + '**' if full else 'none'} | {'yes' if any(p.temp_sort for p in plans) else 'no'} |"
        )
        if r.scenario.user == "admin" and plans and (
            r.scenario.name.startswith("list, first") or r.scenario.name.startswith("search first-name")
            or r.scenario.name.startswith("search 'first")
        ):  # fmt: skip
            shown[r.scenario.name] = plans[0]
    say()
    say(
        "Verdict: "
        + ("**a full scan of registry_person / registry_household happens (see above)**" if any_full else
           "no query scans registry_person or registry_household in full: all are served by indexes.")
    )  # fmt: skip
    for name, plan in shown.items():
        say()
        say(f"Main query plan, province admin, {name}:")
        say()
        say("```")
        say(plan.text)
        say("```")

    out = Path(args.output) if args.output else OUT / f"bench_household_list-{args.db}-{people}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nreport written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
