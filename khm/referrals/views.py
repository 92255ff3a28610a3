"""Referral pages: refer a household's need to an agency, the officer's list, the agency
worker's inbox, one referral (its history, contact data, comments and the workflow buttons
this user may press) and the agency directory.

An agency worker reaches a referral only through ``selectors.referral_for`` (their agency's
referrals) and sees only the contact data copied into it, never the registry.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from khm.accounts.models import Organisation, OrganisationKind
from khm.accounts.scoping import can
from khm.core.access import authenticated, scoped
from khm.referrals import selectors, services, services_agencies, workflow
from khm.referrals.forms import AgencyForm, CommentForm, ReferralForm, ServiceForm
from khm.referrals.models import OPEN_STATES, Agency, Referral, Service, State
from khm.referrals.panels import Need, catalogue, household_needs, with_overdue
from khm.registry.access import household_for, person_for
from khm.registry.models import PersonStatus
from khm.registry.selectors import household_members

PAGE_SIZE = 50
# Help is recorded against a referral once the agency took it on.
HELP_STATES = (State.ACCEPTED, State.IN_PROGRESS, State.COMPLETED)

ACTION_LABELS = {
    State.SENT: gettext_lazy("Send to the agency"),
    State.ACCEPTED: gettext_lazy("Accept"),
    State.RETURNED: gettext_lazy("Return (we cannot take it)"),
    State.IN_PROGRESS: gettext_lazy("Start the work"),
    State.COMPLETED: gettext_lazy("Mark as completed"),
    State.NOT_POSSIBLE: gettext_lazy("Not possible"),
    State.CANCELLED: gettext_lazy("Cancel the referral"),
}


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _problems(exc: services.ReferralInvalid) -> list[str]:
    return [f"{p.th} / {p.en}" for p in exc.problems]


# --------------------------------------------------------------------------- choices


def agency_choices(
    area_code: str, need: str | None, *, exclude: Agency | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Active agencies in three groups: a service for the need, others covering the area,
    the rest."""
    covering = services.agencies_for(area_code, need)
    seen = {a.pk for a in covering}
    rest = [a for a in selectors.agencies().filter(active=True) if a.pk not in seen]

    def meets(a: Agency) -> bool:
        return bool(need) and any(need in s.needs for s in a.services.all() if s.active)

    def keep(a: Agency) -> bool:
        return exclude is None or a.pk != exclude.pk

    groups = [
        (_("Suggested: a service for this need"), [a for a in covering if meets(a) and keep(a)]),
        (_("Others working in this area"), [a for a in covering if not meets(a) and keep(a)]),
        (_("Other agencies"), [a for a in rest if keep(a)]),
    ]
    return [(label, [(a.code, str(a)) for a in found]) for label, found in groups if found]


def _service_choices(agency: Agency | None, need: str) -> list[tuple[str, str]]:
    if agency is None:
        return []
    found = [s for s in agency.services.all() if s.active]
    found.sort(key=lambda s: (need not in s.needs, s.name_th))
    return [(s.code, f"{s} ({s.due_days} {_('days')})") for s in found]


def _default_service(agency: Agency | None, need: str) -> str:
    if agency is None:
        return ""
    return next((s.code for s in agency.services.all() if s.active and need in s.needs), "")


def _active_agency(code: str) -> Agency | None:
    if not code:
        return None
    return selectors.agencies().filter(code=code, active=True).first()


# --------------------------------------------------------------------------- new referral


@scoped("referral.create")
def referral_new(request: HttpRequest, code: str) -> HttpResponse:
    household = household_for(request.user, code, "referral.create")
    found = household_needs(request.user, household)
    cat = catalogue()
    needs: dict[str, Need] = {**cat.needs, **{n.code: n for n in found}}
    others = [(c, n.label) for c, n in cat.needs.items() if c not in {f.code for f in found}]
    need_choices: list[Any] = (
        [(_("Needs found by the assessment"), [(n.code, n.label) for n in found]), (_("Other needs"), others)]
        if found
        else others
    )
    people = [(p.ref, p.full_name) for p in household_members(household).filter(status=PersonStatus.MEMBER)]
    posted = request.method == "POST"
    refresh = request.POST.get("refresh", "") if posted else ""
    source = request.POST if posted else request.GET
    need = source.get("need", "")
    need = need if need in needs else ""
    if refresh == "need" or (not posted and not source.get("agency")):
        # Suggest the first agency with a service for the need.
        suggested = [a for a in services.agencies_for(household.area_code, need) if _default_service(a, need)]
        agency = suggested[0] if need and suggested else None
    else:
        agency = _active_agency(source.get("agency", ""))
    agencies = agency_choices(household.area_code, need)
    kwargs: dict[str, Any] = {
        "needs": need_choices,
        "people": people,
        "agencies": agencies,
        "services": _service_choices(agency, need),
        "refresh_url": request.path,
    }
    if posted and not refresh:
        form = ReferralForm(request.POST, **kwargs)
    else:
        form = ReferralForm(
            initial={
                "need": need,
                "agency": agency.code if agency else "",
                "service": _default_service(agency, need),
                "person": source.get("person", "") if posted else "",
                "note": source.get("note", "") if posted else "",
            },
            **kwargs,
        )
    if posted and not refresh and form.is_valid():
        d = form.cleaned_data
        chosen = _active_agency(d["agency"])
        if chosen is None:
            form.add_error("agency", "หน่วยงานนี้ไม่รับส่งต่อแล้ว / this agency no longer takes referrals")
        else:
            service = chosen.services.filter(code=d["service"]).first() if d["service"] else None
            person = person_for(request.user, household, d["person"], "referral.create") if d["person"] else None
            the_need = needs[d["need"]]
            try:
                r = services.referral_create(
                    actor=request.user, household=household, need=the_need.code, need_label=the_need.label_th,
                    agency=chosen, service=service, person=person, note=d["note"],
                    send=request.POST.get("action") != "draft", source=the_need.source,
                )  # fmt: skip
            except services.ReferralInvalid as exc:
                for p in exc.problems:
                    form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
            except PermissionDenied:
                raise Http404 from None
            else:
                if r.state == State.SENT:
                    messages.success(
                        request, _("Referral %(ref)s sent to %(agency)s.") % {"ref": r.ref, "agency": r.agency}
                    )
                else:
                    messages.success(request, _("Referral %(ref)s saved as a draft.") % {"ref": r.ref})
                return redirect("referrals:detail", ref=r.ref)
    context = {"household": household, "form": form, "need": needs.get(need), "found": found}
    template = "referrals/_referral_form.html" if _is_htmx(request) and refresh else "referrals/referral_new.html"
    return render(request, template, context)


# --------------------------------------------------------------------------- lists


def _filtered(request: HttpRequest, qs: QuerySet[Referral]) -> tuple[QuerySet[Referral], dict[str, Any]]:
    state = request.GET.get("state", "")
    agency = request.GET.get("agency", "")
    overdue = request.GET.get("overdue", "") == "1"
    qs = with_overdue(qs).select_related("agency", "service")
    if state in State.values:
        qs = qs.filter(state=state)
    if agency:
        qs = qs.filter(agency__code=agency)
    if overdue:
        qs = qs.filter(state__in=OPEN_STATES, due_on__lt=timezone.localdate())
    return qs, {"state": state, "agency": agency, "overdue": overdue, "states": State.choices}


@scoped("referral.view")
def referral_list(request: HttpRequest) -> HttpResponse:
    """The officer's referrals: those of their area."""
    visible = selectors.referrals_visible(request.user)
    qs, filters = _filtered(request, visible)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    agencies = selectors.agencies().filter(pk__in=visible.values("agency")).order_by("name_th")
    return render(
        request,
        "referrals/referral_list.html",
        {"page": page, "agencies": agencies, "may_manage": can(request.user, "agency.manage"), **filters},
    )


@scoped("referral.handle")
def inbox(request: HttpRequest) -> HttpResponse:
    """The agency worker's referrals: open ones (sent, accepted, in progress) first."""
    # A draft names the agency but is not sent yet: nothing for the agency to act on.
    qs, filters = _filtered(request, selectors.inbox(request.user).exclude(state=State.DRAFT))
    filters["states"] = [(v, label) for v, label in State.choices if v != State.DRAFT]
    qs = qs.annotate(
        open_first=Case(When(state__in=OPEN_STATES, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("open_first", "due_on", "-created_at", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    agencies = selectors.agencies().filter(organisation_id__in=services.agency_orgs(request.user))
    return render(request, "referrals/inbox.html", {"page": page, "agencies": agencies, **filters})


# --------------------------------------------------------------------------- one referral


def _detail(
    request: HttpRequest, r: Referral, *, errors: list[str] | None = None, failed: str = "", status: int = 200
) -> HttpResponse:
    user = request.user
    is_agency = services.is_agency_worker_of(user, r.agency)
    is_officer = can(user, "referral.create", r.area_code)
    sees_registry = can(user, "household.view", r.area_code)
    actions = []
    for by, mine in (("officer", is_officer), ("agency", is_agency)):
        if not mine:
            continue
        for to in workflow.next_states(r.state, by):
            rule = workflow.allowed(r.state, to)
            assert rule is not None
            label = _("Send to another agency") if rule.new_agency else str(ACTION_LABELS.get(State(to), to))
            actions.append(
                {
                    "to": to,
                    "label": label,
                    "reason": rule.reason,
                    "agencies": agency_choices(r.area_code, r.need, exclude=r.agency) if rule.new_agency else None,
                    "danger": to in (State.RETURNED, State.NOT_POSSIBLE, State.CANCELLED),
                }
            )
    today = timezone.localdate()
    overdue = r.state in OPEN_STATES and r.due_on is not None and r.due_on < today
    may_record_help = r.state in HELP_STATES and (
        (is_agency and can(user, "assistance.record"))
        or (can(user, "assistance.record", r.area_code) and sees_registry)
    )
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "r": r,
            "overdue": overdue,
            "events": r.events.select_related("actor", "agency"),
            "comments": r.comments.select_related("author"),
            "actions": actions,
            "is_agency": is_agency,
            "sees_registry": sees_registry,
            "person": r.person if sees_registry and r.person_id else None,
            "comment_form": CommentForm(),
            "may_record_help": may_record_help,
            "help": r.assistance.select_related("agency"),
            "errors": errors or [],
            "failed": failed,
            "reason": request.POST.get("reason", "") if errors else "",
        },
        status=status,
    )


@authenticated
def referral_detail(request: HttpRequest, ref: str) -> HttpResponse:
    # Not scoped by referral.view: agency workers lack it, and see only their agency's referrals.
    return _detail(request, selectors.referral_for(request.user, ref))


@authenticated
@require_POST
def referral_transition(request: HttpRequest, ref: str) -> HttpResponse:
    r = selectors.referral_for(request.user, ref)
    to = request.POST.get("to", "")
    agency = None
    if code := request.POST.get("agency", ""):
        agency = _active_agency(code)
        if agency is None:
            return _detail(request, r, errors=["ไม่พบหน่วยงานนี้ / no such agency"], failed=to, status=422)
    try:
        r = services.referral_transition(
            actor=request.user, referral=r, to=to, reason=request.POST.get("reason", ""), agency=agency
        )
    except services.ReferralInvalid as exc:
        status = 409 if any(p.field == "state" for p in exc.problems) else 422
        return _detail(request, r, errors=_problems(exc), failed=to, status=status)
    messages.success(request, _("The referral is now: %(state)s.") % {"state": r.get_state_display()})
    return redirect("referrals:detail", ref=r.ref)


@authenticated
@require_POST
def referral_comment(request: HttpRequest, ref: str) -> HttpResponse:
    r = selectors.referral_for(request.user, ref)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.referral_comment(
                actor=request.user, referral=r, text=form.cleaned_data["text"],
                attachment=form.cleaned_data["attachment"] or None,
            )  # fmt: skip
        except services.ReferralInvalid as exc:
            messages.error(request, " ".join(_problems(exc)))
        else:
            messages.success(request, _("Comment added."))
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(reverse("referrals:detail", args=[r.ref]) + "#comments")


@authenticated
def attachment(request: HttpRequest, ref: str, pk: int) -> FileResponse:
    """A comment's file, for the people who may see the referral."""
    r = selectors.referral_for(request.user, ref)
    c = r.comments.filter(pk=pk).exclude(attachment="").first()
    if c is None:
        raise Http404
    resp = FileResponse(c.attachment.open("rb"), as_attachment=True, filename=c.attachment_name or "file")
    resp["Cache-Control"] = "private, no-store"
    return resp


# --------------------------------------------------------------------------- agency directory


def _types() -> list[tuple[str, str]]:
    return list(catalogue().types.items())


def _free_organisations() -> list[tuple[str, str]]:
    taken = Agency.objects.values("organisation_id")
    return [
        (o.code, f"{o.name_th} ({o.code})")
        for o in Organisation.objects.filter(kind=OrganisationKind.AGENCY).exclude(pk__in=taken)
    ]


def _agency_for(code: str) -> Agency:
    found = selectors.agencies().select_related("organisation").filter(code=code).first()
    if found is None:
        raise Http404
    return found


@scoped("agency.manage")
def agency_list(request: HttpRequest) -> HttpResponse:
    cat = catalogue()
    agencies = selectors.agencies().select_related("organisation")
    return render(request, "referrals/agencies.html", {"agencies": agencies, "types": cat.types})


def _agency_data(form: AgencyForm) -> dict[str, Any]:
    d = dict(form.cleaned_data)
    if "organisation" in d:
        d["organisation"] = Organisation.objects.filter(code=d["organisation"]).first() if d["organisation"] else None
    return d


@scoped("agency.manage")
def agency_new(request: HttpRequest) -> HttpResponse:
    types = _types()
    form = AgencyForm(request.POST or None, types=types, organisations=_free_organisations())
    if request.method == "POST" and form.is_valid():
        try:
            a = services_agencies.agency_save(
                actor=request.user, agency=None, data=_agency_data(form), types=[t for t, _l in types]
            )
        except services.ReferralInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Agency saved: now add the services it gives."))
            return redirect("referrals:agency", code=a.code)
    return render(request, "referrals/agency_form.html", {"form": form, "agency": None})


@scoped("agency.manage")
def agency_edit(request: HttpRequest, code: str) -> HttpResponse:
    agency = _agency_for(code)
    types = _types()
    initial = {
        "code": agency.code, "name_th": agency.name_th, "name_en": agency.name_en, "type": agency.type,
        "areas": " ".join(agency.areas), "email": agency.email, "line_to": agency.line_to,
        "escalation_email": agency.escalation_email, "active": agency.active,
    }  # fmt: skip
    form = AgencyForm(request.POST or None, initial=initial, types=types, organisations=None)
    if request.method == "POST" and form.is_valid():
        try:
            services_agencies.agency_save(
                actor=request.user, agency=agency, data=_agency_data(form), types=[t for t, _l in types]
            )
        except services.ReferralInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Agency saved."))
            return redirect("referrals:agency", code=agency.code)
    cat = catalogue()
    return render(
        request,
        "referrals/agency_form.html",
        {"form": form, "agency": agency, "services": agency.services.all(), "needs": cat.needs},
    )


def _service_form(request: HttpRequest, agency: Agency, service: Service | None) -> HttpResponse:
    cat = catalogue()
    choices = [(c, n.label) for c, n in cat.needs.items()]
    initial = (
        {"name_th": service.name_th, "name_en": service.name_en, "needs": service.needs,
         "due_days": service.due_days, "active": service.active}
        if service is not None
        else {}
    )  # fmt: skip
    form = ServiceForm(request.POST or None, initial=initial, needs=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services_agencies.service_save(
                actor=request.user, agency=agency, service=service, data=form.cleaned_data, needs=list(cat.needs)
            )
        except services.ReferralInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Service saved."))
            return redirect("referrals:agency", code=agency.code)
    return render(request, "referrals/service_form.html", {"form": form, "agency": agency, "service": service})


@scoped("agency.manage")
def service_new(request: HttpRequest, code: str) -> HttpResponse:
    return _service_form(request, _agency_for(code), None)


@scoped("agency.manage")
def service_edit(request: HttpRequest, code: str, service: str) -> HttpResponse:
    agency = _agency_for(code)
    found = agency.services.filter(code=service).first()
    if found is None:
        raise Http404
    return _service_form(request, agency, found)
