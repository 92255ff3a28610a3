"""Open data: the public page, CSV and API give aggregates of whole areas only, with small
cells suppressed (khm/insights/open_data.py states the rules), to anyone without logging in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import include, path

from khm.core.access import declared_access
from khm.insights import open_data
from khm.insights.api import router
from khm.insights.models import Fact

pytestmark = pytest.mark.django_db

R = "2568"
ROUNDLESS = {"households", "people", "graduated", "linked"}

# Known figures of a small tree: Kalasin (46) = districts 4601 + 4605; 4601 = subdistricts
# 460101 + 460102; 4605 = 460501. A village row too: it exists but is never published.
COLUMNS = (
    "households", "people", "listed_households", "assessed", "level1", "level2", "level3", "level4", "target_poor",
    "target_helped", "help_value_target", "mpi_n", "mpi_q", "mpi_sum", "graduated", "linked",
)  # fmt: skip
TABLE = {
    #          hh   ppl   list ass l1  l2  l3  l4  tp  help  baht  mpi_n q  sum   grad link
    "46":     (500, 1500, 120, 110, 3, 20, 40, 47, 60, 16, 64000, 110, 26, 10.4, 7, 12),
    "4601":   (300, 900,  70,  60,  3, 10, 20, 27, 35, 12, 50000, 60,  18, 7.2,  7, 12),
    "4605":   (200, 600,  50,  50,  0, 10, 20, 20, 25, 4,  14000, 50,  8,  3.2,  0, 0),
    "460101": (180, 540,  40,  35,  3, 5,  12, 15, 20, 12, 50000, 35,  10, 4.0,  7, 12),
    "460102": (120, 360,  30,  25,  0, 5,  8,  12, 15, 0,  0,     25,  8,  3.2,  0, 0),
    "460501": (200, 600,  50,  50,  0, 10, 20, 20, 25, 4,  14000, 50,  8,  3.2,  0, 0),
    "46010101": (100, 300, 0,  20,  3, 5,  6,  6,  0,  0,  0,     0,   0,  0,    7, 0),
}  # fmt: skip
# Zeros are left out, as the refresh leaves them out.
TREE = {code: {k: float(v) for k, v in zip(COLUMNS, row, strict=True) if v} for code, row in TABLE.items()}


def build_facts(tree: dict[str, dict[str, float]] = TREE, round: str = R) -> None:
    level = {2: 1, 4: 2, 6: 3, 8: 4}
    Fact.objects.bulk_create(
        Fact(area_code=code, level=level[len(code)], round="" if metric in ROUNDLESS else round, dim="",
             metric=metric, value=value)
        for code, figures in tree.items()
        for metric, value in figures.items()
    )  # fmt: skip
    # Another round, and a subset row that is never published (dims are not open data).
    Fact.objects.bulk_create(
        [
            Fact(area_code="46", level=1, round="2567", dim="", metric="assessed", value=90),
            Fact(area_code="46", level=1, round=R, dim="sex:F", metric="assessed", value=3),
        ]
    )


# --------------------------------------------------------------------------- API mount

_api: Any = None


def _test_urls() -> list[Any]:
    """The open-data router under /api/v1/ until khm/api/urls.py mounts it."""
    from ninja import NinjaAPI
    from ninja.security import django_auth

    global _api
    if _api is None:
        _api = NinjaAPI(
            title="KHM open data (test)", version="open-test", auth=django_auth, urls_namespace="openapi_test"
        )
        _api.add_router("/", router)
    return [path("api/v1/", _api.urls), path("", include("config.urls"))]


def _mounted() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/open/rounds")
    except Resolver404:
        return False
    return True


MOUNTED = _mounted()
urlpatterns = [] if MOUNTED else _test_urls()


@pytest.fixture
def anon(settings: Any) -> Client:
    if not MOUNTED:
        settings.ROOT_URLCONF = __name__
    return Client()


@pytest.fixture
def facts(cast: Any) -> Any:
    build_facts()
    return cast


def api(c: Client, code: str, **params: str) -> dict[str, Any]:
    r = c.get(f"/api/v1/open/areas/{code}", params)
    assert r.status_code == 200, r.content
    assert r["Cache-Control"] == "public, max-age=300"
    out: dict[str, Any] = r.json()
    return out


def child(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in data["children"] if c["area"]["code"] == code)


# --------------------------------------------------------------------------- page and CSV


def test_anyone_reads_the_page_without_logging_in(facts: Any, anon: Client):
    r = anon.get("/open/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "กาฬสินธุ์" in body and "เมืองกาฬสินธุ์" in body and "กุฉินารายณ์" in body  # Kalasin and its districts
    assert "CC BY 4.0" in body and "KHM open data" in body
    assert 'name="viewport"' in body
    # graduated 7 → "<10"; linked 12 → 12; 500 households written for people.
    figures = body.split('class="facts open-figures"')[1].split("</dl>")[0]
    assert "&lt;10" in figures and "500" in figures and "1,500" in figures
    assert "0.236" in figures  # H = 26 / 110
    assert "26.7 %" in figures  # 16 of 60 target poor helped


def test_the_menus_choose_an_area_and_round(facts: Any, anon: Client):
    # A district left over from another choice is ignored; a consistent one is taken.
    assert "เมืองกาฬสินธุ์" in anon.get("/open/", {"province": "46", "district": "4601"}).content.decode()
    r = anon.get("/open/", {"province": "46", "district": "4601", "subdistrict": "460102"})
    assert "<h1>ตำบลเหนือ" in r.content.decode().replace("\n", "")
    old = anon.get("/open/", {"area": "46", "round": "2567"}).content.decode()
    assert 'value="2567" selected' in old
    # A subdistrict has no child table: its children are villages.
    sub = anon.get("/open/", {"area": "460101"}).content.decode()
    assert "<table" not in sub and "บ้านหนองบัว" not in sub


def test_the_csv_is_the_same_table_with_suppressed_cells(facts: Any, anon: Client):
    r = anon.get("/open/46.csv", {"round": R})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Cache-Control"] == "public, max-age=300"
    lines = [line.split(",") for line in r.content.decode("utf-8-sig").splitlines()]
    head, rows = lines[0], {line[0]: dict(zip(lines[0], line, strict=True)) for line in lines[1:]}
    assert head[:4] == ["area_code", "area_name", "level", "round"] and set(head[4:]) == set(open_data.KEYS)
    assert list(rows) == ["46", "4601", "4605"]
    assert rows["46"]["graduated"] == "<10" and rows["46"]["linked"] == "12"
    assert rows["46"]["level1"] == "<10" and rows["46"]["level2"] == "<10" and rows["46"]["level3"] == "40"
    assert rows["4605"]["mpi_H"] == "<10" and rows["4605"]["help_value_target"] == "<10"


def test_before_any_figures_the_page_says_so(cast: Any, anon: Client):
    r = anon.get("/open/")
    assert r.status_code == 200 and "CC BY 4.0" in r.content.decode() and "<table" not in r.content.decode()
    assert anon.get("/api/v1/open/rounds").json() == {"rounds": [], "latest": None}
    assert anon.get("/api/v1/open/areas/46").status_code == 404


def test_villages_are_refused(facts: Any, anon: Client):
    assert anon.get("/open/", {"area": "46010101"}).status_code == 404
    assert anon.get("/open/46010101.csv").status_code == 404
    assert anon.get("/api/v1/open/areas/46010101").status_code == 404
    assert anon.get("/api/v1/open/rounds", {"area": "46010101"}).status_code == 404
    # Nor unknown codes, areas without figures, rounds without figures, or writes.
    assert anon.get("/api/v1/open/areas/47").status_code == 404
    assert anon.get("/api/v1/open/areas/4x").status_code == 404
    assert anon.get("/api/v1/open/areas/46", {"round": "2500"}).status_code == 404
    assert anon.get("/open/46.csv", {"round": "2500"}).status_code == 404
    assert anon.post("/open/", {"area": "46"}).status_code == 405


# --------------------------------------------------------------------------- API


def test_anyone_reads_the_api_and_small_counts_are_null_and_flagged(facts: Any, anon: Client):
    d = api(anon, "46")
    assert d["area"] == {"code": "46", "level": 1, "name_th": "กาฬสินธุ์", "name_en": "Kalasin"}
    assert d["round"] == R and d["min_cell"] == 10 and d["licence"].startswith("CC BY 4.0")
    f = d["figures"]
    assert set(f) == set(open_data.KEYS)
    assert f["graduated"] is None and "graduated" in d["suppressed"]  # 7
    assert f["linked"] == 12 and "linked" not in d["suppressed"]
    assert f["households"] == 500 and f["people"] == 1500 and f["assessed"] == 110
    assert (f["mpi_H"], f["mpi_A"], f["mpi_M0"]) == (0.236, 0.4, 0.095)
    assert f["share_helped"] == 0.267 and f["help_value_target"] == 64000
    assert [c["area"]["code"] for c in d["children"]] == ["4601", "4605"]
    assert api(anon, "46", round="2567")["figures"]["assessed"] == 90
    rounds = anon.get("/api/v1/open/rounds")
    assert rounds.json() == {"rounds": ["2567", R], "latest": R}
    assert rounds["Cache-Control"] == "public, max-age=300"
    assert anon.get("/api/v1/open/rounds", {"area": "4605"}).json()["rounds"] == [R]


def test_complementary_suppression_of_the_levels(facts: Any, anon: Client):
    # Kalasin: level1 = 3, the others 20, 40, 47 — level 1 would be 110 − 20 − 40 − 47.
    f = api(anon, "46")["figures"]
    assert (f["level1"], f["level2"], f["level3"], f["level4"]) == (None, None, 40, 47)
    # The rule on its own, on a hand-built row.
    row = {"assessed": 100.0, "level1": 3.0, "level2": 30.0, "level3": 12.0, "level4": 55.0}
    assert open_data.suppress({"46": row}, 10)["46"] >= {"level1", "level3"}
    assert "level2" not in open_data.suppress({"46": row}, 10)["46"]
    # Two small levels protect each other: nothing more is hidden.
    two = {"assessed": 100.0, "level1": 3.0, "level2": 5.0, "level3": 37.0, "level4": 55.0}
    assert open_data.suppress({"46": two}, 10)["46"] & set(open_data.LEVELS) == {"level1", "level2"}


def test_complementary_suppression_across_child_areas(facts: Any, anon: Client):
    d = api(anon, "46")
    # 4605 helped 4 target poor households; Kalasin shows 16, so 4601's 12 is hidden too.
    assert child(d, "4605")["figures"]["target_helped"] is None
    assert child(d, "4601")["figures"]["target_helped"] is None and "target_helped" in child(d, "4601")["suppressed"]
    # The same cells on the district's own page as on the province's.
    own = api(anon, "4601")
    assert own["figures"] == child(d, "4601")["figures"] and own["suppressed"] == child(d, "4601")["suppressed"]
    # 460102 has 8 households at level 3 and 4601 shows 20: 460101's 12 is hidden too.
    assert child(own, "460101")["figures"]["level3"] is None and child(own, "460102")["figures"]["level3"] is None
    assert child(own, "460101")["figures"]["level4"] == 15


def test_mpi_is_suppressed_when_few_are_mpi_poor(facts: Any, anon: Client):
    low = child(api(anon, "46"), "4605")  # 8 MPI poor households
    assert {"mpi_H", "mpi_A", "mpi_M0"} <= set(low["suppressed"])
    assert low["figures"]["mpi_H"] is None and low["figures"]["mpi_A"] is None and low["figures"]["mpi_M0"] is None
    ok = child(api(anon, "4601"), "460101")  # exactly 10
    assert ok["figures"]["mpi_H"] == round(10 / 35, 3) and "mpi_H" not in ok["suppressed"]


def test_value_of_help_needs_enough_households_helped(facts: Any, anon: Client):
    low = api(anon, "4605")["figures"]  # 4 target poor households helped
    assert low["help_value_target"] is None and low["share_helped"] is None
    assert low["target_poor"] == 25
    # A ratio of a base of 0 is not a number, not a suppressed cell.
    none = child(api(anon, "4601"), "460102")
    assert none["figures"]["share_helped"] == 0.0 and none["figures"]["help_value_target"] == 0
    assert "help_value_target" not in none["suppressed"]


def test_the_minimum_cell_is_a_setting(facts: Any, anon: Client, settings: Any):
    settings.KHM_OPEN_DATA_MIN_CELL = 5
    d = api(anon, "46")
    assert d["min_cell"] == 5 and d["figures"]["graduated"] == 7 and d["figures"]["level1"] is None
    assert "&lt;5" in anon.get("/open/").content.decode()


def test_no_household_data_is_published(cast: Any, anon: Client):
    # Real figures from the cast's registry (two households): every count is small.
    from khm.insights.refresh import refresh

    refresh(full=True)
    head = cast.household.people.order_by("id").first()
    secrets = [cast.household.code, cast.other_household.code, "บุญมี", "คำปุน", "ศรีสุข", "สมหมาย", "99/1",
               cast.head_nid, head.ref]  # fmt: skip
    bodies = [
        anon.get("/open/").content.decode(),
        anon.get("/open/", {"area": "460101"}).content.decode(),
        anon.get("/open/46.csv").content.decode("utf-8-sig"),
        anon.get("/api/v1/open/areas/46").content.decode(),
        anon.get("/api/v1/open/areas/4601").content.decode(),
    ]
    for body in bodies:
        assert [s for s in secrets if s in body] == []
    d = api(anon, "46")
    assert d["figures"]["households"] is None and "households" in d["suppressed"]
    assert "บ้านหนองบัว" not in bodies[1]  # no village names either


# --------------------------------------------------------------------------- declarations


def test_the_open_endpoints_are_public_by_declaration():
    ops = [op for pv in router.path_operations.values() for op in pv.operations]
    assert len(ops) == 2
    for op in ops:
        assert op.auth_param is None and declared_access(op.view_func) == ("public", None)
    from khm.insights import views_open

    assert declared_access(views_open.open_page) == ("public", None)
    assert declared_access(views_open.open_csv) == ("public", None)


def test_the_openapi_schema_lists_the_open_endpoints(anon: Client):
    schema = anon.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/open/areas/{code}" in paths and "/api/v1/open/rounds" in paths
    op = paths["/api/v1/open/areas/{code}"]["get"]
    assert op["tags"] == ["open data"] and not op.get("security")


# --------------------------------------------------------------------------- phone


@pytest.fixture
def no_background_refresh(settings: Any) -> None:
    # Committed writes would wake the refresher, which rebuilds the hand-made rows.
    settings.KHM_INSIGHTS_REFRESH = "manual"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_fits_a_phone(no_background_refresh: None, cast: Any, live_server: Any):
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    build_facts()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        for url in ("/open/", "/open/?area=4601"):
            page.goto(live_server.url + url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        # The menus work without JavaScript: choose a district, then show.
        page.goto(live_server.url + "/open/")
        page.select_option("select[name=district]", "4605")
        page.get_by_role("button", name="แสดง").click()
        assert "4605" in page.locator("h1").inner_text()
        assert page.locator(".open-figures").get_by_text("<10").count() >= 1
        browser.close()
