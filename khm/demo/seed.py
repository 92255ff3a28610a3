"""Kalasin demo: organisations, one user per role, synthetic households."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from khm.accounts.models import Organisation, OrganisationKind, RoleAssignment, User
from khm.accounts.roles import Role
from khm.areas.loaders import iter_local_governments
from khm.areas.models import Area, AreaLevel

DEMO_PASSWORD = "kalasin-demo"  # published in the README: demo only

AGENCIES = [
    (
        "agency-pso",
        "สำนักงานพัฒนาสังคมและความมั่นคงของมนุษย์จังหวัดกาฬสินธุ์",
        "Kalasin Provincial Social Development and Human Security Office",
    ),
    ("agency-ppho", "สำนักงานสาธารณสุขจังหวัดกาฬสินธุ์", "Kalasin Provincial Public Health Office"),
    ("agency-pcdo", "สำนักงานพัฒนาชุมชนจังหวัดกาฬสินธุ์", "Kalasin Provincial Community Development Office"),
    ("agency-pao-agri", "สำนักงานเกษตรจังหวัดกาฬสินธุ์", "Kalasin Provincial Agriculture Office"),
    ("agency-labour", "สำนักงานแรงงานจังหวัดกาฬสินธุ์", "Kalasin Provincial Labour Office"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    organisation: str
    area: str | None
    display_name: str


def _orgs() -> None:
    kalasin = Area.objects.get(code="46")
    Organisation.objects.update_or_create(
        code="province-46",
        defaults={"kind": OrganisationKind.PROVINCE_OFFICE, "name_th": "ศูนย์อำนวยการขับเคลื่อนการแก้ไขปัญหาความยากจนจังหวัดกาฬสินธุ์",
                  "name_en": "Kalasin Provincial Poverty Centre", "area": kalasin},
    )  # fmt: skip
    for d in Area.objects.filter(level=AreaLevel.DISTRICT, parent=kalasin, active=True):
        Organisation.objects.update_or_create(
            code=f"district-{d.code}",
            defaults={"kind": OrganisationKind.DISTRICT_OFFICE, "name_th": f"ที่ว่าการอำเภอ{d.name_th}",
                      "name_en": f"{d.name_en} District Office", "area": d},
        )  # fmt: skip
    districts = {a.code: a for a in Area.objects.filter(level=AreaLevel.DISTRICT, parent=kalasin)}
    villages = {a.code: a for a in Area.objects.filter(level=AreaLevel.VILLAGE, path__range=("46000000", "46999999"))}
    for lg in iter_local_governments():
        org, _ = Organisation.objects.update_or_create(
            code=f"lg-{lg.key}",
            defaults={"kind": OrganisationKind.LOCAL_GOVERNMENT, "name_th": lg.name_th, "name_en": lg.name_en,
                      "lg_type": lg.type, "area": districts.get(lg.district_code) if lg.district_code else kalasin},
        )  # fmt: skip
        org.jurisdiction.set([villages[c] for c in lg.villages if c in villages])
    for code, th, en in AGENCIES:
        Organisation.objects.update_or_create(
            code=code, defaults={"kind": OrganisationKind.AGENCY, "name_th": th, "name_en": en, "area": kalasin}
        )
    Organisation.objects.update_or_create(
        code="khm-system", defaults={"kind": OrganisationKind.OTHER, "name_th": "ผู้ดูแลระบบ KHM", "name_en": "KHM system"}
    )


def _pick_local(district: str, exclude: set[str] = frozenset()) -> Organisation:  # type: ignore[assignment]
    """A subdistrict municipality or SAO of ``district`` with a real set of villages."""
    candidates = (
        Organisation.objects.filter(
            kind=OrganisationKind.LOCAL_GOVERNMENT, area__code=district, lg_type__in=["TAO", "ThesabanTambon"]
        )
        .exclude(code__in=exclude)
        .order_by("code")
    )
    best = max(candidates, key=lambda o: (o.jurisdiction.count(), o.code == min(c.code for c in candidates)))
    return best


def demo_users() -> list[DemoUser]:
    local = _pick_local("4601")
    other = _pick_local("4605")  # Kuchinarai: another district, the "other area" officer
    village = local.jurisdiction.order_by("code").first()
    assert village is not None
    return [
        DemoUser("admin", Role.PROVINCE_ADMIN, "province-46", "46", "ผู้ดูแลจังหวัด (Province admin)"),
        DemoUser("district", Role.DISTRICT_OFFICER, "district-4601", "4601", "ปลัดอำเภอเมืองกาฬสินธุ์ (District officer)"),
        DemoUser("local", Role.LOCAL_OFFICER, local.code, None, f"เจ้าหน้าที่{local.name_th}"),
        DemoUser("local2", Role.LOCAL_OFFICER, other.code, None, f"เจ้าหน้าที่{other.name_th}"),
        DemoUser("agency", Role.AGENCY_WORKER, "agency-pso", "46", "เจ้าหน้าที่ พมจ. (Agency worker)"),
        DemoUser(
            "volunteer", Role.VILLAGE_VOLUNTEER, local.code, village.code, f"อสม. {village.name_th} (Village volunteer)"
        ),
        DemoUser("secretary", Role.FORUM_SECRETARY, "district-4601", village.code[:6], "เลขานุการเวที (Forum secretary)"),
        DemoUser("analyst", Role.ANALYST, "province-46", "46", "นักวิเคราะห์ (Analyst)"),
        DemoUser("sysadmin", Role.SYSTEM_ADMIN, "khm-system", None, "ผู้ดูแลระบบ (System admin)"),
    ]


def _sources() -> None:
    from khm.sources.models import Source
    from khm.sources.profiles import install_profiles

    install_profiles()
    # The BMN (จปฐ.) survey is run by the Community Development Department: its provincial
    # office (สำนักงานพัฒนาชุมชนจังหวัด) owns the extract.
    owners = {"tpmap": "agency-pcdo", "khm": "province-46", "bottom20": "agency-pso", "bmn": "agency-pcdo"}
    names = {
        "tpmap": ("TPMAP (ระบบบริหารจัดการข้อมูลการพัฒนาคนแบบชี้เป้า)", "TPMAP target poor"),
        "khm": ("บัญชีคนจนจังหวัดกาฬสินธุ์ (KHM)", "Kalasin province list (KHM)"),
        "bottom20": ("กลุ่มรายได้ต่ำสุดร้อยละ 20", "Bottom 20 percent income"),
        "bmn": ("ข้อมูลความจำเป็นพื้นฐาน (จปฐ.)", "Basic Minimum Needs survey (BMN)"),
    }
    for kind, (th, en) in names.items():
        Source.objects.update_or_create(
            code=f"{kind}-2568",
            defaults={"kind": kind, "name_th": th, "name_en": en, "round_label": "2568",
                      "owner": Organisation.objects.get(code=owners[kind])},
        )  # fmt: skip


def seed_organisations_and_users() -> list[DemoUser]:
    with transaction.atomic():
        _orgs()
        _sources()
        users = demo_users()
        for du in users:
            user, created = User.objects.get_or_create(username=du.username, defaults={"display_name": du.display_name})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            org = Organisation.objects.get(code=du.organisation)
            area = Area.objects.get(code=du.area) if du.area else None
            RoleAssignment.objects.get_or_create(user=user, role=du.role, organisation=org, area=area)
    return users


def import_demo_lists(*, people: int, seed: int, out_dir: str) -> list[str]:
    """Write this year's TPMAP, KHM, bottom-20 and BMN (จปฐ.) lists for the demo population
    (same seed, so the same people) and import them through the real staged-import path as
    the province admin: the demo then shows provenance, matches, uncertain and rejected rows.
    The BMN extract covers most households of 30 % of the villages, poor or not."""

    from khm.engines.sources_synth import ALL_LISTS, build_lists, write_lists
    from khm.engines.synth import generate, village_weights_from_population
    from khm.sources import services
    from khm.sources.models import MappingProfile, Source

    villages = list(
        Area.objects.filter(level=AreaLevel.VILLAGE, active=True, path__range=("46000000", "46999999"))
        .order_by("code")
        .values_list("code", "parent__code")
    )
    pop = dict(
        Area.objects.filter(
            level=AreaLevel.SUBDISTRICT, population__isnull=False, path__range=("46000000", "46999999")
        ).values_list("code", "population")
    )
    weights = village_weights_from_population(villages, {k: v for k, v in pop.items() if v is not None})
    population = generate(villages=weights, people=people, seed=seed)
    files = write_lists(build_lists(population, seed=seed, lists=ALL_LISTS), Path(out_dir))
    admin = User.objects.get(username="admin")
    report = []
    for kind in ALL_LISTS:
        source = Source.objects.get(code=f"{kind}-2568")
        profile = MappingProfile.objects.get(kind=kind)
        path = files[kind]
        batch = services.batch_upload(
            actor=admin, source=source, profile=profile, file_name=path.name, content=path.read_bytes()
        )
        batch = services.batch_stage(actor=admin, batch=batch)
        if batch.status == "preview":
            batch = services.batch_commit(actor=admin, batch=batch)
        report.append(f"{source.code}: {batch.status} {batch.counts}")
    report.append(_field_survey(admin, Path(out_dir)))
    return report


FIELD_HEADER = ["record_id", "เลขประจำตัวประชาชน", "คำนำหน้า", "ชื่อ", "นามสกุล", "เพศ", "วันเกิด", "บ้านเลขที่", "หมู่",
                "ตำบล", "อำเภอ", "จังหวัด", "รหัสตำบล"]  # fmt: skip


def _field_survey(admin: User, out_dir: Any) -> str:
    """A volunteers' field survey typed by hand, without IDs, with a source that asks for
    near-certainty (match threshold 0.9999): its rows name registry people of the local
    officer's subdistrict, but with another birth year and in the neighbouring village, so
    they wait in the review queue instead of linking alone (what the demo review shows)."""
    from khm.registry.models import Person
    from khm.sources import services
    from khm.sources.models import MappingProfile, Source, SourceKind

    source, _ = Source.objects.update_or_create(
        code="field-2568",
        defaults={"kind": SourceKind.FIELD, "name_th": "แบบสำรวจภาคสนามของอาสาสมัคร", "name_en": "Volunteers' field survey",
                  "round_label": "2568", "match_threshold": 0.9999, "review_threshold": 0.5,
                  "owner": Organisation.objects.get(code="province-46")},
    )  # fmt: skip
    local = User.objects.get(username="local").assignments.select_related("organisation").first()
    villages = sorted(local.organisation.jurisdiction.values_list("code", flat=True)) if local else []
    people = list(
        Person.objects.filter(household__area_code__in=villages, birth_date__isnull=False)
        .select_related("household")
        .order_by("id")[:8]
    )
    lines = [",".join(FIELD_HEADER)]
    for i, p in enumerate(people, start=1):
        area = p.household.area_code
        others = [v for v in villages if v[:6] == area[:6] and v != area] or [area]
        moo = str(int(others[0][6:8]))
        year = (p.birth_date.year if p.birth_date else 1980) + 543 + 20  # Buddhist Era, 20 years later
        lines.append(
            ",".join([f"F{i:03d}", "", p.title, p.first_name, p.last_name, "ชาย" if p.sex == "M" else "หญิง",
                      f"01/01/{year}", "9", moo, "", "", "", area[:6]])
        )  # fmt: skip
    path = out_dir / "field-survey.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp874"))
    batch = services.batch_upload(
        actor=admin, source=source, profile=MappingProfile.objects.get(kind="tpmap"), file_name=path.name,
        content=path.read_bytes(),
    )  # fmt: skip
    batch = services.batch_stage(actor=admin, batch=batch)
    if batch.status == "preview":
        batch = services.batch_commit(actor=admin, batch=batch)
    return f"{source.code}: {batch.status} {batch.counts}"


def _inside(x: float, y: float, ring: list[list[float]]) -> bool:
    """Ray casting: is the point (lon, lat) inside the ring?"""
    found = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i][0], ring[i][1]
        xj, yj = ring[j][0], ring[j][1]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            found = not found
        j = i
    return found


def locate_households(seed: int) -> int:
    """Give demo households without a GPS point one inside their subdistrict's boundary (the
    synthetic population has none; the map's household points need them). Returns how many."""
    import random

    from khm.areas.models import Boundary
    from khm.registry.models import Household

    rng = random.Random(seed)
    outer: dict[str, list[list[float]]] = {}
    for b in Boundary.objects.filter(area__level=AreaLevel.SUBDISTRICT).select_related("area"):
        g = b.geometry
        polys = [g["coordinates"]] if g.get("type") == "Polygon" else list(g.get("coordinates") or [])
        if polys:
            outer[b.area.code] = max((p[0] for p in polys), key=len)
    todo = list(Household.objects.filter(latitude__isnull=True).only("pk", "area_code"))
    for h in todo:
        ring = outer.get(h.area_code[:6])
        if not ring:
            continue
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        for _ in range(30):
            x, y = rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys))
            if _inside(x, y, ring):
                h.longitude, h.latitude = round(x, 6), round(y, 6)  # type: ignore[assignment]
                break
    located = [h for h in todo if h.latitude is not None]
    Household.objects.bulk_update(located, ["latitude", "longitude"], batch_size=2000)
    return len(located)
