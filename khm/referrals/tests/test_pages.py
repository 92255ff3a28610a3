"""Referral pages and API: refer a need from the household page, the officer's list and the
agency's inbox, one referral with its workflow buttons, comments with files, the agency
directory; an agency worker sees only their agency's referrals and never the registry."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, include, path, resolve

from khm.accounts.models import Organisation, OrganisationKind, RoleAssignment, User
from khm.accounts.roles import Role
from khm.audit.models import AuditEvent
from khm.referrals import services
from khm.referrals.api import router
from khm.referrals.models import Agency, Referral, Service, State

pytestmark = pytest.mark.django_db


@dataclass
class Pages:
    cast: Any
    pso: Agency
    service: Service
    other: Agency  # another agency, with its own worker
    nurse: Any


@pytest.fixture
def pages(cast: Any) -> Pages:
    pso = Agency.objects.create(
        code="pso", name_th="พมจ.กาฬสินธุ์", name_en="Kalasin PSO", type="social_development",
        organisation=cast.orgs["agency"], areas=["46"],
    )  # fmt: skip
    service = Service.objects.create(
        agency=pso, code="house-repair", name_th="ซ่อมบ้านผู้ยากไร้", needs=["housing_repair"], due_days=14
    )
    org = Organisation.objects.create(
        code="agency-ppho", kind=OrganisationKind.AGENCY, name_th="สสจ.กาฬสินธุ์", area=cast.areas["46"]
    )
    other = Agency.objects.create(
        code="ppho", name_th="สสจ.กาฬสินธุ์", type="public_health", organisation=org, areas=["46"]
    )
    Service.objects.create(agency=other, code="visit", name_th="เยี่ยมบ้าน", needs=["health_service"])
    nurse = User.objects.create_user(username="nurse", password="correct-horse-battery")
    RoleAssignment.objects.create(user=nurse, role=Role.AGENCY_WORKER, organisation=org, area=cast.areas["46"])
    return Pages(cast=cast, pso=pso, service=service, other=other, nurse=nurse)


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def assess(cast: Any) -> None:
    """An assessment of the memorable household whose needs include housing_repair."""
    from khm.assessment.services import assessment_record, roster

    assessment_record(
        actor=cast.ploy,
        household=cast.household,
        round="2568",
        assessed_on=dt.date(2025, 6, 1),
        data={
            "members": roster(cast.household, dt.date(2025, 6, 1)),
            "capitals": {"p_tenure": "none", "p_house_condition": "poor"},
            "bmn": {"household": {"bmn08": "fail"}, "persons": {}},
        },
    )


def refer(p: Pages, *, send: bool = True, agency: Agency | None = None, household: Any = None) -> Referral:
    return services.referral_create(
        actor=p.cast.ploy if household is None else p.cast.somchai,
        household=household or p.cast.household,
        need="housing_repair",
        need_label="ซ่อมแซมที่อยู่อาศัย",
        agency=agency or p.pso,
        service=p.service if agency is None else None,
        send=send,
    )


def body(r: Any) -> str:
    return str(r.content.decode())


# --------------------------------------------------------------------------- refer


def test_the_household_panel_lists_waiting_needs_and_the_form_sends_a_referral(pages: Pages):
    cast = pages.cast
    assess(cast)
    c = client_for(cast.ploy)
    page = body(c.get(f"/households/{cast.household.code}/"))
    assert 'id="referrals"' in page and 'data-refer="housing_repair"' in page
    assert f"/referrals/households/{cast.household.code}/new/?need=housing_repair" in page

    form = c.get(f"/referrals/households/{cast.household.code}/new/?need=housing_repair")
    assert form.status_code == 200
    html = body(form)
    assert 'id="need-label"' in html and "ซ่อมแซมที่อยู่อาศัย" in html
    # The agency with a service for the need is suggested first and chosen, with its service.
    assert html.index('value="pso"') < html.index('value="ppho"')
    assert '<option value="pso" selected>' in html and '<option value="house-repair" selected>' in html
    assert "บุญมี" in html  # the members, for "member concerned"

    r = c.post(
        f"/referrals/households/{cast.household.code}/new/",
        {"need": "housing_repair", "agency": "pso", "service": "house-repair", "person": cast.head.ref,
         "note": "หลังคารั่ว", "action": "send"},
    )  # fmt: skip
    referral = Referral.objects.get(household=cast.household)
    assert r.status_code == 302 and r["Location"] == f"/referrals/{referral.ref}/"
    assert referral.state == State.SENT and referral.agency == pages.pso and referral.service == pages.service
    assert referral.person == cast.head and referral.source.startswith("assessment:")
    assert referral.need_label == "ซ่อมแซมที่อยู่อาศัย" and referral.due_on is not None

    page = body(c.get(f"/households/{cast.household.code}/"))
    assert f'data-ref="{referral.ref}" data-state="sent"' in page
    assert 'data-refer="housing_repair"' not in page  # no longer waiting
    assert 'data-refer="secure_housing"' in page


def test_choosing_an_agency_lists_its_services_and_a_draft_is_kept(pages: Pages):
    cast = pages.cast
    c = client_for(cast.ploy)
    url = f"/referrals/households/{cast.household.code}/new/"
    part = c.post(url, {"need": "housing_repair", "agency": "ppho", "refresh": "agency"}, HTTP_HX_REQUEST="true")
    html = body(part)
    assert part.status_code == 200 and html.startswith("<form") and 'value="visit"' in html
    assert 'value="house-repair"' not in html
    assert not Referral.objects.exists()

    r = c.post(url, {"need": "housing_repair", "agency": "pso", "service": "", "action": "draft"})
    referral = Referral.objects.get()
    assert r.status_code == 302 and referral.state == State.DRAFT and referral.due_on is None
    detail = body(c.get(f"/referrals/{referral.ref}/"))
    assert 'name="to" value="sent"' in detail and 'name="to" value="cancelled"' in detail
    r = c.post(f"/referrals/{referral.ref}/transition/", {"to": "sent"})
    assert r.status_code == 302
    referral.refresh_from_db()
    assert referral.state == State.SENT


def test_form_errors_are_in_thai_and_english_on_their_fields(pages: Pages):
    cast = pages.cast
    c = client_for(cast.ploy)
    url = f"/referrals/households/{cast.household.code}/new/"
    html = body(c.post(url, {"need": "housing_repair", "agency": "", "action": "send"}))
    assert "ต้องเลือกหน่วยงาน / choose an agency" in html
    # A service of another agency is not one of the chosen agency's choices.
    html = body(c.post(url, {"need": "housing_repair", "agency": "pso", "service": "visit", "action": "send"}))
    assert "ไม่ใช่ตัวเลือกที่มีให้ / not one of the choices" in html
    pages.pso.active = False
    pages.pso.save()
    html = body(c.post(url, {"need": "housing_repair", "agency": "pso", "action": "send"}))
    assert "/ not one of the choices" in html
    assert not Referral.objects.exists()


def test_refer_page_is_for_officers_of_the_area_only(pages: Pages):
    cast = pages.cast
    url = f"/referrals/households/{cast.household.code}/new/"
    assert client_for(cast.somchai).get(url).status_code == 404
    assert client_for(cast.agency).get(url).status_code == 403
    assert client_for(cast.vee).get(url).status_code == 403  # volunteers see referrals, do not make them
    assert client_for(cast.dara).get(url).status_code == 200


# --------------------------------------------------------------------------- lists


def test_officer_list_filters_and_marks_overdue(pages: Pages):
    cast = pages.cast
    mine = refer(pages)
    other = refer(pages, agency=pages.other)
    theirs = refer(pages, household=cast.other_household)
    Referral.objects.filter(pk=mine.pk).update(due_on=dt.date.today() - dt.timedelta(days=3))
    c = client_for(cast.ploy)
    html = body(c.get("/referrals/"))
    assert mine.ref in html and other.ref in html and theirs.ref not in html
    assert 'class="overdue"' in html and "error" in html
    html = body(c.get("/referrals/", {"agency": "ppho"}))
    assert other.ref in html and mine.ref not in html
    html = body(c.get("/referrals/", {"overdue": "1"}))
    assert mine.ref in html and other.ref not in html
    html = body(c.get("/referrals/", {"state": "draft"}))
    assert mine.ref not in html
    assert theirs.ref in body(client_for(cast.somchai).get("/referrals/"))
    assert mine.ref in body(client_for(cast.dara).get("/referrals/"))
    assert client_for(cast.agency).get("/referrals/").status_code == 403


def test_inbox_shows_only_the_agencys_referrals_open_first(pages: Pages):
    cast = pages.cast
    done = refer(pages)
    for to in (State.ACCEPTED, State.IN_PROGRESS, State.COMPLETED):
        done = services.referral_transition(actor=cast.agency, referral=done, to=to)
    new = refer(pages)
    draft = refer(pages, send=False)
    elsewhere = refer(pages, agency=pages.other)
    html = body(client_for(cast.agency).get("/referrals/inbox/"))
    assert new.ref in html and done.ref in html and elsewhere.ref not in html
    assert html.index(new.ref) < html.index(done.ref)
    assert draft.ref not in html  # not sent yet
    assert "บ้านหนองบัว" in html  # the village from the contact data
    assert f"/households/{cast.household.code}/" not in html
    assert elsewhere.ref in body(client_for(pages.nurse).get("/referrals/inbox/"))
    assert client_for(cast.ploy).get("/referrals/inbox/").status_code == 403


# --------------------------------------------------------------------------- one referral


def test_agency_worker_sees_contact_data_only_and_nothing_of_other_agencies(pages: Pages):
    cast = pages.cast
    r = refer(pages)
    elsewhere = refer(pages, agency=pages.other)
    c = client_for(cast.agency)
    html = body(c.get(f"/referrals/{r.ref}/"))
    assert "99/1" in html and "บุญมี ศรีสุข" in html and "บ้านหนองบัว" in html and cast.household.code in html
    assert f"/households/{cast.household.code}/" not in html  # never a link to the registry
    assert cast.head_nid not in html and "คำปุน" not in html
    assert 'name="to" value="accepted"' in html and 'name="to" value="returned"' in html
    assert 'name="to" value="cancelled"' not in html  # an officer's move
    assert c.get(f"/referrals/{elsewhere.ref}/").status_code == 404
    assert c.post(f"/referrals/{elsewhere.ref}/transition/", {"to": "accepted"}).status_code == 404
    assert c.get(f"/households/{cast.household.code}/").status_code in (403, 404)
    assert client_for(cast.somchai).get(f"/referrals/{r.ref}/").status_code == 404
    officer = body(client_for(cast.ploy).get(f"/referrals/{r.ref}/"))
    assert f'href="/households/{cast.household.code}/"' in officer
    assert 'name="to" value="cancelled"' in officer and 'name="to" value="accepted"' not in officer


def test_workflow_through_the_page_with_a_refused_move_and_a_reason(pages: Pages):
    cast = pages.cast
    r = refer(pages)
    c = client_for(cast.agency)
    url = f"/referrals/{r.ref}/transition/"
    refused = c.post(url, {"to": "completed"})
    assert refused.status_code == 409
    assert "cannot go from sent to completed" in body(refused) and "เปลี่ยนจาก" in body(refused)
    no_reason = c.post(url, {"to": "returned", "reason": " "})
    assert no_reason.status_code == 422 and "ต้องระบุเหตุผล / a reason is required" in body(no_reason)
    assert client_for(cast.ploy).post(url, {"to": "accepted"}).status_code == 403
    r.refresh_from_db()
    assert r.state == State.SENT
    assert c.post(url, {"to": "returned", "reason": "นอกภารกิจ"}).status_code == 302
    # Returned: the officer sends it to another agency.
    officer = client_for(cast.ploy)
    html = body(officer.get(f"/referrals/{r.ref}/"))
    assert 'name="agency"' in html and 'value="ppho"' in html and "นอกภารกิจ" in html
    assert officer.post(url, {"to": "sent", "agency": "ppho"}).status_code == 302
    r.refresh_from_db()
    assert r.state == State.SENT and r.agency == pages.other
    assert [e.to_state for e in r.events.all()] == ["sent", "returned", "sent"]
    nurse = client_for(pages.nurse)
    for to in ("accepted", "in_progress", "completed"):
        assert nurse.post(url, {"to": to}).status_code == 302
    r.refresh_from_db()
    assert r.state == State.COMPLETED and r.closed_at is not None
    assert client_for(cast.agency).get(f"/referrals/{r.ref}/").status_code == 404  # no longer theirs


def test_comments_with_a_file_downloaded_only_by_those_who_see_the_referral(pages: Pages):
    cast = pages.cast
    r = refer(pages)
    c = client_for(cast.agency)
    resp = c.post(
        f"/referrals/{r.ref}/comments/",
        {"text": "นัดเยี่ยมบ้านวันจันทร์", "attachment": SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan")},
    )
    assert resp.status_code == 302
    comment = r.comments.get()
    html = body(client_for(cast.ploy).get(f"/referrals/{r.ref}/"))
    assert "นัดเยี่ยมบ้านวันจันทร์" in html and f"/referrals/{r.ref}/files/{comment.pk}/" in html
    got = client_for(cast.ploy).get(f"/referrals/{r.ref}/files/{comment.pk}/")
    assert got.status_code == 200 and got.getvalue() == b"%PDF-1.4 plan"
    assert "plan.pdf" in got["Content-Disposition"]
    assert client_for(cast.somchai).get(f"/referrals/{r.ref}/files/{comment.pk}/").status_code == 404
    assert client_for(pages.nurse).get(f"/referrals/{r.ref}/files/{comment.pk}/").status_code == 404
    empty = client_for(cast.ploy).post(f"/referrals/{r.ref}/comments/", {"text": ""}, follow=True)
    assert "ต้องมีข้อความหรือไฟล์แนบ / write a comment or attach a file" in body(empty)


# --------------------------------------------------------------------------- agencies


def test_agency_directory_creates_and_edits_agencies_and_services(pages: Pages):
    cast = pages.cast
    c = client_for(cast.admin)
    html = body(c.get("/referrals/agencies/"))
    assert 'data-agency="pso"' in html and 'data-agency="ppho"' in html
    assert "agency-labour" not in html
    new = body(c.get("/referrals/agencies/new/"))
    assert 'value="social_development"' in new and 'value="housing"' in new
    bad = c.post(
        "/referrals/agencies/new/",
        {"code": "labour", "name_th": "แรงงานจังหวัด", "type": "labour", "areas": "46 4699", "active": "on"},
    )
    assert "ไม่พบพื้นที่: 4699 / no such area: 4699" in body(bad)
    r = c.post(
        "/referrals/agencies/new/",
        {"code": "labour", "name_th": "แรงงานจังหวัด", "name_en": "Provincial Labour", "type": "labour",
         "areas": "4601, 4605", "email": "labour@example.org", "active": "on"},
    )  # fmt: skip
    assert r.status_code == 302 and r["Location"] == "/referrals/agencies/labour/"
    labour = Agency.objects.get(code="labour")
    assert labour.organisation.kind == OrganisationKind.AGENCY and labour.organisation.code == "labour"
    assert labour.organisation.area == cast.areas["46"]  # the area holding both districts
    assert labour.areas == ["4601", "4605"] and labour.covers("46050101") and not labour.covers("4602")
    r = c.post(
        "/referrals/agencies/labour/",
        {"name_th": "สำนักงานแรงงานจังหวัด", "type": "labour", "areas": "46", "active": ""},
    )
    labour.refresh_from_db()
    assert r.status_code == 302 and labour.name_th == "สำนักงานแรงงานจังหวัด" and labour.areas == ["46"]
    assert not labour.active and labour.code == "labour"
    r = c.post(
        "/referrals/agencies/labour/services/new/",
        {"name_th": "ฝึกอาชีพ", "name_en": "Job training", "needs": ["job_training"], "due_days": "21", "active": "on"},
    )
    s = labour.services.get()
    assert r.status_code == 302 and s.code == "job-training" and s.needs == ["job_training"] and s.due_days == 21
    r = c.post(
        f"/referrals/agencies/labour/services/{s.code}/",
        {"name_th": "ฝึกอาชีพ", "needs": ["job_training", "income_support"], "due_days": "0"},
    )
    assert "มากเกินไป" not in body(r) and "น้อยเกินไป / too small" in body(r)
    c.post(
        f"/referrals/agencies/labour/services/{s.code}/",
        {"name_th": "ฝึกอาชีพ", "needs": ["job_training", "income_support"], "due_days": "30", "active": "on"},
    )
    s.refresh_from_db()
    assert s.needs == ["job_training", "income_support"] and s.due_days == 30
    audited = AuditEvent.objects.filter(object_type__in=["agency", "service", "organisation"]).order_by("id")
    actions = list(audited.values_list("action", flat=True))
    assert actions == ["organisation.create", "agency.create", "agency.update", "service.create", "service.update"]
    # Choose an existing organisation of kind agency for a new agency.
    Organisation.objects.create(code="agency-labour", kind=OrganisationKind.AGENCY, name_th="แรงงาน")
    assert "agency-labour" in body(c.get("/referrals/agencies/new/"))
    r = c.post(
        "/referrals/agencies/new/",
        {"code": "labour2", "name_th": "แรงงาน", "type": "labour", "organisation": "agency-labour", "areas": "46"},
    )
    assert r.status_code == 302 and Agency.objects.get(code="labour2").organisation.code == "agency-labour"
    for who in ("ploy", "dara", "agency"):
        assert client_for(getattr(cast, who)).get("/referrals/agencies/").status_code == 403


# --------------------------------------------------------------------------- API

_api = None


def _mounted() -> bool:
    try:
        resolve("/api/v1/referrals")
    except Resolver404:
        return False
    return True


def _test_urls() -> list[Any]:
    """The referral router under /api/v1/ (session auth) until khm/api/urls.py mounts it."""
    from ninja import NinjaAPI
    from ninja.security import django_auth

    global _api
    if _api is None:
        _api = NinjaAPI(
            title="KHM referrals (test)", version="referrals-test", auth=django_auth, urls_namespace="refapi"
        )
        _api.add_router("/", router)
    return [path("api/v1/", _api.urls), path("", include("config.urls"))]


MOUNTED = _mounted()
urlpatterns = [] if MOUNTED else _test_urls()


def post_json(c: Client, url: str, data: dict[str, Any]) -> Any:
    return c.post(url, json.dumps(data), content_type="application/json")


def test_api_list_create_transition_and_agencies(pages: Pages, settings: Any):
    if not MOUNTED:
        settings.ROOT_URLCONF = __name__
    cast = pages.cast
    assess(cast)
    ploy = client_for(cast.ploy)
    r = post_json(
        ploy, f"/api/v1/households/{cast.household.code}/referrals",
        {"need": "housing_repair", "agency": "pso", "service": "house-repair", "note": "หลังคารั่ว"},
    )  # fmt: skip
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["state"] == "sent" and out["agency"] == "pso" and out["contact"]["house_no"] == "99/1"
    ref = out["ref"]
    bad = post_json(ploy, f"/api/v1/households/{cast.household.code}/referrals", {"need": "nope", "agency": "pso"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "need"
    assert (
        post_json(
            client_for(cast.somchai),
            f"/api/v1/households/{cast.household.code}/referrals",
            {"need": "debt", "agency": "pso"},
        ).status_code
        == 404
    )
    assert [x["ref"] for x in ploy.get("/api/v1/referrals").json()] == [ref]
    assert client_for(cast.somchai).get("/api/v1/referrals").json() == []
    agency = client_for(cast.agency)
    assert [x["ref"] for x in agency.get("/api/v1/referrals", {"state": "sent"}).json()] == [ref]
    assert client_for(pages.nurse).get("/api/v1/referrals").json() == []

    url = f"/api/v1/referrals/{ref}/transition"
    refused = post_json(agency, url, {"to": "completed"})
    assert refused.status_code == 409
    err = refused.json()["errors"][0]
    assert err["field"] == "state" and err["message_en"] == "cannot go from sent to completed" and err["message_th"]
    assert post_json(ploy, url, {"to": "accepted"}).status_code == 403
    assert post_json(client_for(pages.nurse), url, {"to": "accepted"}).status_code == 404
    assert post_json(agency, url, {"to": "returned"}).status_code == 409  # a reason is required
    ok = post_json(agency, url, {"to": "accepted"})
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"

    listed = ploy.get("/api/v1/agencies").json()
    assert {a["code"] for a in listed} == {"pso", "ppho"}
    pso = next(a for a in listed if a["code"] == "pso")
    assert pso["services"][0]["needs"] == ["housing_repair"] and "line_to" not in pso
