"""Test-wide settings: throw-away secrets (never the real ones) before Django starts."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import pytest

os.environ.setdefault("KHM_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
os.environ.setdefault("KHM_FIELD_KEY", "dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy4uLi4")
os.environ.setdefault("KHM_LOOKUP_KEY", "dGVzdC1sb29rdXAta2V5LTMyLWJ5dGVzLWxvbmcuLi4")
os.environ["KHM_ENV_FILE"] = os.devnull
os.environ.setdefault("KHM_BACKGROUND_JOBS", "0")
os.environ.setdefault("KHM_INSIGHTS_REFRESH", "manual")

# pytest-django may load the settings before this file runs: set it on the settings too, so
# no refresh thread races a test (tests call khm.insights.refresh.refresh themselves).
from django.conf import settings as _settings

_settings.KHM_INSIGHTS_REFRESH = "manual"
os.environ.setdefault("KHM_PROGRESS_DIR", tempfile.mkdtemp(prefix="khm-progress-"))
os.environ.setdefault("KHM_MEDIA_DIR", tempfile.mkdtemp(prefix="khm-media-"))


@dataclass
class Cast:
    """A small fixed cast (house style): who owns, who supervises, who must see nothing."""

    areas: dict[str, Any]
    orgs: dict[str, Any]
    ploy: Any  # local officer of SAO A (villages 46010101, 46010102) — owns the memorable household
    somchai: Any  # local officer in another district (4605): must get 404 for Ploy's households
    dara: Any  # district officer of 4601: supervises Ploy's area
    admin: Any  # province admin of Kalasin
    vee: Any  # village volunteer of 46010101
    agency: Any  # agency worker: no household access
    analyst: Any  # aggregates only
    sysadmin: Any
    nobody: Any  # signed in, no role assignment
    expired: Any  # local officer of SAO A whose assignment has ended
    household: Any  # the memorable household: 99/1 in 46010101
    head: Any  # บุญมี ศรีสุข
    head_nid: str
    other_household: Any  # in 46050101 (Somchai's area)


MEMORABLE_NID = "3460100123458"  # valid check digit (see khm.engines.ids)


def _area(code: str, name_th: str, name_en: str, parent: Any = None, **kw: Any) -> Any:
    from khm.areas.models import LEVEL_BY_LENGTH, Area

    return Area.objects.create(
        code=code, level=LEVEL_BY_LENGTH[len(code)], name_th=name_th, name_en=name_en, parent=parent, **kw
    )


def build_cast() -> Cast:
    from django.utils import timezone

    from khm.accounts.models import Organisation, OrganisationKind, RoleAssignment, User
    from khm.accounts.roles import Role
    from khm.registry import services

    a: dict[str, Any] = {}
    a["46"] = _area("46", "กาฬสินธุ์", "Kalasin")
    a["4601"] = _area("4601", "เมืองกาฬสินธุ์", "Mueang Kalasin", a["46"])
    a["4605"] = _area("4605", "กุฉินารายณ์", "Kuchinarai", a["46"])
    a["460101"] = _area("460101", "กาฬสินธุ์", "Kalasin", a["4601"])
    a["460102"] = _area("460102", "เหนือ", "Nuea", a["4601"])
    a["460501"] = _area("460501", "บัวขาว", "Bua Khao", a["4605"])
    a["46010101"] = _area("46010101", "บ้านหนองบัว", "Ban Nong Bua", a["460101"], village_no=1)
    a["46010102"] = _area("46010102", "บ้านโนนสูง", "Ban Non Sung", a["460101"], village_no=2)
    a["46010201"] = _area("46010201", "บ้านดงเมือง", "Ban Dong Mueang", a["460102"], village_no=1)
    a["46050101"] = _area("46050101", "บ้านบัวขาว", "Ban Bua Khao", a["460501"], village_no=1)
    o: dict[str, Any] = {}
    o["province"] = Organisation.objects.create(
        code="province-46", kind=OrganisationKind.PROVINCE_OFFICE, name_th="ศูนย์จังหวัด", area=a["46"]
    )
    o["d4601"] = Organisation.objects.create(
        code="district-4601", kind=OrganisationKind.DISTRICT_OFFICE, name_th="อำเภอเมือง", area=a["4601"]
    )
    o["lga"] = Organisation.objects.create(
        code="lg-a", kind=OrganisationKind.LOCAL_GOVERNMENT, lg_type="TAO", name_th="อบต.เอ", area=a["4601"]
    )
    o["lga"].jurisdiction.set([a["46010101"], a["46010102"]])
    o["lgb"] = Organisation.objects.create(
        code="lg-b", kind=OrganisationKind.LOCAL_GOVERNMENT, lg_type="TAO", name_th="อบต.บี", area=a["4605"]
    )
    o["lgb"].jurisdiction.set([a["46050101"]])
    o["agency"] = Organisation.objects.create(
        code="agency-pso", kind=OrganisationKind.AGENCY, name_th="พมจ.", area=a["46"]
    )
    o["system"] = Organisation.objects.create(code="khm-system", kind=OrganisationKind.OTHER, name_th="ระบบ")

    def user(name: str, role: str | None, org: str = "province", area: str | None = None, **kw: Any) -> Any:
        u = User.objects.create_user(username=name, password="correct-horse-battery")
        if role:
            RoleAssignment.objects.create(user=u, role=role, organisation=o[org], area=a[area] if area else None, **kw)
        return u

    cast_users = {
        "ploy": user("ploy", Role.LOCAL_OFFICER, "lga"),
        "somchai": user("somchai", Role.LOCAL_OFFICER, "lgb"),
        "dara": user("dara", Role.DISTRICT_OFFICER, "d4601", "4601"),
        "admin": user("admin", Role.PROVINCE_ADMIN, "province", "46"),
        "vee": user("vee", Role.VILLAGE_VOLUNTEER, "lga", "46010101"),
        "agency": user("agency", Role.AGENCY_WORKER, "agency", "46"),
        "analyst": user("analyst", Role.ANALYST, "province", "46"),
        "sysadmin": user("sysadmin", Role.SYSTEM_ADMIN, "system"),
        "nobody": user("nobody", None),
        "expired": user(
            "expired", Role.LOCAL_OFFICER, "lga",
            valid_from=timezone.now() - dt.timedelta(days=60), valid_until=timezone.now() - dt.timedelta(days=1),
        ),
    }  # fmt: skip
    hh = services.household_create(actor=cast_users["ploy"], village_code="46010101", house_no="99/1")
    head = services.person_create(
        actor=cast_users["ploy"], household=hh, national_id=MEMORABLE_NID, title="นาย", first_name="บุญมี",
        last_name="ศรีสุข", sex="M", birth_date=dt.date(1960, 4, 13), relation="head", income_year=24000,
    )  # fmt: skip
    services.person_create(
        actor=cast_users["ploy"], household=hh, national_id=None, title="นาง", first_name="คำปุน",
        last_name="ศรีสุข", sex="F", birth_date=dt.date(1963, 1, 2), relation="spouse",
    )  # fmt: skip
    other = services.household_create(actor=cast_users["somchai"], village_code="46050101", house_no="7")
    services.person_create(
        actor=cast_users["somchai"], household=other, national_id=None, title="นาย", first_name="สมหมาย",
        last_name="ใจงาม", sex="M", birth_date=dt.date(1980, 5, 5), relation="head",
    )  # fmt: skip
    return Cast(areas=a, orgs=o, household=hh, head=head, head_nid=MEMORABLE_NID, other_household=other, **cast_users)


@pytest.fixture
def cast(db: Any) -> Cast:
    return build_cast()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # Real hashing costs ~0.3 s per user; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
