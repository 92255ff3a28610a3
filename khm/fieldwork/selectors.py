"""Reads of fieldwork data that depend on who asks (all through the scoping primitive)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from khm.accounts.scoping import scope_for
from khm.assessment import instruments as inst
from khm.core.dates import age_on
from khm.fieldwork.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    Conflict,
    ConflictStatus,
    Outcome,
    Photo,
    Verification,
)
from khm.registry.models import PersonStatus

BUNDLE_FORMAT = "khm-fieldwork/1"


def campaigns_visible(actor: Any) -> QuerySet[Campaign]:
    """Campaigns over an area that overlaps the actor's campaign scope (no personal data)."""
    scope = scope_for(actor, "campaign.manage")
    if scope.empty:
        return Campaign.objects.none()
    q = Q(pk__in=[])
    for p in scope.prefixes:
        q |= Q(area_code__startswith=p) | Q(area_code__in=[p[:n] for n in range(2, len(p) + 1, 2)])
    for v in scope.villages:
        q |= Q(area_code__in=[v[:n] for n in range(2, 9, 2)])
    return Campaign.objects.filter(q)


def campaign_for(actor: Any, code: str) -> Campaign:
    found = campaigns_visible(actor).filter(code=code).first()
    if found is None:
        raise Http404
    return found


def assignments_visible(actor: Any, action: str = "campaign.manage") -> QuerySet[Assignment]:
    return Assignment.objects.filter(scope_for(actor, action).q("area_code"))


def campaign_progress(actor: Any, campaign: Campaign) -> dict[str, Any]:
    """Counts per village and per assignee, within the actor's scope."""
    qs = assignments_visible(actor).filter(campaign=campaign)
    by_village: dict[str, dict[str, int]] = defaultdict(
        lambda: {"total": 0, "waiting": 0, "downloaded": 0, "done": 0, "unassigned": 0}
    )
    counts = (
        qs.values("area_code", "status")
        .annotate(n=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)))
        .order_by()
    )
    for r in counts:
        row = by_village[r["area_code"]]
        row["total"] += r["n"]
        row[r["status"]] += r["n"]
        row["unassigned"] += r["unassigned"]
    by_person = list(
        qs.exclude(assignee__isnull=True)
        .values("assignee__username", "assignee__display_name")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=AssignmentStatus.DONE)),
            downloaded=Count("id", filter=Q(status=AssignmentStatus.DOWNLOADED)),
        )
        .order_by("assignee__username")
    )
    outcomes = dict(
        Verification.objects.filter(scope_for(actor, "campaign.manage").q("area_code"), campaign=campaign)
        .values_list("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    total = {
        k: sum(r[k] for r in by_village.values()) for k in ("total", "waiting", "downloaded", "done", "unassigned")
    }
    return {"villages": dict(sorted(by_village.items())), "people": by_person, "outcomes": outcomes, "total": total}


def _member(p: Any, on: dt.date) -> dict[str, Any]:
    return {
        "ref": p.ref, "title": p.title, "first_name": p.first_name, "last_name": p.last_name, "sex": p.sex,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "age": age_on(p.birth_date, on) if p.birth_date else None,
        "relation": p.relation, "status": p.status,
    }  # fmt: skip


def bundle_for(actor: Any, *, on: dt.date | None = None) -> dict[str, Any]:
    """What the phone downloads: the user's open assignments only (households and members
    as the registry has them now, the ``base`` of any change), the current questionnaire and
    the outcomes. Nothing else of the area."""
    on = on or dt.date.today()
    scope = scope_for(actor, "verification.submit")
    rows = (
        Assignment.objects.filter(scope.q("area_code"), assignee=actor, campaign__status=CampaignStatus.OPEN)
        .exclude(status=AssignmentStatus.DONE)
        .select_related("household", "household__village", "household__village__parent", "campaign")
        .order_by("area_code", "household__house_no", "pk")
    )
    assignments = list(rows)
    people: dict[int, list[Any]] = defaultdict(list)
    from khm.registry.models import Person

    for p in Person.objects.filter(
        household__in=[a.household_id for a in assignments], status=PersonStatus.MEMBER
    ).order_by("pk"):
        people[p.household_id].append(p)
    households = []
    for a in assignments:
        h = a.household
        households.append(
            {
                "assignment": a.pk,
                "campaign": a.campaign.code,
                "code": h.code,
                "house_no": h.house_no,
                "address_extra": h.address_extra,
                "village": h.village.name_th,
                "village_no": h.village.village_no,
                "subdistrict": h.village.parent.name_th if h.village.parent else "",
                "area_code": h.area_code,
                "latitude": float(h.latitude) if h.latitude is not None else None,
                "longitude": float(h.longitude) if h.longitude is not None else None,
                "members": [_member(p, on) for p in people[h.pk]],
            }
        )
    campaigns = {
        a.campaign.code: {"code": a.campaign.code, "name": a.campaign.name, "round": a.campaign.round}
        for a in assignments
    }
    cap = inst.current_of_kind("capitals")
    return {
        "format": BUNDLE_FORMAT,
        "user": getattr(actor, "username", ""),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "campaigns": list(campaigns.values()),
        "questionnaire": {"code": cap.code, "version": cap.version, "definition": inst.definition(cap)}
        if cap
        else None,
        "outcomes": [{"value": v, "label": str(label)} for v, label in Outcome.choices],
        "households": households,
    }


def conflicts_open(actor: Any) -> QuerySet[Conflict]:
    return (
        Conflict.objects.filter(scope_for(actor, "conflict.resolve").q("area_code"), status=ConflictStatus.OPEN)
        .select_related("household", "verification", "verification__verified_by")
        .order_by("household__code", "id")
    )


def conflict_for(actor: Any, pk: int) -> Conflict:
    found = Conflict.objects.filter(scope_for(actor, "conflict.resolve").q("area_code"), pk=pk).first()
    if found is None:
        raise Http404
    return found


def verifications_of(actor: Any, household: Any) -> list[Verification]:
    return list(
        Verification.objects.filter(scope_for(actor, "verification.view").q("area_code"), household=household)
        .select_related("verified_by", "campaign")
        .prefetch_related("photos", "conflicts")
    )


def photo_for(actor: Any, pk: int) -> Photo:
    found = Photo.objects.filter(scope_for(actor, "verification.view").q("area_code"), pk=pk).first()
    if found is None:
        raise Http404
    return found


def verification_for(actor: Any, ref: str) -> Verification:
    found = (
        Verification.objects.filter(scope_for(actor, "verification.view").q("area_code"), ref=ref)
        .select_related("household", "verified_by", "campaign", "duplicate_of")
        .first()
    )
    if found is None:
        raise Http404
    return found


def household_to_verify(actor: Any, code: str) -> Any:
    """A household the actor may verify (in their area), or None."""
    from khm.registry.models import Household

    return Household.objects.filter(scope_for(actor, "verification.submit").q("area_code"), code=code).first()


def verification_by_key(actor: Any, key: str) -> Verification | None:
    """The actor's own submission with this idempotency key, if the server has it."""
    if not key:
        return None
    return Verification.objects.filter(key=key, verified_by=actor).select_related("assessment").first()
