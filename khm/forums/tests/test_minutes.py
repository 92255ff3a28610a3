"""The minutes of a forum as a PDF and a Word document, and the notice-board list as a PDF: what a
reader checks on paper (Thai text, Thai digits and dates, resolutions, signatures, page numbers,
the draft mark), read back out of the files."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from khm.core.pdf import pdf_text_normalised
from khm.forums.minutes import CARRIED_OVER, minutes_docx, minutes_pdf, notice_pdf
from khm.forums.models import (
    AgendaItem,
    Attendee,
    Forum,
    ForumStatus,
    ItemKind,
    ItemStatus,
    PlanTask,
    PostedEntry,
    Posting,
    Resolution,
    ResolutionKind,
)
from khm.referrals.models import Agency
from khm.registry import services as registry

pytestmark = pytest.mark.django_db

HELD_ON = dt.date(2026, 12, 4)  # a Friday
CONFIRM_TEXT = "รับรองว่าเป็นครัวเรือนยากจน ให้คงอยู่ในบัญชีรายชื่อ"
PLAN_TEXT = "ให้จัดทำแผนช่วยเหลือแบบบูรณาการ โดยซ่อมแซมบ้านและจัดหาน้ำดื่มสะอาด"
GRADUATE_TEXT = "อนุมัติให้ครัวเรือนพ้นความยากจน และติดตามต่อไปอีกหนึ่งปี"
CHAIR, RECORDER = "นายสมศักดิ์ ใจดี", "นางสาวจำเนียร คำมูล"


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page as a reader would copy it (SARA AM composed again, see
    khm.core.pdf), with line breaks and runs of spaces made single spaces."""
    return [
        re.sub(r"\s+", " ", pdf_text_normalised(page.extract_text() or ""))
        for page in PdfReader(io.BytesIO(data)).pages
    ]


def squeeze(text: str) -> str:
    """Without whitespace: a phrase may wrap anywhere in a Thai line (no spaces between words)."""
    return re.sub(r"\s+", "", text)


def docx_text(data: bytes) -> tuple[str, Any]:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts), doc


@pytest.fixture
def forum(cast: Any) -> Forum:
    ploy = cast.ploy
    f = Forum.objects.create(
        ref="F-TEST-1", area_code="460101", round="2569", number=1, year_be=2569,
        title="เวทีแก้จนระดับตำบลกาฬสินธุ์", held_on=HELD_ON, starts_at=dt.time(9, 30), ends_at=dt.time(12, 5),
        place="ห้องประชุม อบต.เอ", status=ForumStatus.HELD, chair_name=CHAIR, chair_position="นายก อบต.เอ",
        recorder_name=RECORDER, recorder_position="นักพัฒนาชุมชน", created_by=ploy,
        opening="ประธานแจ้งว่าจังหวัดกำหนดให้ทุกตำบลจัดเวทีแก้จนภายในเดือนธันวาคม",
    )  # fmt: skip
    Attendee.objects.create(forum=f, name=CHAIR, position="นายก อบต.เอ", organisation=cast.orgs["lga"], order=1)
    Attendee.objects.create(forum=f, name="นายบุญส่ง แก้วมณี", position="ผู้ใหญ่บ้านหนองบัว", order=2)
    Attendee.objects.create(forum=f, name="นางมาลี ศรีงาม", position="พัฒนากรอำเภอ", organisation=cast.orgs["d4601"], order=3)  # fmt: skip
    Attendee.objects.create(forum=f, name="นายประยูร ทองดี", position="สาธารณสุขอำเภอ", present=False, note="ลาป่วย")
    hh2 = registry.household_create(actor=ploy, village_code="46010102", house_no="12")
    agency = Agency.objects.create(
        code="pso", name_th="สำนักงานพัฒนาสังคมฯ จังหวัด", type="social", organisation=cast.orgs["agency"]
    )

    def item(number: int, kind: str, title: str, **kw: Any) -> AgendaItem:
        return AgendaItem.objects.create(
            forum=f, number=number, kind=kind, title=title, area_code=kw.pop("area_code", "460101"),
            key=f"k{number}", **kw,
        )  # fmt: skip

    def resolve(it: AgendaItem, kind: str, text: str, **kw: Any) -> Resolution:
        it.status = ItemStatus.DECIDED
        it.save()
        return Resolution.objects.create(item=it, kind=kind, text=text, decided_on=HELD_ON, recorded_by=ploy, **kw)

    disputed = item(1, ItemKind.DISPUTED, "ครัวเรือนที่มีข้อโต้แย้ง", household=cast.household, area_code="46010101",
                    detail="เพื่อนบ้านแจ้งว่ามีรายได้จากการค้าขาย")  # fmt: skip
    resolve(disputed, ResolutionKind.CONFIRM_POOR, CONFIRM_TEXT, effects=["standing confirmed"],
            signatures=[{"name": CHAIR, "role": "ประธาน"}, {"name": "นายบุญส่ง แก้วมณี", "role": "ผู้ใหญ่บ้าน"}])  # fmt: skip
    plan = item(2, ItemKind.INTEGRATE, "ความต้องการที่หน่วยงานเดียวไม่สามารถช่วยได้", household=hh2,
                area_code="46010102", detail="บ้านทรุดโทรม ไม่มีน้ำดื่มสะอาด")  # fmt: skip
    res = resolve(plan, ResolutionKind.HELP_PLAN, PLAN_TEXT, signatures=[{"name": CHAIR, "role": "ประธาน"}])
    PlanTask.objects.create(resolution=res, agency=agency, task="ซ่อมแซมหลังคาบ้าน", due_on=dt.date(2027, 1, 31))
    PlanTask.objects.create(resolution=res, responsible="อบต.เอ", task="ติดตั้งถังเก็บน้ำ", due_on=dt.date(2027, 2, 15))
    graduation = item(3, ItemKind.GRADUATION, "ครัวเรือนผ่านเกณฑ์พ้นความยากจน", household=cast.household,
                      area_code="46010101")  # fmt: skip
    resolve(graduation, ResolutionKind.APPROVE_GRADUATION, GRADUATE_TEXT)
    item(4, ItemKind.APPEAL, "คำร้องขอเพิ่มชื่อครัวเรือน", status=ItemStatus.OPEN)  # no resolution: carried over
    item(5, ItemKind.OTHER, "เรื่องที่ถอนออกจากวาระ", status=ItemStatus.DROPPED)
    return f


def test_minutes_pdf_reads_like_thai_government_minutes(forum: Forum, cast: Any) -> None:
    pages = pdf_pages(minutes_pdf(forum))
    text = " ".join(pages)
    flat = squeeze(text)
    first = pages[0]
    assert "รายงานการประชุมเวทีแก้จนระดับตำบลกาฬสินธุ์" in first
    assert "ครั้งที่ ๑/๒๕๖๙" in first
    assert "เมื่อวันศุกร์ที่ ๔ ธันวาคม ๒๕๖๙" in first
    assert "ณ ห้องประชุม อบต.เอ" in first
    # Who came, who did not and why, numbered in Thai digits.
    assert "ผู้มาประชุม" in first
    assert squeeze(f"๑. {CHAIR} นายก อบต.เอ อบต.เอ") in squeeze(first)
    assert squeeze("๒. นายบุญส่ง แก้วมณี ผู้ใหญ่บ้านหนองบัว ๓. นางมาลี ศรีงาม พัฒนากรอำเภอ อำเภอเมือง") in squeeze(first)
    assert squeeze("ผู้ไม่มาประชุม ๑. นายประยูร ทองดี สาธารณสุขอำเภอ (ลาป่วย)") in squeeze(first)
    assert "เริ่มประชุมเวลา ๐๙.๓๐ น." in first
    # The agenda: the chair's matters, then one item group per kind, numbered ๒, ๓, …
    assert squeeze("ระเบียบวาระที่ ๑ เรื่องที่ประธานแจ้งให้ที่ประชุมทราบ") in flat
    assert squeeze(forum.opening) in flat
    order = [
        "ระเบียบวาระที่ ๒ เรื่องเพื่อพิจารณา ครัวเรือนที่ยังไม่ได้ตรวจสอบหรือมีข้อโต้แย้ง",
        "๒.๑ ครัวเรือนที่มีข้อโต้แย้ง",
        "ระเบียบวาระที่ ๓ เรื่องเพื่อพิจารณา การช่วยเหลือแบบบูรณาการ",
        "๓.๑ ความต้องการที่หน่วยงานเดียวไม่สามารถช่วยได้",
        "ระเบียบวาระที่ ๔ เรื่องเพื่อพิจารณา ครัวเรือนที่เข้าเกณฑ์การพ้นความยากจน",
        "ระเบียบวาระที่ ๕ เรื่องเพื่อพิจารณา คำร้องจากชุมชน",
        "๕.๑ คำร้องขอเพิ่มชื่อครัวเรือน",
    ]
    positions = [flat.index(squeeze(s)) for s in order]
    assert positions == sorted(positions)
    assert "ถอนออกจากวาระ" not in flat  # dropped items are not minuted
    assert "เรื่องอื่น" not in flat  # no group for a kind with no item
    # Households by address and code, never by national ID.
    code = cast.household.code
    assert squeeze(f"บ้านเลขที่ ๙๙/๑ หมู่ ๑ บ้านหนองบัว (รหัสครัวเรือน {code})") in flat
    assert cast.head_nid not in flat and cast.head_nid[:5] not in flat
    # Each resolution under "มติที่ประชุม"; the undecided item is carried over.
    for resolution in (CONFIRM_TEXT, PLAN_TEXT, GRADUATE_TEXT, CARRIED_OVER):
        assert squeeze(f"มติที่ประชุม {resolution}") in flat
    assert flat.count(squeeze(CARRIED_OVER)) == 1
    # The plan's tasks: task, responsible agency or office, due date in Thai.
    assert squeeze("๑ ซ่อมแซมหลังคาบ้าน สำนักงานพัฒนาสังคมฯ จังหวัด ๓๑ ม.ค. ๒๕๗๐") in flat
    assert squeeze("๒ ติดตั้งถังเก็บน้ำ อบต.เอ ๑๕ ก.พ. ๒๕๗๐") in flat
    assert squeeze("ผลการดำเนินการ standing confirmed") in flat
    assert squeeze(f"ผู้ลงนามในมติ {CHAIR} ประธาน นายบุญส่ง แก้วมณี ผู้ใหญ่บ้าน") in flat
    # The end and the signature blocks.
    assert "เลิกประชุมเวลา ๑๒.๐๕ น." in text
    assert squeeze(f"ผู้จดรายงานการประชุม ({RECORDER}) นักพัฒนาชุมชน") in flat
    assert squeeze(f"ผู้ตรวจรายงานการประชุม ({CHAIR}) นายก อบต.เอ") in flat


def test_sara_am_survives_in_the_text_layer(forum: Forum) -> None:
    # WeasyPrint alone would give "น้ำ" as "นา" and, once, every later "า" as "น้ำ".
    forum.title = "เวทีน้ำใจแก้จน"
    forum.save()
    text = " ".join(pdf_pages(minutes_pdf(forum)))
    assert "รายงานการประชุมเวทีน้ำใจแก้จน" in text
    assert "น้ำดื่มสะอาด" in text and "กำหนด" in text and "ดำเนินการ" in text
    assert "ผู้ใหญ่บ้าน" in text and "บ้าน" in text
    assert "นาดื่ม" not in text and "ดาเนิน" not in text


def test_long_minutes_number_pages_in_thai_from_page_two(forum: Forum) -> None:
    for n in range(6, 26):
        AgendaItem.objects.create(
            forum=forum, number=n, kind=ItemKind.OTHER, title=f"เรื่องอื่นลำดับที่ {n}", area_code="460101",
            key=f"other{n}", detail="รายละเอียดของเรื่องที่ต้องพิจารณา " * 6,
        )  # fmt: skip
    pages = pdf_pages(minutes_pdf(forum))
    assert len(pages) >= 3
    assert not re.search(r"- [๐-๙]+ -", pages[0])  # no number on the first page
    assert "- ๒ -" in pages[1]
    assert "- ๓ -" in pages[2]
    assert "ระเบียบวาระที่ ๖ เรื่องอื่น ๆ" in " ".join(pages)


def test_draft_mark_on_every_page_until_the_forum_is_closed(forum: Forum) -> None:
    for n in range(6, 20):
        AgendaItem.objects.create(
            forum=forum, number=n, kind=ItemKind.OTHER, title=f"เรื่องอื่น {n}", area_code="460101", key=f"o{n}",
            detail="รายละเอียด " * 40,
        )  # fmt: skip
    draft = pdf_pages(minutes_pdf(forum))
    assert len(draft) >= 2
    assert all("ร่าง" in page for page in draft)
    forum.status = ForumStatus.CLOSED
    forum.save()
    final = pdf_pages(minutes_pdf(forum))
    assert not any("ร่าง" in page for page in final)


def test_minutes_docx_says_the_same_in_sarabun(forum: Forum, cast: Any) -> None:
    text, doc = docx_text(minutes_docx(forum))
    for expected in (
        "รายงานการประชุมเวทีแก้จนระดับตำบลกาฬสินธุ์",
        "ครั้งที่ ๑/๒๕๖๙",
        "เมื่อวันศุกร์ที่ ๔ ธันวาคม ๒๕๖๙",
        "ผู้มาประชุม",
        CHAIR,
        "นางมาลี ศรีงาม",
        "(ลาป่วย)",
        "เริ่มประชุมเวลา ๐๙.๓๐ น.",
        "ระเบียบวาระที่ ๒ เรื่องเพื่อพิจารณา ครัวเรือนที่ยังไม่ได้ตรวจสอบหรือมีข้อโต้แย้ง",
        "๓.๑ ความต้องการที่หน่วยงานเดียวไม่สามารถช่วยได้",
        f"มติที่ประชุม {CONFIRM_TEXT}",
        f"มติที่ประชุม {PLAN_TEXT}",
        f"มติที่ประชุม {GRADUATE_TEXT}",
        f"มติที่ประชุม {CARRIED_OVER}",
        "ซ่อมแซมหลังคาบ้าน",
        "๓๑ ม.ค. ๒๕๗๐",
        f"({RECORDER})",
        "ผู้ตรวจรายงานการประชุม",
        "เลิกประชุมเวลา ๑๒.๐๕ น.",
    ):
        assert expected in text, expected
    assert cast.head_nid not in text
    # Every run is in Sarabun for Latin and for Thai (w:cs), without theme fonts overriding it.
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    runs += [r for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    assert runs
    for run in runs:
        fonts = run._r.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:ascii")) == "Sarabun" and fonts.get(qn("w:cs")) == "Sarabun"
        assert fonts.get(qn("w:cstheme")) is None
        assert run.font.name == "Sarabun"
    normal = doc.styles["Normal"].element.rPr
    assert normal.find(qn("w:rFonts")).get(qn("w:cs")) == "Sarabun"
    assert normal.find(qn("w:szCs")).get(qn("w:val")) == "24"  # 12 pt for Thai text as well
    # The draft mark and the Thai page number field are in the headers.
    section = doc.sections[0]
    assert "ร่าง" in section.header.paragraphs[-1].text and "ร่าง" in section.first_page_header.paragraphs[0].text
    assert "PAGE \\* ThaiArabic" in section.header._element.xml
    assert section.left_margin.cm == pytest.approx(3, abs=0.01) and section.top_margin.cm == pytest.approx(
        2.5, abs=0.01
    )


def test_closed_minutes_docx_has_no_draft_mark(forum: Forum) -> None:
    forum.status = ForumStatus.CLOSED
    forum.save()
    text, doc = docx_text(minutes_docx(forum))
    headers = doc.sections[0].header._element.xml + doc.sections[0].first_page_header._element.xml
    assert "ร่าง" not in text and "ร่าง" not in headers


def test_notice_pdf_shows_the_masked_list_and_how_to_appeal(cast: Any) -> None:
    posting = Posting.objects.create(
        ref="P-TEST-1", area_code="46010101", round="2569", opens_on=dt.date(2026, 11, 2),
        closes_on=dt.date(2026, 11, 16), token="t" * 43, created_by=cast.ploy,
    )  # fmt: skip
    second = registry.household_create(actor=cast.ploy, village_code="46010101", house_no="15")
    PostedEntry.objects.create(posting=posting, number=1, household=cast.household, masked_name="นายบุญมี ศ***", house_no="99/1")  # fmt: skip
    PostedEntry.objects.create(posting=posting, number=2, household=second, masked_name="นางทองใบ ส***", house_no="15")  # fmt: skip
    url = "https://khm.example/p/" + "t" * 43
    pages = pdf_pages(notice_pdf(posting, page_url=url))
    text = " ".join(pages)
    flat = squeeze(text)
    assert "ประกาศรายชื่อครัวเรือนยากจน" in pages[0]
    assert "หมู่ที่ ๑ บ้านหนองบัว" in text
    assert "ตำบลกาฬสินธุ์ อำเภอเมืองกาฬสินธุ์ จังหวัดกาฬสินธุ์" in text
    assert "รอบการสำรวจ ๒๕๖๙" in text
    assert squeeze("๑ นายบุญมี ศ*** ๙๙/๑") in flat and squeeze("๒ นางทองใบ ส*** ๑๕") in flat
    assert "จำนวน ๒ ครัวเรือน" in text
    assert squeeze("ตั้งแต่วันที่ ๒ พฤศจิกายน ๒๕๖๙ ถึงวันที่ ๑๖ พฤศจิกายน ๒๕๖๙") in flat
    assert squeeze(url) in flat
    assert "แจ้งที่ผู้ใหญ่บ้าน/อบต." in text
    assert "ภายใน ๑๕ วัน" in text
    # Only what was posted: no full surname, no national ID.
    assert "ศรีสุข" not in text and cast.head_nid not in flat
