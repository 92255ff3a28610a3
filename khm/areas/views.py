from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from khm.areas import selectors
from khm.core.access import scoped


@scoped("area.search")
def area_search(request: HttpRequest) -> HttpResponse:
    # Area names are public reference data, so the query may travel in the URL.
    query = (request.GET.get("q") or "").strip()[:100]
    results = selectors.search_areas(query, limit=30) if query else []
    template = "areas/_results.html" if request.headers.get("HX-Request") == "true" else "areas/search.html"
    return render(request, template, {"query": query, "results": results})


@scoped("area.search")
def boundaries(request: HttpRequest, code: str, level: int) -> JsonResponse:
    return JsonResponse(selectors.boundaries_geojson(parent_code=code, level=level))
