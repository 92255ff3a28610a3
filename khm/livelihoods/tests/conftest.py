"""Livelihood fixtures on top of the project cast (conftest.py at the root).

* ``pso`` — the Agency of ``cast.orgs["agency"]``, lead agency of the weaving group;
* ``weavers`` — a silk-weaving community enterprise in Ploy's village 46010101 that needs 3
  people for processing;
* ``assess`` — a current assessment result with a level and the five capitals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from khm.livelihoods import services
from khm.livelihoods.models import Enterprise, EnterpriseNeed
from khm.referrals.models import Agency


def assess(household: Any, on: dt.date, *, level: int, round: str = "2567", **caps: float) -> Any:
    """A scored assessment whose current result has ``level`` and the given capitals."""
    from khm.assessment import instruments as inst
    from khm.assessment.models import Assessment, AssessmentResult, ScoringRun
    from khm.registry.models import new_code

    cap = inst.current_of_kind("capitals")
    assert cap is not None
    run = ScoringRun.objects.create(capitals_instrument=cap, code_version="test", round=round)
    a = Assessment.objects.create(
        ref=new_code("A"), household=household, area_code=household.area_code, round=round, assessed_on=on,
        method="desk", capitals_instrument=cap, data={}, data_hash="0" * 64,
    )  # fmt: skip
    values = {"human": 2.0, "physical": 2.0, "financial": 2.0, "natural": 2.0, "social": 2.0, **caps}
    return AssessmentResult.objects.create(
        run=run, assessment=a, household=household, area_code=household.area_code, round=round, current=True,
        level=level, detail={}, result_hash="0" * 64, **values,
    )  # fmt: skip


def new_household(actor: Any, village: str, house_no: str, members: list[tuple[int, str, str]] = ()) -> Any:  # type: ignore[assignment]
    """A household with members given as (birth year CE, occupation, education)."""
    from khm.registry import services as registry

    h = registry.household_create(actor=actor, village_code=village, house_no=house_no)
    for i, (year, occupation, education) in enumerate(members):
        registry.person_create(
            actor=actor, household=h, national_id=None, title="นาย", first_name=f"สมาชิก{house_no}{i}",
            last_name="ทดสอบ", sex="M", birth_date=dt.date(year, 1, 1), relation="head" if i == 0 else "child",
            occupation=occupation, education=education,
        )  # fmt: skip
    return h


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@dataclass
class World:
    cast: Any
    pso: Agency
    weavers: Enterprise
    need: EnterpriseNeed


@pytest.fixture
def world(cast: Any) -> World:
    from khm.areas.models import Area

    pso = Agency.objects.create(
        code="pso", name_th="พมจ.กาฬสินธุ์", name_en="Kalasin PSO", type="social_development",
        organisation=cast.orgs["agency"], areas=["46"],
    )  # fmt: skip
    weavers = services.enterprise_create(
        actor=cast.admin, name_th="วิสาหกิจชุมชนทอผ้าไหมบ้านหนองบัว", village=Area.objects.get(code="46010101"),
        stages=["production", "processing"], registration_no="4-46-01-01/1-0012", products="ผ้าไหมแพรวา",
        lead_agency=pso,
    )  # fmt: skip
    need = services.need_add(actor=cast.admin, enterprise=weavers, kind="labour", stage="processing", quantity=3)
    return World(cast=cast, pso=pso, weavers=weavers, need=need)
