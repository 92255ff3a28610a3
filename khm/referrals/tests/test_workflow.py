"""The referral workflow: exactly the transitions of workflow.TRANSITIONS, by the right actor,
with who/when/why recorded; and who sees which referrals."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import override

from khm.audit.models import AuditEvent
from khm.referrals import selectors, services, workflow
from khm.referrals.models import Referral, ReferralEvent, State
from khm.referrals.services import ReferralInvalid
from khm.registry.selectors import households_visible

from .conftest import SERVICE_DUE_DAYS, World, path_to

pytestmark = pytest.mark.django_db

ALLOWED = sorted(workflow.TRANSITIONS)
REFUSED = sorted(set(itertools.product(State.values, State.values)) - set(workflow.TRANSITIONS))


def test_every_state_is_reachable_and_the_table_is_closed():
    assert path_to(State.DRAFT) == []
    assert all(path_to(s) for s in State.values if s != State.DRAFT)  # KeyError when unreachable
    assert len(ALLOWED) + len(REFUSED) == len(State.values) ** 2
    for fr, to in ALLOWED:
        assert fr in State.values and to in State.values and fr != to


# --------------------------------------------------------------------------- allowed


@pytest.mark.parametrize(("fr", "to"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_every_allowed_transition_by_the_right_actor_is_recorded(world: World, fr: str, to: str):
    r = world.bring_to(fr)
    rule = workflow.TRANSITIONS[(fr, to)]
    actor = world.actor_for(rule, r)
    events_before = r.events.count()
    before = timezone.now()
    r = world.step(r, to)
    r.refresh_from_db()
    assert r.state == to
    assert r.events.count() == events_before + 1
    ev = r.events.last()
    assert ev is not None
    assert (ev.from_state, ev.to_state, ev.actor_id) == (fr, to, actor.pk)
    assert before <= ev.at <= timezone.now()
    assert ev.agency_id == r.agency_id
    if rule.reason:
        assert ev.reason == f"เหตุผล {fr}→{to}"
    audit = AuditEvent.objects.filter(action="referral.update", object_ref=r.ref).order_by("id").last()
    assert audit is not None
    assert audit.actor_id == actor.pk and audit.area_code == r.area_code
    assert audit.changes["state"] == [fr, to]
    if rule.reason:
        assert audit.note == ev.reason
    if to in (State.COMPLETED, State.NOT_POSSIBLE, State.CANCELLED):
        assert r.closed_at is not None


def test_create_records_an_audit_event_and_sends_at_once(world: World):
    r = world.new(send=True)
    assert r.state == State.SENT and r.sent_at is not None
    assert AuditEvent.objects.filter(action="referral.create", object_ref=r.ref, actor=world.cast.ploy).exists()
    assert [(e.from_state, e.to_state) for e in r.events.all()] == [(State.DRAFT, State.SENT)]
    draft = world.new()
    assert draft.state == State.DRAFT and not draft.events.exists() and draft.due_on is None


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("fr", State.values)
def test_every_other_pair_is_refused_naming_the_state(world: World, fr: str):
    r = world.bring_to(fr)
    targets = [to for (a, to) in REFUSED if a == fr]
    assert targets  # at least "to itself"
    events = ReferralEvent.objects.count()
    for to in targets:
        # Whoever asks, with a reason and another agency at hand: the table refuses first.
        for actor in (world.cast.ploy, world.cast.agency, world.cast.admin):
            with pytest.raises(ReferralInvalid) as exc:
                services.referral_transition(actor=actor, referral=r, to=to, reason="เพราะ", agency=world.other.agency)
            (p,) = exc.value.problems
            assert p.field == "state"
            assert f"cannot go from {fr} to {to}" == p.en
            with override("th"):
                label = str(State(fr).label)
            assert p.th.startswith("เปลี่ยนจาก") and to in p.th and label in p.th
            assert fr in str(exc.value) and to in str(exc.value)
        r.refresh_from_db()
        assert r.state == fr
    assert ReferralEvent.objects.count() == events


def test_an_unknown_state_is_refused(world: World):
    r = world.new()
    with pytest.raises(ReferralInvalid):
        services.referral_transition(actor=world.cast.ploy, referral=r, to="done")


# --------------------------------------------------------------------------- wrong actor


def test_an_officer_cannot_take_an_agency_step(world: World):
    sent = world.bring_to(State.SENT)
    for to in workflow.next_states(State.SENT, "agency"):
        with pytest.raises(PermissionDenied):
            services.referral_transition(actor=world.cast.ploy, referral=sent, to=to, reason="x")
        with pytest.raises(PermissionDenied):  # not even the province admin
            services.referral_transition(actor=world.cast.admin, referral=sent, to=to, reason="x")
    accepted = world.bring_to(State.ACCEPTED)
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=world.cast.dara, referral=accepted, to=State.IN_PROGRESS)
    sent.refresh_from_db()
    assert sent.state == State.SENT


def test_an_agency_worker_cannot_take_an_officer_step(world: World):
    draft = world.bring_to(State.DRAFT)
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=world.cast.agency, referral=draft, to=State.SENT)
    returned = world.bring_to(State.RETURNED)
    with pytest.raises(PermissionDenied):
        services.referral_transition(
            actor=world.other.worker, referral=returned, to=State.SENT, agency=world.other.agency
        )
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=world.cast.agency, referral=returned, to=State.CANCELLED, reason="x")


@pytest.mark.parametrize(("fr", "to"), [k for k, v in workflow.TRANSITIONS.items() if v.by == "agency"])
def test_a_worker_of_another_agency_is_refused(world: World, fr: str, to: str):
    r = world.bring_to(fr)
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=world.other.worker, referral=r, to=to, reason="x")
    r.refresh_from_db()
    assert r.state == fr and r.agency_id == world.pso.pk


def test_an_officer_of_another_area_cannot_touch_ploys_household(world: World):
    somchai = world.cast.somchai
    with pytest.raises(PermissionDenied):
        world.new(actor=somchai)
    draft = world.bring_to(State.DRAFT)
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=somchai, referral=draft, to=State.SENT)
    sent = world.bring_to(State.SENT)
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=somchai, referral=sent, to=State.CANCELLED, reason="x")
    # The district officer of the area may.
    services.referral_transition(actor=world.cast.dara, referral=sent, to=State.CANCELLED, reason="ซ้ำ")
    assert not Referral.objects.filter(created_by=somchai).exists()


def test_nobody_and_expired_may_do_nothing(world: World):
    draft = world.bring_to(State.DRAFT)
    for who in (world.cast.nobody, world.cast.expired, world.cast.analyst, world.cast.vee):
        with pytest.raises(PermissionDenied):
            world.new(actor=who)
        with pytest.raises(PermissionDenied):
            services.referral_transition(actor=who, referral=draft, to=State.SENT)


# --------------------------------------------------------------------------- reasons, agency, due date


REASONED = [k for k, v in workflow.TRANSITIONS.items() if v.reason]


@pytest.mark.parametrize(("fr", "to"), REASONED, ids=[f"{a}->{b}" for a, b in REASONED])
def test_a_reason_is_required_where_the_rule_says(world: World, fr: str, to: str):
    r = world.bring_to(fr)
    actor = world.actor_for(workflow.TRANSITIONS[(fr, to)], r)
    for blank in ("", "   \n"):
        with pytest.raises(ReferralInvalid) as exc:
            services.referral_transition(actor=actor, referral=r, to=to, reason=blank)
        assert [p.field for p in exc.value.problems] == ["reason"]
        assert exc.value.problems[0].th and exc.value.problems[0].en
    r.refresh_from_db()
    assert r.state == fr


def test_no_reason_is_needed_elsewhere(world: World):
    assert {k for k, v in workflow.TRANSITIONS.items() if not v.reason} == set(ALLOWED) - set(REASONED)
    r = world.bring_to(State.IN_PROGRESS)
    r = services.referral_transition(actor=world.cast.agency, referral=r, to=State.COMPLETED)
    assert r.events.last().reason == ""  # type: ignore[union-attr]


def test_returned_goes_to_another_agency_only(world: World):
    r = world.bring_to(State.RETURNED)
    assert r.agency_id == world.pso.pk and r.service_id == world.service.pk
    for agency in (None, world.pso):
        with pytest.raises(ReferralInvalid) as exc:
            services.referral_transition(actor=world.cast.ploy, referral=r, to=State.SENT, agency=agency)
        assert [p.field for p in exc.value.problems] == ["agency"]
    r.refresh_from_db()
    assert r.state == State.RETURNED and r.agency_id == world.pso.pk
    r = services.referral_transition(actor=world.cast.ploy, referral=r, to=State.SENT, agency=world.other.agency)
    r.refresh_from_db()
    assert r.state == State.SENT and r.agency_id == world.other.agency.pk and r.service_id is None
    assert r.due_on == timezone.localdate() + dt.timedelta(days=services.DEFAULT_DUE_DAYS)
    assert r.events.last().agency_id == world.other.agency.pk  # type: ignore[union-attr]
    history = [(e.to_state, e.agency_id) for e in r.events.all()]
    assert history == [
        (State.SENT, world.pso.pk),
        (State.RETURNED, world.pso.pk),
        (State.SENT, world.other.agency.pk),
    ]
    # Now it belongs to the other agency: the first one may no longer act on it.
    with pytest.raises(PermissionDenied):
        services.referral_transition(actor=world.cast.agency, referral=r, to=State.ACCEPTED)
    r = services.referral_transition(actor=world.other.worker, referral=r, to=State.ACCEPTED)
    assert r.state == State.ACCEPTED


def test_due_date_follows_the_service(world: World):
    r = world.bring_to(State.SENT)
    assert r.due_on == timezone.localdate() + dt.timedelta(days=SERVICE_DUE_DAYS)
    plain = services.referral_create(
        actor=world.cast.ploy, household=world.cast.household, need="care", need_label="", agency=world.pso
    )
    assert plain.due_on == timezone.localdate() + dt.timedelta(days=services.DEFAULT_DUE_DAYS)
    assert plain.need_label == "care"


def test_contact_holds_the_minimum(world: World):
    cast = world.cast
    draft = world.bring_to(State.DRAFT)
    assert draft.contact == {}  # copied only when sent
    r = world.step(draft, State.SENT)
    assert set(r.contact) == {"household", "house_no", "village", "village_no", "subdistrict", "head"}
    assert r.contact["household"] == cast.household.code
    assert r.contact["house_no"] == "99/1"
    assert r.contact["village"] == "บ้านหนองบัว" and r.contact["village_no"] == 1
    assert r.contact["head"] == "นายบุญมี ศรีสุข"
    text = json.dumps(r.contact, ensure_ascii=False)
    nid = cast.head_nid
    for secret in (nid, nid[-4:], "คำปุน", "1960", "24000", cast.head.ref):
        assert secret not in text


def test_create_refuses_bad_input(world: World):
    cast = world.cast
    with pytest.raises(ReferralInvalid) as exc:
        services.referral_create(
            actor=cast.ploy, household=cast.household, need=" ", need_label="", agency=world.other.agency,
            service=world.service, person=cast.other_household.people.first(),
        )  # fmt: skip
    assert {p.field for p in exc.value.problems} == {"need", "service", "person"}
    world.pso.active = False
    world.pso.save()
    with pytest.raises(ReferralInvalid) as exc:
        world.new()
    assert [p.field for p in exc.value.problems] == ["agency"]
    assert not Referral.objects.exists()


# --------------------------------------------------------------------------- scoping


def test_an_agency_worker_sees_only_their_agencys_referrals(world: World):
    cast = world.cast
    mine = world.bring_to(State.SENT)
    theirs = services.referral_create(
        actor=cast.ploy, household=cast.household, need="health_service", need_label="บริการสาธารณสุข",
        agency=world.other.agency,
    )  # fmt: skip
    assert set(selectors.referrals_visible(cast.agency)) == {mine}
    assert set(selectors.inbox(cast.agency)) == {mine}
    assert set(selectors.referrals_visible(world.other.worker)) == {theirs}
    assert set(selectors.inbox(world.other.worker)) == {theirs}
    assert selectors.referral_for(cast.agency, mine.ref) == mine
    with pytest.raises(Http404):
        selectors.referral_for(cast.agency, theirs.ref)
    with pytest.raises(Http404):
        selectors.referral_for(world.other.worker, mine.ref)
    # Officers have no inbox.
    assert not selectors.inbox(cast.ploy).exists()


def test_an_agency_worker_sees_no_household_not_referred_to_them(world: World):
    cast = world.cast
    services.referral_create(
        actor=cast.somchai, household=cast.other_household, need="care", need_label="ดูแล", agency=world.other.agency
    )
    mine = world.bring_to(State.SENT)
    # No registry access at all: only the contact copied into the referral.
    assert not households_visible(cast.agency).exists()
    assert not households_visible(world.other.worker).exists()
    assert set(services.referral_scope_households(cast.agency)) == set()
    seen = set(selectors.referrals_visible(cast.agency).values_list("household_id", flat=True))
    assert seen == {mine.household_id}
    assert cast.other_household.pk not in seen
    assert set(selectors.assistance_visible(cast.agency)) == set()


def test_officers_see_their_areas_referrals_only(world: World):
    cast = world.cast
    ploys = world.bring_to(State.SENT)
    somchais = services.referral_create(
        actor=cast.somchai, household=cast.other_household, need="care", need_label="ดูแล", agency=world.pso
    )
    assert set(selectors.referrals_visible(cast.ploy)) == {ploys}
    assert set(selectors.referrals_visible(cast.somchai)) == {somchais}
    assert set(selectors.referrals_visible(cast.dara)) == {ploys}  # district 4601
    assert set(selectors.referrals_visible(cast.admin)) == {ploys, somchais}
    for outsider in (cast.analyst, cast.nobody, cast.expired, cast.sysadmin):
        assert not selectors.referrals_visible(outsider).exists()
    with pytest.raises(Http404):
        selectors.referral_for(cast.somchai, ploys.ref)
    # The pso worker sees both (both went to pso), each with its contact only.
    assert set(selectors.referrals_visible(cast.agency)) == {ploys, somchais}
