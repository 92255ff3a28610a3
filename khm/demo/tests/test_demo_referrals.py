"""Demo referrals: agencies with services, about 120 referrals in every state through the
real workflow, a few escalated, assistance with plausible values, the agency user's inbox,
idempotent and deterministic."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from khm.demo.referrals import RELIEF_BAHT, RELIEF_HOUSEHOLDS, TARGET, seed_referrals

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    from khm.areas.loaders import load_all
    from khm.demo.assessments import seed_assessments
    from khm.demo.seed import seed_organisations_and_users

    load_all(boundaries=False)
    seed_organisations_and_users()
    call_command("generate_population", people=1500, seed=46, area="4601", stdout=StringIO())
    seed_assessments(seed=46)
    started = time.perf_counter()
    lines = seed_referrals(seed=46)
    return lines, time.perf_counter() - started


def snapshot() -> list[tuple]:
    from khm.referrals.models import Assistance, Referral

    refs = [
        (r.household.code, r.need, r.agency.code, r.service.code if r.service else "", r.state, r.note,
         str(r.due_on), r.escalated_at is not None, tuple(e.to_state for e in r.events.all()))
        for r in Referral.objects.select_related("household", "agency", "service").order_by("household__code", "need")
    ]  # fmt: skip
    helps = sorted(
        (a.household.code, a.kind, a.agency.code, str(a.value_baht), str(a.given_on), a.batch != "")
        for a in Assistance.objects.select_related("household", "agency")
    )
    return refs + helps


def test_every_state_through_the_real_workflow(demo):
    from khm.audit.models import AuditEvent
    from khm.referrals.models import Agency, Referral, ReferralEvent, State

    lines, seconds = demo
    assert seconds < 10, seconds
    assert TARGET * 0.9 <= Referral.objects.count() <= TARGET
    states = Counter(Referral.objects.values_list("state", flat=True))
    assert set(states) == set(State.values), states
    assert states[State.SENT] + states[State.ACCEPTED] + states[State.IN_PROGRESS] >= 40
    assert states[State.COMPLETED] >= 25
    # Every state change has its event and audit record.
    steps = ReferralEvent.objects.count()
    assert steps == AuditEvent.objects.filter(action="referral.update").count()
    assert Referral.objects.count() == AuditEvent.objects.filter(action="referral.create").count()
    for r in Referral.objects.exclude(state=State.DRAFT):
        events = list(r.events.all())
        assert events and events[-1].to_state == r.state
        assert all(a.at <= b.at for a, b in itertools.pairwise(events))
        assert r.created_at <= events[0].at
    # Sent on after a return: another agency in the history.
    for r in Referral.objects.filter(events__to_state=State.RETURNED, state=State.ACCEPTED).distinct():
        assert len({e.agency_id for e in r.events.all()}) == 2
    # Only households of 4601, only needs with a service of the chosen agency.
    assert not Referral.objects.exclude(area_code__startswith="4601").exists()
    for r in Referral.objects.exclude(service=None).select_related("service"):
        assert r.service is not None
        assert r.need in r.service.needs and r.service.agency_id == r.agency_id
    assert Agency.objects.count() >= 9
    # Each referral names the assessment that found the need (as the household panel does).
    from khm.assessment.models import Assessment

    refs = {r.source.removeprefix("assessment:") for r in Referral.objects.all()}
    assert Assessment.objects.filter(ref__in=refs, round="2568").count() == len(refs)
    assert any(line.startswith(f"{Referral.objects.count()} referrals") for line in lines)


def test_a_few_overdue_referrals_are_escalated(demo):
    from django.utils import timezone

    from khm.referrals.models import OPEN_STATES, Referral
    from khm.referrals.services import referrals_escalate

    today = timezone.localdate()
    overdue = Referral.objects.filter(state__in=OPEN_STATES, due_on__lt=today)
    assert 2 <= overdue.count() <= 10
    assert overdue.filter(escalated_at__isnull=True).count() == 0
    assert Referral.objects.filter(escalated_at__isnull=False).count() == overdue.count()
    assert referrals_escalate() == 0
    # The others are within their time to act, sent in the past.
    for r in Referral.objects.filter(state__in=OPEN_STATES, due_on__gte=today):
        assert r.sent_at is not None and r.due_on is not None and timezone.localdate(r.sent_at) < r.due_on


def test_the_agency_user_has_work_in_its_inbox(demo):
    from khm.accounts.models import User
    from khm.referrals import selectors
    from khm.referrals.models import State

    agency = User.objects.get(username="agency")
    inbox = selectors.inbox(agency)
    assert inbox.filter(state=State.SENT).exists()
    assert inbox.filter(state__in=[State.ACCEPTED, State.IN_PROGRESS]).exists()
    assert {r.agency.code for r in inbox} == {"pso"}
    assert selectors.agencies().get(code="pso").type == "social_development"


def test_assistance_values_are_plausible(demo):
    from django.utils import timezone

    from khm.referrals.models import Assistance, AssistanceKind, Referral, State

    completed = Referral.objects.filter(state=State.COMPLETED)
    linked = Assistance.objects.filter(referral__isnull=False)
    assert linked.count() == completed.count()
    for a in linked.select_related("referral"):
        assert a.referral is not None and a.referral.state == State.COMPLETED and a.referral.closed_at is not None
        assert a.given_on == timezone.localdate(a.referral.closed_at) <= timezone.localdate()
    batch = Assistance.objects.filter(referral__isnull=True)
    assert batch.count() == RELIEF_HOUSEHOLDS
    assert set(batch.values_list("batch", flat=True)) != {""} and len(set(batch.values_list("batch", flat=True))) == 1
    assert set(batch.values_list("kind", flat=True)) == {AssistanceKind.IN_KIND}
    assert batch.aggregate(s=Sum("value_baht"))["s"] == RELIEF_BAHT * RELIEF_HOUSEHOLDS
    assert batch.values("household").distinct().count() == RELIEF_HOUSEHOLDS
    for a in linked:
        v = a.value_baht
        if a.kind == AssistanceKind.HOUSING:
            assert Decimal(20_000) <= v <= Decimal(40_000)
        elif a.kind == AssistanceKind.TRAINING:
            assert v == Decimal(3_000)
        elif a.kind == AssistanceKind.CASH:
            assert Decimal(1_000) <= v <= Decimal(3_000)
        elif a.kind in (AssistanceKind.WELFARE, AssistanceKind.HEALTH):
            assert v == 0
        assert 0 <= v <= Decimal(50_000)
    total = linked.aggregate(s=Sum("value_baht"))["s"] or 0
    per = total / max(1, linked.count())
    assert Decimal(1_000) <= per <= Decimal(30_000), per
    assert len({a.kind for a in linked}) >= 4


def test_idempotent_and_deterministic(demo):
    from khm.referrals.models import Assistance, Referral

    first = snapshot()
    counts = (Referral.objects.count(), Assistance.objects.count())
    assert seed_referrals(seed=46) == ["referrals already exist: left as they are"]
    assert (Referral.objects.count(), Assistance.objects.count()) == counts
    # The same seed on the same data gives the same referrals (apart from their codes).
    from django.db import connection

    with connection.cursor() as c:
        for table in ("referrals_assistance", "referrals_notification", "referrals_comment",
                      "referrals_referralevent", "referrals_referral"):  # fmt: skip
            c.execute(f"DELETE FROM {table}")
    seed_referrals(seed=46)
    assert snapshot() == first
