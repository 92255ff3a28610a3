"""`make demo`'s seed end to end at a small scale: users for every role, the lists imported,
two rounds of assessments, and a verification campaign with work for the phone app."""

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
    before = (Assessment.objects.count(), Verification.objects.count())
    call_command("seed_demo", people=1500, seed=46, stdout=StringIO())
    assert (Assessment.objects.count(), Verification.objects.count()) == before
