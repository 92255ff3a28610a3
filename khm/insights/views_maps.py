"""Maps of the pre-aggregated figures and their GeoJSON layers (issue 9).

``map_page`` draws an inline SVG choropleth that needs no network at all; its "online base map"
switch loads the vendored Leaflet from our own static files and asks the tile server only then.
Every GeoJSON layer goes through the scope (``khm.insights.maps``) and is an audited export.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.insights import maps

# The online base map's tiles; KHM_MAP_TILES = "" in settings hides the switch.
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
GEOJSON = "application/geo+json"


def _area_param(request: HttpRequest, *, required: bool = False) -> str:
    area = (request.GET.get("area") or "").strip()
    if area and not (area.isdigit() and len(area) in (2, 4, 6, 8)):
        raise Http404
    if required and not area:
        raise Http404
    return area


def _geojson(data: dict[str, object], *, filename: str, download: bool) -> HttpResponse:
    response = HttpResponse(json.dumps(data, ensure_ascii=False, separators=(",", ":")), content_type=GEOJSON)
    if download:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@scoped("insights.view")
def map_page(request: HttpRequest) -> HttpResponse:
    wanted = _area_param(request)
    area = maps.map_area(request.user, wanted)
    if wanted and wanted != area:
        query = request.GET.copy()
        query["area"] = area
        return redirect(f"{reverse('insights:map')}?{query.urlencode()}")
    indicator = request.GET.get("indicator") or maps.DEFAULT_INDICATOR
    m = maps.choropleth_map(request.user, area_code=area, indicator_key=indicator, round=request.GET.get("round", ""))
    params = {"area": m.area.code, "indicator": m.indicator.key, "round": m.round}
    context = {
        "m": m,
        "indicators": maps.INDICATORS.values(),
        "params": params,
        "areas_url": f"{reverse('insights:map_areas')}?{urlencode(params)}",
        "points_url": f"{reverse('insights:map_households')}?{urlencode({'area': m.area.code})}",
        "tiles": getattr(settings, "KHM_MAP_TILES", DEFAULT_TILES),
        "osm_credit": maps.OSM_CREDIT,
        "boundary_credit": maps.BOUNDARY_CREDIT,
        "names_credit": maps.NAMES_CREDIT,
        "max_dots": maps.MAX_DOTS,
        "max_points": maps.MAX_POINTS,
    }
    return render(request, "insights/map.html", context)


@require_GET
@scoped("insights.view")
def map_areas(request: HttpRequest) -> HttpResponse:
    """The child areas with their figure and class: aggregates only."""
    area = _area_param(request, required=True)
    data = maps.area_features(
        request.user,
        area_code=area,
        indicator_key=request.GET.get("indicator", ""),
        round=request.GET.get("round", ""),
    )
    download = request.GET.get("download") == "1"
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="insights.export",
            object_type="map_layer",
            object_ref="areas",
            area_code=area,
            note=f"{data['indicator']} round={data['round'] or '-'} features={len(data['features'])}"
            f"{' download' if download else ''}",
        )
    return _geojson(data, filename=f"khm-areas-{area}-{data['indicator']}.geojson", download=download)


@require_GET
@scoped("household.view")
def map_households(request: HttpRequest) -> HttpResponse:
    """Household points (code and village only). Shown on the map to who may see the
    households; ``download=1`` also needs ``export.personal`` in the area."""
    area = _area_param(request, required=True)
    if not maps.may_see_points(request.user, area):
        raise Http404
    download = request.GET.get("download") == "1"
    if download and not maps.may_export_points(request.user, area):
        raise PermissionDenied
    points, truncated = maps.household_points(request.user, area_code=area, download=download)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="insights.export",
            object_type="map_layer",
            object_ref="households",
            area_code=area,
            note=f"points={len(points)}{' truncated' if truncated else ''}{' download' if download else ' map'}",
        )
    data = maps.points_collection(points, area_code=area, truncated=truncated, limit=maps.MAX_POINTS)
    return _geojson(data, filename=f"khm-households-{area}.geojson", download=download)
