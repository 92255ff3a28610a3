"""Forum fixtures on top of the project cast (conftest.py at the root) and the referral
``world`` (agencies ``pso`` and ``ppho``, a ``pso`` service for ``housing_repair``).

Dates are fixed in the past so that nothing depends on the day the tests run: the forums are
of survey round 2568 (2025 CE) and meet on 1 December 2025.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from khm.forums import services
from khm.forums.models import AgendaItem, Forum
from khm.referrals.tests.conftest import World, world  # noqa: F401  (the fixture, reused)

ROUND = "2568"
HELD_ON = dt.date(2025, 12, 1)
VERIFIED_ON = "2025-06-01"  # in 2025 CE: round 2568


def put_on_source_list(household: Any, *, code: str = "tpmap-2568") -> Any:
    """The household's head on a source list (TPMAP 2568) through a committed import batch:
    the minimum rows of khm.sources a real import leaves behind."""
    from khm.forums.standing import head_of
    from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source

    source, _ = Source.objects.get_or_create(
        code=code, defaults={"kind": "tpmap", "name_th": "TPMAP", "round_label": ROUND}
    )
    profile, _ = MappingProfile.objects.get_or_create(name="forum-tests", defaults={"kind": "tpmap", "fields": {}})
    batch = ImportBatch.objects.create(
        code=f"B{ImportBatch.objects.count() + 1:07d}", source=source, profile=profile, file_name="tpmap.csv",
        file_sha256="0" * 64, file_path="/dev/null", uploaded_by=_any_user(), status="committed",
    )  # fmt: skip
    head = head_of(household)
    assert head is not None
    return PersonSource.objects.create(person=head, source=source, batch=batch, row_no=2)


def _any_user() -> Any:
    from khm.accounts.models import User

    return User.objects.order_by("id").first()


def new_forum(actor: Any, area_code: str, *, held_on: dt.date = HELD_ON, round: str = ROUND, **kw: Any) -> Forum:
    data = services.ForumInput(
        area_code=area_code,
        round=round,
        title=kw.pop("title", f"เวทีแก้จน {area_code}"),
        held_on=held_on,
        place=kw.pop("place", "ศาลากลางบ้าน"),
        **kw,
    )
    return services.forum_create(actor=actor, data=data)


def items_of(forum: Forum, kind: str | None = None) -> list[AgendaItem]:
    qs = AgendaItem.objects.filter(forum=forum).order_by("number")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs)


def make_secretary(cast: Any, area: str = "46010101", username: str = "secretary") -> Any:
    """A forum secretary over ``area`` (forum.view and forum.manage, no referral.create)."""
    from khm.accounts.models import RoleAssignment, User
    from khm.accounts.roles import Role

    u = User.objects.create_user(username=username, password="correct-horse-battery")
    RoleAssignment.objects.create(
        user=u, role=Role.FORUM_SECRETARY, organisation=cast.orgs["lga"], area=cast.areas[area]
    )
    return User.objects.get(pk=u.pk)  # fresh: no scope cached


def household_in(cast: Any, village: str, house_no: str, *, first: str, last: str, actor: Any = None) -> Any:
    """A household with a head in ``village`` (created by Ploy unless another actor is given)."""
    from khm.registry import services as registry

    actor = actor or cast.ploy
    h = registry.household_create(actor=actor, village_code=village, house_no=house_no)
    registry.person_create(
        actor=actor, household=h, national_id=None, title="นาง", first_name=first, last_name=last, sex="F",
        birth_date=dt.date(1970, 3, 3), relation="head", income_year=30000,
    )  # fmt: skip
    return h


def resolution(kind: str, text: str = "ที่ประชุมมีมติ", **kw: Any) -> services.ResolutionInput:
    kw.setdefault("decided_on", HELD_ON)
    return services.ResolutionInput(kind=kind, text=text, **kw)


@pytest.fixture
def forum_of(cast: Any) -> Callable[..., Forum]:
    """``forum_of(area)``: a planned forum there, created by Ploy (her villages) or the
    province admin (anything else)."""

    def make(area_code: str, *, actor: Any = None, **kw: Any) -> Forum:
        if actor is None:
            actor = cast.ploy if area_code in ("46010101", "46010102", "460101") else cast.admin
        return new_forum(actor, area_code, **kw)

    return make
