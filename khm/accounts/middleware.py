"""Deny by default: refuse any view that has not declared how it is scoped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from khm.accounts.scoping import can
from khm.core.access import declared_access

# Views of Django itself that carry no personal data.
BUILTIN_PUBLIC = {"django.views.i18n.set_language", "django.views.static.serve"}


class DeclaredAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        name = f"{getattr(view, '__module__', '')}.{getattr(view, '__name__', '')}"
        if name in BUILTIN_PUBLIC:
            return None
        target = getattr(view, "func", view)  # functools.partial (ninja's schema views)
        if getattr(target, "__module__", "").startswith("ninja."):
            # The API checks each operation's declaration itself (khm.api.urls).
            return None
        declaration = declared_access(view)
        if declaration is None:
            raise PermissionDenied("view has no declared access")
        kind, action = declaration
        if kind == "public":
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path().split("?")[0], settings.LOGIN_URL)
        if kind == "scoped" and (action is None or not can(request.user, action)):
            raise PermissionDenied
        return None
