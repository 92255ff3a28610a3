"""Forum pages: the list of meetings, a new meeting, its agenda (built from what waits for a
decision), one item with its resolution form, closing, and the minutes (PDF and DOCX).

Items are read only through ``selectors.items_visible`` (the actor's area scope); the minutes
are given only to those who may manage the forum's whole area.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from khm.accounts.models import Organisation
from khm.accounts.scoping import scope_for
from khm.areas.models import Area
from khm.assessment.forms import current_be_year
from khm.core.access import scoped
from khm.forums import selectors, services
from khm.forums.forms import DropForm, ForumForm, ItemForm, ResolutionForm
from khm.forums.models import Forum, ForumStatus, ItemKind, ItemStatus
from khm.livelihoods.models import Enterprise, LinkRole
from khm.referrals.models import Agency
from khm.referrals.panels import catalogue
from khm.registry.access import household_for


def _problems(form: Any, exc: Any) -> None:
    for p in exc.problems:
        field = p.field.split("[")[0].split(".")[0]
        form.add_error(field if field in form.fields else None, f"{p.th} / {p.en}")


def _areas(actor: Any) -> list[tuple[str, str]]:
    """Areas where the actor may hold a forum: what they manage, down to subdistricts, and
    the villages of a local government."""
    scope = scope_for(actor, "forum.manage")
    codes: set[str] = set(scope.villages)
    for p in scope.prefixes:
        qs = Area.objects.filter(level__lte=3) if p == "" else Area.objects.filter(code__startswith=p, level__lte=3)
        codes |= set(qs.values_list("code", flat=True))
    for v in scope.villages:  # a local government's subdistricts, when it has all their villages
        if services.may_manage(actor, v[:6]):
            codes.add(v[:6])
    rows = Area.objects.filter(code__in=codes).order_by("code")[:800]
    return [(a.code, f"{a.name_th} ({a.code})") for a in rows]


def _organisations() -> list[tuple[str, str]]:
    return [(str(o.pk), o.name_th) for o in Organisation.objects.order_by("kind", "name_th")[:300]]


@scoped("forum.view")
def forum_list(request: HttpRequest) -> HttpResponse:
    forums = list(selectors.forums_visible(request.user).prefetch_related("organisations")[:300])
    today = timezone.localdate()
    coming = sorted(
        (f for f in forums if f.held_on >= today and f.status != ForumStatus.CLOSED), key=lambda f: f.held_on
    )
    past = [f for f in forums if f not in coming]
    names = dict(Area.objects.filter(code__in={f.area_code for f in forums}).values_list("code", "name_th"))
    return render(
        request,
        "forums/forum_list.html",
        {"coming": coming, "past": past, "names": names, "may_manage": bool(_areas(request.user))},
    )


@scoped("forum.manage")
def forum_new(request: HttpRequest) -> HttpResponse:
    areas = _areas(request.user)
    form = ForumForm(
        request.POST or None, areas=areas, organisations=_organisations(), initial={"round": current_be_year()}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            forum = services.forum_create(
                actor=request.user,
                data=services.ForumInput(
                    area_code=d["area"],
                    round=d["round"],
                    title=d["title"],
                    held_on=d["held_on"],
                    place=d["place"],
                    starts_at=d["starts_at"],
                    ends_at=d["ends_at"],
                    chair_name=d["chair_name"],
                    chair_position=d["chair_position"],
                    recorder_name=d["recorder_name"],
                    recorder_position=d["recorder_position"],
                    opening=d["opening"],
                ),
                organisations=Organisation.objects.filter(pk__in=d["organisations"]),
            )
            if d["attendees"]:
                services.attendees_set(actor=request.user, forum=forum, rows=d["attendees"])
        except services.ForumInvalid as exc:
            _problems(form, exc)
        else:
            added = services.agenda_build(actor=request.user, forum=forum)
            messages.success(request, _("Forum created; %(n)d items put on its agenda.") % {"n": added})
            return redirect("forums:detail", ref=forum.ref)
    return render(request, "forums/forum_form.html", {"form": form, "forum": None})


def _managed(request: HttpRequest, ref: str) -> Forum:
    forum = selectors.forum_for(request.user, ref)
    if not services.may_manage(request.user, forum.area_code):
        raise PermissionDenied
    return forum


@scoped("forum.manage")
def forum_edit(request: HttpRequest, ref: str) -> HttpResponse:
    forum = _managed(request, ref)
    attendees = "\n".join(
        " | ".join([a.name, a.position, a.organisation_name, "" if a.present else (a.note or "absent")])
        for a in forum.attendees.all()
    )
    initial = {
        "area": forum.area_code, "round": forum.round, "title": forum.title, "held_on": forum.held_on,
        "starts_at": forum.starts_at, "ends_at": forum.ends_at, "place": forum.place,
        "organisations": [str(pk) for pk in forum.organisations.values_list("pk", flat=True)],
        "chair_name": forum.chair_name, "chair_position": forum.chair_position, "recorder_name": forum.recorder_name,
        "recorder_position": forum.recorder_position, "opening": forum.opening, "attendees": attendees,
    }  # fmt: skip
    form = ForumForm(
        request.POST or None,
        areas=[(forum.area_code, forum.area_code)],
        organisations=_organisations(),
        initial=initial,
    )
    form.fields["area"].disabled = True
    form.fields["round"].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.forum_update(
                actor=request.user, forum=forum, title=d["title"], held_on=d["held_on"], starts_at=d["starts_at"],
                ends_at=d["ends_at"], place=d["place"], chair_name=d["chair_name"],
                chair_position=d["chair_position"], recorder_name=d["recorder_name"],
                recorder_position=d["recorder_position"], opening=d["opening"],
                organisations=Organisation.objects.filter(pk__in=d["organisations"]),
            )  # fmt: skip
            services.attendees_set(actor=request.user, forum=forum, rows=d["attendees"])
        except services.ForumInvalid as exc:
            _problems(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("forums:detail", ref=forum.ref)
    return render(request, "forums/forum_form.html", {"form": form, "forum": forum})


@scoped("forum.view")
def forum_detail(request: HttpRequest, ref: str) -> HttpResponse:
    forum = selectors.forum_for(request.user, ref)
    items = list(selectors.items_visible(request.user, forum).order_by("number"))
    groups: dict[str, list[Any]] = {}
    for i in items:
        groups.setdefault(i.kind, []).append(i)
    labels = dict(ItemKind.choices)
    ordered = [(k, labels[k], groups[k]) for k in ItemKind.values if k in groups]
    counts = {s: sum(1 for i in items if i.status == s) for s in ItemStatus.values}
    area = Area.objects.filter(code=forum.area_code).first()
    return render(
        request,
        "forums/forum_detail.html",
        {
            "forum": forum,
            "area": area,
            "groups": ordered,
            "counts": counts,
            "total": len(items),
            "hidden": selectors.items_hidden_count(request.user, forum),
            "may_manage": services.may_manage(request.user, forum.area_code),
            "attendees": forum.attendees.all(),
            "organisations": forum.organisations.all(),
            "previous": Forum.objects.filter(area_code=forum.area_code, held_on__lt=forum.held_on).first(),
        },
    )


@require_POST
@scoped("forum.manage")
def forum_build(request: HttpRequest, ref: str) -> HttpResponse:
    forum = _managed(request, ref)
    try:
        added = services.agenda_build(actor=request.user, forum=forum)
    except services.ForumInvalid as exc:
        for p in exc.problems:
            messages.error(request, f"{p.th} / {p.en}")
    else:
        messages.success(request, _("%(n)d items added to the agenda.") % {"n": added})
    return redirect("forums:detail", ref=forum.ref)


@require_POST
@scoped("forum.manage")
def forum_close(request: HttpRequest, ref: str) -> HttpResponse:
    forum = _managed(request, ref)
    try:
        carried = services.forum_close(actor=request.user, forum=forum)
    except services.ForumInvalid as exc:
        for p in exc.problems:
            messages.error(request, f"{p.th} / {p.en}")
    else:
        messages.success(
            request, _("The forum is closed and its minutes final; %(n)d open items carry over.") % {"n": carried}
        )
    return redirect("forums:detail", ref=forum.ref)


@scoped("forum.manage")
def item_new(request: HttpRequest, ref: str) -> HttpResponse:
    forum = _managed(request, ref)
    form = ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        household = None
        code = form.cleaned_data["household"].strip()
        if code:
            try:
                household = household_for(request.user, code)
            except Http404:
                form.add_error("household", "ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน / no such household in your area")
        if not form.errors:
            try:
                item = services.agenda_add(
                    actor=request.user, forum=forum, title=form.cleaned_data["title"],
                    detail=form.cleaned_data["detail"], household=household,
                )  # fmt: skip
            except services.ForumInvalid as exc:
                _problems(form, exc)
            else:
                return redirect("forums:item", ref=forum.ref, number=item.number)
    return render(request, "forums/item_new.html", {"form": form, "forum": forum})


def _agency_choices(area_code: str) -> list[tuple[str, str]]:
    return [(a.code, a.name_th) for a in Agency.objects.filter(active=True) if a.covers(area_code)]


def _enterprise_choices(area_code: str) -> list[tuple[str, str]]:
    """Active enterprises of the item's district (where its households can work)."""
    rows = Enterprise.objects.filter(active=True, area_code__startswith=area_code[:4]).order_by("name_th")[:200]
    return [(e.code, e.name_th) for e in rows]


def _need_choices(item: Any) -> list[tuple[str, str]]:
    cat = catalogue()
    first = services._item_needs(item)
    rest = [c for c in cat.needs if c not in first]
    return [(c, cat.needs[c].label if c in cat.needs else c) for c in [*first, *rest]]


@scoped("forum.view")
def item_detail(request: HttpRequest, ref: str, number: int) -> HttpResponse:
    forum = selectors.forum_for(request.user, ref)
    item = selectors.item_for(request.user, forum, number)
    may = services.may_manage(request.user, forum.area_code) and forum.status != ForumStatus.CLOSED
    form = None
    if may and item.status == ItemStatus.OPEN:
        form = ResolutionForm(
            request.POST or None,
            kinds=list(services.ALLOWED[item.kind]),
            agencies=_agency_choices(item.area_code),
            needs=_need_choices(item),
            enterprises=_enterprise_choices(item.area_code) if "link_enterprise" in services.ALLOWED[item.kind] else [],
            roles=[(str(k), str(v)) for k, v in LinkRole.choices],
            appeal_category=item.appeal.category if item.appeal else "",
            initial={"decided_on": forum.held_on, "kind": services.ALLOWED[item.kind][0], "link_role": "member"},
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            data = _resolution_input(request, form, item, d)
            if data is not None:
                try:
                    services.resolve(actor=request.user, item=item, data=data)
                except services.ForumInvalid as exc:
                    _problems(form, exc)
                else:
                    messages.success(request, _("Resolution recorded and put into effect."))
                    return redirect("forums:item", ref=forum.ref, number=item.number)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "forums/item_detail.html",
        {"forum": forum, "item": item, "form": form, "drop": DropForm() if may and item.status == "open" else None},
    )


def _resolution_input(request: HttpRequest, form: Any, item: Any, d: dict[str, Any]) -> Any:
    agencies = {a.code: a for a in Agency.objects.filter(code__in=d.get("agencies") or [])}
    tasks = []
    for t in d.get("tasks") or []:
        agency = Agency.objects.filter(code=t["who"]).first()
        tasks.append(
            services.TaskInput(
                task=t["task"],
                due_on=t["due_on"],
                agency=agency,
                responsible="" if agency else t["who"],
                need=t["need"] or d.get("need") or "",
            )
        )
    household = None
    if (d.get("household") or "").strip():
        try:
            household = household_for(request.user, d["household"].strip())
        except Http404:
            form.add_error("household", "ไม่พบครัวเรือนนี้ในพื้นที่ของท่าน / no such household in your area")
            return None
    corrections = {k: d[k].strip() for k in ("house_no", "address_extra") if (d.get(k) or "").strip()}
    enterprise = Enterprise.objects.filter(code=d.get("enterprise") or "", active=True).first()
    return services.ResolutionInput(
        kind=d["kind"], text=d["text"], decided_on=d["decided_on"], signatures=d["signatures"],
        agencies=[agencies[c] for c in d.get("agencies") or [] if c in agencies], need=d.get("need") or "", tasks=tasks,
        household=household, corrections=corrections or None, enterprise=enterprise,
        link_role=d.get("link_role") or "member",
    )  # fmt: skip


@require_POST
@scoped("forum.manage")
def item_drop(request: HttpRequest, ref: str, number: int) -> HttpResponse:
    forum = _managed(request, ref)
    item = selectors.item_for(request.user, forum, number)
    form = DropForm(request.POST)
    try:
        services.agenda_drop(actor=request.user, item=item, reason=request.POST.get("reason", ""))
    except services.ForumInvalid as exc:
        for p in exc.problems:
            messages.error(request, f"{p.th} / {p.en}")
        return redirect("forums:item", ref=forum.ref, number=item.number)
    del form
    messages.success(request, _("Taken off the agenda."))
    return redirect("forums:detail", ref=forum.ref)


@scoped("forum.manage")
def minutes(request: HttpRequest, ref: str, fmt: str) -> HttpResponse:
    from khm.audit.services import audit_record
    from khm.forums import minutes as m

    forum = _managed(request, ref)
    data = m.minutes_pdf(forum) if fmt == "pdf" else m.minutes_docx(forum)
    from django.db import transaction

    with transaction.atomic():
        audit_record(
            actor=request.user, action="forum.export", object_type="forum", object_ref=forum.ref,
            area_code=forum.area_code, note=fmt,
        )  # fmt: skip
    kind = (
        "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    resp = HttpResponse(data, content_type=kind)
    resp["Content-Disposition"] = f'attachment; filename="minutes-{forum.ref}.{fmt}"'
    return resp
