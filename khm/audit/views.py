from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from khm.audit.selectors import audit_events
from khm.core.access import scoped


@scoped("audit.view")
def audit_list(request: HttpRequest) -> HttpResponse:
    area = (request.GET.get("area") or "").strip()
    area = area if area.isdigit() and len(area) in (2, 4, 6, 8) else ""
    events = audit_events(request.user, area_code=area or None)
    return render(request, "audit/audit_list.html", {"events": events, "area": area})
