"""The household's standing on the poor list: the one place that changes it.

A household is on the list when one of its members is on a source list (TPMAP, the
province's list, the bottom-20 % list) or when a forum confirmed it; it leaves the list when
a forum decides it is not poor or approves its graduation. Every change is a
:class:`StandingEvent` and an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from khm.audit.services import audit_record
from khm.forums.models import ON_LIST, HouseholdStanding, Standing, StandingEvent
from khm.registry.models import Household, Person, PersonStatus
from khm.sources.models import PersonSource


def listed_q() -> Exists:
    """Households with a current member on any source list."""
    return Exists(
        PersonSource.objects.filter(person__household=OuterRef("pk"), person__status=PersonStatus.MEMBER).values("pk")
    )


def on_list(households: QuerySet[Household]) -> QuerySet[Household]:
    """Of ``households``, those on the poor list now: listed or confirmed, not taken off."""
    return households.filter(Q(standing__status__in=ON_LIST) | (Q(standing__isnull=True) & listed_q()))


def status_of(household: Household) -> str | None:
    """The household's standing, ``listed`` when only a source list names it, None when it
    is not on the list at all."""
    row = HouseholdStanding.objects.filter(household=household).first()
    if row is not None:
        return row.status
    listed = PersonSource.objects.filter(person__household=household, person__status=PersonStatus.MEMBER).exists()
    return Standing.LISTED if listed else None


def standing_set(
    *,
    actor: Any,
    household: Household,
    to: str,
    on: dt.date,
    reason: str,
    round: str = "",
    follow_until: dt.date | None = None,
    resolution: Any = None,
    appeal: Any = None,
) -> HouseholdStanding:
    """Change a household's standing (callers check who may decide; a system job passes
    ``actor=None``)."""
    with transaction.atomic():
        row = HouseholdStanding.objects.select_for_update().filter(household=household).first()
        old = row.status if row is not None else (status_of(household) or Standing.LISTED)
        if row is None:
            row = HouseholdStanding(household=household)
        row.area_code = household.area_code
        row.status = to
        row.since = on
        row.round = round or row.round
        row.follow_until = follow_until if to == Standing.GRADUATED else None
        row.save()
        StandingEvent.objects.create(
            household=household, area_code=household.area_code, from_status=old, to_status=to, on=on,
            reason=reason[:2000], actor=actor, resolution=resolution, appeal=appeal,
        )  # fmt: skip
        audit_record(
            actor=actor, action="standing.update", object_type="household", object_ref=household.code,
            area_code=household.area_code, changes={"standing": [old, to]}, note=reason[:500],
        )  # fmt: skip
    return row


def head_of(household: Household) -> Person | None:
    from khm.registry.models import Relation

    return household.people.filter(relation=Relation.HEAD, status=PersonStatus.MEMBER).first()
