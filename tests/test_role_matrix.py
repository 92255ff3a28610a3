"""Every cell of the role × action matrix (khm/accounts/role_matrix.csv), exercised
through the page that performs the action, by a user holding only that role over Kalasin."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from khm.accounts.models import RoleAssignment, User
from khm.accounts.roles import Role, role_allows, role_matrix
from khm.forums.tests.role_probes import PROBES as FORUM_PROBES
from khm.insights.tests.role_probes import PROBES as INSIGHT_PROBES
from khm.livelihoods.tests.role_probes import PROBES as LIVELIHOOD_PROBES

pytestmark = pytest.mark.django_db


def probe_view(c: Client, cast) -> bool:
    r = c.get(f"/households/{cast.household.code}/")
    return r.status_code == 200 and "บุญมี" in r.content.decode()


def probe_create(c: Client, cast) -> bool:
    r = c.post("/households/new/", {"village": "46010102", "house_no": "12/3"})
    return r.status_code == 302 and cast.household.__class__.objects.filter(house_no="12/3").exists()


def probe_edit(c: Client, cast) -> bool:
    r = c.post(f"/households/{cast.household.code}/edit/", {"house_no": "99/2"})
    cast.household.refresh_from_db()
    return r.status_code == 302 and cast.household.house_no == "99/2"


def probe_transfer(c: Client, cast) -> bool:
    r = c.post(f"/households/{cast.household.code}/transfer/", {"village": "46010201", "reason": "moved"})
    cast.household.refresh_from_db()
    return r.status_code == 302 and cast.household.area_code == "46010201"


def probe_full_id(c: Client, cast) -> bool:
    r = c.post(f"/households/{cast.household.code}/people/{cast.head.ref}/national-id/")
    return r.status_code == 200 and "3-4601-00123-45-8" in r.content.decode()


def probe_export(c: Client, cast) -> bool:
    r = c.get("/households/export.csv")
    return r.status_code == 200 and "บุญมี" in b"".join(r.streaming_content).decode("utf-8-sig")


def probe_audit(c: Client, cast) -> bool:
    r = c.get("/audit/")
    return r.status_code == 200 and "household.create" in r.content.decode()


def probe_area_search(c: Client, cast) -> bool:
    r = c.get("/areas/", {"q": "Kuchinarai"})
    return r.status_code == 200 and "กุฉินารายณ์" in r.content.decode()


def probe_source_view(c: Client, cast) -> bool:
    r = c.get("/imports/")
    return r.status_code == 200 and "sources" not in r.get("Location", "")


def probe_source_import(c: Client, cast) -> bool:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from khm.sources.models import ImportBatch, MappingProfile, Source
    from khm.sources.profiles import install_profiles

    install_profiles()
    source, _ = Source.objects.get_or_create(
        code="tpmap-2566", defaults={"kind": "tpmap", "name_th": "TPMAP", "round_label": "2566"}
    )
    profile = MappingProfile.objects.get(kind="tpmap")
    body = "record_id,เลขประจำตัวประชาชน,คำนำหน้า,ชื่อ,นามสกุล,เพศ,วันเกิด,บ้านเลขที่,หมู่,ตำบล,อำเภอ,จังหวัด,รหัสตำบล\n"
    body += "T1,,นาย,ทดลอง,นำเข้า,ชาย,01/01/2500,5,1,กาฬสินธุ์,เมือง,กาฬสินธุ์,460101\n"
    f = SimpleUploadedFile("t.csv", body.encode("cp874"), content_type="text/csv")
    r = c.post("/imports/", {"source": source.pk, "profile": profile.pk, "file": f})
    return r.status_code == 302 and ImportBatch.objects.filter(status="preview").exists()


def _assessment_data(cast) -> dict:
    import datetime as dt

    from khm.assessment import services

    return {"members": services.roster(cast.household, dt.date(2025, 6, 1)), "capitals": {"p_tenure": "none"}}


def probe_assessment_view(c: Client, cast) -> bool:
    import datetime as dt

    from khm.assessment import services

    services.assessment_record(
        actor=cast.ploy,
        household=cast.household,
        round="2568",
        assessed_on=dt.date(2025, 6, 1),
        data=_assessment_data(cast),
    )
    r = c.get(f"/api/v1/households/{cast.household.code}/assessments")
    return r.status_code == 200 and r.json()[0]["round"] == "2568"


def probe_assessment_create(c: Client, cast) -> bool:
    r = c.post(
        f"/api/v1/households/{cast.household.code}/assessments",
        {"round": "2568", "assessed_on": "2025-06-01", "data": _assessment_data(cast)},
        content_type="application/json",
    )
    return r.status_code == 201 and r.json()["round"] == "2568"


def probe_assessment_aggregate(c: Client, cast) -> bool:
    r = c.get("/assessment/areas/46/")
    return r.status_code == 200 and "กาฬสินธุ์" in r.content.decode()


def probe_assessment_score(c: Client, cast) -> bool:
    from khm.assessment.models import ScoringRun

    r = c.post("/assessment/runs/new/", {"area": "46", "round": ""})
    return r.status_code == 302 and ScoringRun.objects.filter(area_code="46").exists()


def probe_instrument_edit(c: Client, cast) -> bool:
    import copy
    import json

    from khm.assessment import instruments

    cur = instruments.current("needs")
    d = copy.deepcopy(cur.definition)
    d["rules"] = d["rules"][:-1]
    r = c.post("/assessment/instruments/needs/edit/", {"definition": json.dumps(d), "note": "probe"})
    return r.status_code == 302 and instruments.current("needs").version == cur.version + 1


def probe_campaign_manage(c: Client, cast) -> bool:
    r = c.post("/fieldwork/new/", {"name": "probe", "area": "46", "round": "2568", "selection": "all"})
    from khm.fieldwork.models import Campaign

    return r.status_code == 302 and Campaign.objects.filter(name="probe").exists()


def probe_verification_submit(c: Client, cast) -> bool:
    from khm.fieldwork.models import Verification

    r = c.post(
        f"/fieldwork/households/{cast.household.code}/verify/", {"v-outcome": "not_found", "v-verified_on": "1/6/2568"}
    )
    return r.status_code == 302 and Verification.objects.filter(household=cast.household).exists()


def probe_verification_view(c: Client, cast) -> bool:
    from khm.fieldwork import services

    v, _ = services.verification_submit(
        actor=cast.ploy, key="probe", household=cast.household, method="desk",
        payload={"outcome": "not_found", "verified_on": "2025-06-01", "notes": "probe-note"},
    )  # fmt: skip
    r = c.get(f"/fieldwork/verifications/{v.ref}/")
    return r.status_code == 200 and "probe-note" in r.content.decode()


def probe_conflict_resolve(c: Client, cast) -> bool:
    from khm.fieldwork import services

    v, _ = services.verification_submit(
        actor=cast.ploy, key="probe-c", household=cast.household, method="desk",
        payload={"outcome": "not_poor", "verified_on": "2025-06-01", "base": {"household": {"house_no": "1/1"}},
                 "changes": {"household": {"house_no": "2/2"}}},
    )  # fmt: skip
    conflict = v.conflicts.get()
    r = c.post(f"/fieldwork/conflicts/{conflict.pk}/", {"take": "device"})
    cast.household.refresh_from_db()
    return r.status_code == 302 and cast.household.house_no == "2/2"


def _agency(cast, org_key: str):
    """An agency whose workers are the agency workers of ``cast.orgs[org_key]`` (the probed
    user belongs to cast.orgs["province"], the cast's ``agency`` user to cast.orgs["agency"])."""
    from khm.referrals.models import Agency

    return Agency.objects.create(
        code=f"probe-{org_key}", name_th="หน่วยงานทดลอง", type="social_development",
        organisation=cast.orgs[org_key], areas=["46"],
    )  # fmt: skip


def _referral(cast, org_key: str):
    from khm.referrals import services

    return services.referral_create(
        actor=cast.ploy, household=cast.household, need="housing_repair", need_label="ซ่อมแซมที่อยู่อาศัย",
        agency=_agency(cast, org_key), note="probe-referral",
    )  # fmt: skip


def probe_referral_view(c: Client, cast) -> bool:
    r = _referral(cast, "agency")  # an agency the probed user does not work for
    page = c.get("/referrals/")
    return page.status_code == 200 and r.ref in page.content.decode()


def probe_referral_create(c: Client, cast) -> bool:
    from khm.referrals.models import Referral

    agency = _agency(cast, "agency")
    r = c.post(
        f"/referrals/households/{cast.household.code}/new/",
        {"need": "housing_repair", "agency": agency.code, "service": "", "person": "", "note": "probe-create"},
    )
    return r.status_code == 302 and Referral.objects.filter(note="probe-create", state="sent").exists()


def probe_referral_handle(c: Client, cast) -> bool:
    r = _referral(cast, "province")  # sent to the probed user's organisation
    inbox = c.get("/referrals/inbox/")
    if inbox.status_code != 200 or r.ref not in inbox.content.decode():
        return False
    done = c.post(f"/referrals/{r.ref}/transition/", {"to": "accepted"})
    r.refresh_from_db()
    return done.status_code == 302 and r.state == "accepted"


def probe_assistance_record(c: Client, cast) -> bool:
    from khm.referrals.models import Assistance

    r = _referral(cast, "province")  # officers record for the household, the agency for its referral
    resp = c.post(
        f"/referrals/assistance/new/?referral={r.ref}",
        {"kind": "in_kind", "agency": r.agency.code, "given_on": "1/6/2568", "value_baht": "800", "programme": "probe"},
    )
    return resp.status_code == 302 and Assistance.objects.filter(referral=r, value_baht=800).exists()


def probe_agency_manage(c: Client, cast) -> bool:
    from khm.referrals.models import Agency

    r = c.post(
        "/referrals/agencies/new/",
        {
            "code": "probe-new",
            "name_th": "หน่วยงานใหม่",
            "type": "ngo",
            "organisation": "",
            "areas": "46",
            "active": "on",
        },
    )
    return r.status_code == 302 and Agency.objects.filter(code="probe-new").exists()


def probe_tracking_view(c: Client, cast) -> bool:
    r = c.get("/referrals/tracking/", {"area": "46"})
    return r.status_code == 200 and "กาฬสินธุ์" in r.content.decode()


PROBES: dict[str, Callable[[Client, object], bool]] = {
    "household.view": probe_view,
    "household.create": probe_create,
    "household.edit": probe_edit,
    "household.transfer": probe_transfer,
    "person.view_full_id": probe_full_id,
    "export.personal": probe_export,
    "audit.view": probe_audit,
    "area.search": probe_area_search,
    "source.view": probe_source_view,
    "source.import": probe_source_import,
    "assessment.view": probe_assessment_view,
    "assessment.create": probe_assessment_create,
    "assessment.aggregate": probe_assessment_aggregate,
    "assessment.score": probe_assessment_score,
    "instrument.edit": probe_instrument_edit,
    "campaign.manage": probe_campaign_manage,
    "verification.submit": probe_verification_submit,
    "verification.view": probe_verification_view,
    "conflict.resolve": probe_conflict_resolve,
    "referral.view": probe_referral_view,
    "referral.create": probe_referral_create,
    "referral.handle": probe_referral_handle,
    "assistance.record": probe_assistance_record,
    "agency.manage": probe_agency_manage,
    "tracking.view": probe_tracking_view,
}
# Apps with their own actions keep their probes beside their tests.
PROBES.update(FORUM_PROBES)
PROBES.update(LIVELIHOOD_PROBES)
PROBES.update(INSIGHT_PROBES)


def test_every_action_has_a_probe():
    assert set(PROBES) == set(role_matrix())


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("action", list(PROBES))
def test_cell(cast, role, action):
    user = User.objects.create_user(username=f"cell-{role}", password="x-very-long-password")
    org = cast.orgs["system"] if role == Role.SYSTEM_ADMIN else cast.orgs["province"]
    RoleAssignment.objects.create(
        user=user, role=role, organisation=org, area=None if role == Role.SYSTEM_ADMIN else cast.areas["46"]
    )
    c = Client()
    c.force_login(user)
    assert PROBES[action](c, cast) is role_allows(role, action), f"{role} × {action}"
