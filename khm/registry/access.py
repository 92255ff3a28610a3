"""Fetch one protected record for an actor: 404 for "missing" and for "not yours" alike."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from khm.registry.models import Household, Person
from khm.registry.selectors import VIEW, households_visible, people_visible


def household_for(actor: Any, code: str, action: str = VIEW) -> Household:
    try:
        return households_visible(actor, action).select_related("village", "village__parent").get(code=code)
    except Household.DoesNotExist:
        raise Http404 from None


def person_for(actor: Any, household: Household, ref: str, action: str = VIEW) -> Person:
    try:
        return people_visible(actor, action).select_related("household").get(ref=ref, household=household)
    except Person.DoesNotExist:
        raise Http404 from None
