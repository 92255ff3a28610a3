"""The household timeline: every kind of event in one list, newest first, each kind only for
readers whose role may see it; the household-page panel and the full page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from khm.referrals import services
from khm.referrals.models import Referral, ReferralEvent, State
from khm.referrals.tests.test_tracking import Aid, assess, at, give, make_aid, refer
from khm.referrals.timeline import household_events, timeline_panel
from khm.registry.timeline import ACTION_LABELS

pytestmark = pytest.mark.django_db


@pytest.fixture
def aid(cast: Any) -> Aid:
    return make_aid(cast)


D = dt.date


@pytest.fixture
def story(aid: Aid) -> Aid:
    """The memorable household's year (registry events are from today, when the cast was built):

    * 1 Jun 2024 — its head is on the TPMAP 2567 list (source batch committed that day);
    * 10 Jan 2025 — assessed, round 2568: level 1, target poor;
    * 1 Feb 2025 — verified at the desk: confirmed poor;
    * 1 Mar 2025 09:00 — referral created, 09:01 sent to PSO;
    * 13 Mar 2025 — 15,000 baht cash from PSO (recorded on 14 Mar).
    """
    from khm.fieldwork.models import Verification
    from khm.sources.models import ImportBatch, MappingProfile, PersonSource, Source

    c = aid.cast
    source = Source.objects.create(code="tpmap-2567-t", kind="tpmap", name_th="TPMAP", round_label="2567")
    profile = MappingProfile.objects.create(name="tpmap-test", kind="tpmap", fields={})
    batch = ImportBatch.objects.create(
        code="BT1", source=source, profile=profile, file_name="tpmap.csv", file_sha256="0" * 64, file_path="/x",
        uploaded_by=c.ploy, status="committed", committed_at=at(D(2024, 6, 1)),
    )  # fmt: skip
    PersonSource.objects.create(person=c.head, source=source, batch=batch, row_no=7)
    assess(c.household, D(2025, 1, 10))
    Verification.objects.create(
        ref="VT1", key="k-t1", household=c.household, area_code=c.household.area_code, outcome="confirmed_poor",
        verified_on=D(2025, 2, 1), verified_by=c.ploy, method="desk", payload={},
    )  # fmt: skip
    r = refer(c.ploy, c.household, aid.pso, D(2025, 3, 1))
    Referral.objects.filter(pk=r.pk).update(created_at=at(D(2025, 3, 1), 9, 0))
    ReferralEvent.objects.filter(referral=r).update(at=at(D(2025, 3, 1), 9, 1))
    a = give(c.ploy, c.household, aid.pso, D(2025, 3, 13), 15000, programme="ทุนประกอบอาชีพ")
    type(a).objects.filter(pk=a.pk).update(created_at=at(D(2025, 3, 14)))
    # Somebody else's household: never in this timeline.
    give(c.somchai, c.other_household, aid.pso, D(2025, 3, 20), 999)
    return aid


def test_everything_in_one_list_newest_first(story: Aid):
    c = story.cast
    events = household_events(c.ploy, c.household)
    kinds = [e.kind for e in events]
    # Registry events (registered today) first, then the year backwards.
    first_other = next(i for i, k in enumerate(kinds) if k != "registry")
    assert set(kinds[:first_other]) == {"registry"}
    assert kinds[first_other:] == ["assistance", "referral", "referral", "verification", "assessment", "source"]
    rest = events[first_other:]
    assert [e.on for e in rest] == [
        D(2025, 3, 13),
        D(2025, 3, 1),
        D(2025, 3, 1),
        D(2025, 2, 1),
        D(2025, 1, 10),
        D(2024, 6, 1),
    ]
    help_, sent, created, verified, assessed, listed = rest
    assert "15,000.00" in help_.title and "พมจ.กาฬสินธุ์" in help_.detail and "ทุนประกอบอาชีพ" in help_.detail
    assert sent.title.endswith(f"{State.DRAFT.label} → {State.SENT.label}") and sent.url.endswith(f"/{sent.ref}/")
    assert created.ref == sent.ref and "ซ่อมแซมที่อยู่อาศัย" in created.title
    assert verified.ref == "VT1" and verified.url == reverse("fieldwork:verification", args=["VT1"])
    assert "2568" in assessed.title and "1" in assessed.title
    assert "TPMAP" in listed.title and "2567" in listed.title and listed.detail == c.head.full_name
    assert "999" not in " ".join(e.title for e in events)
    registry = {e.title for e in events if e.kind == "registry"}
    assert {str(ACTION_LABELS["household.create"]), str(ACTION_LABELS["person.create"])} <= registry


def test_each_kind_only_for_readers_who_may_see_it(story: Aid):
    c = story.cast
    # The village volunteer may see the household, its verifications, assessments and
    # referrals, but not the source lists (source.view).
    kinds = {e.kind for e in household_events(c.vee, c.household)}
    assert kinds == {"registry", "verification", "assessment", "referral", "assistance"}
    # Outside the area nothing at all (the access function would already have answered 404).
    assert household_events(c.somchai, c.household) == []
    assert timeline_panel(c.somchai, c.household) is None


def test_panel_and_page(story: Aid):
    c = story.cast
    panel = timeline_panel(c.ploy, c.household)
    assert panel is not None and panel.template == "referrals/timeline_panel.html"
    assert panel.context["may_record"] and panel.context["more"] == 0
    html = render_to_string(panel.template, {"panel": panel})
    assert "15,000.00" in html and f"/referrals/assistance/new/?household={c.household.code}" in html
    client = Client()
    client.force_login(c.ploy)
    page = client.get(f"/referrals/timeline/{c.household.code}/")
    assert page.status_code == 200 and "TPMAP" in page.content.decode()
    client.force_login(c.somchai)
    assert client.get(f"/referrals/timeline/{c.household.code}/").status_code == 404
    client.force_login(c.agency)
    assert client.get(f"/referrals/timeline/{c.household.code}/").status_code == 403


def test_a_referral_state_change_appears(story: Aid):
    c = story.cast
    r = Referral.objects.get(household=c.household)
    services.referral_transition(actor=c.agency, referral=r, to=State.ACCEPTED)
    newest_referral = next(e for e in household_events(c.ploy, c.household) if e.kind == "referral")
    assert newest_referral.title.endswith(f"{State.SENT.label} → {State.ACCEPTED.label}")
    assert newest_referral.on == timezone.localdate()
