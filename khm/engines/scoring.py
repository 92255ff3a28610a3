"""Household assessment scoring: five capitals, poverty level, BMN deprivations, TPMAP
target-poor flag, household MPI score and suggested needs.

No Django here (import-linter contract). Instruments are plain data (dicts read from JSON,
versioned by the assessment app); an assessment is plain data too. :func:`score` is a pure
function of ``(instruments, assessment)``: the same inputs give the same output, byte for
byte, on any machine — that is what makes a scoring run reproducible. docs/assessment.md
explains every rule; the short version:

* **Capitals.** Each item has options with points (or a special rule: ``any_full``,
  ``start_minus``, ``bands``). A capital's points ÷ the maximum points of its answered items
  → percent → the 1–4 scale: ``X = min + percent/100 × (max − min)``. A capital with fewer
  than ``min_answered_share`` of its items answered has no score.
* **Level.** The four levels (อยู่ลำบาก / อยู่ยาก / อยู่พอได้ / อยู่ดี) are cut points on the
  1–4 scale applied to a *basis* score (the mean of the five capitals, or one capital), then
  optional *caps* (the default: physical capital below 1.75 → at most level 2, below 2.5 →
  at most level 3, i.e. one step above the physical-capital level). Both are data.
* **BMN deprivations.** Every indicator answer is ``pass`` / ``fail`` / ``na``; person-level
  indicators count only for members they apply to (age range, disability); the income
  indicator is computed from income sources ÷ members against the threshold of the survey
  period that holds the assessment's round (``data["round"]``, a Buddhist-Era year).
  A household is deprived in a person-level indicator when any member it applies to fails.
* **TPMAP target poor.** A person fails at least one of the TPMAP indicators (household-level
  failures count for every member) *and* holds the state welfare card.
* **MPI score.** The household's weighted deprivation score with the instrument's weights and
  cut-off k (Alkire–Foster identification; the aggregation is :mod:`khm.engines.mpi`).
* **Needs.** A rule table maps deprivations, low capitals and answers to needs and the
  agency types that usually help; each need carries the reasons that triggered it.

Problems in an instrument or an assessment are returned as :class:`Problem` with the path
of the field and a message in Thai and English; nothing is guessed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ENGINE_VERSION = "khm-scoring/1"
FORMAT = "khm-instrument/1"
KINDS = ("capitals", "bmn", "needs")
ANSWER_VALUES = ("pass", "fail", "na")
ITEM_TYPES = ("choice", "multi", "number")
MULTI_RULES = ("sum", "any_full", "start_minus")
CAPITALS = ("human", "physical", "financial", "natural", "social")
EPSILON = 1e-9
MAX_INDICATORS = 63  # results keep deprivations as bits of one 64-bit integer
ROUND = 6  # scores are rounded to 6 decimals before comparing with cut points


@dataclass(frozen=True)
class Problem:
    """Something wrong in an instrument or an assessment, at ``path``, in English and Thai."""

    path: str
    en: str
    th: str

    def __str__(self) -> str:
        return f"{self.path}: {self.th} / {self.en}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "en": self.en, "th": self.th}


class InstrumentError(ValueError):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:10]))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form that is hashed."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _label_ok(v: Any) -> bool:
    return isinstance(v, dict) and isinstance(v.get("th"), str) and isinstance(v.get("en"), str) and bool(v["th"])


# --------------------------------------------------------------------------- validation


class _V:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, en: str, th: str) -> None:
        self.problems.append(Problem(path, en, th))

    def label(self, obj: Mapping[str, Any], path: str, key: str = "label") -> None:
        if not _label_ok(obj.get(key)):
            self.add(f"{path}.{key}", "needs a Thai and an English label {th, en}", "ต้องมีชื่อภาษาไทยและอังกฤษ {th, en}")

    def codes(self, items: Sequence[Any], path: str, key: str = "code") -> set[str]:
        seen: set[str] = set()
        for i, it in enumerate(items):
            c = it.get(key) if isinstance(it, dict) else None
            if not isinstance(c, str) or not c:
                self.add(f"{path}[{i}].{key}", "is missing", "ไม่มีรหัส")
            elif c in seen:
                self.add(f"{path}[{i}].{key}", f"'{c}' is used twice", f"รหัส '{c}' ซ้ำ")
            else:
                seen.add(c)
        return seen


def item_max_points(item: Mapping[str, Any]) -> float:
    """The points of a fully answered item at its best."""
    rule = item.get("rule", "points" if item.get("type") == "choice" else "sum")
    if item.get("type") == "number":
        return max(float(b["points"]) for b in item["bands"])
    if rule == "any_full":
        return float(item["points"])
    if rule == "start_minus":
        return float(item["start"])
    if "max_points" in item:
        return float(item["max_points"])
    pts = [float(o["points"]) for o in item["options"]]
    if item.get("type") == "multi":
        return sum(p for p in pts if p > 0)
    return max(pts)


def _validate_item(v: _V, item: Any, path: str) -> None:
    if not isinstance(item, dict):
        v.add(path, "must be an object", "ต้องเป็นออบเจกต์")
        return
    v.label(item, path)
    typ = item.get("type")
    if typ not in ITEM_TYPES:
        v.add(f"{path}.type", f"must be one of {', '.join(ITEM_TYPES)}", f"ต้องเป็นหนึ่งใน {', '.join(ITEM_TYPES)}")
        return
    if typ == "number":
        bands = item.get("bands")
        if not isinstance(bands, list) or not bands:
            v.add(f"{path}.bands", "a number item needs bands [{min, points}]", "ข้อที่เป็นตัวเลขต้องมีช่วงคะแนน bands")
            return
        last = -math.inf
        for j, b in enumerate(bands):
            if not isinstance(b, dict) or not _num(b.get("min")) or not _num(b.get("points")):
                v.add(f"{path}.bands[{j}]", "needs numbers min and points", "ต้องมีตัวเลข min และ points")
                continue
            if b["min"] <= last:
                v.add(f"{path}.bands[{j}].min", "bands must rise", "ค่า min ต้องเรียงจากน้อยไปมาก")
            last = b["min"]
        return
    options = item.get("options")
    if not isinstance(options, list) or not options:
        v.add(f"{path}.options", "needs at least one option", "ต้องมีตัวเลือกอย่างน้อยหนึ่งข้อ")
        return
    v.codes(options, f"{path}.options", key="value")
    for j, o in enumerate(options):
        if isinstance(o, dict):
            v.label(o, f"{path}.options[{j}]")
            if not _num(o.get("points")) and item.get("rule") not in ("any_full", "start_minus"):
                v.add(f"{path}.options[{j}].points", "must be a number", "คะแนนต้องเป็นตัวเลข")
    rule = item.get("rule", "points" if typ == "choice" else "sum")
    if typ == "choice" and rule != "points":
        v.add(f"{path}.rule", "a choice item is scored by its option's points", "ข้อเลือกตอบข้อเดียวใช้คะแนนของตัวเลือก")
    if typ == "multi":
        if rule not in MULTI_RULES:
            v.add(f"{path}.rule", f"must be one of {', '.join(MULTI_RULES)}", f"ต้องเป็นหนึ่งใน {', '.join(MULTI_RULES)}")
        if rule == "any_full" and not _num(item.get("points")):
            v.add(f"{path}.points", "any_full needs the full points", "กฎ any_full ต้องระบุคะแนนเต็ม points")
        if rule == "start_minus" and not (_num(item.get("start")) and _num(item.get("per"))):
            v.add(f"{path}.start", "start_minus needs start and per", "กฎ start_minus ต้องระบุ start และ per")


def _validate_capitals(v: _V, d: Mapping[str, Any]) -> None:
    scale = d.get("scale", {})
    if not (
        isinstance(scale, dict) and _num(scale.get("min")) and _num(scale.get("max")) and scale["max"] > scale["min"]
    ):
        v.add("scale", "needs numbers min < max", "ต้องมี min น้อยกว่า max")
        return
    caps = d.get("capitals")
    if not isinstance(caps, list) or not caps:
        v.add("capitals", "needs the list of capitals", "ต้องมีรายการทุน")
        return
    codes = v.codes(caps, "capitals")
    if set(CAPITALS) - codes:
        missing = ", ".join(sorted(set(CAPITALS) - codes))
        v.add("capitals", f"missing capitals: {missing}", f"ขาดทุน: {missing}")
    all_items: set[str] = set()
    for i, cap in enumerate(caps):
        if not isinstance(cap, dict):
            continue
        v.label(cap, f"capitals[{i}]")
        items = cap.get("items")
        if not isinstance(items, list) or not items:
            v.add(f"capitals[{i}].items", "needs at least one item", "ต้องมีคำถามอย่างน้อยหนึ่งข้อ")
            continue
        for c in v.codes(items, f"capitals[{i}].items"):
            if c in all_items:
                v.add(f"capitals[{i}].items", f"item '{c}' is in two capitals", f"คำถาม '{c}' อยู่ในทุนสองด้าน")
            all_items.add(c)
        for j, it in enumerate(items):
            _validate_item(v, it, f"capitals[{i}].items[{j}]")
    share = d.get("min_answered_share", 0.5)
    if not _num(share) or not 0 < share <= 1:
        v.add("min_answered_share", "must be a share in (0, 1]", "ต้องเป็นสัดส่วนมากกว่า 0 ไม่เกิน 1")
    levels = d.get("levels")
    if not isinstance(levels, list) or len(levels) < 2:
        v.add("levels", "needs the level cut points", "ต้องมีเกณฑ์ระดับ")
    else:
        last = -math.inf
        for i, lv in enumerate(levels):
            if not isinstance(lv, dict) or not isinstance(lv.get("level"), int) or not _num(lv.get("from")):
                v.add(f"levels[{i}]", "needs an integer level and a number from", "ต้องมีระดับ (จำนวนเต็ม) และค่า from")
                continue
            v.label(lv, f"levels[{i}]")
            if lv["from"] <= last:
                v.add(f"levels[{i}].from", "cut points must rise", "เกณฑ์ต้องเรียงจากน้อยไปมาก")
            last = lv["from"]
            if i and lv["level"] != levels[i - 1].get("level", 0) + 1:
                v.add(f"levels[{i}].level", "levels must be numbered 1, 2, 3, …", "ระดับต้องเรียง 1, 2, 3, …")
    rule = d.get("level_rule", {})
    if not isinstance(rule, dict):
        v.add("level_rule", "must be an object", "ต้องเป็นออบเจกต์")
        return
    basis = rule.get("basis", "overall")
    if basis not in ("overall", "capital"):
        v.add("level_rule.basis", "must be overall or capital", "ต้องเป็น overall หรือ capital")
    if basis == "capital" and rule.get("capital") not in codes:
        v.add("level_rule.capital", "must name one of the capitals", "ต้องเป็นรหัสทุนที่มีอยู่")
    for i, cap in enumerate(rule.get("caps", [])):
        if not isinstance(cap, dict) or cap.get("capital") not in codes:
            v.add(f"level_rule.caps[{i}].capital", "must name one of the capitals", "ต้องเป็นรหัสทุนที่มีอยู่")
            continue
        if not _num(cap.get("below")) or not isinstance(cap.get("max_level"), int):
            v.add(f"level_rule.caps[{i}]", "needs below (score) and max_level", "ต้องมี below (คะแนน) และ max_level")


def _validate_bmn(v: _V, d: Mapping[str, Any]) -> None:
    dims = d.get("dimensions")
    dim_codes = v.codes(dims, "dimensions") if isinstance(dims, list) else set()
    if not dim_codes:
        v.add("dimensions", "needs the dimensions", "ต้องมีมิติ")
    for i, dim in enumerate(dims or []):
        if isinstance(dim, dict):
            v.label(dim, f"dimensions[{i}]")
    inds = d.get("indicators")
    if not isinstance(inds, list) or not inds:
        v.add("indicators", "needs the indicators", "ต้องมีตัวชี้วัด")
        return
    codes = v.codes(inds, "indicators")
    if len(inds) > MAX_INDICATORS:
        v.add("indicators", f"at most {MAX_INDICATORS} indicators", f"ตัวชี้วัดได้ไม่เกิน {MAX_INDICATORS} ข้อ")
    for i, ind in enumerate(inds):
        if not isinstance(ind, dict):
            continue
        p = f"indicators[{i}]"
        v.label(ind, p)
        if ind.get("level") not in ("person", "household"):
            v.add(f"{p}.level", "must be person or household", "ต้องเป็น person หรือ household")
        if ind.get("dimension") is not None and ind["dimension"] not in dim_codes:
            v.add(f"{p}.dimension", f"unknown dimension '{ind['dimension']}'", f"ไม่มีมิติ '{ind['dimension']}'")
        ap = ind.get("applies", {})
        if not isinstance(ap, dict) or any(k not in ("age_min", "age_max", "member_flag") for k in ap):
            v.add(
                f"{p}.applies", "may only hold age_min, age_max, member_flag", "ใส่ได้เฉพาะ age_min, age_max, member_flag"
            )
    inc = d.get("income")
    if inc is not None:
        if not isinstance(inc, dict) or inc.get("indicator") not in codes or not _num(inc.get("threshold")):
            v.add(
                "income", "needs the income indicator's code and a threshold in baht", "ต้องมีรหัสตัวชี้วัดรายได้และเกณฑ์ (บาท)"
            )
        elif not isinstance(inc.get("sources"), list) or not inc["sources"]:
            v.add("income.sources", "needs the income sources", "ต้องมีแหล่งรายได้")
        else:
            last = -1
            for i, t in enumerate(inc.get("thresholds", [])):
                ok = isinstance(t, dict) and all(isinstance(t.get(k), int) for k in ("from_be", "to_be"))
                if not ok or not _num(t.get("baht")) or t["baht"] <= 0 or t["from_be"] > t["to_be"]:
                    v.add(
                        f"income.thresholds[{i}]",
                        "needs from_be ≤ to_be (Buddhist-Era years) and baht > 0",
                        "ต้องมี from_be ≤ to_be (ปี พ.ศ.) และ baht มากกว่า 0",
                    )
                elif t["from_be"] <= last:
                    v.add(
                        f"income.thresholds[{i}].from_be",
                        "periods must not overlap and must rise",
                        "ช่วงปีต้องไม่ซ้อนกันและเรียงจากน้อยไปมาก",
                    )
                else:
                    last = t["to_be"]
    mpi = d.get("mpi")
    if mpi is not None:
        w = mpi.get("weights") if isinstance(mpi, dict) else None
        if not isinstance(w, dict) or not isinstance(w.get("dimensions"), dict):
            v.add(
                "mpi.weights",
                'needs {"dimensions": {dim: {indicator: weight}}}',
                'ต้องเป็น {"dimensions": {มิติ: {ตัวชี้วัด: น้ำหนัก}}}',
            )
        else:
            total = 0.0
            for dim, members in w["dimensions"].items():
                for code, weight in members.items():
                    if code not in codes:
                        v.add(f"mpi.weights.{dim}.{code}", "unknown indicator", "ไม่มีตัวชี้วัดนี้")
                    elif not _num(weight) or weight <= 0:
                        v.add(
                            f"mpi.weights.{dim}.{code}",
                            "weight must be a number above 0 (leave the indicator out instead)",
                            "น้ำหนักต้องมากกว่า 0 (ถ้าไม่ใช้ให้ลบตัวชี้วัดออก)",
                        )
                    else:
                        total += weight
            if abs(total - 1) > 1e-3:
                v.add("mpi.weights", f"weights sum to {total:.4f}, not 1", f"ผลรวมน้ำหนักเป็น {total:.4f} ไม่ใช่ 1")
        k = mpi.get("k") if isinstance(mpi, dict) else None
        if not (isinstance(k, int | float) and _num(k) and 0 < k <= 1):
            v.add("mpi.k", "the poverty cut-off k must be in (0, 1]", "เกณฑ์ความยากจน k ต้องอยู่ระหว่าง 0 ถึง 1")


_SHAPES: dict[str, frozenset[str]] = {
    "any": frozenset({"any"}),
    "all": frozenset({"all"}),
    "bmn": frozenset({"bmn"}),
    "capital": frozenset({"capital", "below"}),
    "item": frozenset({"item", "in"}),
    "member": frozenset({"member"}),
    "income_below_threshold": frozenset({"income_below_threshold"}),
}


def _validate_condition(v: _V, c: Any, path: str) -> None:
    head = next((k for k in _SHAPES if isinstance(c, dict) and k in c), None)
    if head is None or set(c) != _SHAPES[head]:
        shapes = "; ".join("{" + ", ".join(sorted(s)) + "}" for s in _SHAPES.values())
        v.add(path, f"a condition is one of {shapes}", f"เงื่อนไขต้องมีรูปแบบหนึ่งใน {shapes}")
        return
    if head in ("any", "all"):
        if not isinstance(c[head], list) or not c[head]:
            v.add(f"{path}.{head}", "needs a list of conditions", "ต้องเป็นรายการเงื่อนไข")
            return
        for i, sub in enumerate(c[head]):
            _validate_condition(v, sub, f"{path}.{head}[{i}]")
    elif head == "capital" and not _num(c["below"]):
        v.add(f"{path}.below", "must be a score", "ต้องเป็นคะแนน")
    elif head == "item" and not isinstance(c["in"], list):
        v.add(f"{path}.in", "must be a list of option values", "ต้องเป็นรายการค่าตัวเลือก")
    elif head == "income_below_threshold" and not (_num(c[head]) and c[head] > 0):
        v.add(f"{path}.{head}", "must be a positive number (a share of the threshold)", "ต้องเป็นตัวเลขบวก (สัดส่วนของเกณฑ์)")
    elif head == "member" and not isinstance(c["member"], dict):
        v.add(f"{path}.member", "must be an object of member fields", "ต้องเป็นออบเจกต์ของข้อมูลสมาชิก")


def _validate_needs(v: _V, d: Mapping[str, Any]) -> None:
    types = d.get("agency_types")
    type_codes = v.codes(types, "agency_types") if isinstance(types, list) else set()
    rules = d.get("rules")
    if not isinstance(rules, list) or not rules:
        v.add("rules", "needs at least one rule", "ต้องมีกฎอย่างน้อยหนึ่งข้อ")
        return
    v.codes(rules, "rules")
    for i, r in enumerate(rules):
        if not isinstance(r, dict):
            continue
        v.label(r, f"rules[{i}]")
        if "when" not in r:
            v.add(f"rules[{i}].when", "needs a condition", "ต้องมีเงื่อนไข")
        else:
            _validate_condition(v, r["when"], f"rules[{i}].when")
        for t in r.get("agency_types", []):
            if t not in type_codes:
                v.add(f"rules[{i}].agency_types", f"unknown agency type '{t}'", f"ไม่มีประเภทหน่วยงาน '{t}'")


def validate(definition: Any) -> list[Problem]:
    """Every problem in an instrument definition (empty when it can be used)."""
    v = _V()
    if not isinstance(definition, dict):
        return [Problem("", "an instrument must be a JSON object", "เครื่องมือต้องเป็นออบเจกต์ JSON")]
    if definition.get("format") != FORMAT:
        v.add("format", f"must be '{FORMAT}'", f"ต้องเป็น '{FORMAT}'")
    kind = definition.get("kind")
    if kind not in KINDS:
        v.add("kind", f"must be one of {', '.join(KINDS)}", f"ต้องเป็นหนึ่งใน {', '.join(KINDS)}")
        return v.problems
    if not isinstance(definition.get("code"), str) or not definition["code"]:
        v.add("code", "is missing", "ไม่มีรหัสเครื่องมือ")
    v.label(definition, "", key="title")
    {"capitals": _validate_capitals, "bmn": _validate_bmn, "needs": _validate_needs}[kind](v, definition)
    return v.problems


def check(definition: Any) -> None:
    problems = validate(definition)
    if problems:
        raise InstrumentError(problems)


def cross_check(
    needs: Mapping[str, Any], capitals: Mapping[str, Any] | None, bmn: Mapping[str, Any] | None
) -> list[Problem]:
    """Codes in the needs rules that the questionnaire or the indicator set do not have (a
    mistyped code would make a rule silently never fire)."""
    items = {
        it["code"]: {o["value"] for o in it.get("options", [])}
        for cap in (capitals or {}).get("capitals", [])
        for it in cap["items"]
    }
    caps = {c["code"] for c in (capitals or {}).get("capitals", [])}
    inds = {i["code"] for i in (bmn or {}).get("indicators", [])}
    out: list[Problem] = []

    def walk(c: Any, path: str) -> None:
        if not isinstance(c, dict):
            return
        for key in ("any", "all"):
            for i, sub in enumerate(c.get(key, []) if isinstance(c.get(key), list) else []):
                walk(sub, f"{path}.{key}[{i}]")
        if "bmn" in c and bmn is not None and c["bmn"] not in inds:
            out.append(
                Problem(
                    f"{path}.bmn",
                    f"no indicator '{c['bmn']}' in {bmn.get('code')}",
                    f"ไม่มีตัวชี้วัด '{c['bmn']}' ใน {bmn.get('code')}",
                )
            )
        if "capital" in c and capitals is not None and c["capital"] not in caps:
            out.append(Problem(f"{path}.capital", f"no capital '{c['capital']}'", f"ไม่มีทุน '{c['capital']}'"))
        if "item" in c and capitals is not None:
            if c["item"] not in items:
                out.append(
                    Problem(
                        f"{path}.item",
                        f"no question '{c['item']}' in {capitals.get('code')}",
                        f"ไม่มีคำถาม '{c['item']}' ใน {capitals.get('code')}",
                    )
                )
            else:
                wrong = [v for v in c.get("in", []) if v not in items[c["item"]]]
                if wrong:
                    out.append(
                        Problem(
                            f"{path}.in",
                            f"not options of '{c['item']}': {', '.join(map(str, wrong))}",
                            f"ไม่ใช่ตัวเลือกของ '{c['item']}': {', '.join(map(str, wrong))}",
                        )
                    )

    for i, rule in enumerate(needs.get("rules", [])):
        walk(rule.get("when"), f"rules[{i}].when")
    return out


# --------------------------------------------------------------------------- answers


def check_answers(capitals: Mapping[str, Any], bmn: Mapping[str, Any] | None, data: Mapping[str, Any]) -> list[Problem]:
    """Problems in an assessment's answers against the instruments it was taken with."""
    out: list[Problem] = []

    def bad(path: str, en: str, th: str) -> None:
        out.append(Problem(path, en, th))

    if not isinstance(data, dict):
        return [Problem("", "an assessment must be a JSON object", "แบบประเมินต้องเป็นออบเจกต์ JSON")]
    items = {it["code"]: it for cap in capitals["capitals"] for it in cap["items"]}
    answers = data.get("capitals") or {}
    if not isinstance(answers, dict):
        bad("capitals", "must be an object", "ต้องเป็นออบเจกต์")
        answers = {}
    for code, value in answers.items():
        it = items.get(code)
        path = f"capitals.{code}"
        if it is None:
            bad(path, "is not a question of this questionnaire", "ไม่ใช่คำถามในแบบสอบถามนี้")
            continue
        if value is None:
            continue
        allowed = {o["value"] for o in it.get("options", [])}
        none = {o["value"] for o in it.get("options", []) if o.get("none")}
        if it["type"] == "number":
            if not _num(value) or value < 0:
                bad(path, "must be a number ≥ 0", "ต้องเป็นตัวเลขไม่ติดลบ")
        elif it["type"] == "choice":
            if value not in allowed:
                bad(path, f"'{value}' is not one of the options", f"'{value}' ไม่ใช่ตัวเลือกของข้อนี้")
        elif not isinstance(value, list) or any(x not in allowed for x in value):
            bad(path, "must be a list of the item's options", "ต้องเป็นรายการตัวเลือกของข้อนี้")
        elif len(set(value)) != len(value):
            bad(path, "an option is chosen twice", "เลือกตัวเลือกเดียวกันซ้ำ")
        elif set(value) & none and len(value) > 1:
            bad(path, "“none” cannot be chosen with other options", "เลือก “ไม่มี” พร้อมตัวเลือกอื่นไม่ได้")
    members = data.get("members") or []
    if not isinstance(members, list):
        bad("members", "must be a list", "ต้องเป็นรายการ")
        members = []
    keys: set[str] = set()
    for i, m in enumerate(members):
        if not isinstance(m, dict) or not isinstance(m.get("key"), str):
            bad(f"members[{i}].key", "is missing", "ไม่มีรหัสสมาชิก")
            continue
        if m["key"] in keys:
            bad(f"members[{i}].key", "is used twice", "รหัสสมาชิกซ้ำ")
        keys.add(m["key"])
        age = m.get("age")
        if age is not None and (not _num(age) or not 0 <= age <= 130):
            bad(f"members[{i}].age", "must be a number of years from 0 to 130", "อายุต้องเป็นตัวเลข 0–130 ปี")
    if bmn is None:
        return out
    inds = {i["code"]: i for i in bmn["indicators"]}
    b = data.get("bmn") or {}
    if not isinstance(b, dict):
        bad("bmn", "must be an object", "ต้องเป็นออบเจกต์")
        b = {}
    household = b.get("household") or {}
    if not isinstance(household, dict):
        bad("bmn.household", "must be an object", "ต้องเป็นออบเจกต์")
        household = {}
    for code, value in household.items():
        ind = inds.get(code)
        if ind is None or ind["level"] != "household":
            bad(f"bmn.household.{code}", "is not a household indicator", "ไม่ใช่ตัวชี้วัดระดับครัวเรือน")
        elif value not in ANSWER_VALUES:
            bad(f"bmn.household.{code}", "must be pass, fail or na", "ต้องเป็น pass, fail หรือ na")
    persons = b.get("persons") or {}
    if not isinstance(persons, dict):
        bad("bmn.persons", "must be an object", "ต้องเป็นออบเจกต์")
        persons = {}
    for key, answers_ in persons.items():
        if key not in keys:
            bad(f"bmn.persons.{key}", "is not a member of this assessment", "ไม่ใช่สมาชิกในแบบประเมินนี้")
            continue
        if not isinstance(answers_, dict):
            bad(f"bmn.persons.{key}", "must be an object", "ต้องเป็นออบเจกต์")
            continue
        for code, value in answers_.items():
            ind = inds.get(code)
            if ind is None or ind["level"] != "person":
                bad(f"bmn.persons.{key}.{code}", "is not a person indicator", "ไม่ใช่ตัวชี้วัดระดับบุคคล")
            elif value not in ANSWER_VALUES:
                bad(f"bmn.persons.{key}.{code}", "must be pass, fail or na", "ต้องเป็น pass, fail หรือ na")
    income = data.get("income") or {}
    if not isinstance(income, dict):
        return [
            *out,
            Problem("income", "must be an object of baht per year by source", "ต้องเป็นรายได้ (บาทต่อปี) แยกตามแหล่ง"),
        ]
    sources = set((bmn.get("income") or {}).get("sources", []))
    for src, value in income.items():
        if sources and src not in sources:
            bad(
                f"income.{src}",
                f"unknown income source: use {', '.join(sorted(sources))}",
                f"ไม่รู้จักแหล่งรายได้นี้ ใช้ {', '.join(sorted(sources))}",
            )
        elif value is not None and (not _num(value) or value < 0):
            bad(f"income.{src}", "must be baht per year ≥ 0", "ต้องเป็นจำนวนบาทต่อปีไม่ติดลบ")
    return out


# --------------------------------------------------------------------------- capitals


@dataclass(frozen=True)
class _Item:
    code: str
    type: str
    rule: str
    points: dict[str, float]
    none: frozenset[str]
    max_points: float
    item: Mapping[str, Any]


_COMPILED: dict[int, tuple[Any, list[tuple[str, list[_Item]]]]] = {}


def _compiled(instrument: Mapping[str, Any]) -> list[tuple[str, list[_Item]]]:
    """The questionnaire's items with their option points and maxima worked out once.

    Cached by object identity (the cache keeps the object alive, so an id is never reused
    for another questionnaire while its entry exists). Instruments are immutable data: a
    definition must not be changed in place after it has been used."""
    hit = _COMPILED.get(id(instrument))
    if hit is not None and hit[0] is instrument:
        return hit[1]
    caps = []
    for cap in instrument["capitals"]:
        items = []
        for it in cap["items"]:
            opts = it.get("options", [])
            items.append(
                _Item(
                    code=it["code"],
                    type=it["type"],
                    rule=it.get("rule", "points" if it["type"] == "choice" else "sum"),
                    points={o["value"]: float(o.get("points", 0)) for o in opts},
                    none=frozenset(o["value"] for o in opts if o.get("none")),
                    max_points=item_max_points(it),
                    item=it,
                )
            )
        caps.append((cap["code"], items))
    if len(_COMPILED) > 32:
        _COMPILED.clear()
    _COMPILED[id(instrument)] = (instrument, caps)
    return caps


def _item_points(c: _Item, value: Any) -> float | None:
    """Points for one answer, None when unanswered."""
    if value is None:
        return None
    if c.type == "number":
        pts = None
        for band in c.item["bands"]:
            if value >= band["min"]:
                pts = float(band["points"])
        return pts if pts is not None else 0.0
    if c.type == "choice":
        return c.points[value]
    chosen = [v for v in value if v in c.points]
    if c.rule == "any_full":
        return float(c.item["points"]) if any(v not in c.none for v in chosen) else 0.0
    if c.rule == "start_minus":
        n = sum(1 for v in chosen if v not in c.none)
        return max(float(c.item.get("min", 0)), float(c.item["start"]) - n * float(c.item["per"]))
    return min(sum(c.points[v] for v in chosen), c.max_points)


def score_capitals(instrument: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    lo, hi = float(instrument["scale"]["min"]), float(instrument["scale"]["max"])
    share = float(instrument.get("min_answered_share", 0.5))
    out: dict[str, Any] = {}
    for code, items in _compiled(instrument):
        pts = mx = 0.0
        answered = 0
        for c in items:
            p = _item_points(c, answers.get(c.code))
            if p is None:
                continue
            answered += 1
            pts += p
            mx += c.max_points
        n = len(items)
        score = pct = None
        if answered and answered / n + EPSILON >= share and mx > 0:
            pct = round(100.0 * pts / mx, ROUND)
            score = round(lo + pct / 100.0 * (hi - lo), ROUND)
        out[code] = {"points": pts, "max": mx, "answered": answered, "items": n, "percent": pct, "score": score}
    return out


def level_of(levels: Sequence[Mapping[str, Any]], score: float | None) -> int | None:
    if score is None:
        return None
    level = None
    for lv in levels:
        if score + EPSILON >= lv["from"]:
            level = int(lv["level"])
    return level if level is not None else int(levels[0]["level"])


def classify(instrument: Mapping[str, Any], capitals: Mapping[str, Any]) -> dict[str, Any]:
    """Overall score and level (with the rule that decided it)."""
    scores = {c: v["score"] for c, v in capitals.items()}
    overall = round(sum(scores.values()) / len(scores), ROUND) if all(s is not None for s in scores.values()) else None
    rule = instrument.get("level_rule", {})
    basis = rule.get("basis", "overall")
    basis_score = overall if basis == "overall" else scores.get(rule["capital"])
    levels = instrument["levels"]
    level = level_of(levels, basis_score)
    capped_by = None
    if level is not None:
        for cap in rule.get("caps", []):
            s = scores.get(cap["capital"])
            if s is not None and s + EPSILON < cap["below"] and level > cap["max_level"]:
                level = int(cap["max_level"])
                capped_by = cap["capital"]
    return {
        "overall": overall,
        "basis": basis if basis == "overall" else rule["capital"],
        "level": level,
        "capped_by": capped_by,
    }


# --------------------------------------------------------------------------- BMN


def applies(ind: Mapping[str, Any], member: Mapping[str, Any]) -> bool:
    """Does a person-level indicator apply to this member (age range, member flag)?"""
    ap = ind.get("applies") or {}
    age = member.get("age")
    if ("age_min" in ap or "age_max" in ap) and age is None:
        return False
    if "age_min" in ap and age < ap["age_min"]:
        return False
    if "age_max" in ap and age > ap["age_max"]:
        return False
    return not ("member_flag" in ap and not member.get(ap["member_flag"]))


def income_threshold(bmn: Mapping[str, Any], round_be: Any = None) -> float | None:
    """Baht per person per year for the survey round (Buddhist-Era year): the period in
    ``income.thresholds`` that holds the round, else ``income.threshold``."""
    inc = bmn.get("income")
    if not inc:
        return None
    try:
        year = int(str(round_be))
    except (TypeError, ValueError):
        year = None
    if year is not None:
        for t in inc.get("thresholds", []):
            if t["from_be"] <= year <= t["to_be"]:
                return float(t["baht"])
    return float(inc["threshold"])


def income_per_person(bmn: Mapping[str, Any], data: Mapping[str, Any]) -> float | None:
    inc = bmn.get("income")
    income = data.get("income") or {}
    members = data.get("members") or []
    if inc is None or not members:
        return None
    values = [income.get(s) for s in inc["sources"]]
    if all(v is None for v in values):
        return None
    return sum(float(v) for v in values if v is not None) / len(members)


def deprivations(bmn: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Deprivation flags per indicator for the household and for each member.

    ``household[code]`` is 1 (deprived), 0 (not deprived) or None (missing); for person-level
    indicators the household is deprived when any member the indicator applies to fails, not
    deprived when nobody it applies to fails and all of them answered (or nobody it applies
    to lives there). ``persons[key]`` lists each member's own failed indicators, plus the
    household-level failures when ``household_indicators_deprive_members`` is true.
    """
    members = data.get("members") or []
    answers = data.get("bmn") or {}
    hh_ans = answers.get("household") or {}
    p_ans = answers.get("persons") or {}
    inc = bmn.get("income")
    per_person = income_per_person(bmn, data)
    household: dict[str, int | None] = {}
    persons: dict[str, list[str]] = {m["key"]: [] for m in members}
    spread = bmn.get("household_indicators_deprive_members", True)
    for ind in bmn["indicators"]:
        code = ind["code"]
        if ind["level"] == "household":
            if inc is not None and code == inc["indicator"] and per_person is not None:
                threshold = income_threshold(bmn, data.get("round"))
                flag: int | None = 1 if per_person + EPSILON < (threshold or 0) else 0
            else:
                a = hh_ans.get(code)
                flag = 1 if a == "fail" else 0 if a in ("pass", "na") else None
            household[code] = flag
            if flag == 1 and spread:
                for key in persons:
                    persons[key].append(code)
            continue
        ap = ind.get("applies") or {}
        aged = "age_min" in ap or "age_max" in ap
        applicable, unanswered = [], []
        for m in members:
            answer = (p_ans.get(m["key"]) or {}).get(code)
            if aged and m.get("age") is None:
                # Age unknown: an answer says the indicator applied; no answer is missing data.
                if answer in ANSWER_VALUES:
                    applicable.append(m)
                else:
                    unanswered.append(m)
            elif applies(ind, m):
                applicable.append(m)
                if answer not in ANSWER_VALUES:
                    unanswered.append(m)
        fails = [m["key"] for m in applicable if (p_ans.get(m["key"]) or {}).get(code) == "fail"]
        household[code] = 1 if fails else (None if unanswered else 0)
        for key in fails:
            persons[key].append(code)
    order = {ind["code"]: i for i, ind in enumerate(bmn["indicators"])}
    for key in persons:
        persons[key] = sorted(set(persons[key]), key=order.__getitem__)
    shown = round(per_person, 2) if per_person is not None else None
    return {"household": household, "persons": persons, "income_per_person": shown}


def tpmap_flags(bmn: Mapping[str, Any], dep: Mapping[str, Any], members: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """TPMAP's rule: a person fails at least one TPMAP indicator (those with a dimension) and,
    when the instrument requires it, holds the state welfare card."""
    tp = {ind["code"]: ind["dimension"] for ind in bmn["indicators"] if ind.get("dimension")}
    needs_card = (bmn.get("target_poor") or {}).get("requires_welfare_card", True)
    poor: list[str] = []
    target: list[str] = []
    for m in members:
        failed = [c for c in dep["persons"].get(m["key"], []) if c in tp]
        if failed:
            poor.append(m["key"])
            if m.get("welfare_card") or not needs_card:
                target.append(m["key"])
    dims = sorted({tp[c] for c, f in dep["household"].items() if f == 1 and c in tp})
    hh_poor = bool(poor) or (not members and bool(dims))
    return {
        "tpmap_poor": hh_poor,
        "target_poor": bool(target),
        "poor_persons": poor,
        "target_persons": target,
        "dimensions_failed": dims,
    }


def mpi_weights(bmn: Mapping[str, Any]) -> dict[str, float]:
    w = (bmn.get("mpi") or {}).get("weights", {}).get("dimensions", {})
    return {code: float(weight) for members in w.values() for code, weight in members.items()}


def mpi_score(bmn: Mapping[str, Any], household: Mapping[str, int | None]) -> tuple[float | None, bool | None]:
    weights = mpi_weights(bmn)
    if not weights:
        return None, None
    if any(household.get(c) is None for c in weights):
        return None, None
    raw = sum(w * (household[c] or 0) for c, w in weights.items())
    k = float(bmn["mpi"]["k"])
    # Compare before rounding: a score equal to k (1/3 written as 0.3333333333) is poor.
    return round(raw, ROUND), (raw > 0 and raw + 1e-6 >= k)


# --------------------------------------------------------------------------- needs


def _eval(cond: Mapping[str, Any], ctx: Mapping[str, Any], reasons: list[str], persons: set[str]) -> bool:
    # The condition's kind is its defining key, whatever order the keys were stored in
    # (PostgreSQL's jsonb reorders them).
    key = next((k for k in _SHAPES if k in cond), next(iter(cond)))
    if key == "any":
        hits = [_eval(c, ctx, reasons, persons) for c in cond["any"]]
        return any(hits)
    if key == "all":
        sub_r: list[str] = []
        sub_p: set[str] = set()
        ok = all(_eval(c, ctx, sub_r, sub_p) for c in cond["all"])
        if ok:
            reasons.extend(sub_r)
            persons |= sub_p
        return ok
    if key == "bmn":
        code = cond["bmn"]
        if ctx["household"].get(code) == 1:
            reasons.append(f"bmn:{code}")
            persons.update(k for k, codes in ctx["persons"].items() if code in codes and code in ctx["person_level"])
            return True
        return False
    if key == "capital":
        s = ctx["capitals"].get(cond["capital"], {}).get("score")
        if s is not None and s + EPSILON < float(cond["below"]):
            reasons.append(f"capital:{cond['capital']}<{cond['below']}")
            return True
        return False
    if key == "item":
        value = ctx["answers"].get(cond["item"])
        wanted = set(cond.get("in", []))
        hit = value in wanted if not isinstance(value, list) else bool(wanted & set(value))
        if hit:
            reasons.append(f"item:{cond['item']}")
        return hit
    if key == "member":
        want = cond["member"]
        who = [m for m in ctx["members"] if all(_member_match(m, f, v) for f, v in want.items())]
        if who:
            reasons.append("member:" + ",".join(f"{f}={v}" for f, v in sorted(want.items())))
            persons.update(m["key"] for m in who)
        return bool(who)
    if key == "income_below_threshold":
        ipp, thr = ctx["income_per_person"], ctx["threshold"]
        hit = ipp is not None and thr is not None and ipp < thr * float(cond["income_below_threshold"])
        if hit:
            reasons.append(f"income<{cond['income_below_threshold']}×threshold")
        return bool(hit)
    raise InstrumentError([Problem(key, f"unknown condition '{key}'", f"ไม่รู้จักเงื่อนไข '{key}'")])


def _member_match(m: Mapping[str, Any], field: str, want: Any) -> bool:
    if field == "age_min":
        return m.get("age") is not None and m["age"] >= want
    if field == "age_max":
        return m.get("age") is not None and m["age"] <= want
    if isinstance(want, list):
        return m.get(field) in want
    return bool(m.get(field) == want)


def suggest_needs(
    rules: Mapping[str, Any] | None, bmn: Mapping[str, Any] | None, ctx: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if rules is None:
        return []
    person_level = {i["code"] for i in (bmn or {}).get("indicators", []) if i["level"] == "person"}
    ctx = {**ctx, "person_level": person_level}
    out = []
    for rule in rules["rules"]:
        reasons: list[str] = []
        persons: set[str] = set()
        if _eval(rule["when"], ctx, reasons, persons):
            out.append(
                {
                    "code": rule["code"],
                    "capital": rule.get("capital"),
                    "agency_types": list(rule.get("agency_types", [])),
                    "priority": rule.get("priority", 2),
                    "reasons": reasons,
                    "persons": sorted(persons),
                }
            )
    out.sort(key=lambda n: (n["priority"], n["code"]))
    return out


# --------------------------------------------------------------------------- one assessment


@dataclass(frozen=True)
class Instruments:
    capitals: Mapping[str, Any]
    bmn: Mapping[str, Any] | None = None
    needs: Mapping[str, Any] | None = None

    def key(self) -> dict[str, Any]:
        return {"capitals": digest(self.capitals), "bmn": digest(self.bmn), "needs": digest(self.needs)}


def score(instruments: Instruments, data: Mapping[str, Any]) -> dict[str, Any]:
    """Everything computed for one household assessment (a JSON-ready dict)."""
    answers = data.get("capitals") or {}
    capitals = score_capitals(instruments.capitals, answers)
    cls = classify(instruments.capitals, capitals)
    members = data.get("members") or []
    out: dict[str, Any] = {"capitals": capitals, **cls}
    bmn = instruments.bmn
    threshold = None
    if bmn is not None:
        dep = deprivations(bmn, data)
        tp = tpmap_flags(bmn, dep, members)
        c, poor = mpi_score(bmn, dep["household"])
        threshold = income_threshold(bmn, data.get("round"))
        out["bmn"] = {
            **dep,
            "threshold": threshold,
            "deprived": sorted(k for k, v in dep["household"].items() if v == 1),
        }
        out.update(tp)
        out["mpi_score"], out["mpi_poor"] = c, poor
    else:
        dep = {"household": {}, "persons": {}, "income_per_person": None}
    ctx = {
        "household": dep["household"],
        "persons": dep["persons"],
        "capitals": capitals,
        "answers": answers,
        "members": members,
        "income_per_person": dep["income_per_person"],
        "threshold": threshold,
    }
    out["needs"] = suggest_needs(instruments.needs, bmn, ctx)
    return out


def score_many(
    instruments: Instruments, rows: Iterable[tuple[Any, Mapping[str, Any]]]
) -> Iterable[tuple[Any, dict[str, Any], str]]:
    """(id, data) → (id, result, result hash), lazily."""
    for ident, data in rows:
        result = score(instruments, data)
        yield ident, result, digest(result)
