"""Registry pages: access → service/selector → render (full page or htmx partial)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.accounts.scoping import can
from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.core.forms import apply_service_errors
from khm.core.panels import household_panels
from khm.registry import selectors, services
from khm.registry.access import household_for, person_for
from khm.registry.forms import HouseholdEditForm, HouseholdForm, LeaveForm, PersonForm, TransferForm
from khm.registry.timeline import household_timeline


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@scoped("household.view")
@require_http_methods(["GET", "POST"])
def household_list(request: HttpRequest) -> HttpResponse:
    # Search terms (names, IDs) come by POST so they never reach URLs, history or logs.
    data = request.POST if request.method == "POST" else request.GET
    query = (request.POST.get("q") or "").strip()[:100] if request.method == "POST" else ""
    area = (data.get("area") or "").strip()
    area = area if area.isdigit() and len(area) in (2, 4, 6, 8) else ""
    page = selectors.household_list(request.user, query=query, area_code=area or None, after=data.get("after") or None)
    context: dict[str, Any] = {
        "page": page,
        "query": query,
        "area": area,
        "areas": selectors.filter_areas(request.user),
        "can_create": can(request.user, "household.create"),
        "can_export": can(request.user, "export.personal"),
    }
    template = "registry/_household_rows.html" if _is_htmx(request) else "registry/household_list.html"
    return render(request, template, context)


@scoped("household.view")
def household_detail(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code)
    with transaction.atomic():
        # Reading personal data is audited, not only writing it.
        audit_record(
            actor=request.user,
            action="household.view",
            object_type="household",
            object_ref=household.code,
            area_code=household.area_code,
        )
    members = list(selectors.household_members(household))
    return render(
        request,
        "registry/household_detail.html",
        {
            "household": household,
            "members": members,
            "timeline": household_timeline(household),
            "panels": household_panels(request.user, household),
            "can_edit": can(request.user, "household.edit", household.area_code),
            "can_transfer": can(request.user, "household.transfer", household.area_code),
            "can_full_id": can(request.user, "person.view_full_id", household.area_code),
        },
    )


@scoped("household.create")
@require_http_methods(["GET", "POST"])
def household_create(request: HttpRequest) -> HttpResponse:
    villages = selectors.villages_in_scope(request.user, "household.create")
    form = HouseholdForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            hh = services.household_create(
                actor=request.user,
                village_code=d["village"],
                house_no=d["house_no"],
                address_extra=d["address_extra"],
                latitude=d["latitude"],
                longitude=d["longitude"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Household registered."))
            return redirect("registry:household_detail", code=hh.code)
    return render(request, "registry/form.html", {"form": form, "title": _("Register a household")})


@scoped("household.edit")
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "household.edit")
    initial = {k: getattr(household, k) for k in ("house_no", "address_extra", "latitude", "longitude")}
    form = HouseholdEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_update(actor=request.user, household=household, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:household_detail", code=household.code)
    return render(request, "registry/form.html", {"form": form, "household": household, "title": _("Edit household")})


@scoped("household.transfer")
@require_http_methods(["GET", "POST"])
def household_transfer(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "household.transfer")
    villages = [
        v for v in selectors.villages_in_scope(request.user, "household.transfer") if v[0] != household.area_code
    ]
    form = TransferForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_transfer(
                actor=request.user,
                household=household,
                village_code=form.cleaned_data["village"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Household transferred."))
            return redirect("registry:household_detail", code=household.code)
    return render(
        request,
        "registry/form.html",
        {"form": form, "household": household, "title": _("Transfer to another village")},
    )


@scoped("household.edit")
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "household.edit")
    form = PersonForm(request.POST or None, id_required=True)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        nid = d.pop("national_id") or None
        try:
            services.person_create(actor=request.user, household=household, national_id=nid, **d)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("registry:household_detail", code=household.code)
    return render(request, "registry/form.html", {"form": form, "household": household, "title": _("Add a member")})


@scoped("household.edit")
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    household = household_for(request.user, code, "household.edit")
    person = person_for(request.user, household, ref, "household.edit")
    initial = {k: getattr(person, k) for k in services.PERSON_FIELDS}
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        nid = d.pop("national_id") or None
        try:
            services.person_update(actor=request.user, person=person, national_id=nid, **d)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:household_detail", code=household.code)
    return render(
        request,
        "registry/form.html",
        {"form": form, "household": household, "person": person, "title": _("Edit member")},
    )


@scoped("household.edit")
@require_http_methods(["GET", "POST"])
def person_leave(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    household = household_for(request.user, code, "household.edit")
    person = person_for(request.user, household, ref, "household.edit")
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services.person_leave(actor=request.user, person=person, event=d["event"], on=d["on"], note=d["note"])
        messages.success(request, _("Saved."))
        return redirect("registry:household_detail", code=household.code)
    return render(
        request,
        "registry/form.html",
        {"form": form, "household": household, "person": person, "title": _("Member moved out or died")},
    )


@scoped("person.view_full_id")
@require_POST
def person_reveal_id(request: HttpRequest, code: str, ref: str) -> HttpResponse:
    household = household_for(request.user, code)
    person = person_for(request.user, household, ref)
    try:
        nid = services.person_reveal_national_id(actor=request.user, person=person)
    except PermissionDenied:
        raise
    from khm.engines.ids import format_national_id

    return HttpResponse(f'<span class="nid">{format_national_id(nid) if nid else "—"}</span>')


class _Echo:
    def write(self, value: str) -> str:
        return value


@scoped("export.personal")
def household_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the households and members in scope (optionally one area); audited."""
    area = (request.GET.get("area") or "").strip()
    area = area if area.isdigit() and len(area) in (2, 4, 6, 8) else ""
    full_id = can(request.user, "person.view_full_id")
    people = selectors.people_for_export(request.user, area_code=area or None)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="export.personal",
            object_type="household",
            area_code=area,
            note=f"households CSV; full_id={full_id}",
        )
    writer = csv.writer(_Echo())

    def rows() -> Any:
        yield "\ufeff"  # BOM so Excel opens Thai text as UTF-8
        yield writer.writerow(
            ["household_code", "village_code", "house_no", "person_ref", "national_id", "title", "first_name",
             "last_name", "sex", "birth_date", "relation", "status"]
        )  # fmt: skip
        for p in people.iterator(chunk_size=2000):
            nid = (p.national_id() if full_id else p.national_id_masked) if p.national_id_enc else ""
            yield writer.writerow(
                [p.household.code, p.household.area_code, p.household.house_no, p.ref, nid, p.title, p.first_name,
                 p.last_name, p.sex, p.birth_date.isoformat() if p.birth_date else "", p.relation, p.status]
            )  # fmt: skip

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="khm-households-{area or "all"}.csv"'
    return response
