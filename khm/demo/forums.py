"""Demo poverty forums (เวทีแก้จน), community validation and agreements for Mueang Kalasin
district (4601).

:func:`seed_forums` runs after :func:`khm.demo.referrals.seed_referrals` and gives the demo,
through the forum services (``khm.forums.services``, ``validation``, ``agreements``) with the
demo users as actors:

* **A past subdistrict forum** in the forum secretary's subdistrict (the subdistrict of 4601
  where the demo has households on the lists, verifications, referrals and assessments),
  held about six weeks ago and recorded by the user ``secretary``: attendees (the mayor or
  SAO chief executive in the chair, the kamnan, village headmen, the community development
  officer taking the minutes, a health volunteer, the district's deputy, the agencies'
  officers — one on sick leave), the organisations taking part, the chair's opening
  remarks; its agenda built from the data, plus one matter the secretary adds; resolutions
  with signatures: the verified households confirmed, a disputed household taken off the
  list, a disputed one carried over, a few unverified households confirmed on the headmen's
  word, a need referred to agencies, an integrated help plan (agency tasks with due dates
  and one task for the community), graduation approved for the candidates (one deferred
  when there are three or more), one item escalated to the district forum, the added matter
  noted; the rest left open. Then the meeting is closed: open items carry over.
* **A second past forum** in another subdistrict of 4601 (the one, among those the demo
  local officer may run, with the most graduation candidates), a week later, recorded by
  the user ``local``: the verified households confirmed, a disputed one taken off the list,
  graduation approved (and one deferred) so that the demo has at least five graduated
  households; closed. When that is still fewer than five, the district officer holds one
  more in the subdistrict with most candidates left (the small demo of the tests).
* **Community validation** in the first subdistrict, by the user ``local``: one village's
  list posted about 20 days ago for 15 days (closed now; one appeal about wrong data,
  lodged on the web while it was open, waits for the forum), another village's list open
  now with an appeal on the web (wrongly included) and one received on paper (a household
  missing from the list).
* **A coming forum** of the first subdistrict in about two weeks: attendees planned, its
  agenda built (the items carried over, the appeals, new overdue referrals) plus one
  matter added.
* **A district forum** (4601) next month, by the user ``district``: its agenda holds the
  item escalated from the subdistrict and the overdue referrals grouped by agency.
* **Agreements** (MOUs) signed by the province office with the demo agencies, the
  provincial administrative organisation, the municipalities and Kalasin University, on
  data sharing under the PDPA, integrated help, community enterprise and one research
  agreement that has expired.

Referrals a past forum made are dated on the day of the forum (as ``seed_referrals`` dates
its referrals), the closing of a past meeting a few days after it, and web appeals on the
day they were lodged. Deterministic for a seed (codes are random; what they hold is not).
Does nothing once a forum exists. Nothing here imports Django models at module level.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from khm.accounts.models import Organisation, User
    from khm.areas.models import Area
    from khm.forums.models import AgendaItem, Forum, Posting
    from khm.referrals.models import Agency

ROUND = "2568"
DISTRICT = "4601"
MIN_GRADUATED = 5
APPROVE_MAX = 4  # graduations approved at one forum
CONFIRM_UNVERIFIED = 3  # unverified households the headmen vouch for at the first forum
APPEAL_DAYS = 20  # the forum decides an appeal within this many days of the posting's close

CHAIR_ROLE = "ประธานที่ประชุม"
RECORDER_ROLE = "ผู้บันทึกการประชุม"

# What an agency (or the community) does for a need, in a help plan or a referral note.
TASKS = {
    "housing_repair": "สำรวจและซ่อมแซมหลังคาและฝาบ้านที่ชำรุด ตามโครงการบ้านพอเพียง",
    "secure_housing": "ประสานที่อยู่อาศัยที่มั่นคงผ่านโครงการบ้านมั่นคงชนบท",
    "clean_water": "ติดตั้งโอ่งเก็บน้ำฝนขนาด 2,000 ลิตร และตรวจคุณภาพน้ำดื่ม",
    "electricity": "ขยายเขตไฟฟ้าและเดินสายไฟภายในบ้านให้ได้มาตรฐาน ร่วมกับการไฟฟ้าส่วนภูมิภาคอำเภอเมืองกาฬสินธุ์",
    "care": "ขึ้นทะเบียนผู้สูงอายุติดเตียงและจัดผู้ดูแล (Care Giver) เยี่ยมบ้านสัปดาห์ละครั้ง",
    "job_training": "ฝึกอาชีพระยะสั้นและจับคู่ตำแหน่งงานใกล้บ้าน",
    "elderly_income": "ยื่นขอรับเบี้ยยังชีพผู้สูงอายุและส่งเสริมอาชีพเสริมที่ทำได้ที่บ้าน",
    "income_support": "ส่งเสริมอาชีพทอผ้าไหมแพรวาและเชื่อมโยงตลาดกับวิสาหกิจชุมชน",
    "welfare_card": "ลงทะเบียนบัตรสวัสดิการแห่งรัฐ",
    "schooling": "มอบทุนการศึกษาและค่าเดินทางไปโรงเรียนให้เด็กในครัวเรือน",
    "literacy": "จัดการเรียนรู้การอ่านออกเขียนได้ที่บ้าน โดยครู กศน.ตำบล",
    "health_service": "นัดตรวจสุขภาพประจำปีและฉีดวัคซีนที่โรงพยาบาลส่งเสริมสุขภาพตำบล",
    "debt": "ไกล่เกลี่ยและปรับโครงสร้างหนี้นอกระบบ",
    "savings": "ชวนเข้ากลุ่มออมทรัพย์เพื่อการผลิตและวางแผนการเงินครัวเรือน",
    "farmland": "สนับสนุนปัจจัยการผลิตและขุดบ่อน้ำในไร่นา",
    "social_inclusion": "ชวนเข้าร่วมกลุ่มอาชีพและกองทุนหมู่บ้าน",
}
WORKS = {"electricity", "clean_water", "housing_repair", "secure_housing"}  # a local government's works division
# Taking a disputed household off the list, by what the verification found.
NOT_POOR = {
    "not_poor": "ผู้ใหญ่บ้านยืนยันว่าครัวเรือนมีรายได้ประจำจากบุตรที่ทำงานในโรงงานและส่งเงินให้ทุกเดือน "
    "ที่ประชุมมีมติให้นำออกจากบัญชีครัวเรือนยากจน (ไม่ใช่ครัวเรือนยากจน)",
    "moved": "ครัวเรือนย้ายไปอยู่กับบุตรที่กรุงเทพมหานครเป็นการถาวร ที่ประชุมมีมติให้นำออกจากบัญชีครัวเรือนยากจนของตำบล",
    "not_found": "ผู้ใหญ่บ้านยืนยันว่าไม่มีครัวเรือนนี้อาศัยอยู่ในหมู่บ้านมากว่าสองปี ที่ประชุมมีมติให้นำออกจากบัญชีครัวเรือนยากจนของตำบล",
    "deceased": "ผู้อยู่อาศัยคนเดียวของครัวเรือนเสียชีวิตแล้ว ที่ประชุมมีมติให้นำออกจากบัญชีครัวเรือนยากจน",
    "duplicate": "ครัวเรือนนี้ซ้ำกับอีกรายการในบัญชี ที่ประชุมมีมติให้นำรายการนี้ออกจากบัญชี",
}
# A need no agency offers, referred to the agencies of a related one (home wiring is part of
# the house-repair programmes; the municipality asks the PEA to extend the line).
RELATED = {"electricity": "housing_repair"}
REFER_TASKS = {
    "electricity": "เดินสายไฟภายในบ้านให้ได้มาตรฐานภายใต้โครงการปรับปรุงที่อยู่อาศัย โดยท้องถิ่นประสานการไฟฟ้าส่วนภูมิภาคขยายเขตไฟฟ้า",
}
DEFAULT_TASK = "ประเมินความจำเป็นและให้ความช่วยเหลือตามภารกิจของหน่วยงาน"

# The agencies' officers who come to the forums: organisation code → (name, position).
OFFICERS = {
    "agency-pso": ("นายวีระพงษ์ นามวงศ์", "นักพัฒนาสังคมชำนาญการ"),
    "agency-ppho": ("นางสาวพรทิพย์ ทองคำ", "นักวิชาการสาธารณสุขชำนาญการ"),
    "agency-pcdo": ("นางวิไลวรรณ ศรีสุข", "นักวิชาการพัฒนาชุมชนชำนาญการ"),
    "agency-pao-agri": ("นายอนุชา บุตรดี", "นักวิชาการส่งเสริมการเกษตรชำนาญการ"),
    "agency-labour": ("นางรัชนี วงศ์ไชย", "นักวิชาการแรงงานชำนาญการ"),
    "agency-nfe": ("นายสุริยา คำภูแก้ว", "ครู กศน.ตำบล"),
    "agency-ksu": ("ผศ.ดร.ปิยะนุช ศรีวงษ์", "อาจารย์ คณะศิลปศาสตร์และวิทยาศาสตร์"),
    "agency-baac": ("นายชาตรี พลราชม", "พนักงานพัฒนาลูกค้า"),
    "agency-codi": ("นางสาวอรอุมา ภูสมศรี", "เจ้าหน้าที่โครงการบ้านมั่นคงชนบท"),
}
SICK = "agency-labour"  # on sick leave at the first forum (ลาป่วย)


@dataclass
class Tally:
    """What the seed made, for the lines it returns."""

    held: list[tuple[Forum, int, int]] = field(default_factory=list)  # forum, resolutions, carried
    graduated: int = 0
    deferred: int = 0


@dataclass(frozen=True)
class People:
    """Who sits at a subdistrict forum."""

    chair: str
    kamnan: str
    headmen: tuple[str, ...]
    recorder: tuple[str, str]
    volunteer: str
    deputy: str  # ปลัดอำเภอ, standing for the district chief (นายอำเภอ)


FIRST = People(
    chair="นายสมพงษ์ ภูกองไชย",
    kamnan="นายทองใบ ศรีกาฬ",
    headmen=("นายบุญมี โคตรชมภู", "นายประสิทธิ์ ไชยมาตย์", "นางสุดารัตน์ พลเยี่ยม"),
    recorder=("นางสาวจิราพร ศรีบุญเรือง", "พัฒนากร ผู้ประสานงานตำบล"),
    volunteer="นางคำปุ่น แสนสุข",
    deputy="นายธนากร ภูผาใจ",
)
SECOND = People(
    chair="นายประยุทธ ไชยสงคราม",
    kamnan="นายสุพล ภูมิสายดร",
    headmen=("นายเสถียร อุปชิน", "นางบัวเรียน คำมุงคุณ"),
    recorder=("นางสาวกาญจนา พรมดี", "พัฒนากร ผู้ประสานงานตำบล"),
    volunteer="นางบัวผัน ทองมา",
    deputy="นายธนากร ภูผาใจ",
)
THIRD = People(
    chair="นายวันชัย ศรีสุวรรณ",
    kamnan="นายบุญเลิศ โพธิ์ศรี",
    headmen=("นายทองดี ภูมิภักดิ์", "นางสมจิตร บุญประคม"),
    recorder=("นายณัฐพล แสนภูวา", "พัฒนากร ผู้ประสานงานตำบล"),
    volunteer="นางทองพูน ศรีหาวงศ์",
    deputy="นายธนากร ภูผาใจ",
)
CDD_DISTRICT = "สำนักงานพัฒนาชุมชนอำเภอเมืองกาฬสินธุ์"


def seed_forums(seed: int = 46) -> list[str]:
    from django.db import transaction

    with transaction.atomic():  # all or nothing, so a second run is never half-way
        return _seed(seed)


# --------------------------------------------------------------------------- helpers


def _weekday(day: dt.date, back: bool = False) -> dt.date:
    """The day itself when it is Monday to Friday, else the nearest working day on the given side."""
    step = dt.timedelta(days=-1 if back else 1)
    while day.weekday() >= 5:
        day += step
    return day


def _chief(lg: Organisation) -> str:
    """นายกเทศมนตรีตำบลไผ่ for เทศบาลตำบลไผ่, นายกองค์การบริหารส่วนตำบล… for an SAO."""
    name = lg.name_th
    return f"นายกเทศมนตรี{name.removeprefix('เทศบาล')}" if name.startswith("เทศบาล") else f"นายก{name}"


def _signatures(people: People, chair_position: str, extra: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    out = [{"name": people.chair, "role": f"{CHAIR_ROLE} ({chair_position})"}]
    out += [{"name": n, "role": r} for n, r in extra]
    out.append({"name": people.recorder[0], "role": RECORDER_ROLE})
    return out


def _follow_months() -> int:
    """How long a graduated household is followed, by the current graduation criteria."""
    from khm.engines import graduation as engine
    from khm.forums import graduation

    return int(engine.follow_months(graduation.criteria_current().definition))


def _need_labels() -> dict[str, str]:
    from khm.referrals.panels import catalogue

    return {code: n.label_th for code, n in catalogue().needs.items()}


def _need_types() -> dict[str, tuple[str, ...]]:
    from khm.referrals.panels import catalogue

    return {code: n.agency_types for code, n in catalogue().needs.items()}


def _agencies_for(need: str, household_id: int, exclude: set[int] | None = None, related: bool = False) -> list[Agency]:
    """Active agencies that offer a service for the need (those that could not help this
    household with it left out), else agencies of the need's agency types."""
    from khm.referrals.models import Agency, Referral, Service, State

    exclude = exclude or set()
    failed = set(
        Referral.objects.filter(household_id=household_id, need=need, state=State.NOT_POSSIBLE).values_list(
            "agency_id", flat=True
        )
    )
    offering = {
        s.agency_id
        for s in Service.objects.filter(active=True, agency__active=True).only("agency_id", "needs")
        if need in s.needs
    }
    found = list(Agency.objects.filter(pk__in=offering - failed - exclude, active=True).order_by("code"))
    if found:
        return found
    types = _need_types().get(need, ())
    typed = Agency.objects.filter(type__in=types, active=True).exclude(pk__in=failed | exclude)
    found = sorted(typed, key=lambda a: (types.index(a.type), a.code))
    if not found and related and need in RELATED:
        return _agencies_for(RELATED[need], household_id, exclude)
    return found


def _orgs(codes: Sequence[str]) -> dict[str, Organisation]:
    from khm.accounts.models import Organisation

    return {o.code: o for o in Organisation.objects.filter(code__in=list(codes))}


def _local_governments(area: Area) -> list[Organisation]:
    """The local governments with villages in the subdistrict: the one named after it
    first, then by the number of its villages."""
    from django.db.models import Count, Q

    from khm.accounts.models import Organisation, OrganisationKind

    found = (
        Organisation.objects.filter(kind=OrganisationKind.LOCAL_GOVERNMENT, jurisdiction__code__startswith=area.code)
        .annotate(n=Count("jurisdiction", filter=Q(jurisdiction__code__startswith=area.code)))
        .distinct()
    )
    return sorted(found, key=lambda o: (not o.name_th.endswith(area.name_th), -getattr(o, "n", 0), o.code))


def _villages(area: Area) -> list[Area]:
    from khm.areas.models import Area, AreaLevel

    return list(Area.objects.filter(level=AreaLevel.VILLAGE, code__startswith=area.code, active=True).order_by("code"))


# --------------------------------------------------------------------------- areas


def _pick_areas(users: dict[str, User]) -> tuple[Area, User, Area | None, User | None]:
    """The first forum's subdistrict (the secretary's when the demo has data there) and the
    second's (the one with most graduation candidates that the local officer may run)."""
    from khm.areas.models import Area, AreaLevel
    from khm.assessment.models import AssessmentResult
    from khm.fieldwork.models import Verification
    from khm.forums import graduation
    from khm.forums.services import may_manage
    from khm.forums.standing import on_list
    from khm.referrals.models import Referral
    from khm.registry.models import Household

    scored = []
    for sd in Area.objects.filter(level=AreaLevel.SUBDISTRICT, code__startswith=DISTRICT, active=True).order_by("code"):
        listed = on_list(Household.objects.filter(area_code__startswith=sd.code))
        n_listed = listed.count()
        if not n_listed:
            continue
        n_ver = Verification.objects.filter(area_code__startswith=sd.code).count()
        n_ref = Referral.objects.filter(area_code__startswith=sd.code).count()
        n_ass = AssessmentResult.objects.filter(area_code__startswith=sd.code, current=True).count()
        n_grad = len(graduation.candidates(listed))
        scored.append((sd, n_ver, n_ref, n_ass, n_grad))
    if not scored:
        raise LookupError("no households on the lists in Mueang Kalasin")
    rich = [s for s in scored if s[1] and s[2] and s[3]] or scored
    mine = [s for s in rich if may_manage(users["secretary"], s[0].code)]
    if mine:
        first, first_actor = max(mine, key=lambda s: (s[1], s[4], s[2]))[0], users["secretary"]
    else:
        first, first_actor = max(rich, key=lambda s: (s[1], s[4], s[2]))[0], users["district"]
    others = [s for s in scored if s[0].code != first.code]
    theirs = [s for s in others if may_manage(users["local"], s[0].code)]
    pool, actor = (theirs, users["local"]) if theirs else (others, users["district"])
    if not pool:
        return first, first_actor, None, None
    second = max(pool, key=lambda s: (s[4], s[1], s[2]))[0]
    return first, first_actor, second, actor


def _most_candidates(exclude: set[str]) -> Area | None:
    """The subdistrict of the district, not in ``exclude``, with most graduation candidates now."""
    from khm.areas.models import Area, AreaLevel
    from khm.forums import graduation
    from khm.forums.standing import on_list
    from khm.registry.models import Household

    best: tuple[int, Area] | None = None
    for sd in Area.objects.filter(level=AreaLevel.SUBDISTRICT, code__startswith=DISTRICT, active=True).order_by("code"):
        if sd.code in exclude:
            continue
        n = len(graduation.candidates(on_list(Household.objects.filter(area_code__startswith=sd.code))))
        if n and (best is None or n > best[0]):
            best = (n, sd)
    return best[1] if best else None


# --------------------------------------------------------------------------- forums


def _attendees(
    area: Area, people: People, lgs: Sequence[Organisation], agencies: Sequence[str], sick: str = ""
) -> list[dict[str, Any]]:
    """The attendance list of a subdistrict forum."""
    orgs = _orgs([*agencies, f"district-{DISTRICT}"])
    villages = _villages(area)
    chair_lg = lgs[0] if lgs else None
    rows: list[dict[str, Any]] = [
        {"name": people.chair, "position": _chief(chair_lg) if chair_lg else f"กำนันตำบล{area.name_th}",
         "organisation": chair_lg},
        {"name": people.kamnan, "position": f"กำนันตำบล{area.name_th}", "org_text": f"ตำบล{area.name_th}"},
    ]  # fmt: skip
    for name, v in zip(people.headmen, villages, strict=False):
        rows.append({"name": name, "position": f"ผู้ใหญ่บ้าน{v.name_th} หมู่ที่ {v.village_no or int(v.code[6:])}",
                     "org_text": f"ตำบล{area.name_th}"})  # fmt: skip
    rows.append(
        {"name": people.volunteer, "position": "อาสาสมัครสาธารณสุขประจำหมู่บ้าน (อสม.)",
         "org_text": f"โรงพยาบาลส่งเสริมสุขภาพตำบล{area.name_th}"}
    )  # fmt: skip
    rows.append(
        {"name": people.deputy, "position": "ปลัดอำเภอ ผู้แทนนายอำเภอเมืองกาฬสินธุ์",
         "organisation": orgs.get(f"district-{DISTRICT}")}
    )  # fmt: skip
    for lg, name in zip(lgs[1:2], ("นายเกียรติศักดิ์ วงค์ษา",), strict=False):
        rows.append({"name": name, "position": f"ปลัด{lg.name_th}", "organisation": lg})
    for code in agencies:
        if code not in orgs or code not in OFFICERS:
            continue
        name, position = OFFICERS[code]
        row: dict[str, Any] = {"name": name, "position": position, "organisation": orgs[code]}
        if code == sick:
            row.update(present=False, note="ลาป่วย")
        rows.append(row)
    rows.append(
        {"name": people.recorder[0], "position": f"{people.recorder[1]}{area.name_th} (เลขานุการเวที)",
         "org_text": CDD_DISTRICT}
    )  # fmt: skip
    return rows


def _create_forum(
    actor: User, area: Area, held_on: dt.date, people: People, lgs: Sequence[Organisation], rows: list[dict[str, Any]],
    opening: str,
) -> Forum:  # fmt: skip
    from khm.forums import services

    chair_position = _chief(lgs[0]) if lgs else f"กำนันตำบล{area.name_th}"
    place = f"ห้องประชุมสำนักงาน{lgs[0].name_th}" if lgs else f"ศาลาประชาคมตำบล{area.name_th}"
    forum = services.forum_create(
        actor=actor,
        data=services.ForumInput(
            area_code=area.code, round=ROUND, title=f"เวทีแก้จนระดับตำบล{area.name_th}", held_on=held_on, place=place,
            starts_at=dt.time(9, 30), ends_at=dt.time(12, 0), chair_name=people.chair, chair_position=chair_position,
            recorder_name=people.recorder[0], recorder_position=f"{people.recorder[1]}{area.name_th}", opening=opening,
        ),
        organisations=[r["organisation"] for r in rows if r.get("organisation") and r.get("present", True)],
    )  # fmt: skip
    services.attendees_set(actor=actor, forum=forum, rows=rows)
    return forum


def _items(forum: Forum, kind: str) -> list[AgendaItem]:
    return list(forum.items.filter(kind=kind, status="open").select_related("household__village").order_by("number"))


def _resolve(actor: User, item: AgendaItem, kind: str, text: str, on: dt.date, signatures: list[dict[str, str]],
             **more: Any) -> None:  # fmt: skip
    from khm.forums import services

    services.resolve(
        actor=actor, item=item,
        data=services.ResolutionInput(kind=kind, text=text, decided_on=on, signatures=signatures, **more),
    )  # fmt: skip


def _needs_of(item: AgendaItem) -> list[str]:
    return [n["need"] for n in (item.data or {}).get("needs", [])]


def _hold_first(
    actor: User, area: Area, held_on: dt.date, rng: random.Random, tally: Tally, labels: dict[str, str]
) -> Forum:
    """The first past forum: every kind of resolution, then closed."""
    from khm.forums import services
    from khm.forums.models import ItemKind

    lgs = _local_governments(area)
    agencies = ["agency-pso", "agency-ppho", "agency-pcdo", "agency-pao-agri", "agency-labour", "agency-nfe"]
    rows = _attendees(area, FIRST, lgs, agencies, sick=SICK)
    opening = (
        "ประธานแจ้งให้ที่ประชุมทราบว่า ศูนย์อำนวยการขับเคลื่อนการแก้ไขปัญหาความยากจนจังหวัดกาฬสินธุ์ (ศจพ.จ.) "
        f"กำหนดให้ทุกตำบลจัดเวทีแก้จนเพื่อพิจารณาบัญชีครัวเรือนยากจนรอบสำรวจ {ROUND} ก่อนปิดประกาศให้ชุมชนตรวจสอบ "
        "ผลการตรวจสอบครัวเรือนของเจ้าหน้าที่ท้องถิ่นและ อสม. ยังไม่ครบทุกครัวเรือน "
        "ครัวเรือนที่ยังไม่ได้ตรวจสอบขอให้ผู้ใหญ่บ้านยืนยันข้อมูลต่อที่ประชุม "
        "และขอให้หน่วยงานที่รับการส่งต่อรายงานความก้าวหน้าในการประชุมครั้งถัดไป"
    )
    forum = _create_forum(actor, area, held_on, FIRST, lgs, rows, opening)
    services.agenda_build(actor=actor, forum=forum)
    silk = services.agenda_add(
        actor=actor, forum=forum, title="การส่งเสริมอาชีพทอผ้าไหมแพรวาให้ครัวเรือนยากจนในตำบล",
        detail="กลุ่มทอผ้าไหมแพรวาในตำบลเสนอรับสมาชิกจากครัวเรือนยากจนเพิ่ม 10 ราย โดยสำนักงานพัฒนาชุมชนสนับสนุนวัสดุ",
    )  # fmt: skip
    sign = _signatures(FIRST, forum.chair_position)
    on = held_on
    done = _list_decisions(actor, forum, on, sign, tally, last=False)
    disputed = _items(forum, ItemKind.DISPUTED)
    if disputed:
        _resolve(actor, disputed[0], "carry_over",
                 "มอบผู้ใหญ่บ้านและ อสม. ตรวจสอบข้อเท็จจริงของครัวเรือนอีกครั้ง "
                 "แล้วนำเสนอที่ประชุมครั้งถัดไป", on, sign)  # fmt: skip
        done += 1
    vouched = {i.household_id for i in forum.items.filter(kind=ItemKind.GRADUATION)}
    unverified = [i for i in _items(forum, ItemKind.UNVERIFIED) if i.household_id not in vouched]
    for item in sorted(rng.sample(unverified, min(CONFIRM_UNVERIFIED, len(unverified))), key=lambda i: i.number):
        _resolve(actor, item, "confirm_poor",
                 "ผู้ใหญ่บ้านและ อสม. ยืนยันต่อที่ประชุมว่าครัวเรือนยังมีรายได้ไม่พอใช้จ่ายและบ้านทรุดโทรม "
                 "ที่ประชุมมีมติรับรองเป็นครัวเรือนยากจน", on, sign)  # fmt: skip
        done += 1

    done += _integrate(actor, forum, on, sign, labels)

    _resolve(actor, silk, "noted",
             "ที่ประชุมรับทราบ มอบสำนักงานพัฒนาชุมชนอำเภอประสานกลุ่มทอผ้าไหมแพรวา "
             "คัดเลือกสมาชิกจากครัวเรือนยากจนที่สนใจ และรายงานในการประชุมครั้งถัดไป", on, sign)  # fmt: skip
    done += 1
    carried = _close(actor, forum)
    tally.held.append((forum, done, carried))
    return forum


def _list_decisions(
    actor: User, forum: Forum, on: dt.date, sign: list[dict[str, str]], tally: Tally, *, last: bool
) -> int:
    """The list: confirm the verified households, decide the graduation candidates, take one
    disputed household off the list. A household the forum graduates or takes off is not
    decided on again: its other items are taken off the agenda."""
    from khm.forums.models import ItemKind

    done = 0
    for item in _items(forum, ItemKind.VERIFIED):
        _resolve(actor, item, "confirm_poor",
                 "ที่ประชุมพิจารณาผลการตรวจสอบของเจ้าหน้าที่ท้องถิ่นและ อสม. แล้ว มีมติรับรองว่าเป็นครัวเรือนยากจน "
                 "ให้คงอยู่ในบัญชีรายชื่อ และให้หน่วยงานช่วยเหลือตามความจำเป็นของแต่ละครัวเรือน", on, sign)  # fmt: skip
        done += 1
    done += _graduate(actor, forum, on, sign, tally, approve_max=APPROVE_MAX, need=MIN_GRADUATED, last=last)
    _tidy(actor, forum, "approve_graduation", "ครัวเรือนพ้นความยากจนตามมติวาระที่ {n} ไม่ต้องพิจารณาซ้ำ")
    candidates = {i.household_id for i in forum.items.filter(kind=ItemKind.GRADUATION)}
    disputed = [i for i in _items(forum, ItemKind.DISPUTED) if (i.data or {}).get("outcome")]
    off = min(
        disputed,
        key=lambda i: (i.household_id in candidates, (i.data or {}).get("outcome") != "not_poor", i.number),
        default=None,
    )
    if off is not None:
        text = NOT_POOR.get((off.data or {}).get("outcome", ""), NOT_POOR["not_poor"])
        _resolve(actor, off, "not_poor", text, on, sign)
        _tidy(actor, forum, "not_poor", "ครัวเรือนถูกนำออกจากบัญชีตามมติวาระที่ {n} ไม่ต้องพิจารณาซ้ำ")
        done += 1
    return done


def _tidy(actor: User, forum: Forum, kind: str, reason: str) -> None:
    """Take off the agenda the open items about households decided on by resolutions of
    ``kind`` (``reason`` names the item that decided, as ``{n}``)."""
    from khm.forums import services
    from khm.forums.models import AgendaItem

    decided = dict(
        AgendaItem.objects.filter(forum=forum, resolution__kind=kind, household__isnull=False).values_list(
            "household_id", "number"
        )
    )
    for item in forum.items.filter(status="open", household_id__in=list(decided)).order_by("number"):
        assert item.household_id is not None
        services.agenda_drop(actor=actor, item=item, reason=reason.format(n=decided[item.household_id]))


def _integrate(actor: User, forum: Forum, on: dt.date, sign: list[dict[str, str]], labels: dict[str, str]) -> int:
    """Needs no single agency meets: one escalated to the district, one integrated help plan,
    one referred to agencies."""
    from khm.forums.models import ItemKind

    items = _items(forum, ItemKind.INTEGRATE)
    if not items:
        return 0
    done = 0
    # Escalate the one whose needs no agency offers at all (beyond the subdistrict).
    no_agency = [i for i in items if any(n.get("why") == "no_agency" for n in (i.data or {}).get("needs", []))]
    up = no_agency[0] if no_agency else (items[-1] if len(items) >= 3 else None)
    if up is not None:
        needs = ", ".join(labels.get(n, n) for n in _needs_of(up))
        _resolve(actor, up, "escalate",
                 f"ความจำเป็นด้าน{needs} ไม่มีหน่วยงานในตำบลรับดำเนินการได้ "
                 "ที่ประชุมมีมติเสนอเวทีแก้จนระดับอำเภอพิจารณาประสานหน่วยงานที่เกี่ยวข้อง", on, sign)  # fmt: skip
        done += 1
    rest = [i for i in items if i is not up]
    rest.sort(key=lambda i: (-len(_needs_of(i)), i.number))
    if rest:
        done += _plan(actor, rest[0], on, sign)
    # Refer the first other need some agency can take.
    found = next(
        (
            (i, need, agencies)
            for i in rest[1:]
            if i.household is not None
            for need in _needs_of(i)
            if (agencies := _agencies_for(need, i.household.pk, related=True)[:2])
        ),
        None,
    )
    if found is not None:
        item, need, agencies = found
        if agencies:
            names = " และ ".join(a.name_th for a in agencies)
            _resolve(actor, item, "refer",
                     f"ที่ประชุมมีมติส่งต่อความจำเป็นด้าน{labels.get(need, need)}ให้{names} "
                     f"ดำเนินการ: {REFER_TASKS.get(need) or TASKS.get(need, DEFAULT_TASK)}", on, sign,
                     agencies=agencies, need=need)  # fmt: skip
            done += 1
    return done


def _plan(actor: User, item: AgendaItem, on: dt.date, sign: list[dict[str, str]]) -> int:
    """An integrated help plan: up to two agencies' tasks with due dates and one task for the
    community."""
    from khm.accounts.models import Organisation, OrganisationKind
    from khm.forums.services import TaskInput

    assert item.household is not None
    household = item.household
    v = household.village
    needs = _needs_of(item) or [""]
    # Who does what: an agency for each need (two at most), the local government where no
    # agency offers the need — then also an agency of a related need — or a second agency
    # for a single need.
    work: list[tuple[str, Agency | None, str]] = []  # need, agency, task
    used: set[int] = set()
    for need in needs[:2]:
        agency = next(iter(_agencies_for(need, household.pk, exclude=used)), None) if need else None
        if agency is not None:
            used.add(agency.pk)
        work.append((need, agency, TASKS.get(need, DEFAULT_TASK)))
    if len(work) == 1 and needs[0]:
        agency = next(iter(_agencies_for(needs[0], household.pk, exclude=used, related=work[0][1] is None)), None)
        if agency is not None:
            text = TASKS.get(needs[0], DEFAULT_TASK) if work[0][1] else REFER_TASKS.get(needs[0], DEFAULT_TASK)
            work.append((needs[0], agency, text))
    tasks: list[TaskInput] = []
    for k, (need, agency, text) in enumerate(work):
        due = on + dt.timedelta(days=30 if k == 0 else 60)
        if agency is None:
            lg = Organisation.objects.filter(kind=OrganisationKind.LOCAL_GOVERNMENT, jurisdiction__code=v.code).first()
            unit = "กองช่าง" if need in WORKS else "กองสวัสดิการสังคม"
            who = f"{lg.name_th} ({unit})" if lg else f"องค์กรปกครองส่วนท้องถิ่น ({unit})"
            tasks.append(TaskInput(task=text, due_on=due, responsible=who, need=need))
        else:
            tasks.append(TaskInput(task=text, due_on=due, agency=agency, need=need))
    tasks.append(
        TaskInput(
            task="จิตอาสาในหมู่บ้านช่วยแรงงาน และคณะกรรมการหมู่บ้านเยี่ยมติดตามครัวเรือนทุกเดือน",
            due_on=on + dt.timedelta(days=45),
            responsible=f"คณะกรรมการหมู่บ้าน{v.name_th} หมู่ที่ {v.village_no or int(v.code[6:])}",
        )
    )
    _resolve(actor, item, "help_plan",
             "ที่ประชุมมีมติให้จัดทำแผนช่วยเหลือแบบบูรณาการ โดยให้หน่วยงานและชุมชนดำเนินการตามภารกิจ "
             "และรายงานผลต่อเวทีในการประชุมครั้งถัดไป", on, sign, tasks=tasks)  # fmt: skip
    return 1


def _graduate(
    actor: User, forum: Forum, on: dt.date, sign: list[dict[str, str]], tally: Tally, *, approve_max: int, need: int,
    last: bool,
) -> int:  # fmt: skip
    """Approve the graduation candidates (at most ``approve_max``, enough for ``need`` in all
    when this is the ``last`` forum to graduate anyone), and defer one when three or more
    wait, or at the last forum when none was deferred yet."""
    from khm.forums.models import ItemKind

    items = _items(forum, ItemKind.GRADUATION)
    if not items:
        return 0
    defer = len(items) >= 3 or (last and not tally.deferred and len(items) >= 2)
    room = len(items) - (1 if defer else 0)
    n = min(approve_max, room)
    if last:
        n = min(room, max(n, need - tally.graduated))
    done = 0
    for item in items[:n]:
        _resolve(actor, item, "approve_graduation",
                 "ครัวเรือนพ้นเกณฑ์ความยากจนติดต่อกันสองรอบสำรวจ รายได้เฉลี่ยต่อคนต่อปีไม่ต่ำกว่าเกณฑ์ จปฐ. "
                 "ที่ประชุมมีมติอนุมัติให้ครัวเรือนพ้นความยากจน (นำออกจากบัญชี) "
                 f"และติดตามต่อไปอีก {_follow_months()} เดือน", on, sign)  # fmt: skip
        tally.graduated += 1
        done += 1
    if defer:
        _resolve(actor, items[n], "defer_graduation",
                 "ผู้ใหญ่บ้านแจ้งว่าหัวหน้าครัวเรือนเพิ่งป่วยเรื้อรังและรายได้ไม่แน่นอน "
                 "ที่ประชุมมีมติให้ชะลอการนำออกจากบัญชีไว้ก่อน และพิจารณาอีกครั้งหลังการสำรวจรอบถัดไป", on, sign)  # fmt: skip
        tally.deferred += 1
        done += 1
    return done


def _hold_other(actor: User, area: Area, held_on: dt.date, tally: Tally, people: People) -> Forum:
    """Another past forum: confirms, one taken off, graduations; closed."""
    from khm.forums import services

    lgs = _local_governments(area)
    rows = _attendees(area, people, lgs, ["agency-pso", "agency-ppho", "agency-pcdo", "agency-labour"])
    opening = (
        f"ประธานแจ้งให้ที่ประชุมทราบว่า {lgs[0].name_th if lgs else 'ตำบล'}ร่วมกับสำนักงานพัฒนาชุมชนอำเภอ"
        "จัดเวทีแก้จนเพื่อรับรองบัญชีครัวเรือนยากจน "
        f"รอบสำรวจ {ROUND} และพิจารณาครัวเรือนที่ผลการสำรวจสองรอบติดต่อกันพ้นเกณฑ์ความยากจน "
        f"เพื่อนำออกจากบัญชีและติดตามต่อไปอีก {_follow_months()} เดือน"
    )
    forum = _create_forum(actor, area, held_on, people, lgs, rows, opening)
    services.agenda_build(actor=actor, forum=forum)
    sign = _signatures(people, forum.chair_position)
    done = _list_decisions(actor, forum, held_on, sign, tally, last=True)
    carried = _close(actor, forum)
    tally.held.append((forum, done, carried))
    return forum


def _close(actor: User, forum: Forum) -> int:
    """Close the meeting (minutes final) a few days after it; date the referrals it made on
    the day of the meeting, as if they were sent then."""
    from django.utils import timezone

    from khm.forums import services
    from khm.forums.models import Forum, Resolution
    from khm.referrals.models import Referral, ReferralEvent

    carried = services.forum_close(actor=actor, forum=forum)
    closed = timezone.make_aware(dt.datetime.combine(forum.held_on + dt.timedelta(days=3), dt.time(16, 30)))
    Forum.objects.filter(pk=forum.pk).update(closed_at=min(closed, timezone.now()))
    sent = timezone.make_aware(dt.datetime.combine(forum.held_on, dt.time(14, 0)))
    today = timezone.localdate()
    plan_dates = dict(
        Resolution.objects.filter(item__forum=forum, tasks__referral__isnull=False).values_list(
            "tasks__referral__ref", "tasks__due_on"
        )
    )
    for r in Referral.objects.filter(source=f"forum:{forum.ref}"):
        due = plan_dates.get(r.ref) or (
            forum.held_on + (r.due_on - today) if r.due_on else forum.held_on + dt.timedelta(days=30)
        )
        for k, e in enumerate(r.events.order_by("at", "id")):
            ReferralEvent.objects.filter(pk=e.pk).update(at=sent + dt.timedelta(minutes=k))
        Referral.objects.filter(pk=r.pk).update(created_at=sent, sent_at=sent, due_on=due)
    return carried


def _coming(actor: User, area: Area, held_on: dt.date, past: Forum) -> Forum:
    from khm.core.dates import format_thai_date
    from khm.forums import services

    lgs = _local_governments(area)
    agencies = ["agency-pso", "agency-ppho", "agency-pcdo", "agency-pao-agri", "agency-labour", "agency-nfe",
                "agency-ksu"]  # fmt: skip
    rows = _attendees(area, FIRST, lgs, agencies)
    opening = (
        f"ประธานแจ้งผลการดำเนินงานตามมติเวทีครั้งที่ {past.number}/{past.year_be} "
        f"เมื่อวันที่ {format_thai_date(past.held_on)} และผลการปิดประกาศบัญชีรายชื่อครัวเรือนยากจนให้ชุมชนตรวจสอบ "
        "ซึ่งมีคำร้องจากประชาชนที่ต้องพิจารณาในการประชุมครั้งนี้ "
        "ขอให้หน่วยงานรายงานความก้าวหน้าตามแผนช่วยเหลือแบบบูรณาการ"
    )
    forum = _create_forum(actor, area, held_on, FIRST, lgs, rows, opening)
    services.agenda_build(actor=actor, forum=forum)
    services.agenda_add(
        actor=actor, forum=forum, title="ติดตามความก้าวหน้าแผนช่วยเหลือแบบบูรณาการตามมติเวทีครั้งที่แล้ว",
        detail=f"มติเวที {past.ref}: หน่วยงานและคณะกรรมการหมู่บ้านรายงานผลการดำเนินงานตามแผน",
    )  # fmt: skip
    return forum


def _district(actor: User, held_on: dt.date, below: Sequence[tuple[People, Area]]) -> Forum:
    from khm.areas.models import Area
    from khm.forums import services

    area = Area.objects.get(code=DISTRICT)
    agencies = ["agency-pso", "agency-ppho", "agency-pcdo", "agency-pao-agri", "agency-labour", "agency-nfe",
                "agency-baac", "agency-codi", "agency-ksu"]  # fmt: skip
    orgs = _orgs([*agencies, f"district-{DISTRICT}", "province-46", "lg-office_of_province"])
    office = orgs.get(f"district-{DISTRICT}")
    chair = ("นายวิเชียร สุวรรณศรี", f"นายอำเภอ{area.name_th}")
    recorder = ("นางอรุณี แก้วกาหลง", f"พัฒนาการอำเภอ{area.name_th}")
    rows: list[dict[str, Any]] = [
        {"name": chair[0], "position": chair[1], "organisation": office},
        {"name": "นายธนากร ภูผาใจ", "position": "ปลัดอำเภอ หัวหน้าฝ่ายบริหารงานปกครอง", "organisation": office},
        {"name": "นายชัยวัฒน์ ศรีจันทร์", "position": f"สาธารณสุขอำเภอ{area.name_th}", "org_text": f"สำนักงานสาธารณสุขอำเภอ{area.name_th}"},
        {"name": "นายพิชิต มูลสาร", "position": "ผู้อำนวยการกองแผนและงบประมาณ (ผู้แทนนายก อบจ.)",
         "organisation": orgs.get("lg-office_of_province")},
        {"name": "นางสาวศิริพร ใจกล้า", "position": "เจ้าหน้าที่ ศจพ.จ. กาฬสินธุ์", "organisation": orgs.get("province-46")},
    ]  # fmt: skip
    for people, sd in below:  # the chairs of the subdistrict forums
        lg = next(iter(_local_governments(sd)), None)
        rows.append({"name": people.chair, "position": f"{_chief(lg) if lg else 'ผู้แทนตำบล' + sd.name_th} (ผู้แทนเวทีระดับตำบล)",
                     "organisation": lg})  # fmt: skip
    for code in agencies:
        if code in orgs and code in OFFICERS:
            rows.append({"name": OFFICERS[code][0], "position": OFFICERS[code][1], "organisation": orgs[code]})
    rows.append({"name": recorder[0], "position": f"{recorder[1]} (เลขานุการเวที)", "org_text": CDD_DISTRICT})
    forum = services.forum_create(
        actor=actor,
        data=services.ForumInput(
            area_code=DISTRICT, round=ROUND, title=f"เวทีแก้จนระดับอำเภอ{area.name_th}", held_on=held_on,
            place=f"ห้องประชุมที่ว่าการอำเภอ{area.name_th}", starts_at=dt.time(13, 30), ends_at=dt.time(16, 30),
            chair_name=chair[0], chair_position=chair[1], recorder_name=recorder[0], recorder_position=recorder[1],
            opening=(
                "นายอำเภอแจ้งให้ที่ประชุมทราบว่า เวทีแก้จนระดับตำบลได้เสนอเรื่องที่เกินอำนาจของตำบลให้อำเภอพิจารณา "
                "และมีการส่งต่อความช่วยเหลือที่เกินกำหนดเวลาของหลายหน่วยงาน "
                "ขอให้หน่วยงานชี้แจงสาเหตุและกำหนดแนวทางเร่งรัดร่วมกัน"
            ),
        ),
        organisations=[r["organisation"] for r in rows if r.get("organisation")],
    )  # fmt: skip
    services.attendees_set(actor=actor, forum=forum, rows=rows)
    services.agenda_build(actor=actor, forum=forum)
    return forum


# --------------------------------------------------------------------------- validation


def _validation(actor: User, area: Area, today: dt.date) -> tuple[list[Posting], int]:
    """Two postings in villages of ``area`` that ``actor`` may post, with three appeals."""
    from django.utils import timezone

    from khm.accounts.scoping import can
    from khm.forums import validation
    from khm.forums.models import Appeal, AppealCategory
    from khm.forums.standing import head_of, on_list
    from khm.registry.models import Household

    villages = [v for v in _villages(area) if can(actor, "posting.manage", v.code)]
    ranked = sorted(villages, key=lambda v: (-on_list(Household.objects.filter(area_code=v.code)).count(), v.code))
    ranked = [v for v in ranked if on_list(Household.objects.filter(area_code=v.code)).exists()]
    if not ranked:
        return [], 0
    postings: list[Posting] = []
    appeals = 0

    def lodged(appeal: Appeal, on: dt.date, hour: int) -> None:
        moment = timezone.make_aware(dt.datetime.combine(on, dt.time(hour, 15)))
        Appeal.objects.filter(pk=appeal.pk).update(lodged_at=min(moment, timezone.now()))

    # Posted about 20 days ago for 15 days: closed; one appeal lodged on the web meanwhile.
    closed_village = ranked[0]
    opened = today - dt.timedelta(days=20)
    p = validation.posting_create(actor=actor, village_code=closed_village.code, round=ROUND, opens_on=opened, days=15,
                                  appeal_days=APPEAL_DAYS)  # fmt: skip
    postings.append(p)
    if p.entries.exists():
        on = opened + dt.timedelta(days=4)
        a = validation.appeal_lodge(
            posting=p, area_code=p.area_code, category=AppealCategory.WRONG_DATA, entry_number=1,
            description="บ้านเลขที่ในประกาศไม่ตรงกับป้ายบ้านเลขที่ที่เทศบาลออกให้ใหม่ ขอให้แก้ไขให้ถูกต้อง",
            name="นางสมหมาย ศรีลาวงศ์", contact="บ้านหนองไผ่ หมู่ 2 (ติดต่อผ่านผู้ใหญ่บ้าน)", via="web", today=on,
        )  # fmt: skip
        lodged(a, on, 19)
        appeals += 1

    # Open now: one appeal on the web, one on paper at the municipality's office.
    open_village = ranked[1] if len(ranked) > 1 else None
    if open_village is None:
        return postings, appeals
    opened = today - dt.timedelta(days=5)
    p = validation.posting_create(actor=actor, village_code=open_village.code, round=ROUND, opens_on=opened, days=15,
                                  appeal_days=APPEAL_DAYS)  # fmt: skip
    postings.append(p)
    if p.entries.exists():
        on = today - dt.timedelta(days=2)
        a = validation.appeal_lodge(
            posting=p, area_code=p.area_code, category=AppealCategory.WRONGLY_INCLUDED,
            entry_number=p.entries.count(),
            description="ครัวเรือนนี้เพิ่งซื้อรถกระบะใหม่ และบุตรรับราชการส่งเงินให้ทุกเดือน ไม่น่าจะเป็นครัวเรือนยากจน",
            name="", contact="", via="web", today=on,
        )  # fmt: skip
        lodged(a, on, 20)
        appeals += 1
    listed = set(on_list(Household.objects.filter(area_code=open_village.code)).values_list("pk", flat=True))
    missing = Household.objects.filter(area_code=open_village.code).exclude(pk__in=listed).order_by("code").first()
    head = head_of(missing) if missing is not None else None
    about = (
        f"{head.title}{head.first_name} {head.last_name} บ้านเลขที่ {missing.house_no}"
        if head is not None and missing is not None
        else f"นางบุญเรือง (ไม่ทราบนามสกุล) บ้านเลขที่ 45 {open_village.name_th}"
    )
    validation.appeal_lodge(
        posting=p, area_code=p.area_code, category=AppealCategory.WRONGLY_EXCLUDED, about=about,
        description="ผู้สูงอายุอยู่ลำพัง มีรายได้จากเบี้ยยังชีพผู้สูงอายุเท่านั้น บ้านหลังคารั่ว "
                    "แต่ไม่มีชื่อในบัญชีที่ปิดประกาศ ขอให้เวทีพิจารณาเพิ่มเข้าบัญชี",
        name="นายสมชาย ดวงมาลา (เพื่อนบ้าน)", contact="ยื่นคำร้องด้วยตนเองที่สำนักงานเทศบาล", via="paper", actor=actor,
        today=today,
    )  # fmt: skip
    appeals += 1
    return postings, appeals


# --------------------------------------------------------------------------- agreements


def _university() -> Organisation:
    """Kalasin University (มหาวิทยาลัยกาฬสินธุ์), which took over Kalasin Rajabhat University
    in 2015: the organisation the referrals demo made, or a new one."""
    from khm.accounts.models import Organisation, OrganisationKind
    from khm.areas.models import Area

    found = (
        Organisation.objects.filter(code="agency-ksu").first()
        or Organisation.objects.filter(name_th__contains="มหาวิทยาลัย", area__code="46").order_by("code").first()
    )
    if found is not None:
        return found
    org, _ = Organisation.objects.update_or_create(
        code="agency-ksu",
        defaults={"kind": OrganisationKind.AGENCY, "name_th": "มหาวิทยาลัยกาฬสินธุ์", "name_en": "Kalasin University",
                  "area": Area.objects.get(code="46")},
    )  # fmt: skip
    return org


def _period(today: dt.date, *, ago: int, years: int) -> tuple[dt.date, dt.date, dt.date]:
    """Signed ``ago`` days before today, in force from two weeks later for ``years`` years."""
    signed = today - dt.timedelta(days=ago)
    starts = _weekday(signed + dt.timedelta(days=14))
    try:
        until = starts.replace(year=starts.year + years)
    except ValueError:  # 29 February
        until = starts.replace(year=starts.year + years, day=28)
    return _weekday(signed, back=True), starts, until - dt.timedelta(days=1)


def _agreements(actor: User, today: dt.date, first: Area, second: Area | None) -> list[str]:
    from khm.forums.agreements import agreement_create

    orgs = _orgs(["province-46", f"district-{DISTRICT}", "lg-office_of_province", "agency-pso", "agency-ppho",
                  "agency-pcdo", "agency-pao-agri", "agency-labour", "agency-baac", "agency-codi"])  # fmt: skip
    uni = _university()
    lgs = [*_local_governments(first)[:2], *(_local_governments(second)[:1] if second else [])]
    local_areas = [first.code, *([second.code] if second else [])]

    def parties(*codes: str, extra: Sequence[Organisation] = ()) -> list[Organisation]:
        out = [orgs[c] for c in codes if c in orgs] + list(extra)
        return list({o.pk: o for o in out}.values())

    specs: list[tuple[str, list[Organisation], str, list[str], dt.date, dt.date, dt.date | None]] = [
        (
            "บันทึกข้อตกลงความร่วมมือการแลกเปลี่ยนและใช้ประโยชน์ข้อมูลครัวเรือนยากจนจังหวัดกาฬสินธุ์",
            parties("province-46", "agency-pso", "agency-ppho", "agency-pcdo", "lg-office_of_province"),
            "แลกเปลี่ยนข้อมูลครัวเรือนยากจนและผลการช่วยเหลือระหว่างหน่วยงาน เฉพาะเท่าที่จำเป็นต่อการช่วยเหลือ "
            "ตามพระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562 (PDPA) กำหนดผู้ควบคุมและผู้ประมวลผลข้อมูล "
            "มาตรการรักษาความมั่นคงปลอดภัย การบันทึกการเข้าถึง และการแจ้งเหตุละเมิดข้อมูลภายใน 72 ชั่วโมง",
            ["46"],
            *_period(today, ago=400, years=3),
        ),
        (
            "บันทึกข้อตกลงความร่วมมือการช่วยเหลือครัวเรือนยากจนแบบบูรณาการ อำเภอเมืองกาฬสินธุ์",
            parties(
                "province-46",
                f"district-{DISTRICT}",
                "agency-pso",
                "agency-ppho",
                "agency-labour",
                "agency-codi",
                extra=lgs,
            ),
            "หน่วยงานภาคีรับการส่งต่อจากเวทีแก้จนและดำเนินการตามแผนช่วยเหลือแบบบูรณาการรายครัวเรือน "
            "ด้านที่อยู่อาศัย สุขภาพ สวัสดิการ และอาชีพ รายงานผลผ่านระบบ KHM ภายในกำหนดเวลาของแต่ละบริการ "
            "และร่วมติดตามครัวเรือนที่พ้นความยากจนตามระยะเวลาที่เกณฑ์การนำออกกำหนด",
            [DISTRICT],
            *_period(today, ago=300, years=2),
        ),
        (
            "บันทึกข้อตกลงความร่วมมือส่งเสริมวิสาหกิจชุมชนและอาชีพของครัวเรือนยากจน",
            parties("province-46", "agency-pcdo", "agency-pao-agri", "agency-baac", extra=[uni]),
            "มหาวิทยาลัยถ่ายทอดเทคโนโลยีการแปรรูปและออกแบบผลิตภัณฑ์ผ้าไหมแพรวาและข้าว "
            "สำนักงานพัฒนาชุมชนและสำนักงานเกษตรจังหวัดจัดตั้งและพัฒนากลุ่มวิสาหกิจชุมชน "
            "ธ.ก.ส. สนับสนุนสินเชื่อดอกเบี้ยต่ำและการออม ให้ครัวเรือนยากจนเป็นสมาชิกกลุ่มอย่างน้อยร้อยละ 30",
            local_areas,
            *_period(today, ago=170, years=1),
        ),
        (
            "บันทึกข้อตกลงความร่วมมือโครงการวิจัยพื้นที่ต้นแบบการแก้ไขปัญหาความยากจนแบบเบ็ดเสร็จและแม่นยำ",
            parties("province-46", "lg-office_of_province", extra=[uni]),
            "มหาวิทยาลัยร่วมกับจังหวัดและองค์การบริหารส่วนจังหวัดวิจัยและพัฒนาพื้นที่ต้นแบบ "
            "สอบทานข้อมูลครัวเรือนยากจนจากหลายแหล่ง และถอดบทเรียนการช่วยเหลือเพื่อขยายผลทั้งจังหวัด",
            ["46"],
            *_period(today, ago=3 * 365, years=1),  # expired two years ago
        ),
    ]
    lines = []
    for title, members, scope, areas, signed, starts, ends in specs:
        if len(members) < 2:
            continue
        a = agreement_create(actor=actor, title=title, parties=members, scope=scope, areas=areas, signed_on=signed,
                             starts_on=starts, ends_on=ends)  # fmt: skip
        state = "in force" if starts <= today and (ends is None or today <= ends) else "expired"
        lines.append(f"{a.ref} ({len(members)} parties, {'/'.join(areas)}, {state})")
    return lines


# --------------------------------------------------------------------------- seed


def _seed(seed: int) -> list[str]:
    from django.utils import timezone

    from khm.accounts.models import User
    from khm.forums.models import Appeal, Forum, HouseholdStanding, Resolution, Standing
    from khm.referrals.models import Agency

    if Forum.objects.exists():
        return ["forums already exist: left as they are"]
    users = {u.username: u for u in User.objects.filter(username__in=["admin", "district", "local", "secretary"])}
    if len(users) < 4:
        return ["demo users missing: no forums"]
    if not Agency.objects.filter(active=True).exists():
        return ["no agencies (the referrals demo makes them): no forums"]
    rng = random.Random(seed)
    today = timezone.localdate()
    labels = _need_labels()
    tally = Tally()
    try:
        first, first_actor, second, second_actor = _pick_areas(users)
    except LookupError as e:
        return [f"{e}: no forums"]

    past = _hold_first(first_actor, first, _weekday(today - dt.timedelta(days=42), back=True), rng, tally, labels)
    held_on = past.held_on
    chairs = [(FIRST, first)]
    if second is not None and second_actor is not None:
        held_on = _weekday(held_on + dt.timedelta(days=7))
        _hold_other(second_actor, second, held_on, tally, SECOND)
        chairs.append((SECOND, second))
    # Too few graduated households still: the district officer runs one more subdistrict forum.
    third = _most_candidates({f.area_code for f, _n, _c in tally.held}) if tally.graduated < MIN_GRADUATED else None
    if third is not None:
        _hold_other(users["district"], third, _weekday(held_on + dt.timedelta(days=3)), tally, THIRD)
        chairs.append((THIRD, third))
    postings, n_appeals = _validation(users["local"], first, today)
    coming = _coming(first_actor, first, _weekday(today + dt.timedelta(days=14)), past)
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    district_on = _weekday(max(next_month + dt.timedelta(days=10), coming.held_on + dt.timedelta(days=7)))
    district = _district(users["district"], district_on, chairs)
    agreements = _agreements(users["admin"], today, first, second)

    n_res = sum(n for _f, n, _c in tally.held)
    graduated = HouseholdStanding.objects.filter(status=Standing.GRADUATED).count()
    district_items = list(district.items.values_list("kind", flat=True))
    lines = [
        f"forums: {len(tally.held)} held ({n_res} resolutions), 1 coming ({coming.items.count()} items), "
        f"1 district ({len(district_items)} items); {graduated} graduated; "
        f"{len(postings)} postings, {n_appeals} appeals; {len(agreements)} agreements",
    ]
    for f, n, carried in tally.held:
        kinds = ", ".join(sorted(Resolution.objects.filter(item__forum=f).values_list("kind", flat=True).distinct()))
        lines.append(
            f"held {f.ref} {f.title} ({f.area_code}) on {f.held_on}: {f.items.count()} items, {n} resolutions "
            f"({kinds}), {carried} carried over"
        )
    lines.append(
        f"coming {coming.ref} ({coming.area_code}) on {coming.held_on}: {coming.items.count()} items "
        f"({coming.items.filter(carried_from__isnull=False).count()} carried over, "
        f"{coming.items.filter(kind='appeal').count()} appeals)"
    )
    lines.append(
        f"district {district.ref} ({DISTRICT}) on {district.held_on}: "
        f"{district_items.count('overdue')} agencies with overdue referrals, "
        f"{district.items.filter(escalated_from__isnull=False).count()} escalated from below"
    )
    if tally.graduated < MIN_GRADUATED:
        lines.append(
            f"only {tally.graduated} graduation approved (fewer than {MIN_GRADUATED}): "
            "too few households meet the graduation criteria"
        )
    lines.append(
        "postings: "
        + ", ".join(f"{p.ref} ({p.area_code}, {p.opens_on}–{p.closes_on})" for p in postings)
        + f"; appeals: {', '.join(Appeal.objects.order_by('ref').values_list('ref', flat=True))}"
    )
    lines.append("agreements: " + "; ".join(agreements))
    return lines
