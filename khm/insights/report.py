"""The policy report (เอกสารสรุปเชิงนโยบาย): a Thai government-style brief for one area and one
survey round, as data (:func:`build_report`) and as a PDF (:func:`report_pdf`).

The caller has resolved the actor's view of the area (``selectors.view_for``: 404 outside the
scope). The report is an official Thai document: written in Thai in every interface language,
numbers in Thai digits, dates in the Buddhist Era. It holds aggregates only — never a household
code, a name or a national ID.

Where the figures come from
    Sections ๑–๓, the totals of section ๔ and the areas of section ๕ read the pre-aggregated
    ``Fact`` rows (``selectors.figures`` / ``children`` / ``derive``; see the definitions in
    ``facts.py``), so they are the dashboard's numbers as of the last refresh ("ข้อมูล ณ วันที่").
    Three splits are not in the facts and are read from the referral tables on demand, which is
    acceptable for a document generated once on request (a few grouped queries over the view's
    villages, never per household): help by kind and by agency, and open / overdue referrals by
    agency (``khm.referrals.tracking.load_frames`` + ``compute``, the tracking page's
    definitions, counted on the day of the report); and graduations after help (graduated
    households with an assistance record given on or before the day they graduated).
    ``agencies`` restricts those splits the way the tracking page does for agency workers.

Sections
    ๑ สถานการณ์: households and people, on the lists, verified, assessed by level (with the
    change from ``previous_round``), target poor.
    ๒ ความยากจนหลายมิติ: H, A, M0 (Alkire–Foster); the ``DRIVERS`` BMN indicators with the most
    deprived households (dims ``dep:<code>``, metric ``assessed``; labels from the BMN
    instrument); the child areas by M0 (or, without MPI scores, by the share at levels 1–2).
    ๓ ความก้าวหน้าเทียบเป้าหมาย: target poor referred and helped against ``TARGET_SHARE``;
    graduated and still followed.
    ๔ ความช่วยเหลือที่ได้ผล: value of help, by kind and by agency; enterprise links (linked,
    share with more than 20 % income gain, mean change); graduations after help.
    ๕ ช่องว่าง: overdue referrals by agency; child areas with the lowest share helped; child
    areas with target poor and no help at all.
    ๖ ข้อเสนอแนะ: the rules below, in this order; each sentence cites the figure that fired it.

Recommendation rules (code — fires when — says)
    ``help_below_target`` — target poor > 0 and share helped < ``TARGET_SHARE``: speed up referral
    and help (naming the child areas with the lowest share), citing the share against 10 %.
    ``no_help_areas`` — a child area has target poor and none helped: send agencies there first,
    citing the households waiting.
    ``overdue`` — open referrals past their due date: chase the agency with the most, citing
    the counts.
    ``top_driver`` — the indicator with the most deprived households: coordinate with the
    first agency type of the needs-instrument rule that addresses it (lowest priority number,
    then file order), citing the count and share; without such a rule, ask the forum to name
    a responsible agency.
    ``forum_priority`` — two or more child areas with an M0: put the one with the highest M0
    first on the next forum's agenda, citing its M0 against the area's.
    ``verify`` — households on the lists and fewer than all verified: finish verification,
    citing the share.
    ``mpi_worse`` — M0 higher than in ``previous_round``: analyse why, citing both values.
    ``expand_enterprise`` — at least ``ENTERPRISE_SHARE`` of linked households with a baseline
    gained more than 20 %: expand enterprise links, citing the share; ``review_enterprise`` —
    below it: review the value chains, citing the share.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from khm.areas.models import Area
from khm.core.pdf import render_pdf, thai_date_full, thai_digits, thai_time
from khm.insights import selectors
from khm.insights.models import Fact
from khm.insights.selectors import View

TARGET_SHARE = selectors.TARGET_SHARE
DRIVERS = 5  # indicators shown as the drivers of poverty
AREAS_LISTED = 5  # child areas named in a list (worst M0, lowest share helped, …)
ENTERPRISE_SHARE = 0.5  # share of linked households with > 20 % gain that calls for expansion
GAIN_PCT = 20  # the livelihood programme's headline: income up by more than 20 %
MIN_CELL = 5  # as khm.insights.maps.MIN_CELL: fewer households are not shown to who may not see them

TITLE = "เอกสารสรุปเชิงนโยบาย"
SUBTITLE = "สถานการณ์ความยากจนและผลการแก้ไขปัญหาความยากจนแบบพุ่งเป้า"
NONE = "- ไม่มี -"
NO_DATA = "ยังไม่มีข้อมูล"
LEVEL_NAMES = {1: "อยู่ลำบาก", 2: "อยู่ยาก", 3: "อยู่พอได้", 4: "อยู่ดี"}
LEVEL_COLORS = {1: "#b2182b", 2: "#f4a582", 3: "#92c5de", 4: "#2166ac"}
KIND_TH = {
    "cash": "เงินสงเคราะห์", "in_kind": "สิ่งของ", "training": "ฝึกอบรมอาชีพ", "job_placement": "จัดหางาน",
    "housing_repair": "ซ่อมแซมที่อยู่อาศัย", "health_service": "บริการสุขภาพ",
    "welfare_registration": "ขึ้นทะเบียนสวัสดิการ", "loan": "สินเชื่อ", "enterprise_support": "ส่งเสริมวิสาหกิจชุมชน",
    "other": "อื่น ๆ",
}  # fmt: skip
SECTION_TITLES = {
    "situation": "สถานการณ์ความยากจน",
    "mpi": "ความยากจนหลายมิติและปัจจัยสำคัญ",
    "progress": "ความก้าวหน้าเทียบกับเป้าหมาย",
    "help": "ความช่วยเหลือที่ได้ผล",
    "gaps": "ช่องว่างรายหน่วยงานและรายพื้นที่",
    "recommendations": "ข้อเสนอแนะเชิงนโยบาย",
}


# --------------------------------------------------------------------------- formatting


def num(value: float | None) -> str:
    """``1234`` → ``๑,๒๓๔`` (whole numbers)."""
    return thai_digits(f"{round(value or 0):,}")


def pct(share: float | None) -> str:
    """``0.0625`` → ``๖.๓`` (a share as a percentage with one decimal)."""
    return "-" if share is None else thai_digits(f"{share * 100:.1f}")


def ratio(value: float | None) -> str:
    """``0.1125`` → ``๐.๑๑๓``."""
    return "-" if value is None else thai_digits(f"{value:.3f}")


def baht(value: float | None) -> str:
    return f"{num(value)} บาท"


def thai_list(items: Iterable[str]) -> str:
    """``ก ข และค``: a list as Thai writes it."""
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return " ".join(items[:-1]) + " และ" + items[-1]


def change(now: float, before: float, unit: str = "ครัวเรือน") -> str:
    diff = round(now) - round(before)
    if diff == 0:
        return "เท่าเดิม"
    return f"{'เพิ่มขึ้น' if diff > 0 else 'ลดลง'} {num(abs(diff))} {unit}".rstrip()


_TEXT_NODE = re.compile(r">([^<]+)<")
_DIGIT_OR_ENTITY = re.compile(r"&#?\w+;|\d")
_SVG_FONT = '<svg font-family=\'"Sarabun Thai", "Sarabun"\' '


def thai_svg(markup: str) -> str:
    """Chart markup for the document: Arabic digits in its text as Thai ones (attributes and
    character references untouched), and Sarabun named on every ``<svg>`` — WeasyPrint draws SVG
    text with the SVG's own font, not the page's."""

    def digits(m: re.Match[str]) -> str:
        token = m.group(0)
        return token if len(token) > 1 else thai_digits(token)

    out = _TEXT_NODE.sub(lambda m: ">" + _DIGIT_OR_ENTITY.sub(digits, m.group(1)) + "<", markup)
    return out.replace("<svg ", _SVG_FONT)


# --------------------------------------------------------------------------- the report's shape


@dataclass(frozen=True)
class Line:
    """One figure: what it is and its value, formatted."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    text_cols: tuple[int, ...] = (0,)  # the columns of words (the others are numbers, set right)

    def cells(self) -> list[list[tuple[str, bool]]]:
        """Each row as (text, is a number) pairs, for the templates."""
        return [[(cell, i not in self.text_cols) for i, cell in enumerate(row)] for row in self.rows]


@dataclass(frozen=True)
class Chart:
    kind: str  # "bar" | "stack" | "map"
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    value_format: str = "{:,.0f}"
    max_value: float | None = None
    markup: str = ""  # "map": the SVG, already drawn
    note: str = ""

    def svg(self) -> SafeString:
        from khm.core.templatetags.khm_charts import bar_chart, stacked_bar

        if self.kind == "map":
            drawn = self.markup
        elif self.kind == "stack":
            drawn = stacked_bar(self.rows, title=self.title, width=440)
        else:
            drawn = bar_chart(
                self.rows, value_format=self.value_format, max_value=self.max_value, title=self.title, width=440
            )
        # The markup is the chart helpers' own (escaped) output; only digits and a font change.
        return mark_safe(thai_svg(str(drawn)))  # noqa: S308


@dataclass(frozen=True)
class Recommendation:
    rule: str
    text: str


@dataclass(frozen=True)
class Part:
    """A numbered sub-part of a section (๒.๑ …): a heading, sentences, figures, a table, charts."""

    number: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    number: str  # ๑
    key: str
    title: str
    parts: list[Part]
    recommendations: list[Recommendation] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    area_code: str
    area_name: str  # อำเภอเมืองกาฬสินธุ์ จังหวัดกาฬสินธุ์
    partial: str  # "" or a note that only the actor's villages are counted
    round: str
    previous_round: str | None
    title: str
    subtitle: str
    round_line: str  # รอบการสำรวจ พ.ศ. ๒๕๖๙
    issued: str  # ๕ ธันวาคม ๒๕๖๙
    data_as_of: str  # ข้อมูล ณ วันที่ …
    sections: list[Section]
    figures: dict[str, Any]  # the derived figures of the area (raw numbers)

    @property
    def recommendations(self) -> list[Recommendation]:
        return [r for s in self.sections for r in s.recommendations]


# --------------------------------------------------------------------------- reading


def area_title(code: str) -> str:
    """``อำเภอเมืองกาฬสินธุ์ จังหวัดกาฬสินธุ์``: the area with the areas above it, as on a letter."""
    area = Area.objects.select_related("parent__parent__parent").filter(code=code).first()
    if area is None:
        return thai_digits(code)
    parts: list[str] = []
    node: Area | None = area
    while node is not None:
        parts.append(_level_name(node))
        node = node.parent
    return " ".join(parts)


def _level_name(area: Area) -> str:
    n = len(area.code)
    bangkok = area.code.startswith("10")
    if n == 8:
        return f"หมู่ที่ {thai_digits(area.village_no)} {area.name_th}" if area.village_no else area.name_th
    prefix = {6: "แขวง" if bangkok else "ตำบล", 4: "เขต" if bangkok else "อำเภอ", 2: "" if bangkok else "จังหวัด"}[n]
    return f"{prefix}{area.name_th}"


def _short_name(area: Area | None, code: str) -> str:
    return _level_name(area) if area is not None else thai_digits(code)


def _instrument(kind: str) -> dict[str, Any]:
    """The current instrument of a kind, or the one shipped with KHM."""
    from khm.assessment import instruments

    found = instruments.definition(instruments.current_of_kind(kind))
    if found:
        return found
    for d in instruments.default_definitions():
        if d.get("kind") == kind:
            return d
    return {}


def indicator_labels() -> dict[str, tuple[int | None, str]]:
    """BMN indicator code → (number, Thai label)."""
    out = {}
    for ind in _instrument("bmn").get("indicators", []):
        label = ind.get("label")
        out[ind["code"]] = (ind.get("number"), str(label.get("th", "")) if isinstance(label, dict) else str(label))
    return out


def _mentions(when: Any, code: str) -> bool:
    if isinstance(when, dict):
        return when.get("bmn") == code or any(_mentions(v, code) for v in when.values())
    if isinstance(when, list):
        return any(_mentions(v, code) for v in when)
    return False


def help_for(code: str) -> tuple[str, list[str]] | None:
    """The needs-instrument rule that addresses BMN indicator ``code``: (the help, its agency types
    as Thai labels, first = lead), the rule with the lowest priority number first."""
    needs = _instrument("needs")
    types = {
        t["code"]: str(t["label"].get("th", t["code"])) if isinstance(t.get("label"), dict) else t["code"]
        for t in needs.get("agency_types", [])
    }
    rules = [r for r in needs.get("rules", []) if _mentions(r.get("when"), code)]
    if not rules:
        return None
    rule = min(rules, key=lambda r: int(r.get("priority") or 9))
    label = rule.get("label")
    what = str(label.get("th", rule["code"])) if isinstance(label, dict) else str(rule["code"])
    return what, [types.get(t, t) for t in rule.get("agency_types", [])]


def deprivations(view: View, round: str) -> dict[str, float]:
    """Indicator code → assessed households deprived in it (dims ``dep:<code>``), one query."""
    rows = Fact.objects.filter(view.q(), round=round, dim__startswith="dep:", metric="assessed").values_list(
        "dim", "value"
    )
    out: dict[str, float] = {}
    for dim, value in rows:
        code = dim.removeprefix("dep:")
        out[code] = out.get(code, 0.0) + float(value)
    return out


def _scope(view: View) -> Any:
    from khm.accounts.scoping import Scope

    if view.whole:
        return Scope(prefixes=frozenset({view.area_code}))
    return Scope(prefixes=frozenset(view.parts), villages=frozenset(view.villages))


def referral_splits(view: View, round: str, today: dt.date, agencies: Iterable[int] | None) -> Any:
    """Help by kind and agency, open/overdue referrals by agency (tracking's definitions)."""
    from khm.referrals import tracking

    frames = tracking.load_frames(_scope(view), round, agencies)
    return tracking.compute(frames, today=today)


def graduated_after_help(view: View) -> int:
    """Graduated households in the view that had help recorded on or before they graduated."""
    from khm.forums.models import HouseholdStanding, Standing

    return (
        HouseholdStanding.objects.filter(_scope(view).q("area_code"), status=Standing.GRADUATED)
        .filter(household__assistance__given_on__lte=F("since"))
        .values("household_id")
        .distinct()
        .count()
    )


def agency_names(ids: Iterable[int]) -> dict[int, str]:
    from khm.referrals.models import Agency

    return dict(Agency.objects.filter(pk__in=list(ids)).values_list("pk", "name_th"))


def _map(view: View, values: Mapping[str, float | None], title: str, indicator: str) -> Chart | None:
    """A choropleth of the child areas (``khm.insights.maps.choropleth_svg``), or None when the
    helper is absent or no child area has a boundary: the caller then draws a bar chart."""
    try:
        from khm.insights.maps import choropleth_svg
    except ImportError:
        return None
    markup = choropleth_svg(view.area_code, dict(values), title=title, indicator=indicator)
    return Chart("map", title, markup=_no_halo(markup)) if markup else None


_HALO = re.compile(r'(<text\b[^>]*?)\s+stroke="[^"]*"\s+stroke-width="[^"]*"\s+paint-order="stroke"')


def _no_halo(markup: str) -> str:
    """Labels without their white halo: WeasyPrint ignores ``paint-order``, so the halo's stroke
    was drawn over the letters and hid them."""
    return _HALO.sub(r"\1", markup)


# --------------------------------------------------------------------------- building


def _small_cell(fig: Mapping[str, Any], view: View, code: str, households: Any) -> bool:
    """A child area counted on fewer than ``MIN_CELL`` households that the actor may not see
    household by household (the rule of the maps: khm.insights.maps)."""
    small = any(0 < float(fig.get(m) or 0) < MIN_CELL for m in ("assessed", "target_poor"))
    if not small or households.covers_area(code):
        return False
    mine = [v for v in view.codes if v.startswith(code)]
    return not (mine and all(households.contains(v) or households.covers_area(v) for v in mine))


def _withheld_note(c: _Ctx) -> str:
    return (
        f"ไม่แสดงตัวเลขของ {num(c.withheld)} พื้นที่ที่มีครัวเรือนน้อยกว่า {num(MIN_CELL)} ครัวเรือน เพื่อคุ้มครองข้อมูลส่วนบุคคล"
        if c.withheld
        else ""
    )


def _data_as_of() -> str:
    last = selectors.freshness()["last"]
    if last is None:
        return "ข้อมูล ณ วันที่ - (ยังไม่ได้ประมวลผลข้อมูล)"
    return f"ข้อมูล ณ วันที่ {thai_date_full(last.started_at)} เวลา {thai_time(last.started_at)}"


def build_report(
    view: View,
    round: str,
    previous_round: str | None = None,
    today: dt.date | None = None,
    *,
    agencies: Iterable[int] | None = None,
    household_scope: Any = None,
) -> Report:
    """Everything the brief says, formatted, from the figures the view may see.

    ``household_scope`` (the actor's ``household.view`` scope): when given, child areas with
    fewer than ``MIN_CELL`` assessed or target-poor households whose households the actor may
    not see are left out of the area lists and charts (small cells), and the report says how
    many were."""
    today = today or timezone.localdate()
    f = selectors.derive(selectors.figures(view, round))
    prev = selectors.derive(selectors.figures(view, previous_round)) if previous_round else None
    kids = {c: selectors.derive(v) for c, v in selectors.children(view, round).items()}
    withheld = [c for c in kids if household_scope is not None and _small_cell(kids[c], view, c, household_scope)]
    for c in withheld:
        del kids[c]
    names = selectors.area_names(list(kids))
    child_name = {c: _short_name(names.get(c), c) for c in kids}
    splits = referral_splits(view, round, today, agencies)
    agencies_named = agency_names([r["agency_id"] for r in splits.by_agency + splits.open_by_agency])
    ctx = _Ctx(view, round, previous_round, f, prev, kids, child_name, splits, agencies_named, len(withheld))
    sections = [
        _situation(ctx),
        _mpi(ctx),
        _progress(ctx),
        _help(ctx),
        _gaps(ctx),
    ]
    sections.append(Section("๖", "recommendations", SECTION_TITLES["recommendations"], [], recommend(ctx)))
    partial = ""
    if not view.whole:
        unit = (
            f"{num(len(view.villages))} หมู่บ้าน" if view.villages else " ".join(area_title(p) for p in sorted(view.parts))
        )
        partial = f"เฉพาะพื้นที่ในความรับผิดชอบของผู้จัดทำ {unit}"
    return Report(
        area_code=view.area_code,
        area_name=area_title(view.area_code),
        partial=partial,
        round=round,
        previous_round=previous_round,
        title=TITLE,
        subtitle=SUBTITLE,
        round_line=f"รอบการสำรวจ พ.ศ. {thai_digits(round)}" if round else "รอบการสำรวจ -",
        issued=thai_date_full(today),
        data_as_of=_data_as_of(),
        sections=sections,
        figures=f,
    )


@dataclass
class _Ctx:
    view: View
    round: str
    previous_round: str | None
    f: dict[str, Any]
    prev: dict[str, Any] | None
    kids: dict[str, dict[str, Any]]
    child_name: dict[str, str]
    splits: Any  # khm.referrals.tracking.Figures
    agency_names: dict[int, str]
    withheld: int = 0  # child areas left out as small cells
    drivers: list[tuple[str, float]] = field(default_factory=list)
    labels: dict[str, tuple[int | None, str]] = field(default_factory=dict)

    def g(self, key: str) -> float:
        return float(self.f.get(key) or 0)

    def by_m0(self) -> list[str]:
        """Child areas, worst first: by M0, or by the share at levels 1–2 without MPI scores."""
        scored = [c for c in self.kids if self.kids[c]["mpi_M0"] is not None]
        if scored:
            return sorted(scored, key=lambda c: (-self.kids[c]["mpi_M0"], c))
        ranked = [c for c in self.kids if self.kids[c]["share_poor_levels"] is not None]
        return sorted(ranked, key=lambda c: (-self.kids[c]["share_poor_levels"], c))

    def lowest_helped(self) -> list[str]:
        with_target = [c for c in self.kids if self.kids[c].get("target_poor")]
        return sorted(with_target, key=lambda c: (self.kids[c]["share_helped"] or 0, -self.kids[c]["target_poor"], c))

    def unhelped(self) -> list[str]:
        codes = [c for c in self.kids if self.kids[c].get("target_poor") and not self.kids[c].get("target_helped")]
        return sorted(codes, key=lambda c: (-self.kids[c]["target_poor"], c))

    def indicator(self, code: str) -> str:
        number, label = self.labels.get(code, (None, code))
        head = f"จปฐ. ข้อ {thai_digits(number)} " if number else ""
        return f"{head}{thai_digits(label)}"


def _situation(c: _Ctx) -> Section:
    f, prev = c.f, c.prev
    p1 = (
        f"พื้นที่มีครัวเรือนในทะเบียน {num(c.g('households'))} ครัวเรือน ประชากร {num(c.g('people'))} คน "
        f"อยู่ในบัญชีรายชื่อคนยากจนจากแหล่งข้อมูลต่าง ๆ (TPMAP, ข้อมูลจังหวัด, การสำรวจ) {num(c.g('listed_households'))} "
        f"ครัวเรือน {num(c.g('listed_people'))} คน สอบทานแล้ว {num(c.g('verified'))} ครัวเรือน"
    )
    if f["verified_share"] is not None:
        p1 += f" คิดเป็นร้อยละ {pct(f['verified_share'])} ของครัวเรือนในบัญชี"
    assessed = c.g("assessed")
    p2 = f"ได้รับการประเมินทุน ๕ ด้านและตัวชี้วัด จปฐ. {num(assessed)} ครัวเรือน เป็นครัวเรือนยากจนเป้าหมาย {num(c.g('target_poor'))} ครัวเรือน"
    if prev is not None:
        p2 += (
            f" ({change(c.g('target_poor'), prev.get('target_poor') or 0)}จากรอบ พ.ศ. {thai_digits(c.previous_round)})"
        )
    rows = []
    for n in (1, 2, 3, 4):
        value = c.g(f"level{n}")
        row = [LEVEL_NAMES[n], num(value), pct(value / assessed) if assessed else "-"]
        if prev is not None:
            row.append(change(value, prev.get(f"level{n}") or 0, ""))
        rows.append(tuple(row))
    header: tuple[str, ...] = ("ระดับความเป็นอยู่", "ครัวเรือน", "ร้อยละ")
    if prev is not None:
        header += (f"เทียบกับรอบ {thai_digits(c.previous_round)}",)
    lines = [
        Line("ครัวเรือนในทะเบียน", f"{num(c.g('households'))} ครัวเรือน"),
        Line("ประชากร", f"{num(c.g('people'))} คน"),
        Line("ครัวเรือนในบัญชีรายชื่อ", f"{num(c.g('listed_households'))} ครัวเรือน"),
        Line("สอบทานแล้ว", f"{num(c.g('verified'))} ครัวเรือน", f"ร้อยละ {pct(f['verified_share'])}"),
        Line("ได้รับการประเมิน", f"{num(assessed)} ครัวเรือน"),
        Line("ครัวเรือนยากจนเป้าหมาย", f"{num(c.g('target_poor'))} ครัวเรือน"),
    ]
    levels = Chart(
        "stack",
        "ครัวเรือนตามระดับความเป็นอยู่",
        [{"label": LEVEL_NAMES[n], "value": c.g(f"level{n}"), "color": LEVEL_COLORS[n]} for n in (1, 2, 3, 4)],
    )
    parts = [
        Part("๑.๑", "ครัวเรือนและการสอบทาน", [p1], lines),
        Part("๑.๒", "ระดับความเป็นอยู่ของครัวเรือนที่ได้รับการประเมิน", [p2], [], [Table(header, rows)], [levels]),
    ]
    return Section("๑", "situation", SECTION_TITLES["situation"], parts)


def _mpi(c: _Ctx) -> Section:
    f = c.f
    if f["mpi_H"] is None:
        p1 = f"{NO_DATA}ดัชนีความยากจนหลายมิติในรอบนี้"
        lines: list[Line] = []
    else:
        p1 = (
            "ดัชนีความยากจนหลายมิติตามวิธีของ Alkire–Foster พบว่าสัดส่วนครัวเรือนยากจนหลายมิติ (H) "
            f"เท่ากับ {ratio(f['mpi_H'])} (ร้อยละ {pct(f['mpi_H'])}) ความรุนแรงเฉลี่ยของความยากจน (A) "
            f"เท่ากับ {ratio(f['mpi_A'])} (ร้อยละ {pct(f['mpi_A'])}) และดัชนีความยากจนหลายมิติ (M0 = H × A) "
            f"เท่ากับ {ratio(f['mpi_M0'])}"
        )
        if c.prev is not None and c.prev["mpi_M0"] is not None:
            p1 += f" (รอบ พ.ศ. {thai_digits(c.previous_round)} เท่ากับ {ratio(c.prev['mpi_M0'])})"
        lines = [
            Line("H สัดส่วนครัวเรือนยากจนหลายมิติ", ratio(f["mpi_H"]), f"ร้อยละ {pct(f['mpi_H'])}"),
            Line("A ความรุนแรงเฉลี่ย", ratio(f["mpi_A"]), f"ร้อยละ {pct(f['mpi_A'])}"),
            Line("M0 ดัชนีความยากจนหลายมิติ", ratio(f["mpi_M0"])),
        ]
    c.labels = indicator_labels()
    deps = deprivations(c.view, c.round)
    c.drivers = sorted(((k, v) for k, v in deps.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))[:DRIVERS]
    assessed = c.g("assessed")
    rows = [
        (thai_digits(i), c.indicator(code), num(n), pct(n / assessed) if assessed else "-")
        for i, (code, n) in enumerate(c.drivers, start=1)
    ]
    if c.drivers:
        top, n = c.drivers[0]
        p2 = (
            f"ตัวชี้วัดที่มีครัวเรือนไม่ผ่านเกณฑ์มากที่สุด ได้แก่ {c.indicator(top)} จำนวน {num(n)} ครัวเรือน "
            f"(ร้อยละ {pct(n / assessed) if assessed else '-'} ของครัวเรือนที่ได้รับการประเมิน)"
        )
    else:
        p2 = f"{NO_DATA}ตัวชี้วัดที่ครัวเรือนไม่ผ่านเกณฑ์"
    drivers_chart = Chart(
        "bar",
        "ครัวเรือนที่ไม่ผ่านเกณฑ์ตัวชี้วัด จปฐ. (ครัวเรือน)",
        [{"label": c.indicator(code), "value": n} for code, n in c.drivers],
    )
    parts = [
        Part("๒.๑", "ดัชนีความยากจนหลายมิติ (MPI)", [p1], lines),
        Part(
            "๒.๒",
            f"ปัจจัยสำคัญของความยากจน: ตัวชี้วัด {thai_digits(DRIVERS)} อันดับแรกที่ครัวเรือนไม่ผ่านเกณฑ์",
            [p2],
            [],
            [Table(("อันดับ", "ตัวชี้วัด", "ครัวเรือน", "ร้อยละ"), rows, text_cols=(1,))] if rows else [],
            [drivers_chart] if rows else [],
        ),
    ]
    if c.kids or c.withheld:
        parts.append(_worst_areas(c))
    return Section("๒", "mpi", SECTION_TITLES["mpi"], parts)


def _worst_areas(c: _Ctx) -> Part:
    order = c.by_m0()
    k = c.kids
    by_m0 = any(k[a]["mpi_M0"] is not None for a in order)
    rows = [
        (
            c.child_name[a],
            num(k[a].get("assessed")),
            pct(k[a]["share_poor_levels"]),
            ratio(k[a]["mpi_M0"]),
            num(k[a].get("target_poor")),
        )
        for a in order
    ]
    if order:
        worst = order[:3]
        measure = (
            (lambda a: f"M0 {ratio(k[a]['mpi_M0'])}")
            if by_m0
            else (lambda a: f"ร้อยละ {pct(k[a]['share_poor_levels'])}")
        )
        what = "ดัชนีความยากจนหลายมิติ (M0) สูงสุด" if by_m0 else "สัดส่วนครัวเรือนระดับอยู่ลำบากและอยู่ยากสูงสุด"
        p = f"พื้นที่ที่มี{what} ได้แก่ " + thai_list(f"{c.child_name[a]} ({measure(a)})" for a in worst)
    else:
        p = f"{NO_DATA}รายพื้นที่"
    values = {a: k[a]["mpi_M0"] if by_m0 else k[a]["share_poor_levels"] for a in k}
    title = "ดัชนีความยากจนหลายมิติ (M0) รายพื้นที่" if by_m0 else "ร้อยละครัวเรือนระดับอยู่ลำบากและอยู่ยาก รายพื้นที่"
    chart = _map(c.view, values, title, "mpi_m0" if by_m0 else "poor_levels")
    if chart is None:
        chart = Chart(
            "bar",
            title,
            [{"label": c.child_name[a], "value": values[a] if by_m0 else (values[a] or 0) * 100} for a in order[:12]],
            value_format="{:.3f}" if by_m0 else "{:.1f}",
        )
    header = ("พื้นที่", "ครัวเรือนที่ประเมิน", "ร้อยละอยู่ลำบาก/อยู่ยาก", "M0", "ครัวเรือนเป้าหมาย")
    paragraphs = [p, _withheld_note(c)] if c.withheld else [p]
    return Part(
        "๒.๓", "พื้นที่ที่มีความยากจนรุนแรง", paragraphs, [], [Table(header, rows)] if rows else [], [chart] if rows else []
    )


def _progress(c: _Ctx) -> Section:
    f = c.f
    target = c.g("target_poor")
    goal = pct(TARGET_SHARE).removesuffix(".๐")
    if target:
        share = f["share_helped"]
        verdict = (
            f"ต่ำกว่าเป้าหมายร้อยละ {goal}"
            if share < TARGET_SHARE
            else f"{'สูงกว่า' if share > TARGET_SHARE else 'เป็นไปตาม'}เป้าหมายร้อยละ {goal}"
        )
        p1 = (
            f"ครัวเรือนยากจนเป้าหมาย {num(target)} ครัวเรือน ได้รับการส่งต่อความช่วยเหลือแล้ว "
            f"{num(c.g('target_referred'))} ครัวเรือน (ร้อยละ {pct(f['share_referred'])}) และได้รับความช่วยเหลือแล้ว "
            f"{num(c.g('target_helped'))} ครัวเรือน คิดเป็นร้อยละ {pct(share)} {verdict}"
        )
        if c.prev is not None and c.prev["share_helped"] is not None:
            p1 += f" (รอบ พ.ศ. {thai_digits(c.previous_round)} ร้อยละ {pct(c.prev['share_helped'])})"
    else:
        p1 = f"{NO_DATA}ครัวเรือนยากจนเป้าหมายในรอบนี้"
    p2 = (
        f"เวทีแก้จนมีมติให้ครัวเรือนพ้นความยากจนแล้ว {num(c.g('graduated'))} ครัวเรือน "
        f"อยู่ระหว่างการติดตามต่อเนื่อง {num(c.g('followed'))} ครัวเรือน"
    )
    lines = [
        Line("ครัวเรือนยากจนเป้าหมาย", f"{num(target)} ครัวเรือน"),
        Line("ได้รับการส่งต่อ", f"{num(c.g('target_referred'))} ครัวเรือน", f"ร้อยละ {pct(f['share_referred'])}"),
        Line(
            "ได้รับความช่วยเหลือ",
            f"{num(c.g('target_helped'))} ครัวเรือน",
            f"ร้อยละ {pct(f['share_helped'])} (เป้าหมายร้อยละ {goal})",
        ),
        Line("พ้นความยากจน", f"{num(c.g('graduated'))} ครัวเรือน"),
        Line("อยู่ระหว่างติดตาม", f"{num(c.g('followed'))} ครัวเรือน"),
    ]
    chart = Chart(
        "bar",
        "ร้อยละของครัวเรือนยากจนเป้าหมาย",
        [
            {"label": "ได้รับการส่งต่อ", "value": (f["share_referred"] or 0) * 100},
            {"label": "ได้รับความช่วยเหลือ", "value": (f["share_helped"] or 0) * 100,
             "color": "#0b5d3b" if f["target_met"] else "#b2182b"},
            {"label": "เป้าหมายการช่วยเหลือ", "value": TARGET_SHARE * 100, "color": "#5a5a5a"},
        ],
        value_format="{:.1f}",
        max_value=100,
    )  # fmt: skip
    parts = [
        Part("๓.๑", "การส่งต่อและการช่วยเหลือครัวเรือนเป้าหมาย", [p1], lines, [], [chart] if target else []),
        Part("๓.๒", "การพ้นความยากจน", [p2]),
    ]
    return Section("๓", "progress", SECTION_TITLES["progress"], parts)


def _help(c: _Ctx) -> Section:
    f, s = c.f, c.splits
    p1 = (
        f"มีการบันทึกความช่วยเหลือ {num(c.g('help_records'))} ครั้ง มูลค่ารวม {baht(c.g('help_value'))} "
        f"เป็นความช่วยเหลือแก่ครัวเรือนยากจนเป้าหมาย {baht(c.g('help_value_target'))}"
    )
    kind_rows = [(KIND_TH.get(r["kind"], r["kind"]), num(r["records"]), num(float(r["value"]))) for r in s.by_kind]
    names = c.agency_names
    agency_rows = [
        (names.get(r["agency_id"], "-"), num(r["households"]), num(r["records"]), num(float(r["value"])))
        for r in s.by_agency
    ]
    by_agency = Chart(
        "bar",
        "มูลค่าความช่วยเหลือรายหน่วยงาน (บาท)",
        [{"label": names.get(r["agency_id"], "-"), "value": float(r["value"])} for r in s.by_agency[:10]],
    )
    by_kind = Chart(
        "bar",
        "มูลค่าความช่วยเหลือตามประเภท (บาท)",
        [{"label": KIND_TH.get(r["kind"], r["kind"]), "value": float(r["value"])} for r in s.by_kind],
    )
    if f["income_share_gain20"] is not None:
        p2 = (
            f"ครัวเรือนที่เชื่อมโยงกับวิสาหกิจชุมชน (โมเดล ๓ ใน ๑) {num(c.g('linked'))} ครัวเรือน มีข้อมูลรายได้ก่อนและหลัง "
            f"{num(c.g('income_pct_n'))} ครัวเรือน ในจำนวนนี้มีรายได้เพิ่มขึ้นมากกว่าร้อยละ {thai_digits(GAIN_PCT)} "
            f"{num(c.g('income_gain20'))} ครัวเรือน คิดเป็นร้อยละ {pct(f['income_share_gain20'])}"
        )
    else:
        p2 = f"ครัวเรือนที่เชื่อมโยงกับวิสาหกิจชุมชน (โมเดล ๓ ใน ๑) {num(c.g('linked'))} ครัวเรือน ยังไม่มีข้อมูลรายได้ก่อนและหลังเพียงพอ"
    if f["income_mean_change"] is not None:
        mean = f"{f['income_mean_change']:+,.0f}"
        p2 += f" รายได้เปลี่ยนแปลงเฉลี่ย {thai_digits(mean)} บาทต่อเดือน"
    after = graduated_after_help(c.view)
    p3 = (
        f"ครัวเรือนที่พ้นความยากจนหลังได้รับความช่วยเหลือ {num(after)} ครัวเรือน "
        f"จากครัวเรือนที่พ้นความยากจนทั้งหมด {num(c.g('graduated'))} ครัวเรือน"
    )
    lines = [
        Line("มูลค่าความช่วยเหลือรวม", baht(c.g("help_value")), f"{num(c.g('help_records'))} ครั้ง"),
        Line("แก่ครัวเรือนยากจนเป้าหมาย", baht(c.g("help_value_target"))),
    ]
    enterprise_lines = [
        Line("ครัวเรือนที่เชื่อมโยงกับวิสาหกิจชุมชน", f"{num(c.g('linked'))} ครัวเรือน"),
        Line(
            f"รายได้เพิ่มขึ้นมากกว่าร้อยละ {thai_digits(GAIN_PCT)}",
            f"{num(c.g('income_gain20'))} ครัวเรือน",
            f"ร้อยละ {pct(f['income_share_gain20'])}",
        ),
        Line("พ้นความยากจนหลังได้รับความช่วยเหลือ", f"{num(after)} ครัวเรือน"),
    ]
    parts = [
        Part(
            "๔.๑",
            "มูลค่าความช่วยเหลือตามประเภทและหน่วยงาน",
            [p1],
            lines,
            [t for t in (
                Table(("ประเภทความช่วยเหลือ", "ครั้ง", "มูลค่า (บาท)"), kind_rows) if kind_rows else None,
                Table(("หน่วยงาน", "ครัวเรือน", "ครั้ง", "มูลค่า (บาท)"), agency_rows) if agency_rows else None,
            ) if t is not None],
            [ch for ch in (by_kind, by_agency) if ch.rows],
        ),
        Part("๔.๒", "การเชื่อมโยงกับวิสาหกิจชุมชนและการพ้นความยากจน", [p2, p3], enterprise_lines),
    ]  # fmt: skip
    return Section("๔", "help", SECTION_TITLES["help"], parts)


def _gaps(c: _Ctx) -> Section:
    s = c.splits
    names = c.agency_names
    open_rows = [(names.get(r["agency_id"], "-"), num(r["open"]), num(r["overdue"])) for r in s.open_by_agency]
    if s.open:
        p1 = f"ณ วันที่จัดทำเอกสาร มีการส่งต่อที่ยังไม่แล้วเสร็จ {num(s.open)} เรื่อง เกินกำหนด {num(s.overdue)} เรื่อง"
        late = [r for r in s.open_by_agency if r["overdue"]]
        if late:
            p1 += f" หน่วยงานที่มีเรื่องเกินกำหนดมากที่สุด ได้แก่ {names.get(late[0]['agency_id'], '-')} ({num(late[0]['overdue'])} เรื่อง)"
    else:
        p1 = "ณ วันที่จัดทำเอกสาร ไม่มีการส่งต่อที่ค้างดำเนินการ"
    parts = [
        Part(
            "๕.๑",
            "การส่งต่อที่ค้างและเกินกำหนด รายหน่วยงาน",
            [p1],
            [],
            [Table(("หน่วยงาน", "ยังไม่แล้วเสร็จ", "เกินกำหนด"), open_rows)] if open_rows else [],
        )
    ]
    if c.kids or c.withheld:
        k = c.kids
        lowest = c.lowest_helped()
        rows = [
            (c.child_name[a], num(k[a]["target_poor"]), num(k[a].get("target_helped")), pct(k[a]["share_helped"]))
            for a in lowest[:AREAS_LISTED]
        ]
        unhelped = c.unhelped()
        paragraphs = []
        if lowest:
            paragraphs.append(
                "พื้นที่ที่ครัวเรือนเป้าหมายได้รับความช่วยเหลือในสัดส่วนต่ำที่สุด ได้แก่ "
                + thai_list(f"{c.child_name[a]} (ร้อยละ {pct(k[a]['share_helped'])})" for a in lowest[:3])
            )
        if unhelped:
            paragraphs.append(
                "พื้นที่ที่มีครัวเรือนเป้าหมายแต่ยังไม่มีครัวเรือนใดได้รับความช่วยเหลือ ได้แก่ "
                + thai_list(f"{c.child_name[a]} ({num(k[a]['target_poor'])} ครัวเรือน)" for a in unhelped[:AREAS_LISTED])
            )
        if not paragraphs:
            paragraphs.append(f"{NO_DATA}ครัวเรือนเป้าหมายรายพื้นที่")
        if c.withheld:
            paragraphs.append(_withheld_note(c))
        chart = Chart(
            "bar",
            "ร้อยละครัวเรือนเป้าหมายที่ได้รับความช่วยเหลือ รายพื้นที่",
            [{"label": c.child_name[a], "value": (k[a]["share_helped"] or 0) * 100,
              "color": "#0b5d3b" if k[a]["target_met"] else "#b2182b"} for a in lowest[:12]],
            value_format="{:.1f}",
            max_value=100,
        )  # fmt: skip
        parts.append(
            Part(
                "๕.๒",
                "พื้นที่ที่การช่วยเหลือยังไม่ทั่วถึง",
                paragraphs,
                [],
                [Table(("พื้นที่", "ครัวเรือนเป้าหมาย", "ได้รับความช่วยเหลือ", "ร้อยละ"), rows)] if rows else [],
                [chart] if lowest else [],
            )
        )
    return Section("๕", "gaps", SECTION_TITLES["gaps"], parts)


# --------------------------------------------------------------------------- recommendations


def recommend(c: _Ctx) -> list[Recommendation]:
    """The rules of the module docstring, in order; each sentence cites its figure."""
    f, k = c.f, c.kids
    out: list[Recommendation] = []
    goal = pct(TARGET_SHARE).removesuffix(".๐")
    target = c.g("target_poor")
    if target and f["share_helped"] is not None and f["share_helped"] < TARGET_SHARE:
        where = ""
        lowest = c.lowest_helped()[:3]
        if lowest:
            where = " โดยเฉพาะใน" + thai_list(c.child_name[a] for a in lowest)
        out.append(
            Recommendation(
                "help_below_target",
                f"ควรเร่งส่งต่อและให้ความช่วยเหลือครัวเรือนยากจนเป้าหมาย{where} เนื่องจากครัวเรือนเป้าหมาย"
                f"ได้รับความช่วยเหลือเพียงร้อยละ {pct(f['share_helped'])} ({num(c.g('target_helped'))} จาก "
                f"{num(target)} ครัวเรือน) ต่ำกว่าเป้าหมายร้อยละ {goal}",
            )
        )
    unhelped = c.unhelped()
    if unhelped:
        waiting = sum(k[a]["target_poor"] for a in unhelped)
        out.append(
            Recommendation(
                "no_help_areas",
                "ควรจัดให้หน่วยงานที่เกี่ยวข้องลงพื้นที่ "
                + thai_list(c.child_name[a] for a in unhelped[:AREAS_LISTED])
                + f" เป็นลำดับแรก เนื่องจากมีครัวเรือนยากจนเป้าหมายรวม {num(waiting)} ครัวเรือนที่ยังไม่ได้รับความช่วยเหลือเลย",
            )
        )
    s = c.splits
    if s.overdue:
        names = c.agency_names
        late = next(r for r in s.open_by_agency if r["overdue"])
        out.append(
            Recommendation(
                "overdue",
                f"ควรติดตามเร่งรัดการส่งต่อที่เกินกำหนด {num(s.overdue)} เรื่อง โดยเฉพาะของ"
                f"{names.get(late['agency_id'], 'หน่วยงาน')} ({num(late['overdue'])} เรื่อง) "
                "และรายงานความคืบหน้าต่อเวทีแก้จนครั้งต่อไป",
            )
        )
    if c.drivers:
        code, n = c.drivers[0]
        assessed = c.g("assessed")
        cited = f"{num(n)} ครัวเรือน" + (f" (ร้อยละ {pct(n / assessed)} ของครัวเรือนที่ได้รับการประเมิน)" if assessed else "")
        addressed = help_for(code)
        if addressed is not None and addressed[1]:
            what, types = addressed
            partners = f" ร่วมกับหน่วยงานด้าน{' และ'.join(types[1:])}" if len(types) > 1 else ""
            text = (
                f"ควรประสานหน่วยงานด้าน{types[0]}{partners} ดำเนินการ{what}เป็นลำดับแรก เนื่องจากตัวชี้วัด "
                f"{c.indicator(code)} มีครัวเรือนไม่ผ่านเกณฑ์มากที่สุด {cited}"
            )
        else:
            text = f"ควรให้เวทีแก้จนกำหนดหน่วยงานรับผิดชอบตัวชี้วัด {c.indicator(code)} ซึ่งมีครัวเรือนไม่ผ่านเกณฑ์มากที่สุด {cited}"
        out.append(Recommendation("top_driver", text))
    scored = [a for a in c.by_m0() if k[a]["mpi_M0"] is not None]
    if len(scored) >= 2:
        worst = scored[0]
        out.append(
            Recommendation(
                "forum_priority",
                f"ควรนำ{c.child_name[worst]}เข้าพิจารณาเป็นลำดับแรกในเวทีแก้จนครั้งต่อไป เนื่องจากมีดัชนีความยากจนหลายมิติ "
                f"(M0) สูงที่สุด เท่ากับ {ratio(k[worst]['mpi_M0'])} (ทั้งพื้นที่ {ratio(f['mpi_M0'])})",
            )
        )
    if c.g("listed_households") and f["verified_share"] is not None and f["verified_share"] < 1:
        out.append(
            Recommendation(
                "verify",
                f"ควรเร่งสอบทานครัวเรือนในบัญชีรายชื่อให้ครบร้อยละ ๑๐๐ เนื่องจากสอบทานแล้วร้อยละ {pct(f['verified_share'])} "
                f"({num(c.g('verified'))} จาก {num(c.g('listed_households'))} ครัวเรือน)",
            )
        )
    before = c.prev["mpi_M0"] if c.prev is not None else None
    if before is not None and f["mpi_M0"] is not None and f["mpi_M0"] > before:
        out.append(
            Recommendation(
                "mpi_worse",
                "ควรวิเคราะห์สาเหตุที่ความยากจนหลายมิติเพิ่มขึ้นและทบทวนแผนการช่วยเหลือ เนื่องจาก M0 เพิ่มขึ้นจาก "
                f"{ratio(before)} ในรอบ พ.ศ. {thai_digits(c.previous_round)} เป็น {ratio(f['mpi_M0'])}",
            )
        )
    gain = f["income_share_gain20"]
    if gain is not None:
        cited = f"ร้อยละ {pct(gain)} ({num(c.g('income_gain20'))} จาก {num(c.g('income_pct_n'))} ครัวเรือน)"
        if gain >= ENTERPRISE_SHARE:
            out.append(
                Recommendation(
                    "expand_enterprise",
                    "ควรขยายการเชื่อมโยงครัวเรือนยากจนกับวิสาหกิจชุมชน (โมเดล ๓ ใน ๑) ไปยังครัวเรือนเป้าหมายอื่น "
                    f"เนื่องจากครัวเรือนที่เชื่อมโยงแล้วมีรายได้เพิ่มขึ้นมากกว่าร้อยละ {thai_digits(GAIN_PCT)} ถึง{cited}",
                )
            )
        else:
            out.append(
                Recommendation(
                    "review_enterprise",
                    "ควรทบทวนห่วงโซ่คุณค่าและรูปแบบการเชื่อมโยงกับวิสาหกิจชุมชน เนื่องจากครัวเรือนที่เชื่อมโยงแล้ว"
                    f"มีรายได้เพิ่มขึ้นมากกว่าร้อยละ {thai_digits(GAIN_PCT)} เพียง{cited}",
                )
            )
    return out


# --------------------------------------------------------------------------- PDF


def report_pdf(report: Report) -> bytes:
    return render_pdf("insights/pdf/report.html", {"r": report})
