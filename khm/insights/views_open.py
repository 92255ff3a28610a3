"""The public open-data page (no login): the published figures of a province, district or
subdistrict and of its child areas, and the same table as CSV. Only what
``khm.insights.open_data`` publishes is shown — aggregates of whole areas, small cells
suppressed; no household, person, code or name."""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from khm.areas.models import AreaLevel
from khm.core.access import public
from khm.insights import open_data

CACHE_CONTROL = "public, max-age=300"


def _licensed(resp: HttpResponse, *, cacheable: bool) -> HttpResponse:
    # The CSV may be kept by any cache; the page carries the visitor's CSRF token (language
    # menu), so it must not be shared.
    if cacheable:
        resp["Cache-Control"] = CACHE_CONTROL
    resp["Link"] = f'<{open_data.LICENCE_URL}>; rel="license"'
    return resp


def _chosen(request: HttpRequest) -> str | None:
    """The most specific area the form names consistently: ``area`` (links), else the
    subdistrict, district and province menus — a menu left over from another province is
    ignored, so the form works without JavaScript."""
    if request.GET.get("area"):
        return request.GET["area"]
    code = request.GET.get("province") or ""
    for name in ("district", "subdistrict"):
        value = request.GET.get(name) or ""
        if code and value.startswith(code) and len(value) == len(code) + 2:
            code = value
    return code or open_data.default_area()


def _cells(a: open_data.AreaFigures, k: int) -> list[tuple[open_data.Figure, str]]:
    """The CSV's cells: plain numbers, "<K" when suppressed, empty when not a number."""
    return [(f, open_data.display(a.values[f.key], f.key, a.suppressed, k)) for f in open_data.FIGURES]


def _shown(a: open_data.AreaFigures, k: int) -> list[tuple[open_data.Figure, str, bool]]:
    """The page's cells: (figure, text, suppressed), numbers written for people."""
    out = []
    for f in open_data.FIGURES:
        v = a.values[f.key]
        if f.key in a.suppressed:
            out.append((f, f"<{k}", True))
        elif v is None:
            out.append((f, "—", False))
        elif f.kind == "share":
            out.append((f, f"{v * 100:.1f} %", False))
        elif f.kind == "ratio":
            out.append((f, f"{v:.3f}", False))
        else:
            out.append((f, f"{v:,.0f}", False))
    return out


@public
@require_GET
def open_page(request: HttpRequest) -> HttpResponse:
    code = _chosen(request)
    if code is None:
        return _licensed(render(request, "insights/open.html", {"table": None}), cacheable=False)
    known = open_data.rounds(code)
    asked = request.GET.get("round")
    t = open_data.table(code, asked if asked in known else None)
    province, district = code[:2], code[:4] if len(code) >= 4 else ""
    subdistrict = code if len(code) == 6 else ""
    context = {
        "table": t,
        "k": t.min_cell,
        "level": AreaLevel(t.area.level).label,
        "rows": _shown(t.area, t.min_cell),
        "children": [(c, _shown(c, t.min_cell)) for c in t.children],
        "figures": open_data.FIGURES,
        "rounds": known,
        "provinces": open_data.choices(None),
        "districts": open_data.choices(province),
        "subdistricts": open_data.choices(district) if district else [],
        "province": province,
        "district": district,
        "subdistrict": subdistrict,
        "licence": open_data.LICENCE,
        "licence_url": open_data.LICENCE_URL,
        "attribution": open_data.ATTRIBUTION,
    }
    return _licensed(render(request, "insights/open.html", context), cacheable=False)


@public
@require_GET
def open_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The page's table: the area, then its child areas; suppressed cells as "<K"."""
    known = open_data.rounds(code)
    asked = request.GET.get("round")
    if asked is not None and asked not in known:
        raise Http404(open_data.UNKNOWN_ROUND)
    t = open_data.table(code, asked)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["area_code", "area_name", "level", "round", *open_data.KEYS])
    for a in (t.area, *t.children):
        w.writerow([a.code, a.name_th, a.level, t.round, *(v for _f, v in _cells(a, t.min_cell))])
    resp = HttpResponse(buf.getvalue().encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    name = f"khm-open-{t.area.code}-{t.round}" if t.round else f"khm-open-{t.area.code}"
    resp["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return _licensed(resp, cacheable=True)
