"""Officer pages of fieldwork: campaigns and their progress, assigning households, desk
verification, verification details with photos, and the conflict queue."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from khm.accounts.scoping import can, scope_for
from khm.areas.models import Area
from khm.assessment import instruments as inst
from khm.assessment import services as assessment_services
from khm.assessment.forms import AssessmentForm, current_be_year
from khm.core.access import scoped
from khm.fieldwork import selectors, services
from khm.fieldwork.forms import AssignForm, CampaignForm, VerificationForm
from khm.fieldwork.models import CampaignStatus, Method, Outcome
from khm.registry.access import household_for


def _areas(actor: Any) -> list[tuple[str, str]]:
    scope = scope_for(actor, "campaign.manage")
    codes: set[str] = set(scope.prefixes) | set(scope.villages)
    if "" in codes:
        codes = set(Area.objects.filter(level__lte=2).values_list("code", flat=True))
    for p in list(scope.prefixes):
        if p:
            codes |= set(Area.objects.filter(code__startswith=p, level__lte=3).values_list("code", flat=True))
    return [(a.code, f"{a.name_th} ({a.code})") for a in Area.objects.filter(code__in=codes).order_by("code")[:600]]


@scoped("campaign.manage")
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.campaigns_visible(request.user).select_related("created_by")[:200]
    return render(request, "fieldwork/campaigns.html", {"campaigns": campaigns})


@scoped("campaign.manage")
def campaign_new(request: HttpRequest) -> HttpResponse:
    areas = _areas(request.user)
    form = CampaignForm(request.POST or None, areas=areas, initial={"round": current_be_year()})
    if request.method == "POST" and form.is_valid():
        try:
            c = services.campaign_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                area_code=form.cleaned_data["area"],
                round=form.cleaned_data["round"],
                selection=form.cleaned_data["selection"],
                due_on=form.cleaned_data["due_on"],
            )
        except services.SubmissionInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Campaign created: assign its households to volunteers and staff."))
            return redirect("fieldwork:campaign", code=c.code)
    return render(request, "fieldwork/campaign_new.html", {"form": form})


def _assignees(actor: Any, campaign: Any) -> list[tuple[str, str]]:
    """People who may verify somewhere in the campaign's area and whom the actor manages."""
    from khm.accounts.models import RoleAssignment

    manage = scope_for(actor, "campaign.manage")
    out = {}
    for ra in RoleAssignment.objects.select_related("user", "area", "organisation", "organisation__area").filter(
        user__is_active=True
    ):
        u = ra.user
        s = scope_for(u, "verification.submit")
        if s.empty:
            continue
        inside = [p for p in s.prefixes if p.startswith(campaign.area_code) or campaign.area_code.startswith(p)]
        inside += [v for v in s.villages if v.startswith(campaign.area_code)]
        if inside and any(manage.contains(c.ljust(8, "0")[:8]) or manage.covers_area(c) for c in inside):
            out[u.username] = f"{u} ({u.username})"
    return sorted(out.items())


@scoped("campaign.manage")
def campaign_detail(request: HttpRequest, code: str) -> HttpResponse:
    campaign = selectors.campaign_for(request.user, code)
    progress = selectors.campaign_progress(request.user, campaign)
    names = dict(Area.objects.filter(code__in=list(progress["villages"])).values_list("code", "name_th"))
    villages = [
        (c, f"{names.get(c, c)} ({c}) · {r['total'] - r['done']}")
        for c, r in progress["villages"].items()
        if r["total"] > r["done"]
    ]
    form = AssignForm(people=_assignees(request.user, campaign), villages=villages)
    outcomes = [(label, progress["outcomes"].get(value, 0)) for value, label in Outcome.choices]
    return render(
        request,
        "fieldwork/campaign.html",
        {"campaign": campaign, "progress": progress, "names": names, "form": form, "outcomes": outcomes},
    )


@scoped("campaign.manage")
@require_POST
def campaign_assign(request: HttpRequest, code: str) -> HttpResponse:
    from khm.accounts.models import User

    campaign = selectors.campaign_for(request.user, code)
    assignee = User.objects.filter(username=request.POST.get("assignee", ""), is_active=True).first()
    villages = request.POST.getlist("villages")
    if assignee is None or not villages:
        messages.error(request, _("Choose a person and at least one village."))
        return redirect("fieldwork:campaign", code=code)
    try:
        n = services.campaign_assign(actor=request.user, campaign=campaign, assignee=assignee, villages=villages)
    except services.SubmissionInvalid as exc:
        messages.error(request, " ".join(f"{p.th} / {p.en}" for p in exc.problems))
    else:
        messages.success(request, _("%(n)s households given to %(who)s.") % {"n": n, "who": assignee})
    return redirect("fieldwork:campaign", code=code)


@scoped("campaign.manage")
@require_POST
def campaign_close(request: HttpRequest, code: str) -> HttpResponse:
    campaign = selectors.campaign_for(request.user, code)
    services.campaign_close(actor=request.user, campaign=campaign)
    messages.success(request, _("Campaign closed: its households leave the phones at their next sync."))
    return redirect("fieldwork:campaign", code=code)


@scoped("verification.submit")
def desk_verify(request: HttpRequest, code: str) -> HttpResponse:
    """The same outcomes and questionnaire as the phone, for an officer at a computer."""
    household = household_for(request.user, code, "verification.submit")
    cap = inst.current_of_kind("capitals")
    bmn = inst.current_of_kind("bmn")
    if cap is None:
        raise Http404
    members = assessment_services.roster(household, dt.date.today())
    lang = get_language() or "th"
    kwargs: dict[str, Any] = {
        "capitals": inst.definition(cap),
        "bmn": inst.definition(bmn),
        "members": members,
        "lang": lang,
    }
    campaigns = [
        a.campaign
        for a in selectors.assignments_visible(request.user, "verification.submit")
        .filter(household=household, campaign__status=CampaignStatus.OPEN)
        .select_related("campaign")
    ]
    vform = VerificationForm(request.POST or None, initial={"verified_on": dt.date.today()}, prefix="v")
    aform = AssessmentForm(
        request.POST or None, initial={"round": current_be_year(), "assessed_on": dt.date.today()}, **kwargs
    )  # type: ignore[arg-type]
    if request.method == "POST" and vform.is_valid():
        outcome = vform.cleaned_data["outcome"]
        answers = None
        asked = outcome in (Outcome.CONFIRMED_POOR, Outcome.NOT_POOR) and any(
            request.POST.get(n) for n in request.POST if n.startswith("cap__")
        )
        if asked:
            # Only the questionnaire part of the form matters here; round and date come from
            # the verification.
            data = request.POST.copy()
            data["round"] = data.get("round") or current_be_year()
            data["assessed_on"] = request.POST.get("v-verified_on", "")
            aform = AssessmentForm(data, **kwargs)
            if aform.is_valid():
                d = aform.to_data()
                answers = {
                    "capitals": d["capitals"],
                    "bmn": d.get("bmn"),
                    "income": d.get("income"),
                    "welfare_cards": [m["key"] for m in d["members"] if m["welfare_card"]],
                }
        if not asked or answers is not None:
            campaign = campaigns[0] if campaigns else None
            payload = {
                "outcome": outcome,
                "verified_on": vform.cleaned_data["verified_on"].isoformat(),
                "moved_to": vform.cleaned_data["moved_to"],
                "duplicate_of": vform.cleaned_data["duplicate_of"],
                "notes": vform.cleaned_data["notes"],
                "consent": True,
                "answers": answers,
            }
            try:
                services.verification_submit(
                    actor=request.user, key=f"desk-{uuid.uuid4()}", household=household, payload=payload,
                    method=Method.DESK, campaign=campaign,
                )  # fmt: skip
            except services.SubmissionInvalid as exc:
                for p in exc.problems:
                    if p.field in vform.fields:
                        vform.add_error(p.field, f"{p.th} / {p.en}")
                    else:
                        vform.add_error(None, f"{p.field}: {p.th} / {p.en}")
            except PermissionDenied:
                raise Http404 from None
            else:
                messages.success(request, _("Verification saved."))
                return redirect(reverse("registry:household_detail", args=[household.code]) + "#verification")
    return render(
        request,
        "fieldwork/desk_verify.html",
        {"household": household, "vform": vform, "form": aform, "campaigns": campaigns, "capitals": cap, "bmn": bmn},
    )


@scoped("verification.view")
def verification_detail(request: HttpRequest, ref: str) -> HttpResponse:
    v = selectors.verification_for(request.user, ref)
    return render(
        request,
        "fieldwork/verification.html",
        {"v": v, "photos": v.photos.all(), "conflicts": v.conflicts.all()},
    )


@scoped("verification.view")
def photo(request: HttpRequest, pk: int) -> FileResponse:
    """A field photo, only for people who may see its household's verifications."""
    p = selectors.photo_for(request.user, pk)
    resp = FileResponse(p.image.open("rb"), content_type="image/jpeg" if p.image.name.endswith(".jpg") else None)
    resp["Cache-Control"] = "private, max-age=3600"
    return resp


@scoped("conflict.resolve")
def conflict_queue(request: HttpRequest) -> HttpResponse:
    conflicts = list(selectors.conflicts_open(request.user)[:300])
    return render(request, "fieldwork/conflicts.html", {"conflicts": conflicts})


@scoped("conflict.resolve")
@require_POST
def conflict_decide(request: HttpRequest, pk: int) -> HttpResponse:
    c = selectors.conflict_for(request.user, pk)
    try:
        services.conflict_resolve(
            actor=request.user, conflict=c, take=request.POST.get("take", ""), note=request.POST.get("note", "")
        )
    except services.SubmissionInvalid as exc:
        messages.error(request, " ".join(f"{p.th} / {p.en}" for p in exc.problems))
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, _("Decided."))
    return redirect("fieldwork:conflicts")


def campaign_can_close(actor: Any, campaign: Any) -> bool:
    return can(actor, "campaign.manage", campaign.area_code) and campaign.status == CampaignStatus.OPEN
