"""Assistance pages: record help (for a household or for a referral sent to one's agency),
the list of recorded help, bulk entry of a distribution event, the tracking page (aggregates
only) with its export, and a household's full timeline.

Households are fetched only through ``khm.registry.access.household_for`` and referrals only
through ``khm.referrals.selectors``; an agency worker never looks a household up: the
household of their help comes from the referral sent to their agency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from khm.accounts.scoping import can, scope_for
from khm.areas.models import Area
from khm.assessment import selectors as assessment_selectors
from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.core.exports import tables_response
from khm.core.forms import ThaiDateField
from khm.referrals import bulk, services, tracking
from khm.referrals.models import Agency, AssistanceKind, Referral
from khm.referrals.selectors import assistance_visible, referrals_visible
from khm.referrals.timeline import household_events
from khm.registry.access import household_for
from khm.registry.models import Household, PersonStatus
from khm.registry.selectors import household_members

SESSION_KEY = "khm_bulk_assistance"


def _lang() -> str:
    return get_language() or "th"


def _agency_name(agency: Agency) -> str:
    return agency.name_en if _lang().startswith("en") and agency.name_en else agency.name_th


# --------------------------------------------------------------------------- forms


class AssistanceForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of help"), choices=AssistanceKind.choices)
    programme = forms.CharField(label=gettext_lazy("Programme"), max_length=200, required=False)
    agency = forms.ChoiceField(label=gettext_lazy("Agency"))
    given_on = ThaiDateField(label=gettext_lazy("Date given"))
    value_baht = forms.CharField(
        label=gettext_lazy("Value (baht)"), required=False, max_length=20, initial="0",
        help_text=gettext_lazy("0 for a service without a money value"),
    )  # fmt: skip
    person = forms.ChoiceField(label=gettext_lazy("Member"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args: Any, agencies: list[Agency], people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.code, _agency_name(a)) for a in agencies]  # type: ignore[attr-defined]
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].code
        self.fields["person"].choices = [("", _("The whole household")), *people]  # type: ignore[attr-defined]
        self.fields["value_baht"].widget.attrs["inputmode"] = "decimal"

    def clean_value_baht(self) -> Decimal:
        value = bulk.parse_value(self.cleaned_data.get("value_baht") or "", Decimal("0"))
        if value is None:
            raise forms.ValidationError("มูลค่าต้องเป็นจำนวนบาท 0–10,000,000 / the value must be baht from 0 to 10,000,000")
        return value


class BulkForm(forms.Form):
    programme = forms.CharField(label=gettext_lazy("Programme"), max_length=200)
    agency = forms.ChoiceField(label=gettext_lazy("Agency"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind of help"), choices=AssistanceKind.choices)
    given_on = ThaiDateField(label=gettext_lazy("Date given"))
    default_value = forms.CharField(
        label=gettext_lazy("Value per household (baht)"), max_length=20, initial="0", required=False,
        help_text=gettext_lazy("Used for every row that gives no value of its own"),
    )  # fmt: skip
    rows = forms.CharField(
        label=gettext_lazy("Household codes"), required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "placeholder": "HH23456789\nHH3456789A\t1500"}),
        help_text=gettext_lazy("One household code a line, optionally followed by a tab or a comma and the value in baht"),
    )  # fmt: skip
    file = forms.FileField(
        label=gettext_lazy("Or a file (CSV or XLSX)"), required=False,
        help_text=gettext_lazy("Columns: household (or รหัสครัวเรือน), and optionally value (มูลค่า), person, note"),
    )  # fmt: skip

    def __init__(self, *args: Any, agencies: list[Agency], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [(a.code, _agency_name(a)) for a in agencies]  # type: ignore[attr-defined]
        self.fields["file"].widget.attrs["accept"] = ".csv,.xlsx,.txt"

    def clean_default_value(self) -> Decimal:
        value = bulk.parse_value(self.cleaned_data.get("default_value") or "", Decimal("0"))
        if value is None:
            raise forms.ValidationError("มูลค่าต้องเป็นจำนวนบาท 0–10,000,000 / the value must be baht from 0 to 10,000,000")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("rows") or "").strip() and not data.get("file"):
            raise forms.ValidationError(_("Paste household codes or choose a file."))
        return data


def _problems_to_form(form: forms.Form, problems: list[Any]) -> None:
    for p in problems:
        target = p.field if p.field in form.fields else None
        form.add_error(target, f"{p.th} / {p.en}")


# --------------------------------------------------------------------------- agencies


def _agencies_for_actor(actor: Any, area_code: str | None = None) -> list[Agency]:
    """Agencies the actor may record for: officers any active one (those covering the area
    first), agency workers only their own."""
    if bulk.is_officer(actor):
        found = list(Agency.objects.filter(active=True))
        if area_code:
            found.sort(key=lambda a: (not a.covers(area_code), a.name_th))
        return found
    orgs = services.agency_orgs(actor)
    return list(Agency.objects.filter(active=True, organisation_id__in=orgs)) if orgs else []


# --------------------------------------------------------------------------- record one


@scoped("assistance.record")
@require_http_methods(["GET", "POST"])
def assistance_new(request: HttpRequest) -> HttpResponse:
    """Help for one household (``?household=<code>``, officers) or for a referral
    (``?referral=<ref>``: the household comes from the referral)."""
    actor = request.user
    code = (request.GET.get("household") or "").strip()
    ref = (request.GET.get("referral") or "").strip()
    referral: Referral | None = None
    via_agency = False
    if ref:
        referral = referrals_visible(actor).select_related("agency", "household", "person").filter(ref=ref).first()
        if referral is None:
            raise Http404
        household = referral.household
        if can(actor, "assistance.record", referral.area_code) and can(actor, "household.view", referral.area_code):
            agencies = _agencies_for_actor(actor, referral.area_code)
            agencies.sort(key=lambda a: a.pk != referral.agency_id)  # type: ignore[union-attr]
        elif services.is_agency_worker_of(actor, referral.agency):
            via_agency, agencies = True, [referral.agency]
        else:
            raise Http404
    elif code:
        household = household_for(actor, code)
        if not can(actor, "assistance.record", household.area_code):
            raise Http404
        agencies = _agencies_for_actor(actor, household.area_code)
    else:
        raise Http404
    if via_agency:
        # The agency sees no roster: at most the member the referral names.
        people = [(referral.person.ref, _("The member named in the referral"))] if referral and referral.person else []
    else:
        people = [(p.ref, p.full_name) for p in household_members(household) if p.status == PersonStatus.MEMBER]
    form = AssistanceForm(
        request.POST or None,
        agencies=agencies,
        people=people,
        initial={"given_on": timezone.localdate(), "agency": agencies[0].code if agencies else None},
    )
    if via_agency:
        form.fields["agency"].disabled = True
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        agency = next(a for a in agencies if a.code == d["agency"])
        person = None
        if d["person"]:
            person = (
                referral.person
                if via_agency and referral
                else next(p for p in household_members(household) if p.ref == d["person"])
            )
        try:
            services.assistance_record(
                actor=actor, household=household, kind=d["kind"], agency=agency, given_on=d["given_on"],
                value_baht=d["value_baht"], programme=d["programme"], person=person, referral=referral, note=d["note"],
            )  # fmt: skip
        except services.ReferralInvalid as exc:
            _problems_to_form(form, exc.problems)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Help recorded."))
            if not via_agency and can(actor, "household.view", household.area_code):
                return redirect(reverse("registry:household_detail", args=[household.code]) + "#timeline")
            return redirect("referrals:assistance_list")
    return render(
        request,
        "referrals/assistance_form.html",
        {"form": form, "household": household, "referral": referral, "via_agency": via_agency},
    )


# --------------------------------------------------------------------------- list


@scoped("assistance.record")
@require_GET
def assistance_list(request: HttpRequest) -> HttpResponse:
    qs = assistance_visible(request.user).select_related("agency", "referral", "household")
    batch = (request.GET.get("batch") or "").strip()
    kind = request.GET.get("kind") or ""
    if batch:
        qs = qs.filter(batch=batch)
    if kind in AssistanceKind.values:
        qs = qs.filter(kind=kind)
    totals = qs.aggregate(n=Count("id"), value=Sum("value_baht"))
    rows = list(qs[:300])
    view_scope = scope_for(request.user, "household.view")
    return render(
        request,
        "referrals/assistance_list.html",
        {
            "rows": rows,
            "linked": {a.pk for a in rows if view_scope.contains(a.area_code)},
            "totals": totals,
            "batch": batch,
            "kind": kind,
            "kinds": AssistanceKind.choices,
            "may_bulk": bool(_agencies_for_actor(request.user)),
        },
    )


# --------------------------------------------------------------------------- bulk entry


@scoped("assistance.record")
@require_http_methods(["GET", "POST"])
def assistance_bulk(request: HttpRequest) -> HttpResponse:
    """Step 1: the form; ``step=preview`` checks every row; ``step=commit`` writes the
    previewed valid rows in one transaction; ``step=cancel`` drops the preview."""
    actor = request.user
    agencies = _agencies_for_actor(actor)
    if not agencies:
        raise Http404
    step = request.POST.get("step", "") if request.method == "POST" else ""
    stored: dict[str, Any] = request.session.get(SESSION_KEY) or {}
    if step in ("commit", "cancel"):
        token = request.POST.get("batch", "")
        data = stored.get(token)
        if data is None:
            messages.error(
                request,
                "รายการชุดนี้บันทึกไปแล้วหรือหมดอายุ / this preview was already recorded or has expired",
            )
            return redirect("referrals:assistance_bulk")
        preview = bulk.Preview.from_dict(data)
        if step == "cancel":
            stored.pop(token, None)
            request.session[SESSION_KEY] = stored
            messages.info(request, _("Cancelled: nothing was recorded."))
            return redirect("referrals:assistance_bulk")
        try:
            written = bulk.commit_rows(actor=actor, preview=preview, confirmed=request.POST.get("confirm") == "1")
        except bulk.BulkInvalid as exc:
            for p in exc.problems:
                messages.error(request, f"{p.th} / {p.en}")
            if any(p.field == "confirm" for p in exc.problems):
                return _preview_page(request, preview)
            stored.pop(token, None)
            if any(p.field == "rows" for p in exc.problems):
                # The data changed since the preview: check the same rows again.
                try:
                    fresh = bulk.check_rows(actor=actor, header=preview.header(), rows=preview.raw)
                except bulk.BulkInvalid:
                    fresh = None
                if fresh is not None:
                    stored[fresh.batch] = fresh.to_dict()
                    request.session[SESSION_KEY] = stored
                    return _preview_page(request, fresh)
            request.session[SESSION_KEY] = stored
            return redirect("referrals:assistance_bulk")
        except PermissionDenied:
            raise Http404 from None
        stored.pop(token, None)
        request.session[SESSION_KEY] = stored
        messages.success(
            request,
            _("Recorded %(n)s households in one batch (%(batch)s).") % {"n": len(written), "batch": preview.batch},
        )
        return redirect(reverse("referrals:assistance_list") + f"?batch={preview.batch}")
    form = BulkForm(
        request.POST or None,
        request.FILES or None,
        agencies=agencies,
        initial={"given_on": timezone.localdate(), "default_value": "0"},
    )
    if step == "preview" and form.is_valid():
        d = form.cleaned_data
        agency = next(a for a in agencies if a.code == d["agency"])
        header = bulk.Header(
            agency=agency, kind=d["kind"], given_on=d["given_on"], programme=d["programme"],
            default_value=d["default_value"],
        )  # fmt: skip
        upload = d.get("file")
        try:
            if upload is not None:
                if upload.size > bulk.MAX_BYTES:
                    raise bulk.BulkInvalid(
                        [bulk.RowProblem(0, "file", "ไฟล์ใหญ่เกินไป (ไม่เกิน 5 MB)", "the file is too large (5 MB at most)")]
                    )
                rows = bulk.parse_rows(data=upload.read(), filename=upload.name or "")
            else:
                rows = bulk.parse_rows(text=d["rows"])
            preview = bulk.check_rows(actor=actor, header=header, rows=rows)
        except bulk.BulkInvalid as exc:
            _problems_to_form(form, exc.problems)
        else:
            # The rows as typed (codes, values, member refs, notes) stay in the server-side session
            # until committed or cancelled; at most three previews are kept.
            keep = dict(list(stored.items())[-2:])
            keep[preview.batch] = preview.to_dict()
            request.session[SESSION_KEY] = keep
            return _preview_page(request, preview)
    return render(request, "referrals/assistance_bulk.html", {"form": form})


def _preview_page(request: HttpRequest, preview: bulk.Preview) -> HttpResponse:
    by_row: dict[int, list[bulk.RowProblem]] = {}
    for p in preview.rejected:
        by_row.setdefault(p.row_no, []).append(p)
    raw = {r.row_no: r for r in preview.raw}
    rejected = [{"row_no": n, "household": raw[n].household, "problems": ps} for n, ps in sorted(by_row.items())]
    agency = Agency.objects.filter(pk=preview.agency_id).first()
    return render(
        request,
        "referrals/assistance_bulk_preview.html",
        {
            "preview": preview,
            "rejected": rejected,
            "agency": agency,
            "kind_label": AssistanceKind(preview.kind).label,
            "given_on": preview.header().given_on,
        },
    )


# --------------------------------------------------------------------------- tracking


def _default_area(actor: Any) -> str:
    scope = scope_for(actor, tracking.ACTION)
    codes = sorted(scope.prefixes) or sorted({v[:6] for v in scope.villages})
    code = codes[0] if codes else ""
    if code == "":
        first = Area.objects.filter(level=1).order_by("code").first()
        code = first.code if first else ""
    return code


def _tracking_context(request: HttpRequest) -> dict[str, Any]:
    actor = request.user
    code = (request.GET.get("area") or "").strip() or _default_area(actor)
    if not (code.isdigit() and len(code) in (2, 4, 6, 8)):
        raise Http404
    area = Area.objects.filter(code=code).select_related("parent", "parent__parent", "parent__parent__parent").first()
    scope = tracking.tracking_scope(actor, code)
    if area is None or scope.empty:
        raise Http404
    allowed = tracking.agency_restriction(actor)
    choices = list(Agency.objects.all() if allowed is None else Agency.objects.filter(pk__in=allowed))
    agency = None
    agency_code = (request.GET.get("agency") or "").strip()
    if agency_code:
        agency = next((a for a in choices if a.code == agency_code), None)
        if agency is None:
            raise Http404
    rounds = assessment_selectors.rounds()
    rnd = request.GET.get("round") or ""
    rnd = rnd if rnd in rounds else (rounds[0] if rounds else "")
    today = timezone.localdate()
    fig = tracking.tracking_figures(actor, code, rnd, agency=agency, today=today)
    names = {a.pk: _agency_name(a) for a in Agency.objects.all()}
    kinds = dict(AssistanceKind.choices)
    children = [
        (child, fig.children.get(child.code) or tracking.Figures())
        for child in Area.objects.filter(parent=area).order_by("code")
        if not scope.restricted_to(child.code).empty
    ]
    parents = []
    p = area.parent
    while p is not None:
        if not tracking.tracking_scope(actor, p.code).empty:
            parents.append(p)
        p = p.parent
    share_pct = round(100 * fig.share_helped, 1) if fig.share_helped is not None else None
    return {
        "area": area,
        "parents": list(reversed(parents)),
        "round": rnd,
        "rounds": rounds,
        "agency": agency,
        "agencies": choices,
        "agency_only": allowed is not None,
        "fig": fig,
        "today": today,
        "target_pct": int(tracking.TARGET_SHARE * 100),
        "share_pct": share_pct,
        "bar": {
            "fill": 3 * min(share_pct or 0, 100),  # 300 px = 100 %
            "target": 3 * int(tracking.TARGET_SHARE * 100),
        },
        "children": children,
        "agency_names": names,
        "kinds": kinds,
        "by_kind_chart": [{"label": str(kinds.get(r["kind"], r["kind"])), "value": r["value"]} for r in fig.by_kind],
        "by_agency_chart": [{"label": names.get(r["agency_id"], "?"), "value": r["value"]} for r in fig.by_agency],
        "query": request.GET.urlencode(),
    }


@scoped(tracking.ACTION)
@require_GET
def tracking_page(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/tracking.html", _tracking_context(request))


def _num(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


@scoped(tracking.ACTION)
@require_GET
def tracking_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The tracking page's tables as CSV or XLSX (aggregates only)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    ctx = _tracking_context(request)
    fig: tracking.Figures = ctx["fig"]
    area: Area = ctx["area"]
    names, kinds = ctx["agency_names"], ctx["kinds"]
    summary = [
        [_("Area"), f"{area.name_th} ({area.code})"],
        [_("Survey round"), ctx["round"]],
        [_("Agency"), _agency_name(ctx["agency"]) if ctx["agency"] else _("All")],
        [_("Target poor households"), fig.target],
        [_("With a referral"), fig.referred],
        [_("Helped"), fig.helped],
        [_("Not yet helped"), fig.not_helped],
        [_("Share helped"), fig.share_helped],
        [_("Goal: share helped at least"), tracking.TARGET_SHARE],
        [_("Assistance records"), fig.records],
        [_("Value of help (baht)"), _num(fig.value_total)],
        [_("of which to target poor households (baht)"), _num(fig.value_target)],
        [_("Days from need to help: households"), fig.days_n],
        [_("Days from need to help: median"), fig.days_median],
        [_("Days from need to help: 90th percentile"), fig.days_p90],
        [_("Helped only before the need was recorded"), fig.help_before_need],
        [_("Open referrals"), fig.open],
        [_("Overdue referrals"), fig.overdue],
    ]
    area_head = [
        _("Area code"), _("Area"), _("Target poor households"), _("With a referral"), _("Helped"),
        _("Not yet helped"), _("Share helped"), _("Value of help (baht)"), _("Days from need to help: median"),
        _("Open referrals"), _("Overdue referrals"),
    ]  # fmt: skip
    area_rows = [
        [a.code, a.name_th, f.target, f.referred, f.helped, f.not_helped, f.share_helped, _num(f.value_total),
         f.days_median, f.open, f.overdue]
        for a, f in ctx["children"]
    ]  # fmt: skip
    kind_rows = [[r["kind"], str(kinds.get(r["kind"], r["kind"])), r["records"], _num(r["value"])] for r in fig.by_kind]
    open_by = {r["agency_id"]: r for r in fig.open_by_agency}
    value_by = {r["agency_id"]: r for r in fig.by_agency}
    agency_rows = [
        [
            names.get(ag, "?"),
            value_by.get(ag, {}).get("records", 0),
            value_by.get(ag, {}).get("households", 0),
            _num(value_by.get(ag, {}).get("value", Decimal(0))),
            open_by.get(ag, {}).get("open", 0),
            open_by.get(ag, {}).get("overdue", 0),
        ]
        for ag in list(value_by) + [a for a in open_by if a not in value_by]
    ]
    tables: list[tuple[str, list[str], list[list[Any]]]] = [
        (_("Summary"), [_("Figure"), _("Value")], summary),
        (_("By area"), area_head, area_rows),
        (_("By kind"), [_("Code"), _("Kind of help"), _("Records"), _("Value (baht)")], kind_rows),
        (
            _("By agency"),
            [
                _("Agency"),
                _("Records"),
                _("Households"),
                _("Value (baht)"),
                _("Open referrals"),
                _("Overdue referrals"),
            ],
            agency_rows,
        ),
    ]
    name = f"khm-tracking-{area.code}-{ctx['round'] or 'none'}"
    return tables_response(tables, name, fmt)


# --------------------------------------------------------------------------- timeline


@scoped("household.view")
@require_GET
def timeline_page(request: HttpRequest, code: str) -> HttpResponse:
    household: Household = household_for(request.user, code)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="household.view",
            object_type="household",
            object_ref=household.code,
            area_code=household.area_code,
            note="timeline",
        )
    return render(
        request,
        "referrals/timeline.html",
        {"household": household, "events": household_events(request.user, household)},
    )
