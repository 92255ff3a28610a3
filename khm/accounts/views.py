from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from khm.accounts.roles import Role
from khm.accounts.scoping import can
from khm.core.access import authenticated, public


@public
def login_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)(request)


@public
def logout_view(request: HttpRequest) -> HttpResponseBase:
    return auth_views.LogoutView.as_view()(request)


@authenticated
def me(request: HttpRequest) -> HttpResponse:
    assignments = request.user.assignments.select_related("organisation", "area").all()  # type: ignore[union-attr]
    return render(request, "accounts/me.html", {"assignments": assignments, "roles": Role})


@public
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if can(request.user, "household.view"):
        return redirect("registry:household_list")
    return redirect("core:start")


@authenticated
def start(request: HttpRequest) -> HttpResponse:
    return render(request, "core/start.html")


@public
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
