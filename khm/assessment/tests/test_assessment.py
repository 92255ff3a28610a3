"""Assessments end to end: the desk form, scoring runs, versioned instruments, reproducibility,
the area page and Local Data Ownership. Expected numbers are worked by hand in comments."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from khm.assessment import instruments as inst
from khm.assessment import selectors, services
from khm.assessment.models import Assessment, AssessmentResult, ImmutableError, Instrument, ScoringRun
from khm.engines import scoring

pytestmark = pytest.mark.django_db

# A fully answered questionnaire where every item takes its lowest option except the ones
# listed. Human: education primary 1/4, literacy all 2/2, health healthy 3/3, skills farming
# 3/3, work some 2/3, income 1,500 → band 1/3, welfare receiving 2/2 → 14/20 = 70 % → 1 + 0.7×3 = 3.1.
HUMAN = {"h_education": "primary", "h_literacy": "all", "h_health": "healthy", "h_skills": ["farming"],
         "h_work": "some", "h_income_month": 1500, "h_welfare": "receiving"}  # fmt: skip
# Physical: tenure own land 3/3, condition poor 0/3, hygiene toilet 1/4, electricity own 3/3,
# water partly 1/3, phone none 0/3, road dirt 1/3, digital no 0/3 → 9/25 = 36 % → 2.08.
PHYSICAL = {"p_tenure": "own_house_land", "p_house_condition": "poor", "p_hygiene": ["toilet"],
            "p_electricity": "own_meter", "p_water": "partly", "p_phone": "none", "p_road": "dirt", "p_digital": "no"}  # fmt: skip
# Financial: income/person 25,000 → 1/3, balance even 2/3, savings none 0/3, debt manageable
# 2/3, assets livestock 1/3, credit village fund 3/3 → 9/18 = 50 % → 2.5.
FINANCIAL = {"f_income_year": 25000, "f_balance": "even", "f_savings": "none", "f_debt": "manageable",
             "f_assets": ["livestock"], "f_credit": ["village_fund"]}  # fmt: skip
# Natural: land title 3/3, water rain 1/3, problems drought → 3−1 = 2/3, food some 2/3, income
# none 0/3, disaster sometimes 1/2 → 9/17 = 52.941176 % → 2.588235.
NATURAL = {"n_land": "title", "n_farm_water": "rain", "n_land_problems": ["drought"], "n_food": "some",
           "n_income": "none", "n_disaster": "sometimes"}  # fmt: skip
# Social: groups village fund + savings 2/3, activities sometimes 2/3, help yes 3/3, welfare
# fund no 0/3, leadership member 2/3 → 9/15 = 60 % → 2.8.
SOCIAL = {"s_groups": ["village_fund", "savings"], "s_activities": "sometimes", "s_mutual_help": "yes",
          "s_welfare_fund": "no", "s_leadership": "member"}  # fmt: skip
# Overall = (3.1 + 2.08 + 2.5 + 2.588235 + 2.8) / 5 = 13.068235 / 5 = 2.613647 → level 3 (อยู่พอได้).
# Physical 2.08 is level 2, and the default rule allows one step above it: level 3 stands.
# With no fixed home (p_tenure 0/3) physical is 6/25 = 24 % → 1.72 < 1.75: the overall
# (3.1 + 1.72 + 2.5 + 2.588235 + 2.8) / 5 = 2.541647 is still level 3, but the rule holds it at 2.
NO_HOME = {"p_tenure": "none"}


def answers() -> dict[str, Any]:
    return {**HUMAN, **PHYSICAL, **FINANCIAL, **NATURAL, **SOCIAL}


def bmn_answers(bmn: dict[str, Any], fail: set[str] = frozenset()) -> dict[str, str]:  # type: ignore[assignment]
    return {
        i["code"]: ("fail" if i["code"] in fail else "pass")
        for i in bmn["indicators"]
        if i["level"] == "household" and i["code"] != "bmn22"
    }


def person_answers(bmn: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Every person-level indicator that applies to a member, answered "pass"."""
    return {
        m["key"]: {i["code"]: "pass" for i in bmn["indicators"] if i["level"] == "person" and scoring.applies(i, m)}
        for m in members
    }


def data_for(
    household: Any,
    *,
    fail: set[str] = frozenset(),
    income: int = 100000,
    card: bool = True,
    extra: dict[str, Any] | None = None,  # type: ignore[assignment]
) -> dict[str, Any]:
    bmn = inst.definition(inst.current_of_kind("bmn"))
    assert bmn is not None
    members = services.roster(household, dt.date(2025, 6, 1))
    for m in members:
        m["welfare_card"] = card
    return {
        "members": members,
        "capitals": {**answers(), **(extra or {})},
        "bmn": {"household": bmn_answers(bmn, fail), "persons": person_answers(bmn, members)},
        "income": {"main": income, "secondary": 0, "other": 0, "home_produce": 0},
    }


def record(cast: Any, household: Any = None, *, round: str = "2568", **kw: Any) -> Assessment:
    household = household or cast.household
    return services.assessment_record(
        actor=cast.ploy if household == cast.household else cast.somchai,
        household=household,
        round=round,
        assessed_on=dt.date(2025, 6, 1),
        data=data_for(household, **kw),
    )


def test_recording_scores_at_once_with_hand_worked_levels(cast):
    a = record(cast)
    r = AssessmentResult.objects.get(assessment=a, current=True)
    assert r.human == pytest.approx(3.1)
    assert r.physical == pytest.approx(2.08)
    assert r.financial == pytest.approx(2.5)
    assert r.natural == pytest.approx(2.588235)
    assert r.social == pytest.approx(2.8)
    assert r.overall == pytest.approx(2.613647)
    assert r.level == 3 and r.detail["capped_by"] is None
    capped = record(cast, extra=NO_HOME).results.get(current=True)
    assert capped.physical == pytest.approx(1.72) and capped.overall == pytest.approx(2.541647)
    assert capped.level == 2 and capped.detail["capped_by"] == "physical"
    # Two members, 100,000 baht → 50,000 per person ≥ 38,000: bmn22 passes; nothing fails.
    assert r.tpmap_poor is False and r.target_poor is False and r.deprived_bits == 0
    assert r.run.capitals_instrument.code == "five-capitals" and r.run.code_version.startswith("khm ")


def test_deprivations_make_tpmap_target_poor_and_needs(cast):
    # bmn08 (housing) fails; 2 members and 60,000 baht → 30,000 < 38,000 → bmn22 fails too.
    a = record(cast, fail={"bmn08"}, income=60000, card=True)
    r = a.results.get(current=True)
    assert r.tpmap_poor and r.target_poor
    assert r.detail["bmn"]["deprived"] == ["bmn08", "bmn22"]
    assert r.detail["dimensions_failed"] == ["income", "living"]
    assert {"housing_repair", "income_support"} <= set(r.needs)
    # The same household without the welfare card: poor by TPMAP's indicators, not target poor.
    b = record(cast, fail={"bmn08"}, income=60000, card=False)
    rb = b.results.get(current=True)
    assert rb.tpmap_poor and not rb.target_poor
    assert "welfare_card" in rb.needs  # income below the line and an adult without the card


def test_bad_answers_are_named_in_thai_and_english_and_nothing_is_written(cast):
    data = data_for(cast.household)
    data["capitals"]["p_tenure"] = "castle"
    data["income"]["main"] = -5
    with pytest.raises(services.AssessmentInvalid) as exc:
        services.assessment_record(
            actor=cast.ploy, household=cast.household, round="68", assessed_on=dt.date(2025, 6, 1), data=data
        )
    paths = {p.path: p for p in exc.value.problems}
    assert {"round", "capitals.p_tenure", "income.main"} <= set(paths)
    assert "ไม่ใช่ตัวเลือก" in paths["capitals.p_tenure"].th and "not one of the options" in paths["capitals.p_tenure"].en
    assert Assessment.objects.count() == 0 and ScoringRun.objects.count() == 0


def test_desk_form_records_and_the_household_page_shows_pentagon_level_and_needs(cast):
    c = Client()
    c.force_login(cast.ploy)
    url = f"/assessment/households/{cast.household.code}/new/"
    page = c.get(url).content.decode()
    assert "ทุนกายภาพ" in page and "สภาพบ้าน" in page and "ถือบัตรสวัสดิการแห่งรัฐ" in page
    post: dict[str, Any] = {"round": "2568", "assessed_on": "1/6/2568"}
    for k, v in answers().items():
        post[f"cap__{k}"] = v
    bmn = inst.definition(inst.current_of_kind("bmn"))
    assert bmn is not None
    for code, v in bmn_answers(bmn, {"bmn08"}).items():
        post[f"bmn__{code}"] = v
    post["inc__main"] = "30000"
    post[f"card__{cast.head.ref}"] = "on"
    r = c.post(url, post)
    assert r.status_code == 302, r.content.decode()[:3000]
    a = Assessment.objects.get()
    assert a.assessed_on == dt.date(2025, 6, 1) and a.method == "desk"
    page = c.get(f"/households/{cast.household.code}/").content.decode()
    assert "<svg" in page and "อยู่พอได้" in page  # level 3
    assert "ซ่อมแซมที่อยู่อาศัย" in page  # housing repair, from bmn08
    assert "องค์กรปกครองส่วนท้องถิ่น" in page  # the agency type that usually helps


def test_desk_form_shows_the_error_on_the_question(cast):
    c = Client()
    c.force_login(cast.ploy)
    r = c.post(
        f"/assessment/households/{cast.household.code}/new/",
        {"round": "2568", "assessed_on": "1/6/2568", "inc__main": "-1"},
    )
    assert r.status_code == 200
    assert Assessment.objects.count() == 0
    assert "has-error" in r.content.decode()


def test_new_instrument_version_keeps_old_runs_reproducible(cast, django_user_model):
    a = record(cast, extra=NO_HOME)
    first = a.results.get(current=True).run
    assert a.results.get(current=True).level == 2
    # The province admin drops the physical-capital caps in a new version.
    old = inst.current("five-capitals")
    assert old is not None
    d = copy.deepcopy(old.definition)
    d["level_rule"] = {"basis": "overall"}
    v2 = services.instrument_save_version(actor=cast.admin, code="five-capitals", definition=d, note="no caps")
    assert v2.version == 2 and Instrument.objects.get(pk=old.pk).definition["level_rule"]["caps"]
    with pytest.raises(ImmutableError):
        old.note = "changed"
        old.save()
    new_run = services.scoring_run_start(actor=cast.admin, area_code="46", round="2568")
    assert new_run.capitals_instrument == v2 and new_run.n_assessments == 1
    current = a.results.get(current=True)
    assert current.run == new_run and current.level == 3  # 2.541647 ≥ 2.5 without the cap
    # The old run is still there, unchanged, and re-running it gives the identical result.
    assert AssessmentResult.objects.get(run=first).level == 2
    again = services.scoring_run_rerun(actor=cast.admin, run=first)
    assert again.reproduced is True and again.outputs_hash == first.outputs_hash
    assert again.capitals_instrument == old
    assert a.results.get(current=True).run == new_run  # a re-run never becomes current


def test_instrument_editor_names_the_wrong_field(cast):
    c = Client()
    c.force_login(cast.admin)
    old = inst.current("five-capitals")
    assert old is not None
    d = copy.deepcopy(old.definition)
    d["levels"][2]["from"] = 1.0  # cut points no longer rise
    r = c.post("/assessment/instruments/five-capitals/edit/", {"definition": json.dumps(d), "note": "oops"})
    body = r.content.decode()
    assert r.status_code == 200 and "levels[2].from" in body and "เกณฑ์ต้องเรียงจากน้อยไปมาก" in body
    assert Instrument.objects.filter(code="five-capitals").count() == 1
    c.force_login(cast.ploy)  # a local officer may not edit instruments
    assert c.get("/assessment/instruments/five-capitals/edit/").status_code == 403


def test_scoping_of_assessments_pages_and_api(cast):
    record(cast)
    record(cast, cast.other_household)
    c = Client()
    c.force_login(cast.somchai)
    assert c.get(f"/assessment/households/{cast.household.code}/new/").status_code == 404
    assert c.get(f"/api/v1/households/{cast.household.code}/assessments").status_code in (401, 403, 404)
    assert c.get("/assessment/areas/4601/").status_code == 404
    assert c.get("/assessment/areas/4605/").status_code == 200
    summary = selectors.area_summary(cast.somchai, "46", "2568")
    assert summary.n == 1  # only Somchai's own household is counted
    # The analyst sees the province's aggregates but no household.
    c.force_login(cast.analyst)
    page = c.get("/assessment/areas/46/")
    assert page.status_code == 200 and "บุญมี" not in page.content.decode()
    assert c.get(f"/households/{cast.household.code}/").status_code in (403, 404)
    assert selectors.area_summary(cast.analyst, "46", "2568").n == 2
    # The agency worker sees no assessment at all.
    c.force_login(cast.agency)
    assert c.get("/assessment/areas/46/").status_code == 403


def test_area_page_shows_levels_mpi_and_exports(cast):
    record(cast, fail={"bmn08", "bmn09", "bmn10", "bmn11"}, income=60000)  # living 0.2 + income 1/15 ≥ 1/3? no: 0.2667
    record(cast, cast.other_household, fail={"bmn08", "bmn09", "bmn10", "bmn11", "bmn04", "bmn05"})  # 0.2 + 0.1 = 0.3
    c = Client()
    c.force_login(cast.admin)
    page = c.get("/assessment/areas/46/").content.decode()
    assert "อยู่พอได้" in page and "M0" in page
    s = selectors.area_summary(cast.admin, "46", "2568")
    # Neither household reaches k = 1/3 (0.2667 and 0.30): H = 0 and M0 = 0.
    assert s.mpi is not None and s.mpi["overall"]["H"] == 0 and s.mpi["overall"]["M0"] == 0
    # bmn08 fails in both households: an uncensored headcount of 100 %.
    assert s.mpi["overall"]["uncensored_headcount"]["bmn08"] == 1.0
    x = c.get("/assessment/areas/46/export.csv", {"round": "2568"})
    assert x.status_code == 200 and "4601" in x.content.decode("utf-8-sig")
    x = c.get("/assessment/areas/46/export.xlsx", {"round": "2568"})
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_mpi_by_area_decomposes_to_the_total(cast):
    # Ploy's household: living (0.2) + access bmn27 (0.1) + health bmn04 (0.05) = 0.35 ≥ 1/3 → poor.
    data = data_for(cast.household, fail={"bmn08", "bmn09", "bmn10", "bmn11", "bmn04"})
    for m in data["members"]:
        if (m["age"] or 0) >= 60:
            data["bmn"]["persons"][m["key"]]["bmn27"] = "fail"
    services.assessment_record(
        actor=cast.ploy, household=cast.household, round="2568", assessed_on=dt.date(2025, 6, 1), data=data
    )
    record(cast, cast.other_household)
    s = selectors.area_summary(cast.admin, "46", "2568")
    assert s.mpi is not None
    overall = s.mpi["overall"]
    assert overall["H"] == pytest.approx(0.5) and overall["A"] == pytest.approx(0.35)
    assert overall["M0"] == pytest.approx(0.175)
    by = s.mpi["by"]["child"]
    total = sum(m["population_share"] * m["M0"] for m in by.values())
    assert total == pytest.approx(overall["M0"])


def test_level_transitions_between_rounds(cast):
    record(cast, round="2567", extra=NO_HOME)  # level 2 (held back by physical capital)
    record(cast, round="2568")  # the household has a home now: level 3
    t = selectors.level_transitions(cast.admin, "46", "2567", "2568")
    assert t["n"] == 1 and t["up"] == 1 and t["matrix"][1][2] == 1


def test_a_second_assessment_in_the_same_round_replaces_the_first(cast):
    first = record(cast, extra=NO_HOME)
    second = record(cast)
    first.refresh_from_db()
    assert first.superseded_by == second
    assert not first.results.filter(current=True).exists()
    s = selectors.area_summary(cast.admin, "46", "2568")
    assert s.n == 1 and s.levels[3] == 1  # counted once, with the newer answers
    with pytest.raises(ImmutableError):
        second.round = "2567"
        second.save()


def test_a_needs_rule_must_name_real_questions_and_indicators(cast):
    cur = inst.current("needs")
    assert cur is not None
    d = copy.deepcopy(cur.definition)
    d["rules"][0]["when"] = {"any": [{"bmn": "bmn8"}, {"item": "p_house_condition", "in": ["ruined"]}]}
    with pytest.raises(services.AssessmentInvalid) as exc:
        services.instrument_save_version(actor=cast.admin, code="needs", definition=d, note="typo")
    paths = {p.path for p in exc.value.problems}
    assert paths == {"rules[0].when.any[0].bmn", "rules[0].when.any[1].in"}
    # A questionnaire version that drops a question the needs table uses is refused too.
    cap = inst.current("five-capitals")
    assert cap is not None
    d2 = copy.deepcopy(cap.definition)
    physical = next(c for c in d2["capitals"] if c["code"] == "physical")
    physical["items"] = [i for i in physical["items"] if i["code"] != "p_tenure"]
    with pytest.raises(services.AssessmentInvalid) as exc:
        services.instrument_save_version(actor=cast.admin, code="five-capitals", definition=d2, note="drop tenure")
    assert any("p_tenure" in p.en and "ยังใช้อยู่" in p.th for p in exc.value.problems)
