"""The livelihood engine on hand-built cases: who fits an enterprise's need and why, in which
order; income change against baseline, the > 20 % share and medians worked by hand; and the
comparison group (same subdistrict, else district; same level at the start; same periods)."""

from __future__ import annotations

import datetime as dt

import pytest

from khm.engines import matching as m

D = dt.date
VILLAGE = "46010101"
NEIGHBOUR = "46010102"  # same subdistrict 460101
OTHER_SUBDISTRICT = "46010201"  # same district 4601
OTHER_DISTRICT = "46050101"


def hh(key: str, area: str, *, level: int | None = 3, members: tuple[m.Member, ...] = (), **caps: float) -> m.Household:
    capitals = {"human": 2.0, "physical": 2.0, "financial": 2.0, "natural": 2.0, "social": 2.0, **caps}
    return m.Household(key=key, area_code=area, capitals=capitals, level=level, members=members)


IDLE = m.Member(age=30, occupation="unemployed")
NO_OCCUPATION = m.Member(age=45, occupation="")
ELDER = m.Member(age=70, occupation="elderly_dependent")
CHILD = m.Member(age=10, occupation="child")
CASUAL = m.Member(age=40, occupation="general_labourer")
FARMER = m.Member(age=50, occupation="farmer", education="primary")
STUDENT = m.Member(age=17, occupation="student", education="lower_secondary")

PROCESSING = m.Need(key="n1", kind="labour", stage="processing", area_code=VILLAGE, quantity=3)


def test_labour_for_processing_ranks_fitting_households_and_says_why():
    a = hh("A", VILLAGE, level=2, human=3.2, members=(IDLE, NO_OCCUPATION, ELDER, CHILD))
    b = hh("B", VILLAGE, level=1, human=2.4, members=(IDLE,))  # human capital below 2.5
    c = hh("C", NEIGHBOUR, level=3, human=2.5, members=(CASUAL,))  # exactly the minimum: fits
    d = hh("D", OTHER_DISTRICT, level=1, human=4.0, members=(IDLE, IDLE))  # not in the district
    e = hh("E", VILLAGE, level=1, human=3.0, members=(FARMER, STUDENT, ELDER))  # nobody available
    f = m.Household(key="F", area_code=VILLAGE, capitals={}, level=None, members=(IDLE,))  # never assessed
    found = m.suggest_households(PROCESSING, [f, e, d, c, b, a])
    assert [s.household for s in found] == ["A", "C"]
    first, second = found
    # A: capital margin min(3.2 − 2.5, 1) = 0.7; 2 people available; same village 3; level 2: +0.5.
    assert first.score == pytest.approx(0.7 + 2 + 3 + 0.5) and first.people == 2
    assert [r.en for r in first.reasons] == [
        "human capital 3.2 ≥ 2.5 needed for processing work",
        "2 members of working age with no job",
        "in the same village",
        "poverty level 2 (the poorest come first)",
    ]
    assert first.reasons[0].th == "ทุนมนุษย์ 3.2 ≥ 2.5 ที่ต้องการสำหรับงานแปรรูป"
    assert first.reasons[1].th == "สมาชิกวัยทำงานที่ไม่มีงานทำ 2 คน"
    # C: margin 0; one casual labourer; same subdistrict 2; level 3 gets no priority.
    assert second.score == pytest.approx(0 + 1 + 2)
    assert [r.en for r in second.reasons][1:] == ["1 casual labourer", "in the same subdistrict"]


def test_marketing_needs_more_human_and_social_capital():
    need = m.Need(key="n2", kind="labour", stage="marketing", area_code=VILLAGE)
    assert m.fit(hh("A", VILLAGE, human=3.2, social=2.0, members=(IDLE,)), need) is None
    s = m.fit(hh("A", VILLAGE, human=3.2, social=2.6, members=(IDLE,)), need)
    assert s is not None and [r.code for r in s.reasons] == ["human", "social", "people", "area"]


def test_raw_material_needs_land_and_a_farmer():
    need = m.Need(key="n3", kind="raw_material", stage="production", area_code=VILLAGE)
    assert m.fit(hh("A", OTHER_SUBDISTRICT, natural=2.5, physical=2.0, members=(FARMER,)), need) is not None
    assert m.fit(hh("A", VILLAGE, natural=3.0, physical=1.5, members=(FARMER,)), need) is None  # physical too low
    assert m.fit(hh("A", VILLAGE, natural=3.0, physical=3.0, members=(IDLE,)), need) is None  # nobody farms
    s = m.fit(hh("A", OTHER_SUBDISTRICT, natural=2.5, physical=2.0, members=(FARMER,)), need)
    assert s is not None and s.reasons[-1].en == "in the same district" and s.reasons[2].en == "1 member farming"


def test_skills_count_schooling_and_traders_only_for_marketing():
    production = m.Need(key="s1", kind="skills", stage="production", area_code=VILLAGE)
    marketing = m.Need(key="s2", kind="skills", stage="marketing", area_code=VILLAGE)
    trader = m.Member(age=35, occupation="trader", education="primary")
    schooled = m.Member(age=25, occupation="farmer", education="upper_secondary")
    assert m.fit(hh("T", VILLAGE, human=3.5, social=3.0, members=(trader,)), production) is None
    assert m.fit(hh("T", VILLAGE, human=3.5, social=3.0, members=(trader,)), marketing) is not None
    assert m.fit(hh("S", VILLAGE, human=3.0, members=(schooled,)), production) is not None
    assert m.fit(hh("S", VILLAGE, human=2.9, members=(schooled,)), production) is None


def test_ties_are_ordered_by_key_and_limit_applies():
    twins = [hh(k, VILLAGE, human=3.0, members=(IDLE,)) for k in ("Z", "B", "M")]
    assert [s.household for s in m.suggest_households(PROCESSING, twins)] == ["B", "M", "Z"]
    assert [s.household for s in m.suggest_households(PROCESSING, twins, limit=2)] == ["B", "M"]


def test_the_reverse_direction_lists_only_the_needs_a_household_fits():
    a = hh("A", VILLAGE, level=2, human=3.2, social=2.0, members=(IDLE, NO_OCCUPATION))
    needs = [
        m.Need(key="proc", kind="labour", stage="processing", area_code=NEIGHBOUR, label="กลุ่มทอผ้า"),
        m.Need(key="mkt", kind="labour", stage="marketing", area_code=VILLAGE),  # social 2.0 < 2.5
        m.Need(key="raw", kind="raw_material", stage="production", area_code=VILLAGE),  # no farmer
        m.Need(key="far", kind="labour", stage="production", area_code=OTHER_DISTRICT),  # not near
        m.Need(key="prod", kind="labour", stage="production", area_code=VILLAGE),
    ]
    found = m.suggest_enterprises(a, needs)
    # prod: min(3.2 − 2.0, 1) = 1 + 2 + 3 + 0.5 = 6.5; proc: 0.7 + 2 + 2 + 0.5 = 5.2.
    assert [(s.need, s.score) for s in found] == [("prod", 6.5), ("proc", 5.2)]


# --------------------------------------------------------------------------- impact

CUT = D(2025, 1, 1)
BASE = (D(2024, 1, 1), D(2024, 12, 31))  # 12 months
FOLLOW = (D(2025, 1, 1), D(2025, 6, 30))  # 6 months
EARLY = [(D(2024, 6, 1), 2)]  # assessed level 2 before the links


def unit(key: str, area: str, base: float | None, follow: float | None, *, cut: dt.date | None = CUT,
         levels: list[tuple[dt.date, int]] = EARLY, periods: tuple[tuple[dt.date, dt.date], ...] = (BASE, FOLLOW)) -> m.Unit:  # fmt: skip
    ps = [m.Period(*periods[0], base)] if base is not None else []
    ps += [m.Period(*periods[1], follow)] if follow is not None else []
    return m.Unit(key=key, area_code=area, levels=levels, periods=ps, cut=cut)


def linked() -> list[m.Unit]:
    return [
        unit("L1", VILLAGE, 36_000, 24_000),  # 3,000 → 4,000 a month: +1,000, +33.3 %
        unit("L2", VILLAGE, 48_000, 25_200),  # 4,000 → 4,200: +200, +5 %
        unit("L3", VILLAGE, 60_000, 36_000),  # 5,000 → 6,000: +1,000, +20 % exactly (not MORE than 20)
        unit("L4", VILLAGE, 0, 6_000),  # 0 → 1,000: +1,000 baht, no percentage
        unit("L5", VILLAGE, None, 30_000),  # no baseline: not counted
    ]


def test_change_takes_the_last_period_before_the_start_and_the_last_after():
    periods = [
        m.Period(D(2023, 1, 1), D(2023, 12, 31), 24_000),
        m.Period(D(2024, 1, 1), D(2024, 12, 31), 36_000),  # baseline: ends before the cut
        m.Period(D(2024, 7, 1), D(2025, 1, 31), 70_000),  # straddles the cut: neither
        m.Period(D(2025, 1, 1), D(2025, 3, 31), 9_000),
        m.Period(D(2025, 4, 1), D(2025, 6, 30), 13_500),  # follow-up: the latest after
    ]
    c = m.change_at("H", periods, CUT)
    assert c is not None
    assert (c.before, c.after, c.change) == (3_000, 4_500, 1_500) and c.pct == pytest.approx(50.0)
    assert m.change_at("H", periods[:2], CUT) is None
    assert m.months_between(D(2024, 11, 1), D(2025, 2, 28)) == 4


def test_figures_worked_by_hand():
    changes = [c for u in linked() if (c := m.change_at(u.key, u.periods, CUT)) is not None]
    f = m.summarise(changes)
    assert (f.n, f.n_pct) == (4, 3)  # L5 has no baseline; L4's baseline is 0
    assert f.before_median == 3_500  # 0, 3000 | 4000, 5000 → (3000 + 4000) / 2
    assert f.after_median == 4_100  # 1000, 4000 | 4200, 6000 → (4000 + 4200) / 2
    assert f.change_median == 1_000  # 200, 1000, 1000, 1000
    assert f.pct_median == pytest.approx(20.0)  # 5, 20, 33.3
    assert (f.gained, f.over_threshold) == (4, 1)  # only L1 gained MORE than 20 %
    assert f.share_over_threshold == pytest.approx(1 / 3)


def test_comparison_group_same_subdistrict_same_level_same_periods():
    pool = [
        unit("C1", NEIGHBOUR, 36_000, 19_800, cut=None),  # 3,000 → 3,300: +10 %
        unit("C2", VILLAGE, 36_000, 30_000, cut=None, levels=[(D(2024, 6, 1), 3)]),  # another level
        unit("C3", VILLAGE, 18_000, 30_000, cut=None, periods=((D(2024, 7, 1), D(2024, 12, 31)), FOLLOW)),
        unit("C4", OTHER_SUBDISTRICT, 36_000, 36_000, cut=None),  # not needed: C1 is in the subdistrict
        # Level 3 on the start date, level 2 only later: not comparable.
        unit("C5", VILLAGE, 36_000, 30_000, cut=None, levels=[(D(2024, 6, 1), 3), (D(2025, 6, 1), 2)]),
    ]
    comp = m.compare(linked(), pool)
    assert [c.key for c in comp.comparison_changes] == ["C1"]
    assert comp.comparison.pct_median == pytest.approx(10.0) and comp.comparison.change_median == 300
    assert comp.matched == 4 and comp.matched_in_district == 0
    assert comp.pct_difference == pytest.approx(20.0 - 10.0)


def test_comparison_falls_back_to_the_district():
    lone = [unit("L9", "46010301", 36_000, 24_000)]  # subdistrict 460103 has no pool household
    pool = [unit("C4", OTHER_SUBDISTRICT, 36_000, 18_000, cut=None), unit("X", OTHER_DISTRICT, 1, 1, cut=None)]
    comp = m.compare(lone, pool)
    assert [c.key for c in comp.comparison_changes] == ["C4"] and comp.matched_in_district == 1
    assert comp.comparison.pct_median == 0


def test_empty_groups_give_no_figures():
    f = m.summarise([])
    assert (f.n, f.before_median, f.share_over_threshold) == (0, None, None)
    assert m.compare([], []).pct_difference is None
