"""Agreements (MOUs) and the collaboration network; graduation candidates of an area and the
versioned graduation criteria."""

from __future__ import annotations

import json
import math
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from khm.accounts.models import Organisation
from khm.accounts.scoping import can, scope_for
from khm.areas.models import Area
from khm.core.access import scoped
from khm.core.problems import Invalid
from khm.forums import agreements, graduation, selectors
from khm.forums.forms import AgreementForm, CriteriaForm
from khm.forums.models import GraduationCriteria
from khm.forums.standing import on_list
from khm.registry.selectors import households_visible


def _orgs() -> list[tuple[str, str]]:
    return [(str(o.pk), o.name_th) for o in Organisation.objects.order_by("kind", "name_th")[:400]]


@scoped("agreement.view")
def agreement_list(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.agreements_visible(request.user))
    today = timezone.localdate()
    forums = list(selectors.forums_visible(request.user).prefetch_related("organisations")[:500])
    net = agreements.network(rows, forums)
    return render(
        request,
        "forums/agreements.html",
        {
            "agreements": [(a, agreements.in_force(a, today)) for a in rows],
            "net": net,
            "graph": _graph(net),
            "may_manage": can(request.user, "agreement.manage"),
        },
    )


def _graph(net: agreements.Network, size: int = 560) -> dict[str, Any]:
    """A circle layout of the network for an inline SVG (no script, prints well)."""
    nodes = net.nodes[:24]
    n = max(len(nodes), 1)
    c, r = size / 2, size / 2 - 90
    pos = {}
    out_nodes = []
    for i, o in enumerate(nodes):
        a = 2 * math.pi * i / n - math.pi / 2
        x, y = c + r * math.cos(a), c + r * math.sin(a)
        pos[o.pk] = (x, y)
        weight = net.agreements[o.pk] + net.forums[o.pk]
        out_nodes.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "r": round(5 + 2.5 * math.sqrt(weight), 1),
                "label": o.name_th[:28],
                "lx": round(c + (r + 12) * math.cos(a), 1),
                "ly": round(c + (r + 12) * math.sin(a), 1),
                "anchor": "start" if math.cos(a) >= 0 else "end",
            }
        )
    edges = [
        {"x1": round(pos[a][0], 1), "y1": round(pos[a][1], 1), "x2": round(pos[b][0], 1), "y2": round(pos[b][1], 1),
         "w": min(1 + w, 8)}
        for (a, b), w in net.edges.items() if a in pos and b in pos
    ]  # fmt: skip
    return {"size": size, "nodes": out_nodes, "edges": edges}


@scoped("agreement.manage")
def agreement_new(request: HttpRequest) -> HttpResponse:
    form = AgreementForm(request.POST or None, organisations=_orgs())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            a = agreements.agreement_create(
                actor=request.user, title=d["title"], parties=list(Organisation.objects.filter(pk__in=d["parties"])),
                scope=d["scope"], areas=d["areas"].split(), signed_on=d["signed_on"], starts_on=d["starts_on"],
                ends_on=d["ends_on"],
            )  # fmt: skip
        except agreements.AgreementInvalid as exc:
            for p in exc.problems:
                form.add_error(p.field if p.field in form.fields else None, f"{p.th} / {p.en}")
        else:
            messages.success(request, _("Agreement %(ref)s recorded.") % {"ref": a.ref})
            return redirect("forums:agreements")
    return render(request, "forums/agreement_form.html", {"form": form})


# --------------------------------------------------------------------------- graduation


@scoped("forum.view")
def graduation_page(request: HttpRequest) -> HttpResponse:
    """Households on the list in an area that meet every graduation criterion, with why."""
    scope = scope_for(request.user, "forum.view")
    area_code = request.GET.get("area", "").strip()
    if not area_code:
        area_code = min(scope.prefixes, key=len) if scope.prefixes else (min(scope.villages) if scope.villages else "")
    if area_code and not (scope.covers_area(area_code) or scope.contains(area_code)):
        area_code = ""
    if len(area_code) == 2:
        # A province's list is too long to evaluate per request (≈ 17 s at a million people):
        # candidates are listed by district or below.
        first = Area.objects.filter(parent__code=area_code).order_by("code").first()
        area_code = first.code if first else ""
    area = Area.objects.filter(code=area_code).first() if area_code else None
    found: list[Any] = []
    if area is not None:
        households = on_list(households_visible(request.user).filter(area_code__startswith=area_code))
        found = graduation.candidates(households)
    criteria = graduation.criteria_current()
    graduated = selectors.standings_visible(request.user).filter(status="graduated", area_code__startswith=area_code)
    return render(
        request,
        "forums/graduation.html",
        {
            "area": area,
            "candidates": found[:500],
            "count": len(found),
            "criteria": criteria,
            "graduated": graduated.select_related("household", "household__village").order_by("-since")[:200],
            "today": timezone.localdate(),
        },
    )


@scoped("forum.view")
def criteria_page(request: HttpRequest) -> HttpResponse:
    versions = GraduationCriteria.objects.all()
    current = graduation.criteria_current()
    form = None
    if can(request.user, "instrument.edit"):
        form = CriteriaForm(
            request.POST or None,
            initial={"definition": json.dumps(current.definition, ensure_ascii=False, indent=2)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                definition = json.loads(form.cleaned_data["definition"])
            except json.JSONDecodeError as exc:
                form.add_error("definition", f"JSON อ่านไม่ได้ บรรทัด {exc.lineno} / cannot read the JSON: {exc.msg}")
            else:
                try:
                    c = graduation.criteria_save_version(
                        actor=request.user, definition=definition, note=form.cleaned_data["note"]
                    )
                except Invalid as exc:
                    for p in exc.problems:
                        form.add_error("definition", f"{p.field}: {p.th} / {p.en}")
                else:
                    messages.success(request, _("Version %(v)d of the graduation criteria saved.") % {"v": c.version})
                    return redirect("forums:criteria")
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "forums/criteria.html",
        {"versions": versions, "current": current, "form": form, "pretty": current.definition},
    )
