"""Every read of households and people, scoped to the person asking.

The list is fast at 1,000,000 people: keyset pagination on (area_code, code) — one index
range per scope area, no OFFSET, no COUNT — and indexed prefix search on names.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Exists, OuterRef, Prefetch, Q, QuerySet, Value, When

from khm.accounts.scoping import Scope, scope_for
from khm.core.crypto import lookup_hash
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.registry.models import Household, Person, PersonStatus, Relation

VIEW = "household.view"
COMMON_PREFIX = 2000


def household_scope(actor: Any, action: str = VIEW, *, area_code: str | None = None) -> Scope:
    scope = scope_for(actor, action)
    return scope.restricted_to(area_code) if area_code else scope


def households_visible(actor: Any, action: str = VIEW) -> QuerySet[Household]:
    """Every household ``actor`` may see for ``action``. The base of every household read."""
    scope = scope_for(actor, action)
    if scope.empty:
        return Household.objects.none()
    return Household.objects.filter(scope.q("area_code"))


def people_visible(actor: Any, action: str = VIEW) -> QuerySet[Person]:
    scope = scope_for(actor, action)
    if scope.empty:
        return Person.objects.none()
    return Person.objects.filter(scope.q("household__area_code"))


def encode_cursor(area_code: str, code: str) -> str:
    return base64.urlsafe_b64encode(f"{area_code}|{code}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        area_code, code = raw.split("|", 1)
    except (ValueError, UnicodeDecodeError):
        return None
    if not (area_code.isdigit() and len(area_code) == 8 and code.isalnum()):
        return None
    return area_code, code


@dataclass
class HouseholdPage:
    rows: Sequence[Household]
    next_cursor: str | None


def _search_filter(query: str) -> Q | Exists | None:
    """A filter on households for a name, national ID or house number typed by a user."""
    text = " ".join(query.split())
    if not text:
        return None
    digits = normalise_digits(text)
    if digits.isdigit() and len(digits) == 13:
        if not is_valid_national_id(digits):
            return Q(pk__in=[])
        return Q(pk__in=Person.objects.filter(national_id_hash=lookup_hash(digits)).values("household_id"))
    house = text.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    if house[:1].isdigit():
        return Q(house_no=house) | Q(house_no__prefix=house + "/")
    parts = text.split(" ")
    if len(parts) >= 2:
        people = Person.objects.filter(first_name__prefix=parts[0], last_name__prefix=parts[-1])
    else:
        people = Person.objects.filter(Q(first_name__prefix=text) | Q(last_name__prefix=text))
    # A rare name: collect the few matching households (cheap). A common prefix such as
    # "สุ" matches ~75,000 of 1M people: then walk households in index order and stop at
    # the page size, checking each with EXISTS, instead of sorting every match.
    if people[:COMMON_PREFIX].count() >= COMMON_PREFIX:
        return Exists(people.filter(household_id=OuterRef("pk")))
    return Q(pk__in=people.values("household_id"))


def household_list(
    actor: Any,
    *,
    query: str = "",
    area_code: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> HouseholdPage:
    scope = household_scope(actor, area_code=area_code)
    if scope.empty:
        return HouseholdPage([], None)
    cursor = decode_cursor(after) if after else None
    qs = Household.objects.filter(scope.q("area_code", start=cursor[0] if cursor else None))
    search = _search_filter(query)
    if search is not None:
        qs = qs.filter(search)
    if cursor:
        a, c = cursor
        qs = qs.filter(Q(area_code__gt=a) | Q(area_code=a, code__gt=c))
    heads = Prefetch(
        "people",
        queryset=Person.objects.filter(relation=Relation.HEAD, status=PersonStatus.MEMBER),
        to_attr="heads",
    )
    rows = list(
        qs.select_related("village", "village__parent", "village__parent__parent")
        .prefetch_related(heads)
        .order_by("area_code", "code")[: limit + 1]
    )
    next_cursor = encode_cursor(rows[limit - 1].area_code, rows[limit - 1].code) if len(rows) > limit else None
    return HouseholdPage(rows[:limit], next_cursor)


def household_members(household: Household) -> QuerySet[Person]:
    """Members of a household the caller already fetched through access.py."""
    # Current members first, the head on top, then by relation and age.
    status_order = Case(*(When(status=s, then=Value(i)) for i, s in enumerate(PersonStatus.values)), default=Value(9))
    relation_order = Case(*(When(relation=r, then=Value(i)) for i, r in enumerate(Relation.values)), default=Value(9))
    return household.people.order_by(status_order, relation_order, "birth_date")


def villages_in_scope(actor: Any, action: str) -> list[tuple[str, str]]:
    """(code, label) of the villages where ``actor`` may do ``action``, for form choices."""
    from khm.areas.models import Area, AreaLevel

    scope = scope_for(actor, action)
    if scope.empty:
        return []
    qs = Area.objects.filter(scope.q("path"), level=AreaLevel.VILLAGE, active=True).select_related("parent")
    return [
        (a.code, f"{a.name_th} ม.{a.village_no} ต.{a.parent.name_th if a.parent else ''} ({a.code})") for a in qs[:3000]
    ]


def filter_areas(actor: Any) -> list[tuple[str, str]]:
    """Areas offered in the list filter: the districts and subdistricts (or villages) in scope."""
    from khm.areas.models import Area, AreaLevel

    scope = scope_for(actor, VIEW)
    if scope.empty:
        return []
    qs = Area.objects.filter(scope.q("path"), active=True, level__in=[AreaLevel.DISTRICT, AreaLevel.SUBDISTRICT])
    if scope.villages and not scope.prefixes:
        qs = Area.objects.filter(code__in=sorted(scope.villages))
    rows = list(qs.order_by("code")[:400])
    indent = {2: "", 3: "— ", 4: "— "}
    return [(a.code, f"{indent.get(a.level, '')}{a.name_th}") for a in rows]


def people_for_export(actor: Any, *, area_code: str | None = None) -> QuerySet[Person]:
    scope = household_scope(actor, "export.personal", area_code=area_code)
    if scope.empty:
        return Person.objects.none()
    return (
        Person.objects.filter(scope.q("household__area_code"))
        .select_related("household")
        .order_by("household__area_code", "household__code", "id")
    )
