"""Reads of referrals and assistance that depend on who asks.

Officers see referrals and assistance of their area (``referral.view`` through the scoping
primitive); an agency worker sees only referrals sent to their agency (and the assistance
their agency recorded), never other households."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from khm.accounts.scoping import scope_for
from khm.referrals.models import Agency, Assistance, Referral, State
from khm.referrals.services import agency_orgs


def referrals_visible(actor: Any) -> QuerySet[Referral]:
    q = scope_for(actor, "referral.view").q("area_code")
    orgs = agency_orgs(actor)
    if orgs:
        # An agency sees a referral once it is sent to it, never a draft.
        q |= Q(agency__organisation_id__in=orgs) & ~Q(state=State.DRAFT)
    return Referral.objects.filter(q)


def referral_for(actor: Any, ref: str) -> Referral:
    found = (
        referrals_visible(actor).select_related("agency", "service", "created_by", "household").filter(ref=ref).first()
    )
    if found is None:
        raise Http404
    return found


def inbox(actor: Any) -> QuerySet[Referral]:
    """Referrals sent to the actor's agency (agency workers)."""
    return (
        Referral.objects.filter(agency__organisation_id__in=agency_orgs(actor))
        .exclude(state=State.DRAFT)
        .select_related("agency", "service")
    )


def assistance_visible(actor: Any) -> QuerySet[Assistance]:
    q = scope_for(actor, "referral.view").q("area_code")
    orgs = agency_orgs(actor)
    if orgs:
        q |= Q(agency__organisation_id__in=orgs)
    return Assistance.objects.filter(q)


def agencies() -> QuerySet[Agency]:
    return Agency.objects.all().prefetch_related("services")
