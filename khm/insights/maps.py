"""Choropleth maps and map layers of the pre-aggregated figures, for who asks.

Pure parts (no database): :class:`Projection` and :func:`svg_path` turn GeoJSON boundaries
(WGS84 lon/lat) into SVG paths in a fixed-width viewBox; :func:`classify` puts values into five
equal-interval classes of a colour-blind-safe ColorBrewer palette; :data:`INDICATORS` says how
each mapped figure is computed from :func:`khm.insights.selectors.derive`.

Reads (who asks first): :func:`choropleth_map` (the page), :func:`area_features` (the child-area
layer: aggregates only), :func:`household_points` (the household layer: personal data, read
only through :func:`khm.registry.selectors.households_visible`, so the area scope applies).

Why equal intervals and not quantiles: a map shows 5–18 areas (districts of the province,
subdistricts of a district); quantiles of so few values put near-equal areas in different
classes and change bounds with every tie, while equal steps between the smallest and largest
value read plainly in the legend ("20.0 % – 30.0 %") and keep a class meaning the same
distance everywhere on one map.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import Scope, scope_for
from khm.areas.models import Area, code_range
from khm.insights import selectors
from khm.registry.models import HouseholdStatus
from khm.registry.selectors import households_visible

WIDTH = 600  # viewBox width; the height follows the area's shape
PAD = 8
MIN_HEIGHT, MAX_HEIGHT = 200, 900
TENTHS = 10  # coordinates are written in tenths of a viewBox unit
MIN_STEP = 5  # tenths: a point closer than 0.5 unit to the last one kept is dropped
CLASSES = 5
MIN_CELL = 5  # a figure on fewer households is hidden from who may not see those households
MAX_POINTS = 5000  # household points in one layer (the rest are left out, and the layer says so)
MAX_DOTS = 2000  # household dots drawn on the SVG page (kept small for cheap phones)
HOUSEHOLD_VIEW = "household.view"
EXPORT_PERSONAL = "export.personal"

# ColorBrewer sequential schemes, 5 classes, both marked colour-blind safe: darker = more.
# "worse": YlOrRd for figures where more means more poverty; "better": YlGnBu for help given.
PALETTES: dict[str, tuple[str, ...]] = {
    "worse": ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    "better": ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"),
}
OUTSIDE_FILL = "#d4d4d4"  # areas outside the actor's scope: drawn, never with a figure
NO_DATA_FILL = "#ffffff"  # visible, but no figure (none yet, or hidden as a small cell)
STROKE = "#4d4d4d"
DOT = "#1a1a1a"

BOUNDARY_CREDIT = _(
    "Boundaries: OCHA / Royal Thai Survey Department, Thailand Subnational Administrative Boundaries "
    "(COD-AB), CC BY-IGO; simplified for display."
)
BOUNDARY_CREDIT_SHORT = _("Boundaries: OCHA / Royal Thai Survey Department, CC BY-IGO")
NAMES_CREDIT = _("Area codes and names: GeoThai data © 2026 Pongsakorn Thipayanate, CC BY 4.0.")
OSM_CREDIT = "© OpenStreetMap contributors"


# --------------------------------------------------------------------------- indicators


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str | Promise
    fmt: str  # "pct" (a share 0–1), "count", "baht", "index" (3 decimals)
    palette: str  # a key of PALETTES
    base: str  # the count of households the figure rests on (small-cell rule)
    value: Callable[[dict[str, Any]], float | None]


def _metric(name: str) -> Callable[[dict[str, Any]], float | None]:
    def get(d: dict[str, Any]) -> float | None:
        return float(d.get(name) or 0.0)  # zero counts have no Fact row: an area with figures has 0

    return get


def _derived(name: str) -> Callable[[dict[str, Any]], float | None]:
    def get(d: dict[str, Any]) -> float | None:
        v = d.get(name)
        return None if v is None else float(v)

    return get


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("poor_levels", _("Assessed households at poverty levels 1–2"), "pct", "worse", "assessed",
                  _derived("share_poor_levels")),
        Indicator("mpi_h", _("MPI headcount ratio (H)"), "pct", "worse", "mpi_n", _derived("mpi_H")),
        Indicator("mpi_m0", _("MPI adjusted headcount (M0)"), "index", "worse", "mpi_n", _derived("mpi_M0")),
        Indicator("target_poor", _("Target poor households"), "count", "worse", "target_poor", _metric("target_poor")),
        Indicator("listed", _("Households on lists"), "count", "worse", "listed_households",
                  _metric("listed_households")),
        Indicator("helped", _("Target poor helped"), "pct", "better", "target_poor", _derived("share_helped")),
        Indicator("verified", _("Listed households verified"), "pct", "better", "listed_households",
                  _derived("verified_share")),
        Indicator("graduated", _("Graduated households"), "count", "better", "graduated", _metric("graduated")),
        Indicator("help_value", _("Value of help (baht)"), "baht", "better", "help_records", _metric("help_value")),
    )
}  # fmt: skip
DEFAULT_INDICATOR = "poor_levels"


def format_value(indicator: Indicator, value: float | None) -> str:
    if value is None:
        return "—"
    if indicator.fmt == "pct":
        return f"{value * 100:.1f} %"
    if indicator.fmt == "index":
        return f"{value:.3f}"
    if indicator.fmt == "baht":
        return f"{value:,.0f} ฿"
    return f"{value:,.0f}"


# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class LegendRow:
    klass: int
    color: str
    low: float
    high: float
    label: str


@dataclass(frozen=True)
class Classes:
    """Equal intervals between the smallest and largest value: ``edges`` has CLASSES + 1 bounds."""

    edges: tuple[float, ...]
    colors: tuple[str, ...]

    def of(self, value: float | None) -> int | None:
        if value is None or not self.edges:
            return None
        low, high = self.edges[0], self.edges[-1]
        if high == low:
            return CLASSES // 2  # one value for every area: the middle colour, one legend row
        k = int((value - low) / (high - low) * CLASSES)
        return min(max(k, 0), CLASSES - 1)  # the largest value belongs to the top class

    def color(self, value: float | None) -> str:
        k = self.of(value)
        return NO_DATA_FILL if k is None else self.colors[k]

    def legend(self, indicator: Indicator) -> list[LegendRow]:
        if not self.edges:
            return []
        if self.edges[0] == self.edges[-1]:
            v = self.edges[0]
            return [LegendRow(CLASSES // 2, self.colors[CLASSES // 2], v, v, format_value(indicator, v))]
        return [
            LegendRow(
                k, self.colors[k], self.edges[k], self.edges[k + 1],
                f"{format_value(indicator, self.edges[k])} – {format_value(indicator, self.edges[k + 1])}",
            )
            for k in range(CLASSES)
        ]  # fmt: skip


def classify(values: Iterable[float | None], palette: str = "worse") -> Classes:
    present = [v for v in values if v is not None and math.isfinite(v)]
    colors = PALETTES[palette]
    if not present:
        return Classes((), colors)
    low, high = min(present), max(present)
    step = (high - low) / CLASSES
    edges = tuple([low + step * k for k in range(CLASSES)] + [high])
    return Classes(edges, colors)


# --------------------------------------------------------------------------- geometry


Ring = Sequence[Sequence[float]]


def polygons(geometry: dict[str, Any]) -> list[list[Ring]]:
    """Polygon or MultiPolygon → a list of polygons, each a list of rings (outer first)."""
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return [coords]
    if kind == "MultiPolygon":
        return list(coords)
    return []


def bbox(geometries: Iterable[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []
    for g in geometries:
        for poly in polygons(g):
            for ring in poly:
                xs += [p[0] for p in ring]
                ys += [p[1] for p in ring]
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class Projection:
    """Equirectangular: x = lon · cos(mean latitude), y = −lat, scaled to WIDTH (north up)."""

    west: float
    north: float
    kx: float  # viewBox units per degree of longitude
    ky: float  # per degree of latitude
    width: int
    height: int

    @classmethod
    def fit(cls, box: tuple[float, float, float, float], width: int = WIDTH) -> Projection:
        west, south, east, north = box
        c = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * c, 1e-9)
        span_y = max(north - south, 1e-9)
        scale = (width - 2 * PAD) / span_x
        if span_y * scale > MAX_HEIGHT - 2 * PAD:  # a tall area: fit the height instead
            scale = (MAX_HEIGHT - 2 * PAD) / span_y
        height = min(max(round(span_y * scale) + 2 * PAD, MIN_HEIGHT), MAX_HEIGHT)
        # Centre the drawing in the box.
        west -= (width - span_x * scale) / 2 / scale / c
        north += (height - span_y * scale) / 2 / scale
        return cls(west, north, scale * c, scale, width, height)

    def tenths(self, lon: float, lat: float) -> tuple[int, int]:
        return round((lon - self.west) * self.kx * TENTHS), round((self.north - lat) * self.ky * TENTHS)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.tenths(lon, lat)
        return x / TENTHS, y / TENTHS

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _n(tenths: int) -> str:
    """A number of tenths as short SVG text: 123 → "12.3", 120 → "12", -5 → "-.5"."""
    sign = "-" if tenths < 0 else ""
    whole, frac = divmod(abs(tenths), TENTHS)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac}" if whole else f"{sign}.{frac}"


def _ring_points(ring: Ring, proj: Projection) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for lon, lat, *_rest in ring:
        p = proj.tenths(lon, lat)
        if kept and math.hypot(p[0] - kept[-1][0], p[1] - kept[-1][1]) < MIN_STEP:
            continue
        kept.append(p)
    if len(kept) > 1 and kept[-1] == kept[0]:
        kept.pop()  # "z" closes the ring
    return kept


def svg_path(geometry: dict[str, Any], proj: Projection) -> str:
    """The SVG path data of a Polygon/MultiPolygon: one subpath per ring, relative moves,
    points closer than half a unit dropped; rings that shrink below a triangle are left out."""
    parts: list[str] = []
    for poly in polygons(geometry):
        for ring in poly:
            pts = _ring_points(ring, proj)
            if len(pts) < 3:
                continue
            (x0, y0), rest = pts[0], pts[1:]
            steps: list[str] = []
            px, py = x0, y0
            for x, y in rest:
                steps.append(f"{_n(x - px)} {_n(y - py)}")
                px, py = x, y
            parts.append(f"M{_n(x0)} {_n(y0)}l" + " ".join(steps).replace(" -", "-") + "z")
    return "".join(parts)


def label_point(geometry: dict[str, Any], proj: Projection) -> tuple[float, float] | None:
    """Where to write a name: the area-weighted centroid of the largest outer ring."""
    best: tuple[float, float, float] | None = None
    for poly in polygons(geometry):
        if not poly:
            continue
        ring = [proj.point(p[0], p[1]) for p in poly[0]]
        a = cx = cy = 0.0
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            cross = x1 * y2 - x2 * y1
            a += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
        if a and (best is None or abs(a) > best[0]):
            best = (abs(a), cx / (3 * a), cy / (3 * a))
    return None if best is None else (round(best[1], 1), round(best[2], 1))


def dots_path(points: Iterable[tuple[float, float]], proj: Projection) -> str:
    """Every point as a zero-length segment of one path (drawn as round dots by the stroke):
    about 15 bytes a point instead of 40 for a <circle>."""
    return "".join(f"M{_n(x)} {_n(y)}h0" for x, y in (proj.tenths(lon, lat) for lon, lat in points))


# --------------------------------------------------------------------------- reads


@dataclass
class Region:
    code: str
    name: str
    visible: bool
    value: float | None = None
    text: str = "—"
    klass: int | None = None
    fill: str = OUTSIDE_FILL
    path: str = ""
    label: tuple[float, float] | None = None
    suppressed: bool = False
    geometry: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def css(self) -> str:
        if not self.visible:
            return "out"
        if self.klass is None:
            return "nodata"
        return f"c{self.klass}"


@dataclass
class Choropleth:
    area: Area
    view: selectors.View
    indicator: Indicator
    round: str
    rounds: list[str]
    regions: list[Region]
    classes: Classes
    legend: list[LegendRow]
    projection: Projection | None
    parents: list[Area] = field(default_factory=list)
    dots: str = ""
    dots_shown: int = 0
    dots_truncated: bool = False
    may_see_points: bool = False
    may_download_points: bool = False

    @property
    def has_outside(self) -> bool:
        return any(not r.visible for r in self.regions)


def map_area(actor: Any, area_code: str) -> str:
    """The area a map opens on: given, or the actor's home area; a subdistrict or village
    opens its district (their children have no boundaries)."""
    code = area_code or selectors.home_area(actor)
    if len(code) > 4:
        code = code[:4]
    return code


def _name(area: Area) -> str:
    if (get_language() or "th").startswith("en") and area.name_en:
        return area.name_en
    return area.name_th


def _visible_children(view: selectors.View, codes: Iterable[str]) -> set[str]:
    if view.whole:
        return set(codes)
    n = len(view.area_code) + 2
    return {v[:n] for v in view.codes}


def _hides_small_cells(actor: Any, view: selectors.View, code: str) -> bool:
    """A figure of few households is hidden unless the actor may see those households."""
    hh: Scope = scope_for(actor, HOUSEHOLD_VIEW)
    if hh.covers_area(code):
        return False
    mine = [v for v in view.codes if v.startswith(code)]
    return not (mine and all(hh.contains(v) or hh.covers_area(v) for v in mine))


def _regions(
    actor: Any, view: selectors.View, indicator: Indicator, round: str, *, with_outside: bool
) -> tuple[list[Region], Classes]:
    area_len = len(view.area_code)
    kids = list(
        Area.objects.filter(parent__code=view.area_code, active=True, level=selectors.LEVEL_OF_LENGTH[area_len + 2])
        .select_related("boundary")
        .order_by("code")
    )
    visible = _visible_children(view, (a.code for a in kids))
    data = selectors.children(view, round)
    regions: list[Region] = []
    for a in kids:
        if a.code not in visible and not with_outside:
            continue
        geometry = a.boundary.geometry if hasattr(a, "boundary") else {}
        r = Region(a.code, _name(a), a.code in visible, geometry=geometry)
        if r.visible:
            figures = data.get(a.code, {})
            r.value = indicator.value(selectors.derive(figures)) if figures else None
            base = figures.get(indicator.base, 0.0)
            if r.value is not None and 0 < base < MIN_CELL and _hides_small_cells(actor, view, a.code):
                r.value, r.suppressed = None, True
            r.text = format_value(indicator, r.value)
        regions.append(r)
    classes = classify((r.value for r in regions if r.visible), indicator.palette)
    for r in regions:
        if r.visible:
            r.klass = classes.of(r.value)
            r.fill = classes.color(r.value)
    return regions, classes


def _round(view: selectors.View, wanted: str) -> tuple[str, list[str]]:
    rounds = selectors.rounds(view)
    if wanted in rounds:
        return wanted, rounds
    return (rounds[-1] if rounds else ""), rounds


def indicator_of(key: str) -> Indicator:
    return INDICATORS.get(key) or INDICATORS[DEFAULT_INDICATOR]


def _map_view(actor: Any, area_code: str) -> tuple[Area, selectors.View]:
    if len(area_code) not in (2, 4):
        raise Http404  # maps draw the districts of a province or the subdistricts of a district
    view = selectors.view_for(actor, area_code)
    area = Area.objects.filter(code=area_code).first()
    if area is None:
        raise Http404
    return area, view


def choropleth_map(actor: Any, *, area_code: str, indicator_key: str, round: str = "") -> Choropleth:
    """The page's map: every child area drawn, figures only where the actor may see them."""
    area, view = _map_view(actor, area_code)
    indicator = indicator_of(indicator_key)
    rnd, rounds = _round(view, round)
    regions, classes = _regions(actor, view, indicator, rnd, with_outside=True)
    box = bbox(r.geometry for r in regions)
    proj = Projection.fit(box) if box else None
    if proj is not None:
        for r in regions:
            if r.geometry:
                r.path = svg_path(r.geometry, proj)
                r.label = label_point(r.geometry, proj)
    parents: list[Area] = []
    p = area.parent
    while p is not None:
        parents.insert(0, p)
        p = p.parent
    out = Choropleth(
        area=area, view=view, indicator=indicator, round=rnd, rounds=rounds, regions=regions, classes=classes,
        legend=classes.legend(indicator), projection=proj, parents=parents,
    )  # fmt: skip
    out.may_see_points = may_see_points(actor, area_code)
    out.may_download_points = out.may_see_points and may_export_points(actor, area_code)
    if out.may_see_points and proj is not None:
        points, truncated = household_points(actor, area_code=area_code, limit=MAX_DOTS)
        out.dots = dots_path(((p["lon"], p["lat"]) for p in points), proj)
        out.dots_shown, out.dots_truncated = len(points), truncated
    return out


def _properties(r: Region, area: Area) -> dict[str, Any]:
    return {
        "code": r.code, "name_th": area.name_th, "name_en": area.name_en, "value": r.value, "text": r.text,
        "class": r.klass, "fill": r.fill, "suppressed": r.suppressed,
    }  # fmt: skip


def area_features(actor: Any, *, area_code: str, indicator_key: str, round: str = "") -> dict[str, Any]:
    """The child areas the actor may see, as a GeoJSON FeatureCollection of aggregates."""
    area, view = _map_view(actor, area_code)
    indicator = indicator_of(indicator_key)
    rnd, _rounds = _round(view, round)
    regions, classes = _regions(actor, view, indicator, rnd, with_outside=False)
    names = {a.code: a for a in Area.objects.filter(code__in=[r.code for r in regions])}
    features = [
        {"type": "Feature", "geometry": r.geometry, "properties": _properties(r, names[r.code])}
        for r in regions
        if r.geometry
    ]
    return {
        "type": "FeatureCollection",
        "area": area.code,
        "indicator": indicator.key,
        "label": str(indicator.label),
        "round": rnd,
        "legend": [{"class": row.klass, "color": row.color, "low": row.low, "high": row.high, "label": row.label}
                   for row in classes.legend(indicator)],
        "attribution": f"{BOUNDARY_CREDIT} {NAMES_CREDIT}",
        "features": features,
    }  # fmt: skip


def household_points(
    actor: Any, *, area_code: str, download: bool = False, limit: int | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Points of the active households with coordinates in ``area_code`` that the actor may see
    (and, for a download, may export): household code and village only. Returns (points, cut)."""
    limit = limit or MAX_POINTS
    low, high = code_range(area_code)
    qs = households_visible(actor, HOUSEHOLD_VIEW)
    if download:
        qs = qs & households_visible(actor, EXPORT_PERSONAL)
    rows = list(
        qs.filter(
            area_code__gte=low, area_code__lte=high, status=HouseholdStatus.ACTIVE,
            latitude__isnull=False, longitude__isnull=False,
        )
        .order_by("area_code", "code")
        .values_list("code", "area_code", "village__name_th", "latitude", "longitude")[: limit + 1]
    )  # fmt: skip
    points = [
        {"code": code, "village": village, "village_name": name, "lat": _coord(lat), "lon": _coord(lon)}
        for code, village, name, lat, lon in rows[:limit]
    ]
    return points, len(rows) > limit


def _coord(value: Decimal | float | None) -> float:
    assert value is not None  # the query keeps only households with coordinates
    return round(float(value), 6)


def points_collection(points: list[dict[str, Any]], *, area_code: str, truncated: bool, limit: int) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "area": area_code,
        "limit": limit,
        "truncated": truncated,
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                "properties": {"code": p["code"], "village": p["village"], "village_name": p["village_name"]},
            }
            for p in points
        ],
    }


def may_see_points(actor: Any, area_code: str) -> bool:
    return not scope_for(actor, HOUSEHOLD_VIEW).restricted_to(area_code).empty


def may_export_points(actor: Any, area_code: str) -> bool:
    return not scope_for(actor, EXPORT_PERSONAL).restricted_to(area_code).empty


# --------------------------------------------------------------------------- for documents


def _children_with_boundaries(area_code: str) -> list[Area]:
    level = selectors.LEVEL_OF_LENGTH.get(len(area_code) + 2)
    if level is None:
        return []
    return list(
        Area.objects.filter(parent__code=area_code, active=True, level=level)
        .select_related("boundary")
        .exclude(boundary=None)
        .order_by("code")
    )


def choropleth_svg(
    area_code: str, values: dict[str, float | None], *, title: str = "", indicator: str = DEFAULT_INDICATOR
) -> str:
    """A standalone ``<svg>`` of the child areas of ``area_code`` with the legend and the credit
    drawn inside it (for the policy report's PDF, where only the SVG travels).

    ``values`` are the figures the caller already read for who asks (child code → value);
    a child without a key is drawn grey, without a figure. ``indicator`` (a key of
    :data:`INDICATORS`) gives the format and palette: "poor_levels" for shares, "mpi_m0" for M0.
    Returns "" when no child has a boundary."""
    from django.utils.html import escape

    ind = indicator_of(indicator)
    kids = _children_with_boundaries(area_code)
    box = bbox(a.boundary.geometry for a in kids)
    if box is None:
        return ""
    proj = Projection.fit(box)
    classes = classify((values.get(a.code) for a in kids if a.code in values), ind.palette)
    rows = classes.legend(ind)
    shapes: list[str] = []
    labels: list[str] = []
    for a in kids:
        seen = a.code in values
        v = values.get(a.code)
        fill = classes.color(v) if seen else OUTSIDE_FILL
        tip = f"{a.name_th}: {format_value(ind, v)}" if seen else a.name_th
        shapes.append(
            f'<path d="{svg_path(a.boundary.geometry, proj)}" fill="{fill}" fill-rule="evenodd" stroke="{STROKE}" '
            f'stroke-width="0.8" stroke-linejoin="round"><title>{escape(tip)}</title></path>'
        )
        at = label_point(a.boundary.geometry, proj)
        if at is not None:
            labels.append(
                f'<text x="{at[0]}" y="{at[1]}" font-size="11" text-anchor="middle" fill="#1a1a1a" stroke="#fff" '
                f'stroke-width="2.5" paint-order="stroke">{escape(a.name_th)}</text>'
            )
    # Legend below the map: two columns of swatches, then the credit.
    y0 = proj.height + 6
    legend: list[str] = []
    for i, row in enumerate(rows):
        x, y = 10 + (i % 2) * 290, y0 + (i // 2) * 20
        legend.append(
            f'<rect x="{x}" y="{y}" width="14" height="14" fill="{row.color}" stroke="{STROKE}" stroke-width="0.5"/>'
            f'<text x="{x + 20}" y="{y + 11}" font-size="12" fill="#1a1a1a">{escape(row.label)}</text>'
        )
    y_credit = y0 + ((len(rows) + 1) // 2) * 20 + 12
    height = y_credit + 8
    credit = escape(str(BOUNDARY_CREDIT_SHORT))
    heading = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {proj.width} {height}" width="{proj.width}" '
        f'height="{height}" role="img" class="khm-choropleth">{heading}'
        f"{''.join(shapes)}{''.join(labels)}{''.join(legend)}"
        f'<text x="10" y="{y_credit}" font-size="9" fill="#5a5a5a">{credit}</text></svg>'
    )
