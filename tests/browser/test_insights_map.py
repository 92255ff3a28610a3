"""The insights map in a real browser: the district officer opens the map of his district on a
desktop and sees every subdistrict drawn from the real (OCHA / RTSD) boundaries, coloured by
the share of assessed households at poverty levels 1–2, with the legend and the credit — and
the page asks nothing of the internet. The "online base map" switch loads the vendored Leaflet;
with the tile server unreachable the boundaries still show. A local officer's map fits a phone.

``KHM_SCREENSHOT=1`` saves docs/img/insights-map.png.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Demo
from tests.browser.test_household_pages import DESKTOP, PHONE, _fits_width, _log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "insights-map.png"


def _mapped(demo: Demo) -> int:
    """Boundaries, assessments, household locations and the figures; the number of
    subdistricts of 4601 with a boundary."""
    from khm.areas.loaders import BOUNDARY_FILES, BOUNDARY_SOURCE
    from khm.areas.models import Area, Boundary
    from khm.demo.assessments import seed_assessments
    from khm.insights.maps import polygons
    from khm.insights.refresh import refresh
    from khm.registry.models import Household

    # The browser demo loads the area tree without boundaries (the household pages draw none).
    areas = {a.code: a for a in Area.objects.filter(level__in=[2, 3])}
    rows = []
    for path in BOUNDARY_FILES:
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            area = areas.get(feature["properties"]["code"])
            if area is not None:
                rows.append(Boundary(area=area, geometry=feature["geometry"], source=BOUNDARY_SOURCE))
    Boundary.objects.bulk_create(rows)
    seed_assessments(seed=4601, share=0.8)
    # Households have no GPS point in the demo: put each near the middle of its subdistrict.
    rng = random.Random(9)
    shapes = {b.area.code: b.geometry for b in Boundary.objects.select_related("area").filter(area__level=3)}
    located = []
    for h in Household.objects.filter(area_code__in=demo.local_villages | demo.local2_villages):
        ring = polygons(shapes[h.area_code[:6]])[0][0]
        lon = sum(p[0] for p in ring) / len(ring) + rng.uniform(-0.01, 0.01)
        lat = sum(p[1] for p in ring) / len(ring) + rng.uniform(-0.01, 0.01)
        h.latitude, h.longitude = round(lat, 6), round(lon, 6)
        located.append(h)
    Household.objects.bulk_update(located, ["latitude", "longitude"])
    refresh(full=True)
    return Boundary.objects.filter(area__parent__code="4601").count()


def test_district_officer_sees_the_choropleth_of_his_district_offline(demo: Demo, live_server, page_factory):
    subdistricts = _mapped(demo)
    assert subdistricts > 5
    base = live_server.url
    page = page_factory(**DESKTOP)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    page.goto(f"{base}/accounts/login/?next=/insights/map/")
    _log_in(page, "district", demo.password)
    page.wait_for_url(f"{base}/insights/map/")

    regions = page.locator("svg#map-svg path.region")
    expect(regions).to_have_count(subdistricts)
    coloured = page.locator("svg#map-svg path.region:is(.c0, .c1, .c2, .c3, .c4)")
    assert coloured.count() >= 2, "the subdistricts of the demo villages have figures"
    assert page.locator("svg#map-svg path.region.out").count() == 0  # the whole district is his
    # Every region names itself; the visible ones drill down.
    first = regions.first
    assert first.locator("title").text_content()
    assert page.locator("svg#map-svg a path.region").count() == subdistricts
    legend = page.locator(".map-legend li.legend-row[data-class]")
    assert legend.count() >= 3
    expect(page.locator(".map-legend")).to_contain_text("%")
    expect(page.locator(".map-legend .credit")).to_contain_text("OCHA / Royal Thai Survey Department")
    expect(page.locator("svg#map-svg path.dots")).to_have_count(1)  # he may see the households
    expect(page.locator("table.map-table tbody tr")).to_have_count(subdistricts)
    assert outside == [], f"the offline map asked the internet for {outside}"
    if os.environ.get("KHM_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        top, bottom = page.locator("main").bounding_box(), page.locator(".map-legend").bounding_box()
        assert top and bottom
        clip = {
            "x": top["x"],
            "y": top["y"],
            "width": top["width"],
            "height": bottom["y"] + bottom["height"] - top["y"],
        }
        page.screenshot(path=str(SCREENSHOT), clip=clip, full_page=True)

    # The online base map: Leaflet from our static files, the tile server unreachable.
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    toggle = page.locator("#basemap-toggle")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#basemap .leaflet-overlay-pane path.leaflet-interactive")).to_have_count(subdistricts)
    expect(page.locator("#basemap-offline")).to_be_visible()
    expect(page.locator("#basemap .leaflet-control-attribution")).to_contain_text("OpenStreetMap contributors")
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in outside)
    toggle.click()
    expect(page.locator("svg#map-svg")).to_be_visible()


def test_local_officer_map_fits_a_phone(demo: Demo, live_server, page_factory):
    _mapped(demo)
    base = live_server.url
    page = page_factory(**PHONE)
    page.goto(f"{base}/accounts/login/?next=/insights/map/")
    _log_in(page, "local", demo.password)
    page.wait_for_url(f"{base}/insights/map/")
    expect(page.locator("svg#map-svg path.region.out").first).to_be_attached()  # the rest of the district: grey
    assert page.locator("svg#map-svg a path.region").count() >= 1
    assert _fits_width(page), "the map scrolls sideways on a phone"
