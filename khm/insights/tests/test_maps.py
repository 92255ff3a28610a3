"""Maps (issue 9): the offline SVG choropleth, its classes and legend, and the scoping and audit
of every map layer — the child areas (aggregates) and the household points (personal data).

Test areas get square boundaries and hand-made figures (round 2568), so every value and class
below is computed by hand:

    village    assessed  level 1+2  graduated      subdistrict  share   district  share
    46010101      10         5                      460101       6/20    4601      13/50 = 0.26
    46010102      10         1                      460102       4/20
    46010201      20         4                      460103       3/10
    46010301      10         3
    46050101       8         6         2            460501       6/8     4605      6/8 = 0.75
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client

from khm.areas.models import Area, Boundary
from khm.audit.models import AuditEvent
from khm.insights import maps
from khm.insights.models import Fact
from khm.registry import services

ROUND = "2568"
VILLAGES = {
    "46010101": {"assessed": 10, "level1": 2, "level2": 3},
    "46010102": {"assessed": 10, "level1": 1},
    "46010201": {"assessed": 20, "level1": 2, "level2": 2},
    "46010301": {"assessed": 10, "level1": 3},
    "46050101": {"assessed": 8, "level1": 6},
}
ROUNDLESS = {"46050101": {"graduated": 2}}


def square(west: float, south: float, size: float) -> dict[str, Any]:
    ring = [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _facts() -> None:
    rows: dict[tuple[str, str, str], float] = defaultdict(float)
    for source, rnd in ((VILLAGES, ROUND), (ROUNDLESS, "")):
        for village, metrics in source.items():
            for metric, value in metrics.items():
                for n in (2, 4, 6, 8):  # the village and every area above it: sums
                    rows[(village[:n], rnd, metric)] += value
    Fact.objects.bulk_create(
        Fact(area_code=code, level={2: 1, 4: 2, 6: 3, 8: 4}[len(code)], round=rnd, metric=metric, value=value)
        for (code, rnd, metric), value in rows.items()
    )


@pytest.fixture
def mapped(cast: Any) -> Any:
    a = cast.areas
    a["460103"] = Area.objects.create(code="460103", level=3, name_th="ห้วยโพธิ์", name_en="Huai Pho", parent=a["4601"])
    a["46010301"] = Area.objects.create(
        code="46010301", level=4, name_th="บ้านห้วยโพธิ์", name_en="Ban Huai Pho", parent=a["460103"], village_no=1
    )
    shapes = {
        "4601": square(103.0, 16.0, 0.5),
        "4605": square(103.5, 16.0, 0.5),
        "460101": square(103.0, 16.0, 0.25),
        "460102": square(103.25, 16.0, 0.25),
        "460103": square(103.0, 16.25, 0.25),
        "460501": square(103.5, 16.0, 0.5),
    }
    for code, geometry in shapes.items():
        Boundary.objects.create(area=a[code], geometry=geometry, source="test squares")
    _facts()
    return cast


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def regions(html: str) -> dict[str, str]:
    """data-code → the region's CSS classes, from the SVG."""
    return {
        m.group(2): m.group(1)
        for m in re.finditer(r'<path class="region ([^"]+)" data-code="(\d+)"', html)
    }  # fmt: skip


def dots(html: str) -> int:
    found = re.search(r'<path class="dots" d="([^"]*)"', html)
    return found.group(1).count("M") if found else 0


def legend(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", m.group(1)).strip()
        for m in re.finditer(r'<li class="legend-row" data-class="\d">.*?</span>(.*?)</li>', html)
    ]


# --------------------------------------------------------------------------- pure parts


def test_equal_intervals_put_the_largest_value_in_the_top_class():
    classes = maps.classify([0.2, 0.25, 0.3, None])
    assert classes.edges == pytest.approx((0.2, 0.22, 0.24, 0.26, 0.28, 0.3))
    assert [classes.of(v) for v in (0.2, 0.25, 0.3, None)] == [0, 2, 4, None]
    assert classes.color(0.3) == maps.PALETTES["worse"][4]
    assert maps.classify([0.4, 0.4]).of(0.4) == 2  # one value everywhere: the middle colour, one row
    assert len(maps.classify([0.4]).legend(maps.INDICATORS["poor_levels"])) == 1
    assert maps.classify([]).legend(maps.INDICATORS["poor_levels"]) == []


def test_svg_path_projects_simplifies_and_draws_every_polygon():
    proj = maps.Projection.fit((103.0, 16.0, 103.5, 16.5))
    assert proj.width == maps.WIDTH and proj.view_box.startswith("0 0 600 ")
    # North is up: the north-west corner is above and left of the south-east one.
    (x1, y1), (x2, y2) = proj.point(103.0, 16.5), proj.point(103.5, 16.0)
    assert x1 < x2 and y1 < y2
    # Equirectangular with cos(latitude): half a degree east is shorter on the page than half a degree north.
    assert (x2 - x1) == pytest.approx((y2 - y1) * math.cos(math.radians(16.25)), rel=1e-3)
    ring = [[103.0, 16.0], [103.5, 16.0], [103.500001, 16.0], [103.5, 16.5], [103.0, 16.5], [103.0, 16.0]]
    d = maps.svg_path({"type": "Polygon", "coordinates": [ring]}, proj)
    assert d.startswith("M") and d.endswith("z") and d.count("M") == 1
    steps = re.findall(r"-?(?:\d+\.?\d*|\.\d+)", d.split("l")[1])
    assert steps == ["584", "0", "0", "-608.4", "-584", "0"]  # 4 corners: M + 3 relative steps, the repeat dropped
    multi = {"type": "MultiPolygon", "coordinates": [[ring], [[[103.0, 16.0], [103.1, 16.0], [103.1, 16.1]]]]}
    assert maps.svg_path(multi, proj).count("M") == 2
    speck = {"type": "Polygon", "coordinates": [[[103.0, 16.0], [103.00001, 16.0], [103.0, 16.00001]]]}
    assert maps.svg_path(speck, proj) == ""  # smaller than half a unit: dropped


# --------------------------------------------------------------------------- the page


def test_province_map_classes_legend_and_drill_down(mapped: Any):
    r = client_for(mapped.admin).get("/insights/map/", {"area": "46", "indicator": "poor_levels", "round": ROUND})
    assert r.status_code == 200
    html = r.content.decode()
    assert regions(html) == {"4601": "c0", "4605": "c4"}  # 0.26 and 0.75: the two ends
    assert legend(html) == ["26.0 % – 35.8 %", "35.8 % – 45.6 %", "45.6 % – 55.4 %", "55.4 % – 65.2 %",
                            "65.2 % – 75.0 %"]  # fmt: skip
    assert "<title>เมืองกาฬสินธุ์: 26.0 %</title>" in html
    assert "/insights/map/?area=4601&amp;indicator=poor_levels&amp;round=2568" in html
    assert "OCHA / Royal Thai Survey Department" in html


def test_district_map_has_one_path_per_subdistrict_with_hand_computed_classes(mapped: Any):
    html = client_for(mapped.dara).get("/insights/map/", {"area": "4601", "round": ROUND}).content.decode()
    # 460101 = 6/20 = 0.3 (top), 460102 = 4/20 = 0.2 (bottom), 460103 = 3/10 = 0.3 (top).
    assert regions(html) == {"460101": "c4", "460102": "c0", "460103": "c4"}
    assert html.count('<path class="region') == 3
    assert legend(html)[0] == "20.0 % – 22.0 %" and legend(html)[-1] == "28.0 % – 30.0 %"


def test_local_officer_sees_her_subdistrict_and_the_rest_grey_without_figures(mapped: Any):
    html = client_for(mapped.ploy).get("/insights/map/").content.decode()  # opens on her district
    assert regions(html) == {"460101": "c2", "460102": "out", "460103": "out"}
    assert "<title>กาฬสินธุ์: 30.0 %</title>" in html  # only her two villages: 6/20
    assert "<title>เหนือ: 20.0 %" not in html and "เหนือ: " in html
    assert "?area=460102" not in html  # no drill-down into what is not hers


def test_somchai_gets_404_for_another_district_and_no_figure_of_it(mapped: Any):
    c = client_for(mapped.somchai)
    assert c.get("/insights/map/", {"area": "4601"}).status_code == 404
    assert c.get("/insights/map/areas.geojson", {"area": "4601"}).status_code == 404
    html = c.get("/insights/map/", {"area": "46", "round": ROUND}).content.decode()
    assert regions(html) == {"4601": "out", "4605": "c2"}
    assert "26.0 %" not in html
    data = c.get("/insights/map/areas.geojson", {"area": "46", "round": ROUND}).json()
    assert [f["properties"]["code"] for f in data["features"]] == ["4605"]


def test_small_cells_are_hidden_from_who_may_not_see_the_households(mapped: Any):
    analyst = client_for(mapped.analyst).get("/insights/map/", {"area": "46", "indicator": "graduated"})
    assert regions(analyst.content.decode())["4605"] == "nodata"
    assert "fewer than 5 households" in analyst.content.decode() or "น้อยกว่า 5" in analyst.content.decode()
    admin = client_for(mapped.admin).get("/insights/map/", {"area": "46", "indicator": "graduated"})
    assert "<title>กุฉินารายณ์: 2</title>" in admin.content.decode()
    assert "<title>เมืองกาฬสินธุ์: 0</title>" in admin.content.decode()  # figures, none graduated: 0


def test_the_offline_page_makes_no_external_request(mapped: Any):
    html = client_for(mapped.dara).get("/insights/map/", {"area": "4601"}).content.decode()
    sources = re.findall(r'\s(?:src|href)="([^"]*)"', html)
    loaded = re.findall(r'<(?:script|img|iframe|source)[^>]*\ssrc="([^"]*)"', html)
    loaded += re.findall(r'<link[^>]*\shref="([^"]*)"', html)
    assert loaded and all(u.startswith("/static/") for u in loaded), loaded
    assert not any(u.startswith("//") for u in sources)
    assert 'data-tiles="https://tile.openstreetmap.org/' in html  # asked for only when the switch is on
    assert "/static/vendor/leaflet/leaflet.js" in html and '<script src="/static/vendor/leaflet' not in html


def test_unknown_indicator_and_round_fall_back(mapped: Any):
    r = client_for(mapped.admin).get("/insights/map/", {"area": "46", "indicator": "nope", "round": "1999"})
    assert r.status_code == 200 and 'value="poor_levels" selected' in r.content.decode()
    assert client_for(mapped.admin).get("/insights/map/", {"area": "4601x"}).status_code == 404
    r = client_for(mapped.admin).get("/insights/map/", {"area": "460101"})
    assert r.status_code == 302 and "area=4601" in r["Location"]


def test_a_standalone_svg_for_documents(mapped: Any):
    svg = maps.choropleth_svg("46", {"4601": 0.26, "4605": 0.75}, title="แผนที่", indicator="poor_levels")
    assert svg.startswith("<svg ") and svg.count("<path ") == 2 and "<title>แผนที่</title>" in svg
    assert f'fill="{maps.PALETTES["worse"][0]}"' in svg and f'fill="{maps.PALETTES["worse"][4]}"' in svg
    assert "26.0 % – 35.8 %" in svg and "OCHA / Royal Thai Survey Department" in svg
    only_mine = maps.choropleth_svg("46", {"4605": 0.032}, indicator="mpi_m0")
    assert f'fill="{maps.OUTSIDE_FILL}"' in only_mine and "0.032" in only_mine and "กุฉินารายณ์: 0.032" in only_mine
    assert maps.choropleth_svg("4605", {}) != "" and maps.choropleth_svg("460501", {}) == ""


# --------------------------------------------------------------------------- the layers


def test_areas_layer_is_aggregates_and_audited(mapped: Any):
    c = client_for(mapped.analyst)
    r = c.get("/insights/map/areas.geojson", {"area": "46", "indicator": "poor_levels", "round": ROUND})
    assert r.status_code == 200 and r["Content-Type"] == "application/geo+json"
    data = r.json()
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert set(props) == {"4601", "4605"}
    assert props["4601"]["value"] == pytest.approx(0.26) and props["4601"]["class"] == 0
    assert props["4605"]["class"] == 4 and props["4605"]["name_en"] == "Kuchinarai"
    assert data["features"][0]["geometry"]["type"] == "Polygon"
    assert "OCHA / Royal Thai Survey Department" in data["attribution"]
    event = AuditEvent.objects.get(action="insights.export", object_ref="areas")
    assert (event.actor, event.object_type, event.area_code) == (mapped.analyst, "map_layer", "46")
    d = c.get("/insights/map/areas.geojson", {"area": "46", "download": "1"})
    assert d["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.filter(action="insights.export", object_ref="areas").count() == 2


@pytest.fixture
def located(mapped: Any) -> dict[str, Any]:
    c = mapped
    c.household.latitude, c.household.longitude = 16.1, 103.1
    c.household.save()
    return {
        "ploy2": services.household_create(
            actor=c.ploy, village_code="46010102", house_no="5", latitude=16.12, longitude=103.12
        ),
        "nowhere": services.household_create(actor=c.ploy, village_code="46010101", house_no="6"),
        "dara": services.household_create(
            actor=c.dara, village_code="46010201", house_no="8", latitude=16.1, longitude=103.3
        ),
        "somchai": services.household_create(
            actor=c.somchai, village_code="46050101", house_no="9", latitude=16.2, longitude=103.7
        ),
    }


def test_ploy_gets_only_her_households_code_and_village_audited(mapped: Any, located: dict[str, Any]):
    before = AuditEvent.objects.filter(action="insights.export").count()
    r = client_for(mapped.ploy).get("/insights/map/households.geojson", {"area": "4601"})
    assert r.status_code == 200
    body = r.content.decode()
    data = json.loads(body)
    codes = [f["properties"]["code"] for f in data["features"]]
    # Hers with a location; not the one without coordinates, not the district officer's.
    assert codes == [mapped.household.code, located["ploy2"].code]
    assert data["features"][0]["properties"] == {
        "code": mapped.household.code, "village": "46010101", "village_name": "บ้านหนองบัว"
    }  # fmt: skip
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [103.1, 16.1]}
    for secret in ("บุญมี", "ศรีสุข", mapped.head_nid, "99/1"):
        assert secret not in body
    assert data["truncated"] is False
    event = AuditEvent.objects.filter(action="insights.export").latest("id")
    assert AuditEvent.objects.filter(action="insights.export").count() == before + 1
    assert (event.actor, event.object_type, event.object_ref, event.area_code) == (
        mapped.ploy, "map_layer", "households", "4601"
    )  # fmt: skip
    assert "points=2" in event.note


def test_household_dots_only_for_who_may_see_households(mapped: Any, located: dict[str, Any]):
    dara = client_for(mapped.dara).get("/insights/map/", {"area": "4601"}).content.decode()
    assert dots(dara) == 3  # the 3 located households of 4601
    assert "/insights/map/households.geojson?area=4601&amp;download=1" in dara
    ploy = client_for(mapped.ploy).get("/insights/map/", {"area": "4601"}).content.decode()
    assert dots(ploy) == 2
    analyst = client_for(mapped.analyst).get("/insights/map/", {"area": "46"}).content.decode()
    assert 'class="dots"' not in analyst and "households.geojson" not in analyst


def test_who_may_not_see_or_export_points_is_refused(mapped: Any, located: dict[str, Any]):
    assert client_for(mapped.analyst).get("/insights/map/households.geojson", {"area": "46"}).status_code == 403
    assert client_for(mapped.agency).get("/insights/map/households.geojson", {"area": "46"}).status_code == 403
    assert client_for(mapped.somchai).get("/insights/map/households.geojson", {"area": "4601"}).status_code == 404
    somchai = client_for(mapped.somchai).get("/insights/map/households.geojson", {"area": "46"}).json()
    assert [f["properties"]["code"] for f in somchai["features"]] == [located["somchai"].code]
    # A volunteer sees her village's points on the map but may not download them.
    vee = client_for(mapped.vee)
    shown = vee.get("/insights/map/households.geojson", {"area": "4601"}).json()
    assert [f["properties"]["code"] for f in shown["features"]] == [mapped.household.code]
    assert vee.get("/insights/map/households.geojson", {"area": "4601", "download": "1"}).status_code == 403
    d = client_for(mapped.ploy).get("/insights/map/households.geojson", {"area": "4601", "download": "1"})
    assert d.status_code == 200 and d["Content-Disposition"] == 'attachment; filename="khm-households-4601.geojson"'
    assert len(d.json()["features"]) == 2
    assert "download" in AuditEvent.objects.filter(action="insights.export").latest("id").note
    assert client_for(mapped.nobody).get("/insights/map/", {"area": "46"}).status_code == 403
    assert Client().get("/insights/map/areas.geojson", {"area": "46"}).status_code == 302


def test_the_points_layer_is_capped_and_says_so(mapped: Any, located: dict[str, Any], monkeypatch: Any):
    monkeypatch.setattr(maps, "MAX_POINTS", 1)
    data = client_for(mapped.admin).get("/insights/map/households.geojson", {"area": "46"}).json()
    assert len(data["features"]) == 1 and data["truncated"] is True and data["limit"] == 1
