"""Role-matrix probes for this app's actions (merged into tests/test_role_matrix.py): each
performs the action through its real page and says whether it worked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client


def _enterprise(cast: Any) -> Any:
    from khm.areas.models import Area
    from khm.livelihoods import services

    return services.enterprise_create(
        actor=cast.admin, name_th="กลุ่มทอผ้าไหมทดลอง", village=Area.objects.get(code="46010101"),
        stages=["production", "processing"], registration_no="4-46-01-01/1-9999", products="ผ้าไหม",
    )  # fmt: skip


def probe_enterprise_view(c: Client, cast: Any) -> bool:
    e = _enterprise(cast)
    r = c.get("/livelihoods/")
    return r.status_code == 200 and e.name_th in r.content.decode()


def probe_enterprise_manage(c: Client, cast: Any) -> bool:
    from khm.livelihoods.models import Enterprise

    r = c.post(
        "/livelihoods/new/",
        {"name_th": "กลุ่มปลาร้าทดลอง", "kind": "community_enterprise", "village": "46010102", "stages": ["processing"]},
    )
    return r.status_code == 302 and Enterprise.objects.filter(name_th="กลุ่มปลาร้าทดลอง").exists()


def probe_livelihood_link(c: Client, cast: Any) -> bool:
    from khm.livelihoods.models import Link

    e = _enterprise(cast)
    r = c.post(
        f"/livelihoods/households/{cast.household.code}/link/",
        {"enterprise": e.code, "role": "member", "started_on": "1/3/2568", "person": "", "referral": ""},
    )
    return r.status_code == 302 and Link.objects.filter(enterprise=e, household=cast.household).exists()


def probe_income_record(c: Client, cast: Any) -> bool:
    from khm.livelihoods.models import IncomeRecord

    r = c.post(
        f"/livelihoods/households/{cast.household.code}/income/",
        {"period_start": "1/2568", "period_end": "3/2568", "src_wages": "9,000"},
    )
    return r.status_code == 302 and IncomeRecord.objects.filter(household=cast.household, amount_baht=9000).exists()


def probe_impact_view(c: Client, cast: Any) -> bool:
    r = c.get("/livelihoods/impact/", {"area": "46"})
    return r.status_code == 200 and 'id="caveats"' in r.content.decode()


PROBES: dict[str, Callable[[Client, object], bool]] = {
    "enterprise.view": probe_enterprise_view,
    "enterprise.manage": probe_enterprise_manage,
    "livelihood.link": probe_livelihood_link,
    "income.record": probe_income_record,
    "impact.view": probe_impact_view,
}
