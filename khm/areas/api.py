"""Area endpoints of the REST API (v1).

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from khm.api.access import api_scoped
from khm.areas import selectors

router = Router(tags=["areas"])


class AreaOut(Schema):
    code: str
    level: int
    name_th: str
    name_en: str
    parent_code: str | None
    active: bool


@router.get("/areas/search", response=list[AreaOut])
@api_scoped("area.search")
def search(request: HttpRequest, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Find areas by Thai or English name (public reference data)."""
    return [
        {
            "code": a.code,
            "level": a.level,
            "name_th": a.name_th,
            "name_en": a.name_en,
            "parent_code": a.parent.code if a.parent is not None else None,
            "active": a.active,
        }
        for a in selectors.search_areas(q, limit=max(1, min(limit, 100)))
    ]
