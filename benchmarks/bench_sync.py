"""Benchmark of fieldwork sync: the phone's offline bundle and submissions per second.

    python benchmarks/bench_sync.py --households 200 --people 30000 --seed 1 [--out DIR]

1. A throw-away SQLite database (``KHM_SQLITE_PATH`` set before ``django.setup()``):
   migrate, the area tree, the demo organisations and users, ``generate_population
   --area 4601 --people PEOPLE``; a volunteer whose area is the subdistrict with the most
   households; a campaign over district 4601 and ``--households`` of those households given
   to the volunteer.
2. **Offline bundle**: the app shell (``/m/``, app.js, app.css, the service worker, the
   manifest; what the service worker caches) and the download of the assignments
   (``POST /api/v1/fieldwork/download``), in bytes raw and gzipped, and the download time.
3. **Sync throughput** through the whole Django stack (test client: middleware, session,
   CSRF, API, services, SQLite; no network): one photo upload (a 1280×960 JPEG of ~130 kB, as
   the app makes it) and one submission with the five-capitals questionnaire per household,
   then the same submissions again (duplicates: stored once), then submissions that carry a
   conflicting change. Submissions/s for each.
4. Prints a Markdown table (also written to ``OUT/report.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import io
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def jpeg(seed: int) -> bytes:
    """A 1280×960 JPEG at quality 0.7 that compresses like a photo (~130 kB), as the app makes."""
    from PIL import Image, ImageFilter

    g = Image.linear_gradient("L").resize((1280, 960))
    n = Image.effect_noise((1280, 960), 64 + seed % 3).filter(ImageFilter.GaussianBlur(1.2))
    img = Image.merge("RGB", (g, Image.blend(g, n, 0.5), n))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def sizes(data: bytes) -> tuple[int, int]:
    return len(data), len(gzip.compress(data, 6))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    out_dir = args.out or ROOT / "benchmarks" / "out" / f"sync-{args.households}-{args.people}-seed{args.seed}"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="khm-bench-sync-"))
    os.environ["KHM_SQLITE_PATH"] = str(tmp / "khm.sqlite3")
    os.environ["KHM_MEDIA_DIR"] = str(tmp / "media")
    os.environ["KHM_IMPORT_DIR"] = str(tmp / "imports")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("KHM_LOG_LEVEL", "WARNING")
    os.environ.pop("KHM_DEBUG", None)
    os.environ["DB"] = "sqlite"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import Substr
    from django.test import Client

    from khm.accounts.models import Organisation, RoleAssignment, User
    from khm.accounts.roles import Role
    from khm.demo.seed import seed_organisations_and_users
    from khm.fieldwork import services
    from khm.fieldwork.models import Verification
    from khm.registry.models import Household

    rows: list[tuple[str, str, str, str]] = []
    try:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_areas", stdout=io.StringIO())
        seed_organisations_and_users()
        call_command("generate_population", people=args.people, seed=args.seed, area="4601", stdout=io.StringIO())
        sub = (
            Household.objects.annotate(sub=Substr("area_code", 1, 6))
            .values("sub")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        assert sub is not None
        admin = User.objects.get(username="admin")
        vol = User.objects.create_user(username="bench-volunteer", password="bench-volunteer-password")
        from khm.areas.models import Area

        org = Organisation.objects.filter(code="province-46").first() or Organisation.objects.first()
        assert org is not None
        RoleAssignment.objects.create(
            user=vol, role=Role.VILLAGE_VOLUNTEER, organisation=org, area=Area.objects.get(code=sub["sub"])
        )
        campaign = services.campaign_create(actor=admin, name="bench", area_code="4601", round="2568", selection="all")
        ids = list(
            Household.objects.filter(area_code__startswith=sub["sub"]).order_by("pk").values_list("pk", flat=True)
        )[: args.households]
        n = services.campaign_assign(actor=admin, campaign=campaign, assignee=vol, households=ids)
        c = Client(enforce_csrf_checks=False)
        c.force_login(vol)
        shell = c.get("/m/").content
        static = {
            name: (ROOT / "khm" / "fieldwork" / "static" / "fieldwork" / name).read_bytes()
            for name in ("app.js", "app.css")
            if (ROOT / "khm" / "fieldwork" / "static" / "fieldwork" / name).is_file()
        }
        sw = c.get("/m/sw.js").content
        manifest = c.get("/m/manifest.webmanifest").content
        started = time.perf_counter()
        resp = c.post("/api/v1/fieldwork/download")
        download_s = time.perf_counter() - started
        bundle = resp.content
        data = json.loads(bundle)
        assert len(data["households"]) == n, (len(data["households"]), n)
        shell_total = sum(sizes(b)[0] for b in [shell, sw, manifest, *static.values()])
        shell_gz = sum(sizes(b)[1] for b in [shell, sw, manifest, *static.values()])
        raw, gz = sizes(bundle)
        rows.append(
            (
                "app shell cached by the service worker (HTML, JS, CSS, worker, manifest)",
                "—",
                f"{shell_total / 1024:,.1f} kB",
                f"{shell_gz / 1024:,.1f} kB gzip",
            )
        )
        rows.append(
            (
                f"assignments download for {n} households (members, questionnaire)",
                f"{download_s * 1000:,.0f} ms",
                f"{raw / 1024:,.1f} kB",
                f"{gz / 1024:,.1f} kB gzip",
            )
        )
        photo = jpeg(args.seed)
        answers = {"capitals": {"p_tenure": "own_house_other_land", "p_house_condition": "fair", "p_electricity": "own_meter",
                                "p_water": "partly", "h_education": "primary", "h_health": "chronic", "h_work": "some",
                                "h_literacy": "all", "f_savings": "none", "f_debt": "manageable", "f_balance": "even",
                                "n_land": "reform", "n_farm_water": "rain", "n_food": "some", "s_activities": "sometimes",
                                "s_mutual_help": "yes", "s_welfare_fund": "no"}}  # fmt: skip

        def body(h: dict[str, Any], key: str, **kw: Any) -> str:
            return json.dumps({
                "key": key, "household": h["code"], "campaign": campaign.code, "outcome": "confirmed_poor",
                "verified_on": dt.date.today().isoformat(), "consent": True, "gps": {"lat": 16.43, "lon": 103.5, "accuracy": 9},
                "answers": answers, **kw,
            })  # fmt: skip

        from django.core.files.uploadedfile import SimpleUploadedFile

        started = time.perf_counter()
        for i, h in enumerate(data["households"]):
            r = c.post(
                "/api/v1/fieldwork/photos",
                {"key": f"ph-{i}", "household": h["code"], "file": SimpleUploadedFile("p.jpg", photo)},
            )
            assert r.status_code == 201, r.content
            r = c.post(
                "/api/v1/fieldwork/submissions", body(h, f"s-{i}", photos=[f"ph-{i}"]), content_type="application/json"
            )
            assert r.status_code == 201, r.content
        secs = time.perf_counter() - started
        rows.append(
            (
                f"sync: photo ({len(photo) / 1024:,.0f} kB) + submission with questionnaire, scored",
                f"{n} households",
                f"{secs:.2f} s",
                f"{n / secs:,.1f} submissions/s",
            )
        )
        started = time.perf_counter()
        for i, h in enumerate(data["households"]):
            r = c.post(
                "/api/v1/fieldwork/photos",
                {"key": f"ph-{i}", "household": h["code"], "file": SimpleUploadedFile("p.jpg", photo)},
            )
            assert r.status_code == 200
            r = c.post(
                "/api/v1/fieldwork/submissions", body(h, f"s-{i}", photos=[f"ph-{i}"]), content_type="application/json"
            )
            assert r.status_code == 200 and r.json()["duplicate"]
        secs = time.perf_counter() - started
        assert Verification.objects.count() == n
        rows.append(
            (
                "sync again, same keys (phone never got the answers): stored once",
                f"{n} households",
                f"{secs:.2f} s",
                f"{n / secs:,.1f} submissions/s",
            )
        )
        # Conflicts: a second campaign; the office changed every house number after the download.
        c2 = services.campaign_create(actor=admin, name="bench-2", area_code="4601", round="2569", selection="all")
        services.campaign_assign(actor=admin, campaign=c2, assignee=vol, households=ids)
        Household.objects.filter(pk__in=ids).update(house_no="8888/8")  # no real house has it
        started = time.perf_counter()
        for i, h in enumerate(data["households"]):
            payload = json.loads(body(h, f"c-{i}"))
            payload.update(campaign=c2.code, answers=None, base={"household": {"house_no": h["house_no"]}},
                           changes={"household": {"house_no": f"{i}/9"}})  # fmt: skip
            r = c.post("/api/v1/fieldwork/submissions", json.dumps(payload), content_type="application/json")
            assert r.status_code == 201 and r.json()["conflicts"], r.content
        secs = time.perf_counter() - started
        rows.append(
            (
                "sync of submissions that each carry a conflict (kept for an officer)",
                f"{n} households",
                f"{secs:.2f} s",
                f"{n / secs:,.1f} submissions/s",
            )
        )
        with connection.cursor() as cur:
            cur.execute("select sqlite_version()")
            version = cur.fetchone()[0]
    finally:
        connection.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        f"Sync benchmark ({dt.date.today():%Y-%m-%d}): {machine()}; SQLite {version}; population {args.people:,} people in district 4601.",
        "",
        "| what | scale / time | size or s | rate |",
        "|---|---|---:|---:|",
        *[f"| {a} | {b} | {c_} | {d} |" for a, b, c_, d in rows],
    ]
    report = "\n".join(lines)
    (out_dir / "report.md").write_text(report + "\n", encoding="utf-8")
    sys.stdout.write(report + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
