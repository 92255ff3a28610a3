"""The minutes of a forum (รายงานการประชุม) as a PDF and a Word document in the Thai government
style, and the posted list for the village notice board as a PDF.

The caller has checked access. Both minutes are built from one :class:`Minutes`, so the PDF and
the Word document always say the same thing. The documents are official Thai documents and
are written in Thai whatever the interface language. Households appear by house number,
village and household code: no national IDs, no names of members.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from khm.areas.models import Area
from khm.core.pdf import FONT_FAMILY, render_pdf, thai_date_full, thai_digits, thai_time, thai_weekday
from khm.forums.models import AgendaItem, Forum, ForumStatus, ItemKind, ItemStatus, Posting

CARRIED_OVER = "ยกไปพิจารณาในการประชุมครั้งต่อไป"
DRAFT_MARK = "ร่าง"
NO_MATTER = "- ไม่มี -"

# One ระเบียบวาระ per group of item kinds present, in this order, after วาระที่ ๑ (the chair's
# matters). Confirming the previous minutes is left out: a forum does not link to its last one.
AGENDA_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    ((ItemKind.UNVERIFIED, ItemKind.DISPUTED), "เรื่องเพื่อพิจารณา ครัวเรือนที่ยังไม่ได้ตรวจสอบหรือมีข้อโต้แย้ง"),
    ((ItemKind.INTEGRATE,), "เรื่องเพื่อพิจารณา การช่วยเหลือแบบบูรณาการ"),
    ((ItemKind.RETURNED, ItemKind.OVERDUE), "เรื่องเพื่อพิจารณา การส่งต่อที่ถูกส่งคืนหรือเกินกำหนด"),
    ((ItemKind.GRADUATION,), "เรื่องเพื่อพิจารณา ครัวเรือนที่เข้าเกณฑ์การพ้นความยากจน"),
    ((ItemKind.APPEAL,), "เรื่องเพื่อพิจารณา คำร้องจากชุมชน"),
    ((ItemKind.OTHER,), "เรื่องอื่น ๆ"),
)


@dataclass(frozen=True)
class Person:
    number: str
    name: str
    position: str
    organisation: str
    note: str = ""


@dataclass(frozen=True)
class Task:
    task: str
    responsible: str
    due: str


@dataclass(frozen=True)
class Item:
    number: str  # ๒.๑
    title: str
    household: str
    detail: str
    resolution: str
    decided: bool
    tasks: list[Task] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    signatures: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Agenda:
    number: str
    title: str
    items: list[Item]


@dataclass(frozen=True)
class Minutes:
    heading: str
    meeting: str  # ครั้งที่ ๑/๒๕๖๙
    when: str  # เมื่อวันศุกร์ที่ ๔ ธันวาคม ๒๕๖๙
    place: str
    present: list[Person]
    absent: list[Person]
    starts: str
    ends: str
    chair_name: str
    chair_position: str
    recorder_name: str
    recorder_position: str
    opening: str
    agendas: list[Agenda]
    draft: bool


def household_line(item: AgendaItem) -> str:
    """บ้านเลขที่ ๙๙/๑ หมู่ ๑ บ้านหนองบัว (รหัสครัวเรือน H…)."""
    hh = item.household
    if hh is None:
        return ""
    village = hh.village
    parts = [f"บ้านเลขที่ {thai_digits(hh.house_no)}"]
    if village.village_no:
        parts.append(f"หมู่ {thai_digits(village.village_no)}")
    parts.append(village.name_th)
    return " ".join(parts) + f" (รหัสครัวเรือน {hh.code})"


def _signatures(raw: Any) -> list[tuple[str, str]]:
    out = []
    for sig in raw or []:
        if isinstance(sig, dict) and sig.get("name"):
            out.append((str(sig["name"]), str(sig.get("role") or "")))
        elif isinstance(sig, str) and sig:
            out.append((sig, ""))
    return out


def _item(item: AgendaItem, number: str) -> Item:
    resolution = getattr(item, "resolution", None)
    if resolution is None:
        return Item(number, item.title, household_line(item), item.detail, CARRIED_OVER, decided=False)
    tasks = [
        Task(
            task=t.task,
            responsible=t.agency.name_th if t.agency else t.responsible,
            due=thai_date_full(t.due_on, short=True),
        )
        for t in resolution.tasks.all()
    ]
    return Item(
        number,
        item.title,
        household_line(item),
        item.detail,
        resolution.text,
        decided=True,
        tasks=tasks,
        effects=[str(e) for e in resolution.effects or []],
        signatures=_signatures(resolution.signatures),
    )


def build_minutes(forum: Forum) -> Minutes:
    """Everything the minutes say, formatted (Thai digits and dates), from the forum's records."""
    attendees = list(forum.attendees.select_related("organisation"))
    people: dict[bool, list[Person]] = {True: [], False: []}
    for a in attendees:
        group = people[a.present]
        org = a.organisation.name_th if a.organisation else a.organisation_name
        group.append(Person(thai_digits(len(group) + 1), a.name, a.position, org, a.note))
    items = list(
        forum.items.exclude(status=ItemStatus.DROPPED)
        .select_related("resolution", "household__village")
        .prefetch_related("resolution__tasks__agency")
        .order_by("number", "id")
    )
    agendas: list[Agenda] = []
    for kinds, title in AGENDA_GROUPS:
        group_items = [i for i in items if i.kind in kinds]
        if not group_items:
            continue
        n = thai_digits(len(agendas) + 2)
        agendas.append(
            Agenda(n, title, [_item(i, f"{n}.{thai_digits(k)}") for k, i in enumerate(group_items, start=1)])
        )
    held = forum.held_on
    return Minutes(
        heading=f"รายงานการประชุม{forum.title}",
        meeting=f"ครั้งที่ {thai_digits(forum.number)}/{thai_digits(forum.year_be)}",
        when=f"เมื่อวัน{thai_weekday(held)}ที่ {thai_date_full(held)}",
        place=forum.place,
        present=people[True],
        absent=people[False],
        starts=thai_time(forum.starts_at),
        ends=thai_time(forum.ends_at),
        chair_name=forum.chair_name,
        chair_position=forum.chair_position,
        recorder_name=forum.recorder_name,
        recorder_position=forum.recorder_position,
        opening=forum.opening.strip(),
        agendas=agendas,
        draft=forum.status != ForumStatus.CLOSED,
    )


# --------------------------------------------------------------------------- PDF


def minutes_pdf(forum: Forum) -> bytes:
    return render_pdf("forums/pdf/minutes.html", {"m": build_minutes(forum), "draft_mark": DRAFT_MARK})


def _village_address(area_code: str) -> tuple[str, str]:
    """(village line, the rest of the address) of a village: "หมู่ที่ ๑ บ้านหนองบัว", "ตำบล… อำเภอ… จังหวัด…"."""
    area = Area.objects.select_related("parent__parent__parent").filter(code=area_code).first()
    if area is None:
        return thai_digits(area_code), ""
    village = f"หมู่ที่ {thai_digits(area.village_no)} {area.name_th}" if area.village_no else area.name_th
    bangkok = area_code.startswith("10")
    labels = ("แขวง", "เขต", "") if bangkok else ("ตำบล", "อำเภอ", "จังหวัด")
    rest, node = [], area.parent
    for label in labels:
        if node is None:
            break
        rest.append(f"{label}{node.name_th}")
        node = node.parent
    return village, " ".join(rest)


def notice_pdf(posting: Posting, page_url: str) -> bytes:
    """The posted list for the village notice board: masked names and house numbers as posted,
    the dates open for appeals and how to appeal (``page_url``: the posting's public page)."""
    village, address = _village_address(posting.area_code)
    entries = [(thai_digits(e.number), e.masked_name, thai_digits(e.house_no)) for e in posting.entries.all()]
    context = {
        "p": posting,
        "village": village,
        "address": address,
        "entries": entries,
        "count": thai_digits(len(entries)),
        "page_url": page_url,
    }
    return render_pdf("forums/pdf/notice.html", context)


# --------------------------------------------------------------------------- Word


# Same face and size as the PDF (12 pt Sarabun looks like 16 pt TH Sarabun: see khm.core.pdf;
# an officer who switches the document to TH SarabunPSK should make it 16 pt). Word picks the complex-script font (w:cs) and size (w:szCs) for Thai,
# not the Latin ones, so both are set; the theme fonts of python-docx's template are removed,
# because a theme attribute would win over the named font.
DOCX_PT = 12
DOCX_STYLES = ("Normal", "Title", "Heading 1", "Heading 2", "Table Grid")


# The order CT_RPr's children must have (ECMA-376 §17.3.2.28); Word rejects a file otherwise.
_RPR_ORDER = (
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
    "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing",
    "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText",
    "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath",
)  # fmt: skip


def _set_font(rpr_parent: Any, *, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT_FAMILY)
    if size_pt is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(round(size_pt * 2)))
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), "1" if bold else "0")
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "th-TH")
    lang.set(qn("w:bidi"), "th-TH")
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(_RPR_ORDER)}
    rpr[:] = sorted(rpr, key=lambda el: rank.get(el.tag, len(rank)))


class _RPrHolder:
    """``w:rPrDefault`` has no python-docx class; give it the one method ``_set_font`` needs."""

    def __init__(self, element: Any) -> None:
        self.element = element

    def get_or_add_rPr(self) -> Any:  # python-docx's name for it
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        rpr = self.element.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            self.element.append(rpr)
        return rpr


class _Doc:
    """A python-docx document with the minutes' few paragraph shapes."""

    def __init__(self, *, draft: bool) -> None:
        from docx import Document
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml.ns import qn
        from docx.shared import Cm

        self.doc = Document()
        styles = self.doc.styles
        rpr_default = styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}")
        if rpr_default is not None:
            _set_font(_RPrHolder(rpr_default), size_pt=DOCX_PT)
        for name in DOCX_STYLES:
            if name in [s.name for s in styles]:
                style = styles[name]
                _set_font(
                    style.element,
                    size_pt=DOCX_PT + (4 if name == "Title" else 0),
                    bold=name.startswith(("Title", "Heading")),
                )
                style.font.color.rgb = None
        section = self.doc.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin, section.left_margin = Cm(2.5), Cm(3)
        section.right_margin, section.bottom_margin = Cm(2), Cm(2)
        section.header_distance = Cm(1.25)
        # Page numbers "- ๒ -" at the top centre from page 2 (\* ThaiArabic: Thai digits).
        section.different_first_page_header_footer = True
        self._page_number(section.header.paragraphs[0])
        if draft:  # "ร่าง" at the top right of every page
            for header in (section.header, section.first_page_header):
                p = header.add_paragraph() if header.paragraphs[0].runs else header.paragraphs[0]
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                self._run(p, DRAFT_MARK, bold=True)

    def _run(self, paragraph: Any, text: str, *, bold: bool = False) -> Any:
        run = paragraph.add_run(text)
        _set_font(run._r, bold=bold or None)
        return run

    def _page_number(self, paragraph: Any) -> None:
        """The page number as "- ๒ -": a PAGE field with the ThaiArabic switch (Thai digits)."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._run(paragraph, "- ")
        for kind in ("begin", "instr", "separate", "result", "end"):
            run = self._run(paragraph, "")
            if kind == "instr":
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = " PAGE \\* ThaiArabic "
                run._r.append(el)
            elif kind == "result":
                run.text = "๒"  # shown until Word updates the field
            else:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
                run._r.append(el)
        self._run(paragraph, " -")

    def para(self, *parts: tuple[str, bool] | str, align: Any = None, indent_cm: float = 0, first_cm: float = 0) -> Any:
        from docx.shared import Cm, Pt

        p = self.doc.add_paragraph()
        for part in parts:
            text, bold = (part, False) if isinstance(part, str) else part
            self._run(p, text, bold=bold)
        if align is not None:
            p.alignment = align
        fmt = p.paragraph_format
        fmt.space_after = Pt(2)
        if indent_cm:
            fmt.left_indent = Cm(indent_cm)
        if first_cm:
            fmt.first_line_indent = Cm(first_cm)
        return p

    def table(self, header: list[str], rows: list[list[str]], widths_cm: list[float]) -> None:
        from docx.shared import Cm

        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text, width in zip(table.rows[0].cells, header, widths_cm, strict=True):
            cell.width = Cm(width)
            self._run(cell.paragraphs[0], text, bold=True)
        for row in rows:
            cells = table.add_row().cells
            for cell, text, width in zip(cells, row, widths_cm, strict=True):
                cell.width = Cm(width)
                self._run(cell.paragraphs[0], text)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


def minutes_docx(forum: Forum) -> bytes:
    """The minutes as a Word document to edit and sign, in Sarabun (Thai and Latin)."""
    m = build_minutes(forum)
    d = _Doc(draft=m.draft)
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    for line in (m.heading, m.meeting, m.when, f"ณ {m.place}"):
        d.para((line, True), align=centre)

    def people(title: str, group: list[Person]) -> None:
        d.para((title, True))
        for p in group:
            line = "  ".join(x for x in (p.name, p.position, p.organisation) if x)
            d.para(f"{p.number}. {line}" + (f" ({p.note})" if p.note else ""), indent_cm=1)

    people("ผู้มาประชุม", m.present)
    if m.absent:
        people("ผู้ไม่มาประชุม", m.absent)
    if m.starts:
        d.para((f"เริ่มประชุมเวลา {m.starts}", True))
    if m.chair_name:
        d.para(
            f"เมื่อที่ประชุมพร้อมแล้ว {m.chair_name} {m.chair_position} ประธานในที่ประชุม "
            "กล่าวเปิดประชุมและดำเนินการประชุมตามระเบียบวาระ ดังนี้",
            first_cm=2.5,
        )
    d.para(("ระเบียบวาระที่ ๑ เรื่องที่ประธานแจ้งให้ที่ประชุมทราบ", True))
    for line in (m.opening or NO_MATTER).splitlines():
        d.para(line, first_cm=2.5)
    if m.opening:
        d.para(("มติที่ประชุม", True), " รับทราบ", first_cm=2.5)
    for agenda in m.agendas:
        d.para((f"ระเบียบวาระที่ {agenda.number} {agenda.title}", True))
        for item in agenda.items:
            d.para((f"{item.number} {item.title}", True), indent_cm=1)
            if item.household:
                d.para(item.household, first_cm=2.5)
            for line in item.detail.splitlines():
                d.para(line, first_cm=2.5)
            d.para(("มติที่ประชุม", True), f" {item.resolution}", first_cm=2.5)
            if item.tasks:
                d.table(
                    ["ลำดับ", "งานที่ต้องทำ", "ผู้รับผิดชอบ", "กำหนดเสร็จ"],
                    [[thai_digits(k), t.task, t.responsible, t.due] for k, t in enumerate(item.tasks, start=1)],
                    [1.3, 7, 4.5, 3.2],
                )
            if item.effects:
                d.para(("ผลการดำเนินการ", True), " " + "; ".join(item.effects), first_cm=2.5)
            if item.signatures:
                d.para(("ผู้ลงนามในมติ", True), first_cm=2.5)
                for name, role in item.signatures:
                    d.para(f"{name}" + (f"  {role}" if role else ""), indent_cm=3.5)
    if m.ends:
        d.para((f"เลิกประชุมเวลา {m.ends}", True))
    for role, name, position in (
        ("ผู้จดรายงานการประชุม", m.recorder_name, m.recorder_position),
        ("ผู้ตรวจรายงานการประชุม", m.chair_name, m.chair_position),
    ):
        d.para("")
        d.para(f"(ลงชื่อ) ........................................ {role}", align=right)
        d.para(f"({name or ' ' * 30})", align=centre, indent_cm=7)
        if position:
            d.para(position, align=centre, indent_cm=7)
    return d.bytes()
