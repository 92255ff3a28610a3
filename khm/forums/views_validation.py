"""Community validation pages: post a village's list, the notice-board PDF, the public page
where anyone may appeal (no login; masked names only), appeals received on paper, the
appeals list with deadlines, and making a list final."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from khm.accounts.scoping import scope_for
from khm.areas.models import Area, AreaLevel
from khm.assessment.forms import current_be_year
from khm.core.access import public, scoped
from khm.forums import selectors, validation
from khm.forums.forms import AppealForm, PostingForm
from khm.forums.models import AppealStatus, Posting


def _villages(actor: Any) -> list[tuple[str, str]]:
    scope = scope_for(actor, "posting.manage")
    qs = Area.objects.filter(scope.q("code"), level=AreaLevel.VILLAGE).select_related("parent")
    return [(a.code, f"{a.name_th} หมู่ {a.village_no} ({a.code})") for a in qs.order_by("code")[:3000]]


def _public_url(request: HttpRequest, posting: Posting) -> str:
    return request.build_absolute_uri(reverse("notice:page", kwargs={"token": posting.token}))


@scoped("posting.manage")
def posting_list(request: HttpRequest) -> HttpResponse:
    postings = selectors.postings_visible(request.user).order_by("-opens_on")[:300]
    names = dict(Area.objects.filter(code__in={p.area_code for p in postings}).values_list("code", "name_th"))
    form = PostingForm(
        request.POST or None,
        villages=_villages(request.user),
        initial={"round": current_be_year(), "opens_on": timezone.localdate(), "days": 15, "appeal_days": 15},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            p = validation.posting_create(
                actor=request.user, village_code=d["village"], round=d["round"], opens_on=d["opens_on"],
                days=d["days"], appeal_days=d["appeal_days"],
            )  # fmt: skip
        except validation.ValidationInvalid as exc:
            for pr in exc.problems:
                form.add_error(pr.field if pr.field in form.fields else None, f"{pr.th} / {pr.en}")
        else:
            messages.success(request, _("The list is posted. Print the notice and put it on the village board."))
            return redirect("forums:posting", ref=p.ref)
    return render(request, "forums/postings.html", {"postings": postings, "names": names, "form": form})


@scoped("posting.manage")
def posting_detail(request: HttpRequest, ref: str) -> HttpResponse:
    posting = selectors.posting_for(request.user, ref)
    appeals = selectors.appeals_visible(request.user).filter(posting=posting).select_related("entry")
    area = Area.objects.filter(code=posting.area_code).first()
    return render(
        request,
        "forums/posting_detail.html",
        {
            "posting": posting,
            "area": area,
            "entries": selectors.posting_entries(posting),
            "appeals": appeals,
            "public_url": _public_url(request, posting),
            "is_open": validation.posting_is_open(posting),
            "may_finalise": posting.status == "open" and timezone.localdate() > posting.closes_on,
            "form": AppealForm(),
        },
    )


@scoped("posting.manage")
def posting_notice(request: HttpRequest, ref: str) -> HttpResponse:
    from khm.forums.minutes import notice_pdf

    posting = selectors.posting_for(request.user, ref)
    resp = HttpResponse(notice_pdf(posting, _public_url(request, posting)), content_type="application/pdf")
    resp["Content-Disposition"] = f'inline; filename="notice-{posting.ref}.pdf"'
    return resp


@require_POST
@scoped("posting.manage")
def posting_finalise(request: HttpRequest, ref: str) -> HttpResponse:
    posting = selectors.posting_for(request.user, ref)
    try:
        n = validation.posting_finalise(actor=request.user, posting=posting)
    except validation.ValidationInvalid as exc:
        for p in exc.problems:
            messages.error(request, f"{p.th} / {p.en}")
    else:
        messages.success(request, _("The list is final: %(n)d households confirmed as poor.") % {"n": n})
    return redirect("forums:posting", ref=posting.ref)


@require_POST
@scoped("posting.manage")
def appeal_paper(request: HttpRequest, ref: str) -> HttpResponse:
    """An appeal received on paper or in person, typed in by an officer."""
    posting = selectors.posting_for(request.user, ref)
    form = AppealForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            a = validation.appeal_lodge(
                posting=posting, area_code=posting.area_code, category=d["category"], description=d["description"],
                entry_number=d["entry_number"], about=d["about"], name=d["name"], contact=d["contact"],
                via="paper", actor=request.user,
            )  # fmt: skip
        except validation.ValidationInvalid as exc:
            for p in exc.problems:
                messages.error(request, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Appeal %(ref)s recorded; the forum must decide by %(due)s.") % {
                "ref": a.ref, "due": a.due_on.strftime("%d/%m/") + str(a.due_on.year + 543)})  # fmt: skip
    else:
        for field, errors in form.errors.items():
            for e in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {e}")
    return redirect("forums:posting", ref=posting.ref)


@scoped("posting.manage")
def appeal_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", AppealStatus.OPEN)
    appeals = selectors.appeals_visible(request.user).select_related("posting", "entry")
    if status in AppealStatus.values:
        appeals = appeals.filter(status=status)
    rows = list(appeals.order_by("due_on")[:500])
    return render(
        request,
        "forums/appeals.html",
        {"appeals": rows, "status": status, "statuses": AppealStatus.choices, "today": timezone.localdate()},
    )


# --------------------------------------------------------------------------- public page


@public
def notice_page(request: HttpRequest, token: str) -> HttpResponse:
    """The posted list and an appeal form, for anyone with the address on the notice."""
    posting = selectors.public_posting(token)
    area = Area.objects.filter(code=posting.area_code).select_related("parent").first()
    form = AppealForm(request.POST or None)
    done = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if d["website"]:  # a robot filled the hidden field: say thanks, keep nothing
            done = "-"
        else:
            try:
                a = validation.appeal_lodge(
                    posting=posting, area_code=posting.area_code, category=d["category"],
                    description=d["description"], entry_number=d["entry_number"], about=d["about"],
                    name=d["name"], contact=d["contact"], via="web",
                )  # fmt: skip
            except validation.ValidationInvalid as exc:
                for p in exc.problems:
                    field = p.field if p.field in form.fields else None
                    if p.field == "entry":
                        field = "entry_number"
                    form.add_error(field, f"{p.th} / {p.en}")
            else:
                done = a.ref
    resp = render(
        request,
        "forums/notice_page.html",
        {
            "posting": posting,
            "area": area,
            "lines": selectors.public_lines(posting),
            "form": form,
            "done": done,
            "is_open": validation.posting_is_open(posting),
            "today": dt.date.today(),
        },
    )
    resp["X-Robots-Tag"] = "noindex, nofollow"
    resp["Referrer-Policy"] = "same-origin"  # the address never leaves the site (no-referrer would break CSRF)
    return resp
