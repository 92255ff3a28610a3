"""`make demo`'s seed end to end at a small scale: users for every role, the lists imported,
two rounds of assessments, a verification campaign with work for the phone app, and the
poverty forums: a past one with minutes, a coming one with its agenda, graduated
households, posted lists with appeals and agreements."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_every_capability_and_is_idempotent():
    from khm.areas.loaders import load_all
    from khm.assessment.models import Assessment
    from khm.fieldwork import selectors
    from khm.fieldwork.models import Campaign, Conflict, Verification

    load_all(boundaries=False)
    out = StringIO()
    call_command("seed_demo", people=1500, seed=46, stdout=out)
    text = out.getvalue()
    assert "admin" in text and "volunteer" in text and "kalasin-demo" in text
    assert set(Assessment.objects.values_list("round", flat=True)) == {"2567", "2568"}
    campaign = Campaign.objects.get()
    assert Verification.objects.filter(campaign=campaign).count() >= 1
    assert Conflict.objects.filter(status="open").count() == 1
    from khm.accounts.models import User

    volunteer = User.objects.get(username="volunteer")
    bundle = selectors.bundle_for(volunteer)
    from khm.accounts.scoping import scope_for
    from khm.registry.models import Household

    mine = Household.objects.filter(scope_for(volunteer, "verification.submit").q("area_code"))
    # Every household of the volunteer's village waits on their phone, and nothing else.
    assert sorted(h["code"] for h in bundle["households"]) == sorted(mine.values_list("code", flat=True))
    _forums_are_seeded()
    from khm.forums.models import Agreement, Appeal, Forum, Resolution

    def counts() -> tuple[int, ...]:
        models = (Assessment, Verification, Forum, Resolution, Appeal, Agreement)
        return tuple(m.objects.count() for m in models)  # type: ignore[attr-defined]

    before = counts()
    call_command("seed_demo", people=1500, seed=46, stdout=StringIO())
    assert counts() == before


def _forums_are_seeded() -> None:
    from django.utils import timezone

    from khm.forums.agreements import in_force
    from khm.forums.minutes import minutes_pdf
    from khm.forums.models import Agreement, Appeal, Forum, HouseholdStanding, PlanTask, Posting, Resolution

    today = timezone.localdate()
    first = Forum.objects.filter(status="closed").order_by("held_on").first()
    assert first is not None and len(first.area_code) == 6 and first.held_on < today
    assert first.attendees.filter(present=False, note="ลาป่วย").count() == 1 and first.organisations.exists()
    assert minutes_pdf(first).startswith(b"%PDF")
    coming = Forum.objects.get(area_code=first.area_code, status="planned")
    assert coming.held_on > today and coming.items.filter(carried_from__forum=first).exists()
    kinds = set(Resolution.objects.values_list("kind", flat=True))
    assert {"confirm_poor", "not_poor", "help_plan", "escalate", "approve_graduation", "defer_graduation"} <= kinds
    assert all(r.signatures for r in Resolution.objects.all())
    assert (
        PlanTask.objects.filter(agency__isnull=False).exists() and PlanTask.objects.filter(agency__isnull=True).exists()
    )
    district = Forum.objects.get(area_code="4601")
    assert district.items.filter(escalated_from__status="escalated").count() == 1
    assert district.items.filter(key__startswith="overdue-agency:").exists()
    assert HouseholdStanding.objects.filter(status="graduated").count() >= 5
    closed, still_open = Posting.objects.order_by("opens_on")
    assert closed.closes_on < today <= still_open.closes_on
    assert set(Appeal.objects.values_list("lodged_via", flat=True)) == {"web", "paper"}
    assert coming.items.filter(kind="appeal").count() == 3
    assert Agreement.objects.count() == 4 and sum(not in_force(a, today) for a in Agreement.objects.all()) == 1
