"""The policy report: what a reader checks on paper (area, Thai date, H/A/M0, the share helped
against the 10 % goal, the drivers, recommendations that follow from the figures), read back out
of the PDF; who may have it (404 outside the scope) and that downloading it is audited."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from khm.areas.models import Boundary
from khm.audit.models import AuditEvent
from khm.core.pdf import pdf_text_normalised
from khm.insights import selectors
from khm.insights.models import Fact, RefreshRun
from khm.insights.report import ENTERPRISE_SHARE, build_report, report_pdf, thai_svg
from khm.referrals.models import Agency, Assistance, Referral, State

pytestmark = pytest.mark.django_db

ROUND, PREVIOUS = "2569", "2568"
TODAY = dt.date(2026, 12, 4)
HOUSING = "ครัวเรือนมีความมั่นคงในที่อยู่อาศัย และบ้านมีสภาพคงทนถาวร"  # BMN indicator 8

# Village figures of the round (metrics as in facts.py). District 4601 = the three villages.
VILLAGES: dict[str, dict[str, float]] = {
    "46010101": {
        "assessed": 40, "level1": 8, "level2": 12, "level3": 15, "level4": 5, "target_poor": 30,
        "mpi_n": 40, "mpi_q": 12, "mpi_sum": 6.0, "target_referred": 6, "target_helped": 1,
        "help_value_target": 5000, "listed_households": 40, "verified": 30,
    },
    "46010102": {
        "assessed": 30, "level1": 3, "level2": 6, "level3": 15, "level4": 6, "target_poor": 20,
        "mpi_n": 30, "mpi_q": 6, "mpi_sum": 2.4, "target_referred": 3, "target_helped": 2,
        "help_value_target": 7000, "listed_households": 30, "verified": 30,
    },
    "46010201": {
        "assessed": 30, "level1": 2, "level2": 4, "level3": 14, "level4": 10, "target_poor": 12,
        "mpi_n": 30, "mpi_q": 3, "mpi_sum": 1.2, "listed_households": 30, "verified": 25,
    },
}  # fmt: skip
ROUNDLESS: dict[str, dict[str, float]] = {
    "46010101": {"households": 60, "people": 200, "help_value": 80000, "help_records": 6, "linked": 6,
                 "income_n": 5, "income_pct_n": 5, "income_gain20": 3, "income_change_sum": 6000, "graduated": 2,
                 "followed": 1},
    "46010102": {"households": 40, "people": 150, "help_value": 40000, "help_records": 4, "linked": 4,
                 "income_n": 3, "income_pct_n": 3, "income_gain20": 2, "income_change_sum": 2000},
    "46010201": {"households": 50, "people": 170},
}  # fmt: skip
# Households deprived in an indicator (dim dep:<code>, metric assessed).
DEPRIVED = {
    "46010101": {"bmn08": 15, "bmn22": 10, "bmn09": 6, "bmn20": 5, "bmn06": 4, "bmn31": 1},
    "46010102": {"bmn08": 10, "bmn22": 6, "bmn09": 4, "bmn20": 2, "bmn06": 1},
    "46010201": {"bmn22": 4, "bmn09": 2},
}
# The previous round: fewer target poor, a lower M0.
PREVIOUS_VILLAGES = {
    "46010101": {"assessed": 40, "level1": 6, "level2": 12, "target_poor": 25, "mpi_n": 40, "mpi_q": 10, "mpi_sum": 4.0},
    "46010102": {"assessed": 30, "level1": 3, "level2": 5, "target_poor": 20, "mpi_n": 30, "mpi_q": 5, "mpi_sum": 2.0},
}  # fmt: skip


def put_facts(rows: list[tuple[str, str, str, str, float]]) -> None:
    """Village rows and their sums for the subdistrict, district and province (as refresh does)."""
    sums: dict[tuple[str, str, str, str], float] = {}
    for village, rnd, dim, metric, value in rows:
        for n in (2, 4, 6, 8):
            key = (village[:n], rnd, dim, metric)
            sums[key] = sums.get(key, 0.0) + value
    Fact.objects.filter(area_code__startswith="46").delete()
    Fact.objects.bulk_create(
        Fact(area_code=code, level={2: 1, 4: 2, 6: 3, 8: 4}[len(code)], round=rnd, dim=dim, metric=metric, value=v)
        for (code, rnd, dim, metric), v in sums.items()
    )


def fact_rows(villages: dict[str, dict[str, float]] | None = None) -> list[tuple[str, str, str, str, float]]:
    rows = []
    for v, metrics in (villages or VILLAGES).items():
        rows += [(v, ROUND, "", m, x) for m, x in metrics.items()]
    for v, metrics in ROUNDLESS.items():
        rows += [(v, "", "", m, x) for m, x in metrics.items()]
    for v, deps in DEPRIVED.items():
        rows += [(v, ROUND, f"dep:{code}", "assessed", x) for code, x in deps.items()]
    for v, metrics in PREVIOUS_VILLAGES.items():
        rows += [(v, PREVIOUS, "", m, x) for m, x in metrics.items()]
    return rows


@pytest.fixture
def facts(cast: Any) -> None:
    put_facts(fact_rows())
    started = timezone.make_aware(dt.datetime(2026, 12, 3, 8, 15))  # Asia/Bangkok
    RefreshRun.objects.create(started_at=started, villages=3, full=True)


@pytest.fixture
def overdue(cast: Any) -> Agency:
    """One overdue referral and one piece of help for the memorable household (real rows: the
    by-agency figures are read from the referral tables)."""
    agency = Agency.objects.create(
        code="pso", name_th="สำนักงานพัฒนาสังคมฯ จังหวัด", type="social_development", organisation=cast.orgs["agency"]
    )
    sent = timezone.make_aware(dt.datetime(2026, 10, 1, 10, 0))
    Referral.objects.create(
        ref="R-TEST-1", household=cast.household, area_code="46010101", need="housing_repair", need_label="ซ่อมบ้าน",
        agency=agency, state=State.SENT, due_on=dt.date(2026, 11, 1), created_by=cast.ploy, sent_at=sent,
    )  # fmt: skip
    Assistance.objects.create(
        ref="A-TEST-1", household=cast.household, area_code="46010101", kind="housing_repair", agency=agency,
        given_on=dt.date(2026, 10, 20), value_baht=15000, created_by=cast.ploy,
    )  # fmt: skip
    return agency


def pdf_text(data: bytes) -> str:
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", " ", " ".join(pdf_text_normalised(p.extract_text() or "") for p in pages))


def squeeze(text: str) -> str:
    """Without whitespace: a Thai phrase may wrap anywhere (no spaces between words)."""
    return re.sub(r"\s+", "", text)


def district_report(cast: Any, **kw: Any) -> Any:
    view = selectors.view_for(cast.dara, "4601")
    return build_report(view, ROUND, kw.pop("previous_round", PREVIOUS), today=TODAY, **kw)


def test_pdf_reads_like_a_thai_policy_brief(cast: Any, facts: None, overdue: Agency) -> None:
    report = district_report(cast)
    text = pdf_text(report_pdf(report))
    flat = squeeze(text)
    assert squeeze("เอกสารสรุปเชิงนโยบาย") in flat
    assert squeeze("อำเภอเมืองกาฬสินธุ์ จังหวัดกาฬสินธุ์") in flat
    assert squeeze("รอบการสำรวจ พ.ศ. ๒๕๖๙") in flat
    assert squeeze("จัดทำเมื่อวันที่ ๔ ธันวาคม ๒๕๖๙") in flat
    assert squeeze("ข้อมูล ณ วันที่ ๓ ธันวาคม ๒๕๖๙ เวลา ๐๘.๑๕ น.") in flat
    # Sections numbered in Thai digits, in order.
    heads = ["๑.สถานการณ์", "๒.ความยากจนหลายมิติ", "๓.ความก้าวหน้า", "๔.ความช่วยเหลือที่ได้ผล", "๕.ช่องว่าง", "๖.ข้อเสนอแนะ"]
    positions = [flat.index(h) for h in heads]
    assert positions == sorted(positions)
    # Situation: 150 households, 100 assessed; levels with the change from 2568 (target 45 → 62).
    assert squeeze("ครัวเรือนในทะเบียน ๑๕๐ ครัวเรือน ประชากร ๕๒๐ คน") in flat
    assert squeeze("เป็นครัวเรือนยากจนเป้าหมาย ๖๒ ครัวเรือน (เพิ่มขึ้น ๑๗ ครัวเรือนจากรอบ พ.ศ. ๒๕๖๘)") in flat
    # MPI: H = 21/100, A = 9.6/21, M0 = 9.6/100.
    assert squeeze("(H) เท่ากับ ๐.๒๑๐ (ร้อยละ ๒๑.๐)") in flat
    assert squeeze("(A) เท่ากับ ๐.๔๕๗ (ร้อยละ ๔๕.๗)") in flat
    assert squeeze("(M0 = H × A) เท่ากับ ๐.๐๙๖") in flat
    # The top driver: BMN 8 (housing), 25 of 100 households; the worst subdistrict by M0 (8.4/70).
    assert squeeze(f"ได้แก่ จปฐ. ข้อ ๘ {HOUSING} จำนวน ๒๕ ครัวเรือน (ร้อยละ ๒๕.๐") in flat
    assert squeeze("ตำบลกาฬสินธุ์ (M0 ๐.๑๒๐)") in flat
    # Progress: 3 of 62 helped = 4.8 %, below the 10 % goal.
    assert squeeze("คิดเป็นร้อยละ ๔.๘ ต่ำกว่าเป้าหมายร้อยละ ๑๐") in flat
    # What worked: value of help, enterprise links (5 of 8 gained > 20 %), help by agency.
    assert squeeze("มูลค่ารวม ๑๒๐,๐๐๐ บาท") in flat
    assert squeeze("มีรายได้เพิ่มขึ้นมากกว่าร้อยละ ๒๐ ๕ ครัวเรือน คิดเป็นร้อยละ ๖๒.๕") in flat
    assert "สำนักงานพัฒนาสังคมฯ จังหวัด" in text
    # Gaps: the overdue referral by agency; the subdistrict with target poor and no help.
    assert squeeze("เกินกำหนด ๑ เรื่อง") in flat
    assert squeeze("ยังไม่มีครัวเรือนใดได้รับความช่วยเหลือ ได้แก่ ตำบลเหนือ (๑๒ ครัวเรือน)") in flat
    # Recommendations, each citing its figure.
    assert squeeze("ควรเร่งส่งต่อและให้ความช่วยเหลือครัวเรือนยากจนเป้าหมาย") in flat
    assert squeeze("ได้รับความช่วยเหลือเพียงร้อยละ ๔.๘ (๓ จาก ๖๒ ครัวเรือน) ต่ำกว่าเป้าหมายร้อยละ ๑๐") in flat
    assert squeeze("ควรประสานหน่วยงานด้านองค์กรปกครองส่วนท้องถิ่น") in flat  # needs rule for BMN 8
    assert squeeze("ควรนำตำบลกาฬสินธุ์เข้าพิจารณาเป็นลำดับแรกในเวทีแก้จนครั้งต่อไป") in flat
    assert squeeze("ควรขยายการเชื่อมโยงครัวเรือนยากจนกับวิสาหกิจชุมชน") in flat
    assert squeeze("M0 เพิ่มขึ้นจาก ๐.๐๘๖ ในรอบ พ.ศ. ๒๕๖๘ เป็น ๐.๐๙๖") in flat
    # Thai digits throughout (charts included); aggregates only.
    assert not re.search(r"[0-9]", text.replace("M0", "")), re.findall(r".{20}[0-9].{5}", text)[:5]
    assert cast.household.code not in text and "บุญมี" not in text and cast.head_nid not in text
    assert "R-TEST-1" not in text and "A-TEST-1" not in text


def test_no_call_to_speed_up_help_when_the_goal_is_met(cast: Any, facts: None) -> None:
    villages = {v: dict(m) for v, m in VILLAGES.items()}
    villages["46010101"]["target_helped"] = 6
    villages["46010201"]["target_helped"] = 2  # 10 of 62 = 16.1 %
    put_facts(fact_rows(villages))
    report = district_report(cast)
    rules = [r.rule for r in report.recommendations]
    assert "help_below_target" not in rules and "no_help_areas" not in rules
    flat = squeeze(pdf_text(report_pdf(report)))
    assert squeeze("คิดเป็นร้อยละ ๑๖.๑ สูงกว่าเป้าหมายร้อยละ ๑๐") in flat
    assert "ควรเร่งส่งต่อ" not in flat
    assert squeeze("ควรประสานหน่วยงานด้านองค์กรปกครองส่วนท้องถิ่น") in flat  # the other rules still fire


def test_recommendation_rules(cast: Any, facts: None) -> None:
    report = district_report(cast)
    assert [r.rule for r in report.recommendations] == [
        "help_below_target", "no_help_areas", "top_driver", "forum_priority", "verify", "mpi_worse",
        "expand_enterprise",
    ]  # fmt: skip
    # Without the previous round there is nothing to compare with; a low income gain asks for review.
    assert ENTERPRISE_SHARE <= 5 / 8
    put_facts([r for r in fact_rows() if r[3] != "income_gain20"] + [("46010101", "", "", "income_gain20", 1)])
    rules = [r.rule for r in district_report(cast, previous_round=None).recommendations]
    assert "mpi_worse" not in rules and "review_enterprise" in rules and "expand_enterprise" not in rules


def test_a_village_report_has_no_child_areas(cast: Any, facts: None) -> None:
    view = selectors.view_for(cast.ploy, "46010101")
    report = build_report(view, ROUND, today=TODAY)
    flat = squeeze(pdf_text(report_pdf(report)))
    assert squeeze("หมู่ที่ ๑ บ้านหนองบัว ตำบลกาฬสินธุ์ อำเภอเมืองกาฬสินธุ์ จังหวัดกาฬสินธุ์") in flat
    assert "forum_priority" not in [r.rule for r in report.recommendations]
    assert squeeze("ร้อยละ ๓.๓ ต่ำกว่าเป้าหมายร้อยละ ๑๐") in flat  # 1 of 30


def square(lon: float, lat: float, size: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_the_map_of_child_areas_when_they_have_boundaries(cast: Any, facts: None) -> None:
    without = district_report(cast)
    part = next(p for s in without.sections for p in s.parts if p.number == "๒.๓")
    assert [c.kind for c in part.charts] == ["bar"]  # no boundaries: a bar chart by child area
    for code, lon in (("460101", 103.0), ("460102", 103.25)):
        Boundary.objects.create(area=cast.areas[code], geometry=square(lon, 16.0, 0.25), source="test squares")
    report = district_report(cast)
    part = next(p for s in report.sections for p in s.parts if p.number == "๒.๓")
    assert [c.kind for c in part.charts] == ["map"]
    svg = str(part.charts[0].svg())
    assert "khm-choropleth" in svg and "เหนือ" in svg and "๐.๑๒๐" in svg
    assert "paint-order" not in svg  # WeasyPrint would draw the label's halo over the letters
    text = pdf_text(report_pdf(report))
    assert "เหนือ" in text and not re.search(r"[0-9]", text.replace("M0", ""))


def test_chart_digits_are_thai_but_markup_is_untouched() -> None:
    svg = '<svg viewBox="0 0 320 44"><text x="12">1,234 &#x27;x&#x27;</text></svg>'
    out = thai_svg(svg)
    assert 'viewBox="0 0 320 44"' in out and 'x="12"' in out
    assert ">๑,๒๓๔ &#x27;x&#x27;<" in out and "font-family=" in out


def test_pages_and_download(cast: Any, facts: None) -> None:
    client = Client()
    client.force_login(cast.dara)
    page = client.get("/insights/report/", {"area": "4601", "round": ROUND})
    assert page.status_code == 200
    body = page.content.decode()
    assert "อำเภอเมืองกาฬสินธุ์" in body and "ควรเร่งส่งต่อ" in body
    assert "/insights/report.pdf?area=4601&amp;round=2569" in body
    assert cast.household.code not in body
    response = client.get("/insights/report.pdf", {"area": "4601", "round": ROUND})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "khm-report-4601-2569.pdf" in response["Content-Disposition"]
    assert squeeze("อำเภอเมืองกาฬสินธุ์") in squeeze(pdf_text(response.content))
    event = AuditEvent.objects.get(action="insights.export", object_type="report")
    assert (event.actor, event.object_ref, event.area_code, event.note) == (cast.dara, "4601", "4601", ROUND)


def test_outside_the_scope_is_404_and_not_audited(cast: Any, facts: None) -> None:
    client = Client()
    client.force_login(cast.somchai)
    assert client.get("/insights/report/", {"area": "4601"}).status_code == 404
    assert client.get("/insights/report.pdf", {"area": "4601", "round": ROUND}).status_code == 404
    assert client.get("/insights/report.pdf", {"area": "46010101"}).status_code == 404
    assert not AuditEvent.objects.filter(action="insights.export").exists()
    nobody = Client()
    nobody.force_login(cast.nobody)
    assert nobody.get("/insights/report.pdf", {"area": "4601"}).status_code in (403, 404)


def test_a_local_government_sees_only_its_villages(cast: Any, facts: None) -> None:
    client = Client()
    client.force_login(cast.ploy)
    body = client.get("/insights/report/", {"area": "460101", "round": ROUND}).content.decode()
    assert "เฉพาะพื้นที่ในความรับผิดชอบของผู้จัดทำ ๒ หมู่บ้าน" in body
    assert "ตำบลเหนือ" not in body  # 460102 is not Ploy's


def test_small_child_areas_are_withheld_from_who_may_not_see_their_households(cast: Any, facts: None) -> None:
    villages = {v: dict(m) for v, m in VILLAGES.items()}
    villages["46010201"].update(assessed=3, level3=2, level4=1, level1=0, level2=0, target_poor=2, mpi_n=3)
    put_facts(fact_rows(villages))
    analyst, officer = Client(), Client()
    analyst.force_login(cast.analyst)  # aggregates only
    officer.force_login(cast.dara)  # sees the households of 4601
    hidden = analyst.get("/insights/report/", {"area": "4601", "round": ROUND}).content.decode()
    shown = officer.get("/insights/report/", {"area": "4601", "round": ROUND}).content.decode()
    assert "ตำบลเหนือ" not in hidden and "ไม่แสดงตัวเลขของ ๑ พื้นที่ที่มีครัวเรือนน้อยกว่า ๕ ครัวเรือน" in hidden
    assert "ตำบลเหนือ" in shown and "ไม่แสดงตัวเลขของ" not in shown
