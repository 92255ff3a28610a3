"""The phone app (installable PWA) shell: placeholder until the app lands."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from khm.core.access import authenticated


@authenticated
def shell(request: HttpRequest) -> HttpResponse:
    return HttpResponse("")
