"""Merge and split pages: pick two records, compare them side by side, merge with a reason;
list the merges of one's area and split one again; take back a "same person" review.

People are named in requests by their random ref only, and by POST (never a name or a
national ID in a URL). Every read goes through merge_selectors (scoped to the user's area).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from khm.audit.services import audit_record
from khm.core.access import scoped
from khm.core.dates import format_thai_date
from khm.core.forms import apply_service_errors
from khm.registry.models import Household, Person
from khm.sources import merge, merge_selectors

PICK_TWO = gettext_lazy("Choose exactly two people to compare.")


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(label=gettext_lazy("Record to keep"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=gettext_lazy("Why are these the same person?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": merge.REASON_REQUIRED},
    )

    def __init__(self, *args: Any, refs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["survivor"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(r, r) for r in refs]


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for m in exc.messages:
        messages.error(request, m)


@scoped("source.import")
def merge_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sources/merge_list.html",
        {
            "rows": merge_selectors.merges_visible(request.user),
            "decisions": merge_selectors.same_decisions(request.user),
        },
    )


@scoped("source.import")
@require_http_methods(["GET", "POST"])
def merge_start(request: HttpRequest) -> HttpResponse:
    """Pick two records: the members of a household (from its page), or a search by name or
    national ID (by POST, so the search never reaches a URL)."""
    household: Household | None = None
    people: list[Person] = []
    code = (request.GET.get("household") or request.POST.get("household") or "").strip()
    if code:
        household, people = merge_selectors.household_people(request.user, code)
    query = (request.POST.get("q") or "").strip()[:100] if request.method == "POST" else ""
    results = merge_selectors.people_search(request.user, query) if query else []
    shown = {p.pk for p in people}
    results = [p for p in results if p.pk not in shown]
    return render(
        request,
        "sources/merge_start.html",
        {"household": household, "people": people, "query": query, "results": results},
    )


def _lists(entries: list[Any]) -> str:
    return ", ".join(f"{e.source.get_kind_display()} {e.source.round_label}" for e in entries) or "—"


def _compare(a: Person, b: Person, sources: dict[int, list[Any]]) -> list[tuple[str, str, str, bool]]:
    """(label, record A, record B, differs) for the side-by-side table."""

    def date(p: Person) -> str:
        return format_thai_date(p.birth_date, lang=get_language() or "th") if p.birth_date else "—"

    def place(p: Person) -> str:
        v = p.household.village
        return f"{v.name_th} {_('M.')}{v.village_no} ({p.household.area_code})"

    rows = [
        (_("Name"), a.full_name, b.full_name, a.full_name != b.full_name),
        (
            _("National ID"),
            a.national_id_masked or "—",
            b.national_id_masked or "—",
            a.national_id_hash != b.national_id_hash,
        ),
        (_("Birth date"), date(a), date(b), a.birth_date != b.birth_date),
        (_("Sex"), a.get_sex_display() or "—", b.get_sex_display() or "—", a.sex != b.sex),
        (_("Household"), a.household.code, b.household.code, a.household_id != b.household_id),
        (_("House number"), a.household.house_no, b.household.house_no, a.household.house_no != b.household.house_no),
        (_("Village"), place(a), place(b), a.household.area_code != b.household.area_code),
        (_("Relation"), a.get_relation_display(), b.get_relation_display(), a.relation != b.relation),
        (_("Status"), a.get_status_display(), b.get_status_display(), a.status != b.status),
    ]
    la, lb = _lists(sources[a.pk]), _lists(sources[b.pk])
    rows.append((_("Source lists"), la, lb, la != lb))
    return rows


def _default_survivor(a: Person, b: Person, sources: dict[int, list[Any]]) -> str:
    # Keep the record with a national ID, else the one on more lists, else the older one.
    def rank(p: Person) -> tuple[bool, int, int]:
        return (bool(p.national_id_hash), len(sources[p.pk]), -p.pk)

    return a.ref if rank(a) >= rank(b) else b.ref


@scoped("source.import")
@require_POST
def merge_compare(request: HttpRequest) -> HttpResponse:
    """The two records side by side, differences highlighted; with "confirm", the merge."""
    refs = list(dict.fromkeys(r.strip() for r in request.POST.getlist("ref") if r.strip()))
    if len(refs) != 2:
        messages.error(request, PICK_TWO)
        return redirect("sources:merge_start")
    a = merge_selectors.person_for_merge(request.user, refs[0])
    b = merge_selectors.person_for_merge(request.user, refs[1])
    confirm = "confirm" in request.POST
    form = MergeForm(request.POST if confirm else None, refs=refs)
    if confirm and form.is_valid():
        survivor, absorbed = (a, b) if form.cleaned_data["survivor"] == a.ref else (b, a)
        try:
            merge.merge_people(
                actor=request.user, survivor=survivor, absorbed=absorbed, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Records merged. The merge can be split again from this page."))
            return redirect("sources:merge_list")
    with transaction.atomic():
        # Comparing two records reads personal data: audited (refs only).
        audit_record(
            actor=request.user,
            action="merge.compare",
            object_type="person_pair",
            object_ref=f"{a.ref}+{b.ref}",
            area_code=a.household.area_code,
        )
    sources = merge_selectors.sources_of([a, b])
    return render(
        request,
        "sources/merge_compare.html",
        {
            "a": a,
            "b": b,
            "pairs": _compare(a, b, sources),
            "form": form,
            "survivor": form.data.get("survivor") if confirm else _default_survivor(a, b, sources),
            "reason": form.data.get("reason", "") if confirm else "",
        },
    )


@scoped("source.import")
@require_POST
def merge_split(request: HttpRequest, pk: int) -> HttpResponse:
    m = merge_selectors.merge_for(request.user, pk)
    try:
        merge.split_merge(actor=request.user, merge=m, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("Merge split: both records are back as they were."))
    return redirect("sources:merge_list")


@scoped("source.import")
@require_POST
def merge_review_split(request: HttpRequest, pk: int) -> HttpResponse:
    row = merge_selectors.same_decision_for(request.user, pk)
    try:
        merge.split_review(actor=request.user, row=row, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, _("The list row is now registered as a person of its own."))
    return redirect("sources:merge_list")
