"""Reads of the composition-check queue, scoped to the person asking (action source.import).

A flag belongs to the area of its household (``area_code``); an officer sees the flags of
their own area only, and another area's flag answers 404 like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from khm.accounts.scoping import Scope, scope_for
from khm.registry.models import Person
from khm.sources.checks import ACTION, describe
from khm.sources.models import CompositionFlag, FlagKind, FlagStatus

PER_KIND = 25  # flags shown per kind on the queue page; one kind at a time shows more
ONE_KIND = 200


@dataclass
class FlagGroup:
    kind: str
    label: str
    count: int
    flags: list[CompositionFlag] = field(default_factory=list)


def flag_scope(actor: Any) -> Scope:
    return scope_for(actor, ACTION)


def flags_visible(actor: Any) -> QuerySet[CompositionFlag]:
    """Every flag in the actor's area. The base of every flag read."""
    scope = flag_scope(actor)
    if scope.empty:
        return CompositionFlag.objects.none()
    return CompositionFlag.objects.filter(scope.q("area_code"))


def pending_counts(actor: Any) -> dict[str, int]:
    rows = flags_visible(actor).filter(status=FlagStatus.PENDING).order_by().values_list("kind").annotate(n=Count("id"))
    found = dict(rows)
    return {kind: found.get(kind, 0) for kind in FlagKind.values}


def flag_queue(actor: Any, *, kind: str | None = None) -> list[FlagGroup]:
    """Pending flags grouped by kind with the count per kind; each flag carries
    ``description`` (in words) and ``other_person`` (only when that person is in the
    actor's area)."""
    counts = pending_counts(actor)
    groups: list[FlagGroup] = []
    for value, label in FlagKind.choices:
        if kind and value != kind:
            continue
        group = FlagGroup(kind=value, label=str(label), count=counts[value])
        if group.count:
            group.flags = list(
                flags_visible(actor)
                .filter(status=FlagStatus.PENDING, kind=value)
                .select_related("household", "other_household", "person", "batch__source")
                .order_by("area_code", "id")[: ONE_KIND if kind else PER_KIND]
            )
        groups.append(group)
    _annotate(actor, [f for g in groups for f in g.flags])
    return groups


def _annotate(actor: Any, flags: list[CompositionFlag]) -> None:
    refs = {str(f.details.get("other_person")) for f in flags if f.details.get("other_person")}
    others: dict[str, Person] = {}
    scope = flag_scope(actor)
    if refs and not scope.empty:
        others = {p.ref: p for p in Person.objects.filter(scope.q("household__area_code"), ref__in=sorted(refs))}
    for f in flags:
        f.description = describe(f)  # type: ignore[attr-defined]
        f.other_person = others.get(str(f.details.get("other_person", "")))  # type: ignore[attr-defined]
        # Link the other household only when it is in the actor's area too.
        other = f.other_household
        f.other_in_area = other is not None and scope.contains(other.area_code)  # type: ignore[attr-defined]


def flag_for(actor: Any, pk: int) -> CompositionFlag:
    """One flag of the actor's area; 404 for missing and for another area's flag alike."""
    try:
        flag = flags_visible(actor).select_related("household", "other_household", "person").get(pk=pk)
    except CompositionFlag.DoesNotExist:
        raise Http404 from None
    _annotate(actor, [flag])
    return flag
