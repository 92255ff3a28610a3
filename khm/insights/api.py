"""Open data endpoints of the REST API (v1): the public figures of a province, district or
subdistrict with small cells suppressed (rules in ``khm.insights.open_data``), and the rounds
published. No login: every operation is ``auth=None`` and declared ``api_public``; responses
may be cached by anyone for five minutes.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time, so they must be real types.
"""

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from khm.api.access import api_public
from khm.insights import open_data

router = Router(tags=["open data"])

CACHE_CONTROL = "public, max-age=300"


class AreaOut(Schema):
    code: str
    level: int
    name_th: str
    name_en: str


class AreaFiguresOut(Schema):
    area: AreaOut
    figures: dict[str, int | float | None]
    suppressed: list[str]


class OpenAreaOut(AreaFiguresOut):
    round: str
    min_cell: int
    licence: str
    children: list[AreaFiguresOut]


class RoundsOut(Schema):
    rounds: list[str]
    latest: str | None


def _public(response: HttpResponse) -> None:
    response["Cache-Control"] = CACHE_CONTROL
    response["Link"] = f'<{open_data.LICENCE_URL}>; rel="license"'


def _out(a: open_data.AreaFigures) -> dict[str, object]:
    return {
        "area": {"code": a.code, "level": a.level, "name_th": a.name_th, "name_en": a.name_en},
        "figures": a.values,
        "suppressed": list(a.suppressed),
    }


@router.get("/open/areas/{code}", response=OpenAreaOut, auth=None, summary="Open figures of an area")
@api_public
def open_area(request: HttpRequest, response: HttpResponse, code: str, round: str | None = None) -> dict[str, object]:
    """Aggregate figures of a province, district or subdistrict (villages: 404) and of its
    child areas for a round (default: the latest). A suppressed figure is ``null`` and its key
    is in ``suppressed``: counts from 1 to ``min_cell`` − 1, the cells that would give them
    away, ratios and money resting on them."""
    t = open_data.table(code, round)
    _public(response)
    return {
        **_out(t.area),
        "round": t.round,
        "min_cell": t.min_cell,
        "licence": f"{open_data.LICENCE} — {open_data.ATTRIBUTION}",
        "children": [_out(c) for c in t.children],
    }


@router.get("/open/rounds", response=RoundsOut, auth=None, summary="Rounds with open figures")
@api_public
def open_rounds(request: HttpRequest, response: HttpResponse, area: str | None = None) -> dict[str, object]:
    """The rounds with published figures: of one area (``?area=46``) or of any."""
    found = open_data.rounds(area) if area else open_data.all_rounds()
    _public(response)
    return {"rounds": found, "latest": found[-1] if found else None}
