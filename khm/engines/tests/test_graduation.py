"""Graduation criteria (khm.engines.graduation) against the shipped default
khm/forums/criteria/graduation.v1.json.

Histories are built by hand; every expected outcome and every figure in an explanation is
written out below, never computed by the code under test. Thresholds are the BMN
instrument's (38,000 baht for 2565, 40,000 for 2566–2570).
"""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from khm.engines.graduation import (
    Check,
    CriteriaError,
    RoundResult,
    deprived_codes,
    evaluate,
    fell_back,
    follow_until,
    latest_per_round,
    validate,
)

ROOT = Path(__file__).parents[2]
DEFAULT: dict[str, Any] = json.loads((ROOT / "forums" / "criteria" / "graduation.v1.json").read_text(encoding="utf-8"))
BMN: dict[str, Any] = json.loads((ROOT / "assessment" / "instruments" / "bmn-2560.v1.json").read_text(encoding="utf-8"))
BMN_CODES = [i["code"] for i in BMN["indicators"]]
THRESHOLDS = {"2565": 38000.0, "2566": 40000.0, "2567": 40000.0, "2568": 40000.0, "2569": 40000.0}
D = datetime.date


def rr(
    round: str,
    level: int | None,
    income: float | None = 52000,
    deprived: tuple[str, ...] = (),
    target_poor: bool = False,
    on: datetime.date | None = None,
) -> RoundResult:
    return RoundResult(round, level, income, frozenset(deprived), target_poor, on)


def by_id(verdict: Any) -> dict[str, Check]:
    return {c.criterion: c for c in verdict.checks}


def definition(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(DEFAULT)
    for path, value in changes.items():
        *head, last = path.split("__")
        obj: Any = d
        for k in head:
            obj = obj[int(k)] if k.isdigit() else obj[k]
        obj[int(last) if last.isdigit() else last] = value
    return d


def paths(problems: list[Any]) -> list[str]:
    return [p.path for p in problems]


# --------------------------------------------------------------------------- the default file


def test_default_is_valid_against_the_bmn_instrument() -> None:
    assert validate(DEFAULT, BMN_CODES) == []


def test_default_values() -> None:
    crit = {c["id"]: c for c in DEFAULT["criteria"]}
    assert list(crit) == ["consecutive_rounds", "income", "no_critical_deprivation", "not_target_poor"]
    assert crit["consecutive_rounds"]["params"] == {"rounds": 2, "min_level": 3}
    assert crit["income"]["params"] == {"multiple": 1}
    assert crit["no_critical_deprivation"]["params"]["indicators"] == [
        "bmn04",
        "bmn08",
        "bmn09",
        "bmn10",
        "bmn16",
        "bmn20",
    ]
    assert crit["not_target_poor"]["enabled"] is True
    assert DEFAULT["follow_up"]["params"] == {"months": 24}
    assert DEFAULT["fall_back"]["params"] == {"max_level": 2, "target_poor": True}
    assert DEFAULT["combine"] == "all"


# --------------------------------------------------------------------------- evaluate


def test_two_consecutive_rounds_with_income_and_no_deprivation_is_eligible() -> None:
    v = evaluate([rr("2567", 3, 45000), rr("2568", 4, 52000, deprived=("bmn23", "bmn24"))], DEFAULT, THRESHOLDS)
    assert v.eligible is True
    assert v.round == "2568"
    assert [c.criterion for c in v.checks] == [
        "consecutive_rounds",
        "income",
        "no_critical_deprivation",
        "not_target_poor",
    ]
    assert all(c.met for c in v.checks)
    c = by_id(v)
    assert c["consecutive_rounds"].th.startswith("ระดับ 3 ในรอบ 2567 และระดับ 4 ในรอบ 2568")
    assert c["consecutive_rounds"].en.startswith("level 3 in 2567 and level 4 in 2568")
    assert "รายได้ 52,000 บาท/คน/ปี ≥ เกณฑ์ 40,000" in c["income"].th
    assert "income 52,000 baht per person per year ≥ threshold 40,000" in c["income"].en
    assert "2568" in c["no_critical_deprivation"].en
    assert c["not_target_poor"].en == "not TPMAP target poor in 2568"


def test_unordered_history_is_sorted_by_round() -> None:
    v = evaluate([rr("2568", 4), rr("2566", 1), rr("2567", 3)], DEFAULT, THRESHOLDS)
    assert v.eligible is True
    assert by_id(v)["consecutive_rounds"].en.startswith("level 3 in 2567 and level 4 in 2568")


def test_one_round_only_is_not_eligible() -> None:
    v = evaluate([rr("2568", 4)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["consecutive_rounds"]
    assert c.met is False
    assert c.en == "no assessment in 2567 and level 4 in 2568 (needs level 3 or above in 2 consecutive rounds)"
    assert c.th.startswith("ไม่มีผลการประเมินในรอบ 2567 และระดับ 4 ในรอบ 2568")
    # the other criteria still say how they stand
    assert by_id(v)["income"].met is True


def test_a_gap_between_rounds_breaks_the_run() -> None:
    v = evaluate([rr("2566", 4), rr("2568", 4)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["consecutive_rounds"]
    assert c.met is False
    assert c.en.startswith("no assessment in 2567 and level 4 in 2568")


def test_level_2_in_the_latest_round_is_not_eligible() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 2)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["consecutive_rounds"]
    assert c.met is False
    assert c.en.startswith("level 3 in 2567 and level 2 in 2568")


def test_a_round_without_a_level_is_not_met() -> None:
    v = evaluate([rr("2567", None), rr("2568", 4)], DEFAULT, THRESHOLDS)
    c = by_id(v)["consecutive_rounds"]
    assert (v.eligible, c.met) == (False, False)
    assert c.en.startswith("no level in 2567 and level 4 in 2568")


def test_three_rounds_when_configured() -> None:
    d = definition(criteria__0__params={"rounds": 3, "min_level": 3})
    ok = evaluate([rr("2566", 3), rr("2567", 3), rr("2568", 4)], d, THRESHOLDS)
    assert ok.eligible is True
    assert by_id(ok)["consecutive_rounds"].th.startswith("ระดับ 3 ในรอบ 2566, ระดับ 3 ในรอบ 2567 และระดับ 4 ในรอบ 2568")
    assert evaluate([rr("2567", 3), rr("2568", 4)], d, THRESHOLDS).eligible is False


def test_income_below_the_threshold_is_not_eligible() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 4, 39999.5)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["income"]
    assert c.met is False
    assert c.th == "รายได้ 39,999.50 บาท/คน/ปี < เกณฑ์ 40,000 (รอบ 2568)"
    assert c.en == "income 39,999.50 baht per person per year < threshold 40,000 (round 2568)"


def test_income_exactly_at_the_threshold_is_met() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 3, 40000)], DEFAULT, THRESHOLDS)
    assert v.eligible is True
    assert by_id(v)["income"].en.startswith("income 40,000 baht per person per year ≥ threshold 40,000")


def test_income_uses_the_latest_rounds_threshold() -> None:
    # 39,000 passes 2565's 38,000 but not 2566's 40,000
    assert evaluate([rr("2564", 3), rr("2565", 3, 39000)], DEFAULT, THRESHOLDS).eligible is True
    v = evaluate([rr("2565", 3), rr("2566", 3, 39000)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    assert "< threshold 40,000" in by_id(v)["income"].en


def test_income_multiple() -> None:
    d = definition(criteria__1__params={"multiple": 1.2})
    v = evaluate([rr("2567", 3), rr("2568", 4, 45000)], d, THRESHOLDS)
    assert v.eligible is False
    assert (
        by_id(v)["income"].en == "income 45,000 baht per person per year < threshold 48,000 (1.2 × 40,000) (round 2568)"
    )


def test_missing_income_is_not_met_and_says_so() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 4, None)], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["income"]
    assert c.met is False
    assert c.en == "no income recorded in 2568, so not met"
    assert c.th == "ไม่มีข้อมูลรายได้ในรอบ 2568 จึงถือว่าไม่ผ่าน"


def test_missing_threshold_is_not_met() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 4)], DEFAULT, {"2567": 40000})
    c = by_id(v)["income"]
    assert (v.eligible, c.met) == (False, False)
    assert c.en == "no income threshold for 2568, so not met"


def test_a_critical_deprivation_is_not_eligible() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 4, deprived=("bmn23", "bmn09", "bmn04"))], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["no_critical_deprivation"]
    assert c.met is False
    # in the order of the criteria's list; bmn23 (savings) is not critical
    assert c.th == "ขาดแคลน: bmn04, bmn09 ในรอบ 2568"
    assert c.en == "deprived: bmn04, bmn09 in 2568"


def test_a_deprivation_in_an_earlier_round_does_not_count() -> None:
    v = evaluate([rr("2567", 3, deprived=("bmn08",)), rr("2568", 4)], DEFAULT, THRESHOLDS)
    assert v.eligible is True


def test_target_poor_is_not_eligible_unless_switched_off() -> None:
    history = [rr("2567", 3), rr("2568", 4, target_poor=True)]
    v = evaluate(history, DEFAULT, THRESHOLDS)
    assert v.eligible is False
    c = by_id(v)["not_target_poor"]
    assert (c.met, c.en, c.th) == (False, "TPMAP target poor in 2568", "เป็นคนจนเป้าหมาย TPMAP ในรอบ 2568")
    off = evaluate(history, definition(criteria__3__enabled=False), THRESHOLDS)
    assert off.eligible is True
    assert "not_target_poor" not in by_id(off)


def test_duplicates_within_a_round_the_latest_counts() -> None:
    history = [
        rr("2568", 4, on=D(2025, 3, 1)),
        rr("2567", 3, on=D(2024, 3, 1)),
        rr("2568", 2, 30000, on=D(2025, 1, 10)),
    ]
    v = evaluate(history, DEFAULT, THRESHOLDS)
    assert v.eligible is True
    assert by_id(v)["consecutive_rounds"].en.startswith("level 3 in 2567 and level 4 in 2568")
    # the other way round: the later re-assessment is poor
    history[0], history[2] = rr("2568", 4, on=D(2025, 1, 10)), rr("2568", 2, 30000, on=D(2025, 3, 1))
    v = evaluate(history, DEFAULT, THRESHOLDS)
    assert v.eligible is False
    assert by_id(v)["consecutive_rounds"].en.startswith("level 3 in 2567 and level 2 in 2568")
    assert by_id(v)["income"].en.startswith("income 30,000 baht per person per year < threshold 40,000")


def test_latest_per_round_undated_is_oldest_and_ties_go_to_the_last_given() -> None:
    a, b, c = rr("2568", 2), rr("2568", 3, on=D(2025, 1, 1)), rr("2568", 4, on=D(2025, 1, 1))
    assert latest_per_round([b, a])[2568] is b
    assert latest_per_round([b, c])[2568] is c
    assert latest_per_round([a, rr("2568", 3)])[2568].level == 3
    assert list(latest_per_round([rr("2568", 3), rr("2566", 3)])) == [2566, 2568]


def test_no_history_is_not_eligible() -> None:
    v = evaluate([], DEFAULT, THRESHOLDS)
    assert v.eligible is False
    assert v.round is None
    assert len(v.checks) == 1
    assert v.checks[0].criterion == "history"
    assert v.checks[0].met is False
    assert "no assessment results" in v.checks[0].en


def test_a_round_that_is_not_a_year_is_refused() -> None:
    with pytest.raises(ValueError, match="Buddhist-Era year"):
        evaluate([rr("last year", 3)], DEFAULT, THRESHOLDS)


def test_evaluate_refuses_a_bad_definition() -> None:
    with pytest.raises(CriteriaError) as e:
        evaluate([rr("2568", 4)], definition(criteria__0__params={"rounds": 0, "min_level": 3}), THRESHOLDS)
    assert paths(e.value.problems) == ["criteria[0].params.rounds"]


def test_verdict_as_dict() -> None:
    v = evaluate([rr("2567", 3), rr("2568", 4)], DEFAULT, THRESHOLDS)
    d = v.as_dict()
    assert d["eligible"] is True
    assert d["round"] == "2568"
    assert d["checks"][0]["criterion"] == "consecutive_rounds"
    assert json.dumps(d, ensure_ascii=False)


def test_deprived_codes_from_bits() -> None:
    # bit 3 = 4th indicator (bmn04), bit 8 = 9th (bmn09)
    assert deprived_codes((1 << 3) | (1 << 8), BMN_CODES) == frozenset({"bmn04", "bmn09"})
    assert deprived_codes(0, BMN_CODES) == frozenset()


# --------------------------------------------------------------------------- validate


def test_validate_rounds_zero() -> None:
    problems = validate(definition(criteria__0__params={"rounds": 0, "min_level": 3}))
    assert paths(problems) == ["criteria[0].params.rounds"]
    assert "1–10" in problems[0].en and problems[0].th


def test_validate_unknown_criterion_type() -> None:
    problems = validate(definition(criteria__2__type="no_critical_stuff"))
    assert paths(problems) == ["criteria[2].type"]
    assert "unknown criterion type 'no_critical_stuff'" in problems[0].en
    assert "ไม่รู้จักชนิดเกณฑ์" in problems[0].th


def test_validate_unknown_indicator_code() -> None:
    d = definition(criteria__2__params={"indicators": ["bmn04", "bmn99", "bmn04"]})
    assert paths(validate(d)) == ["criteria[2].params.indicators[2]"]  # the duplicate
    problems = validate(d, BMN_CODES)
    assert paths(problems) == ["criteria[2].params.indicators[1]", "criteria[2].params.indicators[2]"]
    assert "unknown BMN indicator 'bmn99'" in problems[0].en


def test_validate_missing_labels() -> None:
    d = definition(criteria__1__label={"th": "รายได้"}, follow_up__label=None)
    del d["title"]
    problems = validate(d)
    assert paths(problems) == ["title", "criteria[1].label", "follow_up.label"]
    assert all(p.th and p.en for p in problems)


def test_validate_other_fields() -> None:
    d = definition(
        format="khm-graduation/9",
        combine="any",
        criteria__0__params={"rounds": 2, "min_level": 5, "gap": 1},
        criteria__1__params={"multiple": -1},
        criteria__2__params={"indicators": []},
        criteria__3__id="consecutive_rounds",
        criteria__3__enabled="yes",
        follow_up__params={"months": 0},
        fall_back__params={"max_level": None, "target_poor": False},
    )
    assert paths(validate(d)) == [
        "format",
        "combine",
        "criteria[0].params.gap",
        "criteria[0].params.min_level",
        "criteria[1].params.multiple",
        "criteria[2].params.indicators",
        "criteria[3].id",
        "criteria[3].enabled",
        "follow_up.params.months",
        "fall_back.params",
    ]


def test_validate_missing_parts() -> None:
    assert paths(validate([])) == [""]
    d = copy.deepcopy(DEFAULT)
    for k in ("criteria", "follow_up", "fall_back", "provenance"):
        del d[k]
    del d["version"]
    assert paths(validate(d)) == ["version", "provenance", "criteria", "follow_up", "fall_back"]
    d = definition(criteria__0__params={"min_level": 3})
    assert paths(validate(d)) == ["criteria[0].params.rounds"]


def test_validate_all_criteria_switched_off() -> None:
    d = copy.deepcopy(DEFAULT)
    for c in d["criteria"]:
        c["enabled"] = False
    assert paths(validate(d)) == ["criteria"]


# --------------------------------------------------------------------------- follow-up and fall back


def test_follow_until_default_24_months() -> None:
    assert follow_until(D(2025, 6, 15), DEFAULT) == D(2027, 6, 15)


def test_follow_until_clamps_to_the_end_of_the_month() -> None:
    one = definition(follow_up__params={"months": 1})
    assert follow_until(D(2025, 1, 31), one) == D(2025, 2, 28)
    assert follow_until(D(2024, 1, 31), one) == D(2024, 2, 29)
    assert follow_until(D(2024, 12, 31), one) == D(2025, 1, 31)
    assert follow_until(D(2024, 2, 29), definition(follow_up__params={"months": 12})) == D(2025, 2, 28)


def test_fell_back_on_level_2_names_round_and_level() -> None:
    c = fell_back([rr("2569", 3, on=D(2026, 2, 1)), rr("2570", 2, on=D(2027, 2, 1))], DEFAULT)
    assert c is not None
    assert c.criterion == "fall_back"
    assert c.met is True
    assert c.en == "back on the list: level 2 in 2570 (poor levels are 2 and below), assessed on 2027-02-01"
    assert c.th.startswith("กลับเข้าบัญชีคนจน: ระดับ 2 ในรอบ 2570")


def test_fell_back_returns_the_first_round() -> None:
    c = fell_back([rr("2571", 1), rr("2570", 2)], DEFAULT)
    assert c is not None
    assert "level 2 in 2570" in c.en


def test_fell_back_on_target_poor_unless_switched_off() -> None:
    after = [rr("2569", 3, target_poor=True)]
    c = fell_back(after, DEFAULT)
    assert c is not None
    assert c.en == "back on the list: TPMAP target poor in 2569"
    assert fell_back(after, definition(fall_back__params={"max_level": 2, "target_poor": False})) is None


def test_level_3_after_graduation_does_not_fall_back() -> None:
    assert fell_back([rr("2569", 3), rr("2570", 4), rr("2571", None)], DEFAULT) is None
    assert fell_back([], DEFAULT) is None


def test_fell_back_latest_result_of_a_round_counts() -> None:
    after = [rr("2569", 2, on=D(2026, 1, 5)), rr("2569", 3, on=D(2026, 3, 5))]
    assert fell_back(after, DEFAULT) is None
