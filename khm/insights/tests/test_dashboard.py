"""The drill-down dashboard and its exports, on a hand-built set of figures.

The village rows of ``Fact`` are written by hand (numbers small enough to add up in one's
head, the arithmetic in comments) and rolled up to subdistricts, districts and the province
exactly as the refresh does (``refresh._roll_up``). One test at the end goes through the real
pipeline (the cast's registry → ``refresh``) to show what the analyst sees.

Villages (cast + one more): 46010101 V1 and 46010102 V2 are Ploy's; 46010103 V5 is in the same
subdistrict 460101 but not hers; 46010201 V3 is in 460102 (Dara's district 4601); 46050101 V4
is Somchai's in district 4605.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from khm.areas.models import Area
from khm.audit.models import AuditEvent
from khm.core.models import ChangedArea
from khm.insights.models import Fact, RefreshRun
from khm.insights.refresh import _roll_up

pytestmark = pytest.mark.django_db

R, OLD = "2567", "2566"

# (village, round, dim) → metrics. Zero metrics are left out, as village_facts does.
VILLAGE_FACTS: dict[tuple[str, str, str], dict[str, float]] = {
    # --- V1 46010101 (Ploy) ------------------------------------------------------------
    ("46010101", "", ""): {
        "households": 10, "people": 30, "help_value": 12000, "help_records": 4, "referrals_sent": 5,
        "referrals_open": 2, "referrals_overdue": 1, "confirmed": 5, "not_poor": 3, "graduated": 1, "followed": 1,
        "linked": 4, "income_n": 3, "income_pct_n": 3, "income_gain20": 2, "income_change_sum": 1500,
    },
    ("46010101", R, ""): {
        "listed_people": 20, "listed_households": 8, "verified": 6, "assessed": 8, "level1": 2, "level2": 2,
        "level3": 3, "level4": 1, "tpmap_poor": 5, "target_poor": 4, "mpi_n": 8, "mpi_q": 4, "mpi_sum": 2.0,
        "cap_n": 8, "cap_human": 16, "cap_physical": 12, "cap_financial": 20, "cap_natural": 24, "cap_social": 28,
        "target_referred": 3, "target_helped": 1, "help_value_target": 5000,
    },
    ("46010101", R, "outcome:confirmed_poor"): {"verified": 4},
    ("46010101", R, "outcome:not_poor"): {"verified": 2},
    ("46010101", R, "source:tpmap"): {"listed_people": 15, "listed_households": 6},
    ("46010101", R, "source:khm"): {"listed_people": 7, "listed_households": 3},
    ("46010101", R, "sex:F"): {"assessed": 3, "level1": 2, "level2": 1, "mpi_n": 3, "mpi_q": 2, "mpi_sum": 1.1,
                               "target_poor": 2},
    ("46010101", OLD, ""): {"listed_households": 7, "verified": 5, "assessed": 6, "level1": 3, "level2": 2,
                            "level3": 1, "mpi_n": 6, "mpi_q": 3, "mpi_sum": 1.5, "target_poor": 3,
                            "target_referred": 1},
    # --- V2 46010102 (Ploy) ------------------------------------------------------------
    ("46010102", "", ""): {"households": 5, "people": 12, "help_value": 3000, "help_records": 1, "graduated": 1,
                           "linked": 1, "income_n": 1, "income_pct_n": 1, "income_change_sum": -300},
    ("46010102", R, ""): {
        "listed_people": 9, "listed_households": 4, "verified": 4, "assessed": 4, "level1": 2, "level2": 1,
        "level3": 1, "tpmap_poor": 2, "target_poor": 2, "mpi_n": 4, "mpi_q": 2, "mpi_sum": 1.2, "cap_n": 4,
        "cap_human": 8, "cap_physical": 8, "cap_financial": 8, "cap_natural": 8, "cap_social": 8,
        "target_referred": 2, "target_helped": 1, "help_value_target": 3000,
    },
    ("46010102", R, "outcome:confirmed_poor"): {"verified": 4},
    ("46010102", R, "source:tpmap"): {"listed_people": 9, "listed_households": 4},
    ("46010102", R, "sex:F"): {"assessed": 1, "level1": 1, "mpi_n": 1, "mpi_q": 1, "mpi_sum": 0.6, "target_poor": 1},
    ("46010102", OLD, ""): {"listed_households": 4, "assessed": 4, "level1": 2, "level2": 2, "mpi_n": 4, "mpi_q": 3,
                            "mpi_sum": 1.5, "target_poor": 2, "target_helped": 1},
    # --- V5 46010103 (not Ploy's, same subdistrict) ------------------------------------
    ("46010103", "", ""): {"households": 100, "people": 300},
    ("46010103", R, ""): {"listed_people": 40, "listed_households": 20, "assessed": 50, "level3": 50, "mpi_n": 50,
                          "target_poor": 10, "target_helped": 5},
    # --- V3 46010201 (subdistrict 460102) ----------------------------------------------
    ("46010201", "", ""): {"households": 20, "people": 60},
    ("46010201", R, ""): {"listed_households": 3, "assessed": 10, "level1": 1, "level4": 9, "mpi_n": 10, "mpi_q": 1,
                          "mpi_sum": 0.4, "target_poor": 1},
    # --- V4 46050101 (Somchai, district 4605) ------------------------------------------
    ("46050101", "", ""): {"households": 7, "people": 21},
    ("46050101", R, ""): {"assessed": 5, "level2": 5, "mpi_n": 5, "mpi_q": 5, "mpi_sum": 2.5, "target_poor": 5,
                          "target_helped": 5},
}  # fmt: skip


def load_facts(village_facts: dict[tuple[str, str, str], dict[str, float]]) -> None:
    Fact.objects.bulk_create(
        Fact(area_code=v, level=4, round=r, dim=d, metric=m, value=x)
        for (v, r, d), metrics in village_facts.items()
        for m, x in metrics.items()
    )
    villages = {v for v, _r, _d in village_facts}
    for level, n in ((3, 6), (2, 4), (1, 2)):
        _roll_up({v[:n] for v in villages}, level)
    RefreshRun.objects.create(started_at=timezone.now(), villages=len(villages), full=True)


@pytest.fixture
def world(cast: Any) -> Any:
    Area.objects.create(code="46010103", level=4, name_th="บ้านนอกเขต", name_en="Ban Nok Khet",
                        parent=cast.areas["460101"], village_no=3)  # fmt: skip
    load_facts(VILLAGE_FACTS)
    ChangedArea.objects.all().delete()  # as after a refresh: nothing waiting
    return cast


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def page(user: Any, **params: str) -> str:
    r = client(user).get("/insights/", params)
    assert r.status_code == 200, r.status_code
    return r.content.decode()


def fig(html: str, key: str) -> str:
    """The first shown value of a figure (the headline card comes first on the page)."""
    m = re.search(rf'data-figure="{key}"[^>]*>(?:<strong>)?([^<]*)<', html)
    assert m, key
    return m.group(1).strip()


def row(html: str, attr: str, value: str) -> str:
    m = re.search(rf'<tr[^>]*{attr}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, (attr, value)
    return m.group(1)


# --------------------------------------------------------------------------- figures


def test_every_headline_figure_of_ploys_subdistrict(world):
    html = page(world.ploy, area="460101")  # round defaults to the latest, 2567
    # Ploy owns V1 and V2 only: V5 (100 households) is left out.
    expected = {
        "households": "15",  # 10 + 5
        "people": "42",  # 30 + 12
        "listed_people": "29",  # 20 + 9
        "listed_households": "12",  # 8 + 4
        "verified": "10",  # 6 + 4
        "verified_share": "83.3 %",  # 10 / 12
        "assessed": "12",  # 8 + 4
        "level1": "4",  # 2 + 2
        "level2": "3",  # 2 + 1
        "level3": "4",  # 3 + 1
        "level4": "1",
        "tpmap_poor": "7",  # 5 + 2
        "target_poor": "6",  # 4 + 2
        "mpi_H": "50.0 %",  # mpi_q / mpi_n = (4 + 2) / (8 + 4)
        "mpi_A": "0.533",  # mpi_sum / mpi_q = (2.0 + 1.2) / 6
        "mpi_M0": "0.267",  # mpi_sum / mpi_n = 3.2 / 12
        "target_referred": "5",  # 3 + 2
        "target_helped": "2",  # 1 + 1
        "share_helped": "33.3 %",  # 2 / 6
        "help_value": "15,000.00",  # 12,000 + 3,000
        "help_value_target": "8,000.00",  # 5,000 + 3,000
        "referrals_sent": "5",
        "referrals_open": "2",
        "referrals_overdue": "1",
        "confirmed": "5",
        "not_poor": "3",
        "graduated": "2",  # 1 + 1
        "followed": "1",
        "linked": "5",  # 4 + 1
        "income_n": "4",  # 3 + 1
        "income_share_gain20": "50.0 %",  # income_gain20 / income_pct_n = 2 / (3 + 1)
        "income_mean_change": "300.00",  # (1,500 − 300) / 4
    }
    assert {k: fig(html, k) for k in expected} == expected
    assert 'id="partial"' in html  # says that only her villages are counted
    # Verified by outcome: confirmed poor 4 + 4, not poor 2.
    assert ">8<" in row(html, "data-outcome", "confirmed_poor")
    assert ">2<" in row(html, "data-outcome", "not_poor")
    # Goal: 33.3 % helped against the 10 % target.
    goal = html.split('id="goal"')[1].split("</section>")[0]
    assert "33.3 %</strong>" in goal and '<span class="tag">' in goal  # reached: 33.3 ≥ 10
    # Mean pentagon: human (16 + 8) / 12 = 2.00, physical (12 + 8) / 12 = 1.67, financial 28 / 12 = 2.33,
    # natural 32 / 12 = 2.67, social 36 / 12 = 3.00.
    for value in ("2.00", "1.67", "2.33", "2.67", "3.00"):
        assert f">{value}</text>" in html
    # Level names come from the five-capitals instrument.
    for name in ("อยู่ลำบาก", "อยู่ยาก", "อยู่พอได้", "อยู่ดี"):
        assert name in html


def test_the_province_admin_sees_the_whole_subdistrict(world):
    html = page(world.admin, area="460101")
    assert fig(html, "households") == "115"  # 10 + 5 + 100
    assert fig(html, "assessed") == "62"  # 8 + 4 + 50
    assert fig(html, "mpi_H") == "9.7 %"  # 6 / 62
    assert fig(html, "share_helped") == "43.8 %"  # (1 + 1 + 5) / (4 + 2 + 10)
    assert 'id="partial"' not in html
    # The village table lists the three villages, and a total that is their sum.
    assert fig(row(html, "data-area", "46010103"), "households") == "100"
    assert fig(row(html, "data-area", "total"), "households") == "115"


def test_default_area_and_round(world):
    # Ploy opens at the subdistrict of her first village; the round is the latest one.
    html = page(world.ploy)
    assert "<h1>" in html and "460101" in html
    assert fig(html, "households") == "15"
    assert '<option value="2567" selected>' in html
    # Dara opens at her district; an older round is there to choose.
    html = page(world.dara, round=OLD)
    assert '<option value="2566" selected>' in html
    assert fig(html, "assessed") == "10"  # 2566: 6 + 4 (V5 and V3 have no 2566 rows)
    assert fig(html, "mpi_H") == "60.0 %"  # (3 + 3) / (6 + 4)


def test_the_page_says_how_fresh_the_figures_are(world):
    from khm.core.changes import touch

    html = page(world.ploy, area="460101")
    freshness = html.split('id="freshness"')[1].split("</p>")[0]
    assert str(timezone.localdate().year + 543) in freshness  # the date of the last refresh (Buddhist Era)
    assert "waiting" not in freshness and "รอ" not in freshness
    touch(["46010101", "46050101"])  # two writes not yet refreshed
    freshness = page(world.ploy, area="460101").split('id="freshness"')[1].split("</p>")[0]
    assert "2" in freshness
    RefreshRun.objects.all().delete()
    freshness = page(world.ploy, area="460101").split('id="freshness"')[1].split("</p>")[0]
    assert str(timezone.localdate().year + 543) not in freshness


def test_trend_by_round(world):
    html = page(world.ploy, area="460101")
    old, new = row(html, "data-round", OLD), row(html, "data-round", R)
    # 2566: assessed 6 + 4 = 10; H = 6 / 10; A = (1.5 + 1.5) / 6; M0 = 3.0 / 10; helped 1 of 3 + 2.
    assert fig(old, "assessed") == "10"
    assert fig(old, "mpi_H") == "60.0 %"
    assert fig(old, "mpi_A") == "0.500"
    assert fig(old, "mpi_M0") == "0.300"
    assert fig(old, "share_helped") == "20.0 %"
    # 2567 as on the cards.
    assert fig(new, "assessed") == "12"
    assert fig(new, "mpi_M0") == "0.267"
    assert fig(new, "help_value_target") == "8,000.00"


# --------------------------------------------------------------------------- scope


def test_ploy_sees_only_her_villages_in_the_district_and_province(world):
    for area in ("4601", "46"):
        html = page(world.ploy, area=area)
        assert fig(html, "households") == "15", area  # V1 + V2, never V5, V3 or V4
        assert fig(html, "assessed") == "12", area
    html = page(world.ploy, area="4601")
    assert 'data-area="460101"' in html
    assert 'data-area="460102"' not in html  # no village of hers there
    # Breadcrumbs: the province and district are hers to open (her villages' part).
    assert '<a href="?area=46&amp;round=2567">' in html or 'href="?area=46&amp;round=2567"' in html


def test_dara_drills_down_the_subdistricts_of_her_district_only(world):
    html = page(world.dara, area="4601")
    assert fig(html, "households") == "135"  # 10 + 5 + 100 + 20
    assert re.findall(r'<tr data-area="(\d+)"', html) == ["460101", "460102"]
    assert fig(row(html, "data-area", "460101"), "households") == "115"
    assert fig(row(html, "data-area", "460102"), "households") == "20"
    assert fig(row(html, "data-area", "total"), "households") == "135"
    assert 'href="?area=460102&amp;round=2567"' in html  # drill down
    # At the province she sees her district only; the breadcrumb of a village goes up to her district.
    html = page(world.dara, area="46")
    assert re.findall(r'<tr data-area="(\d+)"', html) == ["4601"]
    assert fig(html, "households") == "135"
    html = page(world.dara, area="46010201")
    assert 'href="?area=4601&amp;round=2567"' in html
    assert "data-area=" not in html  # a village has nothing below it


def test_outsiders_get_404_and_the_system_admin_403(world):
    c = client(world.somchai)
    assert c.get("/insights/", {"area": "460101"}).status_code == 404
    assert c.get("/insights/", {"area": "46010101"}).status_code == 404
    assert c.get("/insights/export.csv", {"area": "460101"}).status_code == 404
    html = page(world.somchai)  # his own subdistrict
    assert fig(html, "households") == "7"
    assert client(world.vee).get("/insights/", {"area": "46010102"}).status_code == 404
    assert fig(page(world.vee), "households") == "10"  # her village V1
    assert client(world.sysadmin).get("/insights/").status_code == 403
    assert client(world.sysadmin).get("/insights/export.csv").status_code == 403
    assert client(world.nobody).get("/insights/").status_code == 403
    assert Client().get("/insights/").status_code == 302  # to the login page
    assert client(world.admin).get("/insights/", {"area": "9999"}).status_code == 404
    assert client(world.admin).get("/insights/", {"area": "46x"}).status_code == 404
    assert AuditEvent.objects.filter(action="insights.export").count() == 0


# --------------------------------------------------------------------------- filters


def test_a_group_filter_narrows_the_assessment_figures_only(world):
    html = page(world.ploy, area="460101", dim="sex:F")
    assert fig(html, "assessed") == "4"  # 3 + 1 households with a female head
    assert fig(html, "level1") == "3"  # 2 + 1
    assert fig(html, "level2") == "1"
    assert fig(html, "target_poor") == "3"  # 2 + 1
    assert fig(html, "mpi_H") == "75.0 %"  # (2 + 1) / (3 + 1)
    assert fig(html, "mpi_A") == "0.567"  # (1.1 + 0.6) / 3
    assert fig(html, "mpi_M0") == "0.425"  # 1.7 / 4
    for key in ("households", "listed_people", "verified", "share_helped", "help_value", "graduated", "linked"):
        assert fig(html, key) == "—", key
    assert 'id="filter-note"' in html
    # The child table and the trend follow the filter too.
    assert fig(row(html, "data-area", "46010101"), "assessed") == "3"
    assert fig(row(html, "data-area", "46010101"), "households") == "—"
    assert fig(row(html, "data-round", R), "assessed") == "4"
    # The menu offers the subsets that have figures.
    assert '<option value="sex:F" selected>' in html
    assert 'value="source:tpmap"' in html


def test_a_source_filter_narrows_the_list_figures_only(world):
    html = page(world.ploy, area="460101", dim="source:tpmap")
    assert fig(html, "listed_people") == "24"  # 15 + 9
    assert fig(html, "listed_households") == "10"  # 6 + 4
    for key in ("households", "assessed", "mpi_H", "target_poor", "share_helped"):
        assert fig(html, key) == "—", key


def test_an_unknown_filter_is_ignored(world):
    html = page(world.ploy, area="460101", dim="nationality:x")
    assert fig(html, "households") == "15"
    assert 'id="filter-note"' not in html


# --------------------------------------------------------------------------- exports


def csv_tables(body: bytes) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = [[]]
    for line in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        if not line:
            tables.append([])
        else:
            tables[-1].append(line)
    return [t for t in tables if t]


def test_csv_export_carries_the_page_figures_and_is_audited(world):
    r = client(world.ploy).get("/insights/export.csv", {"area": "460101"})
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="khm-dashboard-460101-2567.csv"'
    headline, by_area, trend = csv_tables(r.content)
    by_code = {line[2]: line[1] for line in headline[2:] if len(line) > 2}
    assert by_code["households"] == "15"
    assert by_code["assessed"] == "12"
    assert float(by_code["mpi_H"]) == pytest.approx(0.5)
    assert float(by_code["mpi_A"]) == pytest.approx(3.2 / 6, abs=1e-6)
    assert float(by_code["mpi_M0"]) == pytest.approx(3.2 / 12, abs=1e-6)
    assert float(by_code["share_helped"]) == pytest.approx(2 / 6, abs=1e-6)
    assert float(by_code["help_value"]) == 15000
    assert by_code["verified/confirmed_poor"] == "8"
    # The village table: her two villages and their total, never V5.
    codes = [line[0] for line in by_area[2:]]
    assert codes == ["46010101", "46010102", ""]
    assert by_area[-1][2] == "15"  # total households
    assert [line[0] for line in trend[2:]] == [OLD, R]
    event = AuditEvent.objects.get(action="insights.export")
    assert (event.actor, event.object_type, event.object_ref, event.area_code, event.note) == (
        world.ploy, "area", "460101", "460101", "csv",
    )  # fmt: skip


def test_xlsx_export_with_a_filter(world):
    from openpyxl import load_workbook

    r = client(world.admin).get("/insights/export.xlsx", {"area": "460101", "dim": "sex:F"})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    headline, by_area, _trend = wb.worksheets
    values = {row[2]: row[1] for row in headline.iter_rows(min_row=2, values_only=True) if row[2]}
    assert values["assessed"] == 4
    assert values["mpi_M0"] == pytest.approx(0.425)
    assert values["households"] is None  # the filter does not apply: an empty cell
    assert [row[0] for row in by_area.iter_rows(min_row=2, values_only=True)] == [
        "46010101", "46010102", "46010103", None,
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="insights.export", actor=world.admin, note="xlsx").count() == 1
    assert client(world.admin).get("/insights/export.pdf").status_code == 404


# --------------------------------------------------------------------------- speed


def bulk_villages(n: int) -> None:
    """``n`` more villages in a new subdistrict 460103, each with a full set of figures."""
    parent = Area.objects.create(code="460103", level=3, name_th="ใหม่", parent=Area.objects.get(code="4601"))
    more: dict[tuple[str, str, str], dict[str, float]] = {}
    for i in range(1, n + 1):
        code = f"460103{i:02d}"
        Area.objects.create(code=code, level=4, name_th=f"บ้าน {i}", parent=parent, village_no=i)
        more[(code, "", "")] = dict(VILLAGE_FACTS[("46010101", "", "")])
        for (v, r, d), metrics in VILLAGE_FACTS.items():
            if v == "46010101" and r:
                more[(code, r, d)] = dict(metrics)
    load_facts(more)


def queries(user: Any, **params: str) -> int:
    c = client(user)
    with CaptureQueriesContext(connection) as ctx:
        assert c.get("/insights/", params).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_reads_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    # The dashboard itself reads about 15 (session, user, area, rounds, figures, subset, outcomes,
    # children, child areas, trend ×2, filters, freshness ×2, instruments ×2); the menu of base.html
    # adds one role-assignment read per action it checks (and, for a local government, one read of
    # its villages per action) — about 13 to 23 more. None of them grows with the data.
    small = {(u.username, a): queries(u, area=a) for u, a in ((world.admin, "4601"), (world.ploy, "4601"))}
    bulk_villages(60)
    for u, a in ((world.admin, "46"), (world.admin, "4601"), (world.admin, "460103"), (world.ploy, "4601"),
                 (world.dara, "46")):  # fmt: skip
        c = client(u)
        with django_assert_max_num_queries(40):
            assert c.get("/insights/", {"area": a, "dim": "sex:F"}).status_code == 200
    large = {(u.username, a): queries(u, area=a) for u, a in ((world.admin, "4601"), (world.ploy, "4601"))}
    assert small == large  # whatever the data size
    assert fig(page(world.admin, area="460103"), "households") == "600"  # 60 × 10


# --------------------------------------------------------------------------- the real pipeline


def test_the_analyst_sees_refreshed_figures_but_no_household(cast):
    from khm.insights.refresh import refresh

    refresh(full=True)  # the cast's registry: 99/1 (2 members) in V1, 7 (1 member) in V4
    html = page(cast.analyst)
    assert fig(html, "households") == "2"
    assert fig(html, "people") == "3"
    assert cast.household.code not in html
    assert cast.other_household.code not in html
    assert "บุญมี" not in html and "ศรีสุข" not in html
    body = client(cast.analyst).get("/insights/export.csv").content.decode("utf-8-sig")
    assert cast.household.code not in body and "บุญมี" not in body
    # Ploy's district page counts her household only.
    assert fig(page(cast.ploy, area="4601"), "households") == "1"
