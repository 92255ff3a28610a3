"""Pages to manage source lists and their column-mapping profiles (issue 3).

Sources and profiles are not personal data and belong to no area; the pages still need
``source.import`` to change anything (``source.view`` to look). A sample file uploaded
to pick columns is read once into a temporary file and deleted; only its header and
first rows come back to the officer who sent it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.accounts.scoping import can
from khm.core.access import scoped
from khm.core.forms import apply_service_errors
from khm.sources import profile_services as svc
from khm.sources.models import MappingProfile, Source
from khm.sources.profile_forms import ProfileForm, SampleForm, SourceForm, sample_from_post, sample_to_hidden

IMPORT = "source.import"


@scoped("source.view")
def profile_index(request: HttpRequest) -> HttpResponse:
    sources = list(Source.objects.select_related("owner").order_by("kind", "name_th", "-round_label"))
    source_uses = svc.source_usages()
    profile_uses = svc.profile_usages()
    rows = [(s, source_uses.get(s.pk, 0), svc.profile_for_source(s)) for s in sources]
    profiles = [(p, profile_uses.get(p.pk, 0), _summary(p)) for p in MappingProfile.objects.order_by("kind", "name")]
    return render(
        request,
        "sources/profile_index.html",
        {"sources": rows, "profiles": profiles, "may_import": can(request.user, IMPORT)},
    )


def _summary(profile: MappingProfile) -> list[tuple[Any, str]]:
    """(role label, column(s)) of the roles a profile maps, for the list page."""
    initial = svc.profile_initial(profile)
    out = []
    for role in svc.COLUMN_ROLES:
        value = initial.get(role)
        if value:
            out.append((svc.ROLE_LABELS[role], ", ".join(value) if isinstance(value, list) else str(value)))
    return out


def _editor(request: HttpRequest, profile: MappingProfile | None) -> HttpResponse:
    """The mapping editor for a new profile (``profile`` None) or an existing one.

    One form, two buttons: "read the columns" (action=sample) reads a sample file and
    shows the editor again with the file's columns to choose from and the obvious roles
    filled in; "save" (action=save) checks and saves.
    """
    used_by = svc.profile_usage(profile) if profile else 0
    sample = sample_from_post(request.POST) if request.method == "POST" else None
    sample_form = SampleForm()
    guessed: set[str] = set()
    missing: dict[str, str] = {}
    if request.method == "POST" and request.POST.get("action") == "sample":
        entered = ProfileForm(request.POST, columns=sample.columns if sample else None).current_values()
        sample_form = SampleForm(request.POST, request.FILES)
        if sample_form.is_valid():
            upload = sample_form.cleaned_data["sample"]
            try:
                sample = svc.sample_read(
                    file_name=upload.name, chunks=upload.chunks(), sheet=entered.get("sheet") or None
                )
            except ValidationError as exc:
                apply_service_errors(sample_form, exc)
            else:
                guessed, missing = _apply_guesses(entered, sample)
        form = ProfileForm(initial=entered, columns=sample.columns if sample else None, missing=missing)
    elif request.method == "POST":
        form = ProfileForm(request.POST, columns=sample.columns if sample else None)
        if form.is_valid():
            fields, extra = form.mapping()
            d = form.cleaned_data
            try:
                if profile is None:
                    saved = svc.profile_create(
                        actor=request.user, name=d["name"], kind=d["kind"], fields=fields, extra=extra
                    )
                else:
                    saved = svc.profile_update(
                        actor=request.user, profile=profile, name=d["name"], kind=d["kind"], fields=fields, extra=extra
                    )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if profile is not None and saved.pk != profile.pk:
                    messages.success(
                        request,
                        _("Saved as a new profile “%(new)s”; “%(old)s” stays as it was for the imports that used it.")
                        % {"new": saved.name, "old": profile.name},
                    )
                else:
                    messages.success(request, _("Mapping profile “%(name)s” saved.") % {"name": saved.name})
                return redirect("sources:profile_index")
    else:
        initial = _initial_for(request, profile)
        form = ProfileForm(initial=initial)
    return render(
        request,
        "sources/profile_form.html",
        {
            "form": form,
            "sample_form": sample_form,
            "sample": sample,
            "hidden": sample_to_hidden(sample) if sample else {},
            "guessed": guessed,
            "profile": profile,
            "used_by": used_by,
            "next_name": svc.next_profile_name(profile.name) if profile and used_by else "",
        },
    )


def _initial_for(request: HttpRequest, profile: MappingProfile | None) -> dict[str, Any]:
    if profile is not None:
        return svc.profile_initial(profile)
    start = request.GET.get("from", "")
    if start.isdigit():
        base = MappingProfile.objects.filter(pk=int(start)).first()
        if base is not None:
            initial = svc.profile_initial(base)
            initial["name"] = svc.next_profile_name(base.name)
            return initial
    return {"id_scheme": "thai_national_id"}


def _apply_guesses(entered: dict[str, Any], sample: svc.Sample) -> tuple[set[str], dict[str, str]]:
    """Fill the roles the officer has not set, or set to a column this file lacks, with
    the guesses from the header. Returns the roles filled and, per role, the saved
    columns the file does not have (next year's file may have renamed a column)."""
    columns = set(sample.columns)
    filled: set[str] = set()
    missing: dict[str, str] = {}
    for role in svc.COLUMN_ROLES:
        current = entered.get(role)
        values = current if isinstance(current, list) else [current] if current else []
        gone = [v for v in values if v not in columns]
        if gone:
            missing[role] = ", ".join(gone)
        if values and not gone:
            continue
        guess = sample.guesses.get(role)
        if guess:
            entered[role] = guess
            filled.add(role)
        elif gone:
            entered[role] = [v for v in values if v in columns] if isinstance(current, list) else ""
    for option in ("id_scheme", "date_format"):
        guess = sample.guesses.get(option)
        # An option follows its role: a newly guessed birth-date column brings its format.
        if guess and (not entered.get(option) or (option == "date_format" and "birth_date" in filled)):
            entered[option] = guess
    return filled, missing


@scoped(IMPORT)
@require_http_methods(["GET", "POST"])
def profile_create(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@scoped(IMPORT)
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, get_object_or_404(MappingProfile, pk=pk))


@scoped("source.view")
def profile_fields_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The profile as the linkage engine's FIELDS.json (for ``khm link --fields``)."""
    profile = get_object_or_404(MappingProfile, pk=pk)
    response = JsonResponse(profile.fields, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="profile-{profile.pk}.fields.json"'
    return response


def _source_page(request: HttpRequest, source: Source | None) -> HttpResponse:
    used_by = svc.source_usages().get(source.pk, 0) if source else 0
    initial: dict[str, Any] = {"match_threshold": 0.95, "review_threshold": 0.5}
    if source is not None:
        initial = {k: getattr(source, k) for k in svc.SOURCE_FIELDS}
    form = SourceForm(request.POST or None, initial=initial, locked=bool(used_by))
    if request.method == "POST" and form.is_valid():
        try:
            if source is None:
                saved = svc.source_create(actor=request.user, **form.cleaned_data)
            else:
                saved = svc.source_update(actor=request.user, source=source, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Source list “%(name)s” saved.") % {"name": str(saved)})
            return redirect("sources:profile_index")
    return render(request, "sources/profile_source_form.html", {"form": form, "source": source, "used_by": used_by})


@scoped(IMPORT)
@require_http_methods(["GET", "POST"])
def source_create(request: HttpRequest) -> HttpResponse:
    return _source_page(request, None)


@scoped(IMPORT)
@require_http_methods(["GET", "POST"])
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _source_page(request, get_object_or_404(Source, pk=pk))


@scoped(IMPORT)
@require_POST
def source_copy_next_round(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    try:
        new = svc.source_copy_next_round(actor=request.user, source=source)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
        return redirect("sources:profile_index")
    profile = svc.profile_for_source(source)
    if profile is not None:
        messages.success(
            request,
            _("Created “%(source)s”. Import next year's file into it with the mapping profile “%(profile)s”.")
            % {"source": str(new), "profile": profile.name},
        )
    else:
        messages.success(request, _("Created “%(source)s”.") % {"source": str(new)})
    return redirect("sources:profile_index")
