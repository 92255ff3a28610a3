"""Reads for the merge and split pages, scoped to the person asking (action "source.import").

A person, merge or list row outside the actor's area answers 404 exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from khm.accounts.scoping import Scope, scope_for
from khm.core.crypto import lookup_hash
from khm.engines.ids import is_valid_national_id, normalise_digits
from khm.registry.models import Household, Person, PersonStatus
from khm.sources.models import BatchStatus, PersonMerge, PersonSource, ReviewStatus, StagedRow

ACTION = "source.import"


def _scope(actor: Any) -> Scope:
    return scope_for(actor, ACTION)


def person_for_merge(actor: Any, ref: str) -> Person:
    """One person by ref in the actor's area; 404 for missing and for not yours alike."""
    scope = _scope(actor)
    if scope.empty:
        raise Http404
    try:
        return (
            Person.objects.filter(scope.q("household__area_code"))
            .select_related("household", "household__village")
            .get(ref=ref)
        )
    except Person.DoesNotExist:
        raise Http404 from None


def household_people(actor: Any, code: str) -> tuple[Household, list[Person]]:
    """A household of the actor's area and its records that can still be merged."""
    scope = _scope(actor)
    try:
        household = Household.objects.filter(scope.q("area_code")).select_related("village").get(code=code)
    except Household.DoesNotExist:
        raise Http404 from None
    people = list(
        Person.objects.filter(household=household)
        .exclude(status=PersonStatus.MERGED)
        .select_related("household", "household__village")
        .order_by("pk")
    )
    return household, people


def people_search(actor: Any, query: str, *, limit: int = 30) -> list[Person]:
    """People of the actor's area by name (prefix of first and/or last name) or by a full
    national ID; merged records are left out (they cannot be merged again)."""
    scope = _scope(actor)
    text = " ".join((query or "").split())
    if scope.empty or not text:
        return []
    qs = Person.objects.filter(scope.q("household__area_code")).exclude(status=PersonStatus.MERGED)
    digits = normalise_digits(text)
    if digits.isdigit() and len(digits) == 13:
        if not is_valid_national_id(digits):
            return []
        qs = qs.filter(national_id_hash=lookup_hash(digits))
    else:
        parts = text.split(" ")
        if len(parts) >= 2:
            qs = qs.filter(first_name__prefix=parts[0], last_name__prefix=parts[-1])
        else:
            qs = qs.filter(Q(first_name__prefix=text) | Q(last_name__prefix=text))
    return list(
        qs.select_related("household", "household__village").order_by("household__area_code", "last_name")[:limit]
    )


def sources_of(people: list[Person]) -> dict[int, list[PersonSource]]:
    """The list entries of people the caller already fetched through this module."""
    out: dict[int, list[PersonSource]] = {p.pk: [] for p in people}
    for ps in (
        PersonSource.objects.filter(person__in=people)
        .select_related("source", "batch")
        .order_by("source__round_label", "source__code")
    ):
        out[ps.person_id].append(ps)
    return out


@dataclass
class MergeRow:
    merge: PersonMerge
    survivor_visible: bool  # may the actor see this record's name (it is in their area)
    absorbed_visible: bool
    can_split: bool

    @property
    def is_review(self) -> bool:
        return (self.merge.moved or {}).get("kind") == "review"


def _involving(scope: Scope) -> Q:
    return scope.q("area_code") | scope.q("survivor__household__area_code") | scope.q("absorbed__household__area_code")


def merges_visible(actor: Any, *, limit: int = 100) -> list[MergeRow]:
    """Merges and splits that involve a record of the actor's area, newest first."""
    scope = _scope(actor)
    if scope.empty:
        return []
    qs = (
        PersonMerge.objects.filter(_involving(scope))
        .select_related(
            "survivor__household", "absorbed__household", "merged_by", "undone_by", "staged_row__batch__source"
        )
        .order_by("-merged_at", "-id")[:limit]
    )
    rows = []
    for m in qs:
        s_ok = scope.contains(m.survivor.household.area_code)
        a_ok = scope.contains(m.absorbed.household.area_code)
        rows.append(MergeRow(m, s_ok, a_ok, m.undone_at is None and s_ok and a_ok and scope.contains(m.area_code)))
    return rows


def merge_for(actor: Any, pk: int) -> PersonMerge:
    scope = _scope(actor)
    if scope.empty:
        raise Http404
    try:
        return PersonMerge.objects.filter(_involving(scope)).select_related("survivor", "absorbed").get(pk=pk)
    except PersonMerge.DoesNotExist:
        raise Http404 from None


def _same_decisions(actor: Any) -> QuerySet[StagedRow]:
    scope = _scope(actor)
    if scope.empty:
        return StagedRow.objects.none()
    return StagedRow.objects.filter(
        scope.q("area_code"), review=ReviewStatus.SAME, batch__status=BatchStatus.COMMITTED, person__isnull=False
    ).select_related("batch__source", "person__household", "reviewed_by")


def same_decisions(actor: Any, *, limit: int = 50) -> QuerySet[StagedRow]:
    """List rows a reviewer of the actor's area decided were the same person as a registry
    record: the decisions a reviewer may take back (split_review)."""
    return _same_decisions(actor).order_by("-reviewed_at", "-id")[:limit]


def same_decision_for(actor: Any, pk: int) -> StagedRow:
    try:
        return _same_decisions(actor).get(pk=pk)
    except StagedRow.DoesNotExist:
        raise Http404 from None


def merges_of_household(household: Household, *, limit: int = 50) -> list[PersonMerge]:
    """Merges involving a member of a household the caller already fetched through the
    registry's access function (the household page's panel)."""
    return list(
        PersonMerge.objects.filter(Q(survivor__household=household) | Q(absorbed__household=household))
        .select_related("survivor__household", "absorbed__household", "merged_by", "undone_by")
        .order_by("-merged_at", "-id")[:limit]
    )
