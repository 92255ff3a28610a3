"""Reading the figures for who asks (khm.insights.selectors): whose view of which area, the
sums a view gives, the ratios derived from them, and that the dashboard reads only the
pre-aggregated rows.

The world is the one of test_facts.py, refreshed in full, plus one household in 46010201 (D):
A = 46010101 and B = 46010102 are Ploy's villages (subdistrict 460101), D is the other
subdistrict (460102) of district 4601, C = 46050101 is in district 4605 (Somchai's).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from khm.forums.tests.conftest import household_in
from khm.insights import selectors
from khm.insights.models import Fact
from khm.insights.refresh import refresh
from khm.insights.selectors import View, children, derive, figures, trend, view_for
from khm.insights.tests.test_facts import TODAY, World, build_world

pytestmark = pytest.mark.django_db

A, B, C, D = "46010101", "46010102", "46050101", "46010201"


def fresh_user(user: Any) -> Any:
    from khm.accounts.models import User

    return User.objects.get(pk=user.pk)  # no scope cached


@pytest.fixture
def world(cast: Any) -> World:
    w = build_world(cast)
    household_in(cast, D, "5", first="ดวงใจ", last="ดงเมือง", actor=cast.admin)  # D: 1 household, 1 person
    refresh(full=True, today=TODAY)
    return w


def row(area: str, metric: str, round: str = "", dim: str = "") -> float:
    f = Fact.objects.filter(area_code=area, round=round, dim=dim, metric=metric).first()
    return f.value if f else 0.0


# --------------------------------------------------------------------------- view_for


def test_province_admin_sees_the_province_whole(world, cast):
    assert view_for(cast.admin, "46") == View("46", True)
    assert view_for(cast.admin, "460102") == View("460102", True)
    assert view_for(cast.admin, C) == View(C, True)


def test_local_officer_sees_only_her_villages_of_a_wider_area(world, cast):
    ploy = fresh_user(cast.ploy)
    for area in ("460101", "4601", "46"):
        v = view_for(ploy, area)
        assert v == View(area, False, frozenset({A, B})), area
    assert view_for(ploy, A).whole  # her own village: its own rows
    for area in ("460102", D, "4605", C):
        with pytest.raises(Http404):
            view_for(ploy, area)


def test_officer_of_another_district_gets_404(world, cast):
    somchai = fresh_user(cast.somchai)
    for area in ("4601", "460101", A, B, D):
        with pytest.raises(Http404):
            view_for(somchai, area)
    assert view_for(somchai, "460501") == View("460501", False, frozenset({C}))


def test_district_officer_sees_the_district_whole_and_the_province_partly(world, cast):
    dara = fresh_user(cast.dara)
    assert view_for(dara, "4601") == View("4601", True)
    assert view_for(dara, "460101") == View("460101", True)
    # Only 4601, read as its own pre-summed rows (not as its villages).
    assert view_for(dara, "46") == View("46", False, frozenset(), frozenset({"4601"}))
    with pytest.raises(Http404):
        view_for(dara, "4605")


@pytest.mark.parametrize("code", ["", "4", "460", "46x1", "460101011", "ab"])
def test_malformed_codes_are_404(world, cast, code):
    with pytest.raises(Http404):
        view_for(cast.admin, code)


def test_no_role_no_view(world, cast):
    with pytest.raises(Http404):
        view_for(fresh_user(cast.nobody), "46")


# --------------------------------------------------------------------------- figures, children, trend


def test_whole_view_reads_the_area_row(world, cast):
    # 46, round 2568: households A 2 + B 1 + C 1 + D 1 = 5 (round-less rows come along);
    # assessed A 2 + B 1 + C 1 = 4; MPI: n = A 2 + B 1 = 3, q = 1 + 1 = 2, sum = 0.5 + 0.4 = 0.9.
    f = figures(view_for(cast.admin, "46"), "2568")
    assert f["households"] == 5 and f["assessed"] == 4
    assert (f["mpi_n"], f["mpi_q"]) == (3, 2) and f["mpi_sum"] == pytest.approx(0.9)
    assert f["referrals_sent"] == 4 and f["help_value"] == 4700.0
    # Round 2567's figures are not mixed in: only H0 was assessed in 2567.
    assert figures(view_for(cast.admin, "46"), "2567")["assessed"] == 1


def test_partial_view_sums_only_the_actors_villages(world, cast):
    ploy = fresh_user(cast.ploy)
    # Ploy's 4601 = A + B: households 2 + 1 = 3 (not D's), people 3 + 2 = 5, assessed 2568 2 + 1 = 3.
    f = figures(view_for(ploy, "4601"), "2568")
    assert f["households"] == 3 == row(A, "households") + row(B, "households")
    assert row("4601", "households") == 4  # the district has D's household too: not hers
    assert f["people"] == row(A, "people") + row(B, "people")
    assert f["assessed"] == 3
    # Her view of 460101 holds all its villages: the same sums as the subdistrict's own rows.
    mine = figures(view_for(ploy, "460101"), "2568")
    whole = figures(view_for(cast.admin, "460101"), "2568")
    assert mine.keys() == whole.keys()
    assert all(mine[k] == pytest.approx(whole[k]) for k in whole)
    # A subset: heads who are women in 2568: H1 (A) and H2 (B) → 2 assessed.
    assert figures(view_for(ploy, "4601"), "2568", "sex:F")["assessed"] == 2


def test_district_officer_partial_province_is_the_district(world, cast):
    dara = fresh_user(cast.dara)
    partial = figures(view_for(dara, "46"), "2568")
    district = figures(view_for(dara, "4601"), "2568")
    assert partial.keys() == district.keys()
    assert all(partial[k] == pytest.approx(district[k]) for k in district)
    assert partial["households"] == 4  # A 2 + B 1 + D 1, not C's


def test_children_whole_and_partial(world, cast):
    # Admin, 46: the districts' own rows. 4601 households 4, 4605 1.
    kids = children(view_for(cast.admin, "46"), "2568")
    assert set(kids) == {"4601", "4605"}
    assert (kids["4601"]["households"], kids["4605"]["households"]) == (4, 1)
    assert kids["4601"]["assessed"] == 3 and kids["4605"]["assessed"] == 1
    # Admin, 460101: the villages.
    kids = children(view_for(cast.admin, "460101"), "2568")
    assert set(kids) == {A, B} and kids[A]["households"] == 2 and kids[B]["mpi_sum"] == pytest.approx(0.4)
    # Ploy, 4601: only the subdistrict that holds her villages, summed from them (A + B).
    kids = children(view_for(fresh_user(cast.ploy), "4601"), "2568")
    assert set(kids) == {"460101"}
    assert kids["460101"]["households"] == 3 and kids["460101"]["listed_people"] == 2 + 1
    # Dara, 46: his district only, summed from its villages (A + B + D).
    kids = children(view_for(fresh_user(cast.dara), "46"), "2568")
    assert set(kids) == {"4601"} and kids["4601"]["households"] == 4
    # A village has no children.
    assert children(view_for(cast.admin, A), "2568") == {}


def test_children_add_up_to_the_figures(world, cast):
    for actor, area in [(cast.admin, "46"), (cast.admin, "4601"), (cast.ploy, "46"), (cast.dara, "46")]:
        view = view_for(fresh_user(actor), area)
        f = figures(view, "2568")
        kids = children(view, "2568")
        for metric, total in f.items():
            assert sum(k.get(metric, 0.0) for k in kids.values()) == pytest.approx(total), (area, metric)


def test_trend_per_round_of_round_metrics_only(world, cast):
    # 46: 2567 — H0 assessed (level 2, target, MPI 0.6), H1 on the KHM list, H2 verified (in 2024).
    #     2568 — 4 assessed, listed A 2 + B 1 = 3 people, verified A 2 + B 1 + C 1 = 4.
    t = trend(view_for(cast.admin, "46"))
    assert list(t) == ["2567", "2568"]
    assert t["2567"]["assessed"] == 1 and t["2567"]["mpi_sum"] == pytest.approx(0.6)
    assert t["2567"]["listed_people"] == 1 and t["2567"]["verified"] == 1
    assert t["2568"]["assessed"] == 4 and t["2568"]["listed_people"] == 3 and t["2568"]["verified"] == 4
    assert "households" not in t["2568"] and "referrals_sent" not in t["2568"]
    # Ploy's view: the same rounds from her villages only (C's assessment is not hers): 2568 assessed 3.
    mine = trend(view_for(fresh_user(cast.ploy), "46"))
    assert mine["2568"]["assessed"] == 3 and mine["2567"]["assessed"] == 1
    # A subset: deprived in bmn08 — 2567 H0; 2568 H0 and H1.
    dep = trend(view_for(cast.admin, "46"), "dep:bmn08")
    assert (dep["2567"]["assessed"], dep["2568"]["assessed"]) == (1, 2)


def test_rounds_and_dims_of_a_view(world, cast):
    assert selectors.rounds(view_for(cast.admin, "46")) == ["2567", "2568"]
    assert selectors.rounds(view_for(fresh_user(cast.somchai), "460501")) == ["2568"]
    d = selectors.dims(view_for(fresh_user(cast.ploy), "460101"), "2568")
    assert {"sex:F", "sex:M", "level:1", "dep:bmn08", "source:tpmap", "source:bottom20", "outcome:moved"} <= set(d)
    assert "" not in d


# --------------------------------------------------------------------------- derive


def test_derive_mpi_ratios_from_sums():
    # 4 households scored, 2 MPI poor with scores 0.5 + 0.4 = 0.9:
    # H = 2/4 = 0.5, A = 0.9/2 = 0.45, M0 = 0.9/4 = 0.225 (= H × A).
    d = derive({"mpi_n": 4, "mpi_q": 2, "mpi_sum": 0.9})
    assert d["mpi_H"] == pytest.approx(0.5)
    assert d["mpi_A"] == pytest.approx(0.45)
    assert d["mpi_M0"] == pytest.approx(0.225) == pytest.approx(d["mpi_H"] * d["mpi_A"])
    # No one MPI poor: H = M0 = 0, A has no base.
    d = derive({"mpi_n": 3})
    assert (d["mpi_H"], d["mpi_A"], d["mpi_M0"]) == (0.0, None, 0.0)


def test_derive_target_met_at_exactly_ten_percent():
    # 1 of 10 target poor helped: 10 % — met; 99 of 1,000: 9.9 % — not; 3 of 30: 10 % — met.
    at = derive({"target_poor": 10, "target_helped": 1, "target_referred": 4})
    assert at["share_helped"] == pytest.approx(0.10) and at["target_met"] is True
    assert at["share_referred"] == pytest.approx(0.4)
    assert derive({"target_poor": 1000, "target_helped": 99})["target_met"] is False
    assert derive({"target_poor": 30, "target_helped": 3})["target_met"] is True
    assert derive({"target_poor": 1000, "target_helped": 100})["target_met"] is True


def test_derive_gives_none_when_a_base_is_zero():
    d = derive({})
    for k in ("mpi_H", "mpi_A", "mpi_M0", "share_helped", "share_referred", "share_poor_levels",
              "income_share_gain20", "income_mean_change", "verified_share"):  # fmt: skip
        assert d[k] is None, k
    assert d["target_met"] is False
    assert d["capitals"] == dict.fromkeys(selectors.CAPITALS)
    # Target poor 0 but someone helped (not of the target): no share, not met.
    d = derive({"target_poor": 0, "target_helped": 2})
    assert d["share_helped"] is None and d["target_met"] is False


def test_derive_other_ratios():
    # Levels: 1 + 2 of 6 assessed are poor levels → 0.5. Capitals: human 3.0 over 2 → 1.5.
    # Income: 1 of 2 with a % gained > 20 %; 1,500 baht over 2 households → 750 a month.
    # Verified 4 of 8 listed households → 0.5. The sums stay in the result.
    d = derive({
        "assessed": 6, "level1": 1, "level2": 2, "cap_n": 2, "cap_human": 3.0, "cap_social": 4.5,
        "income_pct_n": 2, "income_gain20": 1, "income_n": 2, "income_change_sum": 1500.0,
        "verified": 4, "listed_households": 8,
    })  # fmt: skip
    assert d["share_poor_levels"] == pytest.approx(0.5)
    assert d["capitals"]["human"] == pytest.approx(1.5) and d["capitals"]["social"] == pytest.approx(2.25)
    assert d["capitals"]["physical"] == 0.0  # a base, no sum: 0
    assert d["income_share_gain20"] == pytest.approx(0.5) and d["income_mean_change"] == pytest.approx(750)
    assert d["verified_share"] == pytest.approx(0.5)
    assert d["assessed"] == 6


def test_derive_on_the_province_figures(world, cast):
    # 46, 2568: H = 2/3, A = 0.9/2 = 0.45, M0 = 0.9/3 = 0.3. Target poor: H0 only, helped →
    # share 1/1 = 100 %, met. Capitals: cap_n 4 (A 2, B 1, C 1), human 3.0 + 2.0 + 2.0 = 7.0 → 1.75.
    d = derive(figures(view_for(cast.admin, "46"), "2568"))
    assert d["mpi_H"] == pytest.approx(2 / 3)
    assert d["mpi_A"] == pytest.approx(0.45)
    assert d["mpi_M0"] == pytest.approx(0.3)
    assert d["share_helped"] == 1.0 and d["target_met"] is True
    assert d["capitals"]["human"] == pytest.approx(7.0 / 4)
    # Income (round-less): A 2 households with a change, 1,500 baht → 750 a month; 1 of 1 with a % gained.
    assert d["income_mean_change"] == pytest.approx(750) and d["income_share_gain20"] == 1.0


# --------------------------------------------------------------------------- only the facts


@pytest.mark.parametrize(("who", "area"), [("admin", "46"), ("ploy", "46"), ("dara", "46"), ("ploy", "460101")])
def test_the_dashboard_reads_only_the_fact_table(world, cast, who, area, django_assert_num_queries):
    view = view_for(fresh_user(getattr(cast, who)), area)
    with CaptureQueriesContext(connection) as ctx:
        f = figures(view, "2568")
        kids = children(view, "2568")
        t = trend(view)
    assert f and kids and t
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert len(sqls) == 3
    for sql in sqls:
        assert "insights_fact" in sql, sql
        assert "registry_household" not in sql and "registry_person" not in sql, sql
        assert "assessment_" not in sql and "referrals_" not in sql, sql
    with django_assert_num_queries(3):
        figures(view, "2568")
        children(view, "2568")
        trend(view)


def test_home_area_is_the_widest_area_or_the_subdistrict_of_the_first_village(world, cast):
    assert selectors.home_area(fresh_user(cast.admin)) == "46"
    assert selectors.home_area(fresh_user(cast.dara)) == "4601"
    assert selectors.home_area(fresh_user(cast.ploy)) == "460101"  # min(A, B)[:6]
    assert selectors.home_area(fresh_user(cast.somchai)) == "460501"
    assert selectors.home_area(fresh_user(cast.vee)) == A
    with pytest.raises(Http404):
        selectors.home_area(fresh_user(cast.nobody))
    # Every home area is one the actor may open.
    for u in (cast.admin, cast.dara, cast.ploy, cast.somchai, cast.vee, cast.analyst):
        u = fresh_user(u)
        view_for(u, selectors.home_area(u))


def test_freshness_names_the_last_run_and_what_is_pending(world, cast):
    from khm.core.changes import touch

    f = selectors.freshness()
    assert f["last"].full and f["pending"] == 0
    touch([A, C])
    assert selectors.freshness()["pending"] == 2
    run = refresh(today=TODAY)
    assert selectors.freshness() == {"last": run, "pending": 0}
