"""Graduation out of poverty (นำออกจากบัญชีคนจน): may a household be proposed, how long is it
followed, and has it fallen back?

No Django here (import-linter contract). The criteria are plain data, versioned by the forums
app (``khm/forums/criteria/graduation.v*.json``, stored in ``GraduationCriteria``); a
household's history is a sequence of :class:`RoundResult` the caller builds from its
assessment results. Every function is pure: the same inputs give the same verdict.

* **History.** Results may come in any order and a round may hold several (re-assessments).
  Per round the result with the latest ``assessed_on`` counts; a result without a date counts
  as older than any dated one, and among equal dates the one given last wins. Rounds are
  survey rounds named by their Buddhist-Era year ("2567"); the *latest round* is the most
  recent round with a result.
* **Criteria.** Every enabled criterion must be met (``combine: "all"``, no weights):

  - ``consecutive_rounds`` — the latest round and the ``rounds − 1`` rounds just before it are
    all assessed at ``min_level`` or above. Consecutive means successive round numbers
    (2567 then 2568): a missing round breaks the run; a result without a level is not met.
  - ``income`` — income per person per year in the latest round ≥ ``multiple`` × the round's
    threshold. The threshold comes from the caller (``thresholds[round]``, from the BMN
    instrument). Missing income or a missing threshold is *not met*: nothing is guessed.
  - ``no_critical_deprivation`` — none of ``indicators`` (BMN codes) deprived in the latest
    round.
  - ``not_target_poor`` — not TPMAP target poor in the latest round.

  A criterion with ``"enabled": false`` is not evaluated and not listed.
* **Follow-up.** A graduated household is followed for ``follow_up.params.months`` months;
  :func:`follow_until` adds them, clamping the day to the month's end.
* **Fall back.** :func:`fell_back` looks at the results after graduation (the caller picks
  them) and returns the first round, in round order, whose counting result is at
  ``max_level`` or below or (when ``target_poor``) target poor.

Every check explains itself in Thai and English with the figures it used. Problems in a
definition are :class:`khm.engines.scoring.Problem` with the JSON path of the field.
"""

from __future__ import annotations

import calendar
import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from khm.engines.scoring import Problem

FORMAT = "khm-graduation/1"
COMBINE = ("all",)
CRITERION_TYPES = ("consecutive_rounds", "income", "no_critical_deprivation", "not_target_poor")
LEVELS = (1, 2, 3, 4)
MAX_ROUNDS = 10
MAX_FOLLOW_UP_MONTHS = 120
ROUND = 6  # money is rounded to 6 decimals before comparing with a threshold

# Parameters each criterion type accepts (all required).
PARAMS: dict[str, tuple[str, ...]] = {
    "consecutive_rounds": ("rounds", "min_level"),
    "income": ("multiple",),
    "no_critical_deprivation": ("indicators",),
    "not_target_poor": (),
}


@dataclass(frozen=True)
class RoundResult:
    """One assessment result of a household, reduced to what graduation looks at."""

    round: str
    level: int | None
    income_per_person: float | None
    deprived: frozenset[str]
    target_poor: bool
    assessed_on: datetime.date | None = None


@dataclass(frozen=True)
class Check:
    """One criterion evaluated: met or not, and why, in Thai and English."""

    criterion: str
    met: bool
    th: str
    en: str

    def __str__(self) -> str:
        return f"{self.criterion}: {'met' if self.met else 'not met'} — {self.th} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "met": self.met, "th": self.th, "en": self.en}


@dataclass(frozen=True)
class Verdict:
    """May the household be proposed for graduation? ``round`` is the latest round looked at."""

    eligible: bool
    checks: tuple[Check, ...]
    round: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"eligible": self.eligible, "round": self.round, "checks": [c.as_dict() for c in self.checks]}


class CriteriaError(ValueError):
    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems[:10]))


# --------------------------------------------------------------------------- validation


def _int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(v: Any) -> TypeGuard[int | float]:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


class _V:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, en: str, th: str) -> None:
        self.problems.append(Problem(path=path, en=en, th=th))

    def label(self, obj: Mapping[str, Any], path: str, key: str = "label") -> None:
        lab = obj.get(key)
        ok = isinstance(lab, dict) and all(isinstance(lab.get(k), str) and lab[k].strip() for k in ("th", "en"))
        if not ok:
            self.add(_join(path, key), "needs a Thai and an English label {th, en}", "ต้องมีชื่อภาษาไทยและอังกฤษ {th, en}")

    def obj(self, d: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
        v = d.get(key)
        if not isinstance(v, dict):
            self.add(_join(path, key), "must be an object", "ต้องเป็นออบเจกต์")
            return None
        return v

    def level(self, v: Any, path: str, nullable: bool = False) -> None:
        if nullable and v is None:
            return
        if not _int(v) or v not in LEVELS:
            extra_en, extra_th = (" or null", " หรือ null") if nullable else ("", "")
            self.add(path, f"must be a level 1–4{extra_en}", f"ต้องเป็นระดับ 1–4{extra_th}")

    def params(self, params: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for k in allowed:
            if k not in params:
                self.add(f"{path}.{k}", "is missing", "ไม่มีค่านี้")
        for k in params:
            if k not in allowed:
                self.add(f"{path}.{k}", f"unknown parameter '{k}'", f"ไม่รู้จักค่า '{k}'")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _validate_criterion(v: _V, c: Any, path: str, known_codes: frozenset[str] | None) -> None:
    if not isinstance(c, dict):
        v.add(path, "must be an object", "ต้องเป็นออบเจกต์")
        return
    v.label(c, path)
    if "enabled" in c and not isinstance(c["enabled"], bool):
        v.add(f"{path}.enabled", "must be true or false", "ต้องเป็น true หรือ false")
    typ = c.get("type")
    if typ not in CRITERION_TYPES:
        v.add(
            f"{path}.type",
            f"unknown criterion type {typ!r}: must be one of {', '.join(CRITERION_TYPES)}",
            f"ไม่รู้จักชนิดเกณฑ์ {typ!r}: ต้องเป็นหนึ่งใน {', '.join(CRITERION_TYPES)}",
        )
        return
    params = v.obj(c, "params", path)
    if params is None:
        return
    pp = f"{path}.params"
    v.params(params, PARAMS[typ], pp)
    if typ == "consecutive_rounds":
        n = params.get("rounds")
        if "rounds" in params and (not _int(n) or not 1 <= n <= MAX_ROUNDS):
            v.add(f"{pp}.rounds", f"must be a whole number 1–{MAX_ROUNDS}", f"ต้องเป็นจำนวนเต็ม 1–{MAX_ROUNDS}")
        if "min_level" in params:
            v.level(params["min_level"], f"{pp}.min_level")
    elif typ == "income":
        m = params.get("multiple")
        if "multiple" in params and (not _number(m) or m <= 0):
            v.add(f"{pp}.multiple", "must be a number above 0", "ต้องเป็นตัวเลขมากกว่า 0")
    elif typ == "no_critical_deprivation" and "indicators" in params:
        codes = params["indicators"]
        if not isinstance(codes, list) or not codes:
            v.add(
                f"{pp}.indicators",
                "must be a non-empty list of BMN indicator codes (switch the criterion off with enabled: false)",
                "ต้องเป็นรายการรหัสตัวชี้วัด จปฐ. อย่างน้อยหนึ่งรหัส (ปิดเกณฑ์นี้ด้วย enabled: false)",
            )
            return
        seen: set[str] = set()
        for i, code in enumerate(codes):
            ip = f"{pp}.indicators[{i}]"
            if not isinstance(code, str) or not code:
                v.add(ip, "must be an indicator code", "ต้องเป็นรหัสตัวชี้วัด")
            elif code in seen:
                v.add(ip, f"'{code}' is listed twice", f"รหัส '{code}' ซ้ำ")
            elif known_codes is not None and code not in known_codes:
                v.add(ip, f"unknown BMN indicator '{code}'", f"ไม่มีตัวชี้วัด จปฐ. '{code}'")
            if isinstance(code, str):
                seen.add(code)


def validate(definition: Any, indicator_codes: Iterable[str] | None = None) -> list[Problem]:
    """Every problem in a graduation-criteria definition (empty when it can be used), each at
    the JSON path of the field. With ``indicator_codes`` (the BMN instrument's codes) the
    critical indicators are checked against them too."""
    if not isinstance(definition, dict):
        return [Problem(path="", en="the criteria must be a JSON object", th="เกณฑ์ต้องเป็นออบเจกต์ JSON")]
    known = frozenset(indicator_codes) if indicator_codes is not None else None
    v = _V()
    if definition.get("format") != FORMAT:
        v.add("format", f"must be '{FORMAT}'", f"ต้องเป็น '{FORMAT}'")
    if not isinstance(definition.get("code"), str) or not definition["code"]:
        v.add("code", "is missing", "ไม่มีรหัสเกณฑ์")
    ver = definition.get("version")
    if not _int(ver) or ver < 1:
        v.add("version", "must be a whole number from 1", "ต้องเป็นจำนวนเต็มตั้งแต่ 1")
    v.label(definition, "", key="title")
    if not isinstance(definition.get("provenance"), str) or not definition["provenance"].strip():
        v.add("provenance", "say where the criteria come from", "ต้องระบุที่มาของเกณฑ์")
    notes = definition.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        v.add("notes", "must be a list of texts", "ต้องเป็นรายการข้อความ")
    if definition.get("combine") not in COMBINE:
        v.add("combine", "must be 'all' (every criterion must be met)", "ต้องเป็น 'all' (ต้องผ่านทุกเกณฑ์)")

    criteria = definition.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        v.add("criteria", "must be a non-empty list", "ต้องเป็นรายการที่มีอย่างน้อยหนึ่งเกณฑ์")
    else:
        ids: set[str] = set()
        for i, c in enumerate(criteria):
            path = f"criteria[{i}]"
            cid = c.get("id") if isinstance(c, dict) else None
            if isinstance(c, dict):
                if not isinstance(cid, str) or not cid:
                    v.add(f"{path}.id", "is missing", "ไม่มีรหัสเกณฑ์")
                elif cid in ids:
                    v.add(f"{path}.id", f"'{cid}' is used twice", f"รหัส '{cid}' ซ้ำ")
                else:
                    ids.add(cid)
            _validate_criterion(v, c, path, known)
        if all(isinstance(c, dict) and c.get("enabled") is False for c in criteria):
            v.add("criteria", "at least one criterion must be enabled", "ต้องเปิดใช้อย่างน้อยหนึ่งเกณฑ์")

    fu = v.obj(definition, "follow_up", "")
    if fu is not None:
        if fu.get("id") != "follow_up_months":
            v.add("follow_up.id", "must be 'follow_up_months'", "ต้องเป็น 'follow_up_months'")
        v.label(fu, "follow_up")
        params = v.obj(fu, "params", "follow_up")
        if params is not None:
            v.params(params, ("months",), "follow_up.params")
            m = params.get("months")
            if "months" in params and (not _int(m) or not 1 <= m <= MAX_FOLLOW_UP_MONTHS):
                v.add(
                    "follow_up.params.months",
                    f"must be a whole number of months 1–{MAX_FOLLOW_UP_MONTHS}",
                    f"ต้องเป็นจำนวนเดือนเต็ม 1–{MAX_FOLLOW_UP_MONTHS}",
                )

    fb = v.obj(definition, "fall_back", "")
    if fb is not None:
        if fb.get("id") != "fall_back":
            v.add("fall_back.id", "must be 'fall_back'", "ต้องเป็น 'fall_back'")
        v.label(fb, "fall_back")
        params = v.obj(fb, "params", "fall_back")
        if params is not None:
            v.params(params, ("max_level", "target_poor"), "fall_back.params")
            if "max_level" in params:
                v.level(params["max_level"], "fall_back.params.max_level", nullable=True)
            tp = params.get("target_poor")
            if "target_poor" in params and not isinstance(tp, bool):
                v.add("fall_back.params.target_poor", "must be true or false", "ต้องเป็น true หรือ false")
            elif params.get("max_level", 0) is None and tp is False:
                v.add(
                    "fall_back.params",
                    "never returns a household: set max_level or target_poor",
                    "ไม่มีเงื่อนไขให้กลับเข้าบัญชี: ต้องกำหนด max_level หรือ target_poor",
                )
    return v.problems


def check(definition: Any, indicator_codes: Iterable[str] | None = None) -> None:
    problems = validate(definition, indicator_codes)
    if problems:
        raise CriteriaError(problems)


# --------------------------------------------------------------------------- history


def round_number(r: RoundResult) -> int:
    """The round as a Buddhist-Era year; a round that is not a year is a caller's error."""
    s = str(r.round).strip()
    if not s.isdigit():
        raise ValueError(f"round must be a Buddhist-Era year such as '2568', not {r.round!r}")
    return int(s)


def latest_per_round(history: Iterable[RoundResult]) -> dict[int, RoundResult]:
    """The result that counts in each round, by round number, oldest round first: the one
    with the latest ``assessed_on`` (undated = oldest; on a tie the one given last)."""
    best: dict[int, tuple[tuple[bool, datetime.date, int], RoundResult]] = {}
    for i, r in enumerate(history):
        n = round_number(r)
        key = (r.assessed_on is not None, r.assessed_on or datetime.date.min, i)
        if n not in best or key > best[n][0]:
            best[n] = (key, r)
    return {n: best[n][1] for n in sorted(best)}


def deprived_codes(bits: int, codes: Sequence[str]) -> frozenset[str]:
    """Indicator codes of a result's ``deprived_bits`` (bit i = the instrument's i-th indicator)."""
    return frozenset(c for i, c in enumerate(codes) if bits >> i & 1)


# --------------------------------------------------------------------------- wording


def _money(x: float) -> str:
    r = round(float(x), 2)
    return f"{round(r):,}" if r == int(r) else f"{r:,.2f}"


def _and(parts: Sequence[str], word: str) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {word} " + parts[-1]


def _and_th(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " และ" + parts[-1]


# --------------------------------------------------------------------------- criteria


def _consecutive(rounds: Mapping[int, RoundResult], latest: int, params: Mapping[str, Any], cid: str) -> Check:
    n, min_level = int(params["rounds"]), int(params["min_level"])
    th_parts: list[str] = []
    en_parts: list[str] = []
    met = True
    for rn in range(latest - n + 1, latest + 1):
        r = rounds.get(rn)
        if r is None:
            met = False
            th_parts.append(f"ไม่มีผลการประเมินในรอบ {rn}")
            en_parts.append(f"no assessment in {rn}")
        elif r.level is None:
            met = False
            th_parts.append(f"ไม่มีระดับในรอบ {rn}")
            en_parts.append(f"no level in {rn}")
        else:
            met = met and r.level >= min_level
            th_parts.append(f"ระดับ {r.level} ในรอบ {rn}")
            en_parts.append(f"level {r.level} in {rn}")
    if n == 1:
        need_th = f"ต้องอยู่ระดับ {min_level} ขึ้นไปในรอบล่าสุด"
        need_en = f"needs level {min_level} or above in the latest round"
    else:
        need_th = f"ต้องอยู่ระดับ {min_level} ขึ้นไป {n} รอบติดต่อกัน"
        need_en = f"needs level {min_level} or above in {n} consecutive rounds"
    return Check(cid, met, f"{_and_th(th_parts)} ({need_th})", f"{_and(en_parts, 'and')} ({need_en})")


def _income(r: RoundResult, rn: int, thresholds: Mapping[str, float], params: Mapping[str, Any], cid: str) -> Check:
    if r.income_per_person is None:
        return Check(
            cid,
            False,
            f"ไม่มีข้อมูลรายได้ในรอบ {rn} จึงถือว่าไม่ผ่าน",
            f"no income recorded in {rn}, so not met",
        )
    threshold = thresholds.get(str(rn))
    if threshold is None:
        threshold = thresholds.get(r.round)
    if threshold is None:
        return Check(
            cid,
            False,
            f"ไม่มีเกณฑ์รายได้ของรอบ {rn} จึงถือว่าไม่ผ่าน",
            f"no income threshold for {rn}, so not met",
        )
    multiple = float(params["multiple"])
    limit = multiple * float(threshold)
    income = float(r.income_per_person)
    met = round(income, ROUND) >= round(limit, ROUND)
    op = "≥" if met else "<"
    if multiple == 1:
        lim_th = f"เกณฑ์ {_money(limit)}"
        lim_en = f"threshold {_money(limit)}"
    else:
        lim_th = f"เกณฑ์ {_money(limit)} ({multiple:g} × {_money(float(threshold))})"
        lim_en = f"threshold {_money(limit)} ({multiple:g} × {_money(float(threshold))})"
    return Check(
        cid,
        met,
        f"รายได้ {_money(income)} บาท/คน/ปี {op} {lim_th} (รอบ {rn})",
        f"income {_money(income)} baht per person per year {op} {lim_en} (round {rn})",
    )


def _deprivation(r: RoundResult, rn: int, params: Mapping[str, Any], cid: str) -> Check:
    codes = list(params["indicators"])
    hits = [c for c in codes if c in r.deprived]
    if hits:
        listed = ", ".join(hits)
        return Check(cid, False, f"ขาดแคลน: {listed} ในรอบ {rn}", f"deprived: {listed} in {rn}")
    listed = ", ".join(codes)
    return Check(
        cid,
        True,
        f"ไม่ขาดแคลนตัวชี้วัดสำคัญ ({listed}) ในรอบ {rn}",
        f"no critical indicator ({listed}) deprived in {rn}",
    )


def _target_poor(r: RoundResult, rn: int, cid: str) -> Check:
    if r.target_poor:
        return Check(cid, False, f"เป็นคนจนเป้าหมาย TPMAP ในรอบ {rn}", f"TPMAP target poor in {rn}")
    return Check(cid, True, f"ไม่เป็นคนจนเป้าหมาย TPMAP ในรอบ {rn}", f"not TPMAP target poor in {rn}")


def evaluate(history: Sequence[RoundResult], definition: Mapping[str, Any], thresholds: Mapping[str, float]) -> Verdict:
    """May the household be proposed for graduation? Every enabled criterion of
    ``definition`` is checked, in its order, against the household's ``history``;
    ``thresholds`` maps a round ("2568") to the BMN income threshold in baht per person per
    year. Raises :class:`CriteriaError` on a bad definition."""
    check(definition)
    rounds = latest_per_round(history)
    if not rounds:
        return Verdict(
            False,
            (
                Check(
                    "history",
                    False,
                    "ไม่มีผลการประเมินของครัวเรือน จึงพิจารณานำออกไม่ได้",
                    "no assessment results for the household, so it cannot be considered",
                ),
            ),
        )
    latest = max(rounds)
    last = rounds[latest]
    checks: list[Check] = []
    for c in definition["criteria"]:
        if c.get("enabled", True) is False:
            continue
        typ, cid, params = c["type"], c["id"], c["params"]
        if typ == "consecutive_rounds":
            checks.append(_consecutive(rounds, latest, params, cid))
        elif typ == "income":
            checks.append(_income(last, latest, thresholds, params, cid))
        elif typ == "no_critical_deprivation":
            checks.append(_deprivation(last, latest, params, cid))
        elif typ == "not_target_poor":
            checks.append(_target_poor(last, latest, cid))
    return Verdict(all(c.met for c in checks), tuple(checks), str(latest))


# --------------------------------------------------------------------------- after graduation


def follow_months(definition: Mapping[str, Any]) -> int:
    check(definition)
    return int(definition["follow_up"]["params"]["months"])


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def follow_until(graduated_on: datetime.date, definition: Mapping[str, Any]) -> datetime.date:
    """The last day a household graduated on ``graduated_on`` is followed."""
    return add_months(graduated_on, follow_months(definition))


def fell_back(after: Sequence[RoundResult], definition: Mapping[str, Any]) -> Check | None:
    """The first round (in round order) among results after graduation whose counting result
    (the latest by ``assessed_on``, as in :func:`evaluate`) meets the fall-back rule, as a
    met ``fall_back`` check that names the round, the level and the date; None if none does.
    The caller passes only results of rounds after graduation."""
    check(definition)
    fb = definition["fall_back"]
    max_level = fb["params"]["max_level"]
    on_target = fb["params"]["target_poor"]
    for rn, r in latest_per_round(after).items():
        th: list[str] = []
        en: list[str] = []
        if max_level is not None and r.level is not None and r.level <= max_level:
            th.append(f"ระดับ {r.level} ในรอบ {rn} (ระดับยากจนคือระดับ {max_level} ลงไป)")
            en.append(f"level {r.level} in {rn} (poor levels are {max_level} and below)")
        if on_target and r.target_poor:
            th.append(f"เป็นคนจนเป้าหมาย TPMAP ในรอบ {rn}")
            en.append(f"TPMAP target poor in {rn}")
        if th:
            when_th = f" ประเมินเมื่อ {r.assessed_on.isoformat()}" if r.assessed_on else ""
            when_en = f", assessed on {r.assessed_on.isoformat()}" if r.assessed_on else ""
            return Check(
                fb["id"],
                True,
                "กลับเข้าบัญชีคนจน: " + " และ".join(th) + when_th,
                "back on the list: " + " and ".join(en) + when_en,
            )
    return None
