"""Reads of forums, agendas, standing, postings, appeals and agreements that depend on who
asks — all through the area-scoping primitive.

A forum's meta data (date, place, organisations) is visible to anyone with ``forum.view``
somewhere in or above its area (they may be invited); its agenda items are visible only where
the item's area (the household's village, or the forum's area) is in the user's scope.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import Area, AreaLevel, code_range
from khm.forums.models import (
    AgendaItem,
    Agreement,
    Appeal,
    Forum,
    HouseholdStanding,
    PostedEntry,
    Posting,
    PostingStatus,
    StandingEvent,
)
from khm.registry.models import Household

VIEW = "forum.view"


def _ancestors(scope: Scope) -> set[str]:
    out: set[str] = set()
    for code in scope.prefixes | scope.villages:
        out |= {code[:n] for n in (2, 4, 6) if n < len(code)}
    return out


def covers(actor: Any, action: str, area_code: str) -> bool:
    """``action`` over the whole area: a granted prefix covering it, or every village of it
    among a local government's villages (a local government holds its subdistrict's forum)."""
    scope = scope_for(actor, action)
    if scope.covers_area(area_code) or scope.contains(area_code):
        return True
    if not scope.villages or len(area_code) == 8:
        return False
    low, high = code_range(area_code)
    villages = set(
        Area.objects.filter(level=AreaLevel.VILLAGE, code__gte=low, code__lte=high).values_list("code", flat=True)
    )
    return bool(villages) and villages <= scope.villages


def forums_visible(actor: Any) -> QuerySet[Forum]:
    scope = scope_for(actor, VIEW)
    if scope.empty:
        return Forum.objects.none()
    return Forum.objects.filter(scope.q("area_key") | Q(area_code__in=sorted(_ancestors(scope))))


def forum_for(actor: Any, ref: str) -> Forum:
    found = forums_visible(actor).filter(ref=ref).first()
    if found is None:
        raise Http404
    return found


def items_visible(actor: Any, forum: Forum) -> QuerySet[AgendaItem]:
    """The agenda items of ``forum`` the actor may read."""
    q = scope_for(actor, VIEW).q("area_code")
    if covers(actor, VIEW, forum.area_code):
        q |= Q(area_code=forum.area_code)  # the forum's own matters (batches, agencies, other)
    return (
        AgendaItem.objects.filter(forum=forum)
        .filter(q)
        .select_related("household__village", "referral__agency", "appeal", "resolution", "carried_from__forum")
    )


def items_hidden_count(actor: Any, forum: Forum) -> int:
    return AgendaItem.objects.filter(forum=forum).count() - items_visible(actor, forum).count()


def item_for(actor: Any, forum: Forum, number: int) -> AgendaItem:
    found = items_visible(actor, forum).filter(number=number).first()
    if found is None:
        raise Http404
    return found


def all_items(forum: Forum) -> QuerySet[AgendaItem]:
    """Every item, for the minutes (the caller checked the actor covers the forum's area)."""
    return forum.items.select_related("household__village", "referral__agency", "appeal", "resolution")


def standing_of(actor: Any, household: Household) -> tuple[HouseholdStanding | None, list[StandingEvent]]:
    """The household's standing and its history (the caller fetched the household through
    the scoping primitive)."""
    row = HouseholdStanding.objects.filter(household=household).first()
    events = list(StandingEvent.objects.filter(household=household).select_related("actor", "resolution__item__forum"))
    return row, events


def standings_visible(actor: Any, action: str = VIEW) -> QuerySet[HouseholdStanding]:
    return HouseholdStanding.objects.filter(scope_for(actor, action).q("area_code"))


def postings_visible(actor: Any) -> QuerySet[Posting]:
    return Posting.objects.filter(scope_for(actor, "posting.manage").q("area_code"))


def posting_for(actor: Any, ref: str) -> Posting:
    found = postings_visible(actor).filter(ref=ref).first()
    if found is None:
        raise Http404
    return found


def posting_entries(posting: Posting) -> QuerySet[PostedEntry]:
    """The posted (masked) lines of a posting the caller may see."""
    return posting.entries.select_related("household")


def public_posting(token: str) -> Posting:
    """A posting by its page address (anyone with the address: the notice board shows it)."""
    found = Posting.objects.filter(token=token).exclude(status=PostingStatus.WITHDRAWN).first()
    if found is None:
        raise Http404
    return found


def public_lines(posting: Posting) -> list[dict[str, Any]]:
    """Only the masked columns of a posted list — what the notice board shows."""
    rows = posting.entries.order_by("number").values_list("number", "masked_name", "house_no")
    return [{"number": n, "masked_name": m, "house_no": h} for n, m, h in rows]


def appeals_visible(actor: Any) -> QuerySet[Appeal]:
    scope = scope_for(actor, "posting.manage")
    forum_scope = scope_for(actor, "forum.manage")
    return Appeal.objects.filter(scope.q("area_code") | forum_scope.q("area_code"))


def agreements_visible(actor: Any) -> QuerySet[Agreement]:
    """Agreements are between organisations (no personal data): every holder of
    ``agreement.view`` sees them all."""
    if scope_for(actor, "agreement.view").empty:
        return Agreement.objects.none()
    return Agreement.objects.prefetch_related("parties")
