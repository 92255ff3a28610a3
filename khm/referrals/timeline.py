"""Everything that happened to one household, in one list, newest first.

Sources: registry events (``khm.registry.timeline``), the source lists its members are on,
verifications, assessments (with their level), referrals and each change of their state,
and the help received.

Scoping: the caller has already fetched the household through the registry's access
function (``household_for``); this module reads related rows by ``household=`` only, and each
kind of row only when the actor's role may see it in the household's area (e.g. source lists
need ``source.view``, verifications ``verification.view``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from khm.accounts.scoping import can
from khm.core.panels import Panel
from khm.referrals.models import Assistance, Referral, State
from khm.registry.models import Household
from khm.registry.timeline import household_timeline

PANEL_ROWS = 30

# What a reader needs to see each kind of entry (in the household's area).
NEEDS = {
    "registry": "household.view",
    "source": "source.view",
    "verification": "verification.view",
    "assessment": "assessment.view",
    "referral": "referral.view",
    "assistance": "referral.view",
}
KIND_LABELS = {
    "registry": gettext_lazy("Registry"),
    "source": gettext_lazy("Source list"),
    "verification": gettext_lazy("Verification"),
    "assessment": gettext_lazy("Assessment"),
    "referral": gettext_lazy("Referral"),
    "assistance": gettext_lazy("Help received"),
}


@dataclass
class Event:
    on: dt.date  # the day it happened
    at: dt.datetime  # when it was recorded (orders events of one day)
    kind: str  # a key of NEEDS
    title: str
    detail: str = ""
    ref: str = ""
    url: str = ""
    timed: bool = True  # False: only the day is known (help given on, verified on, …)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))


def _day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date() if timezone.is_aware(at) else at.date()


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _registry(household: Household) -> list[Event]:
    out = []
    for e in household_timeline(household, limit=500):
        detail = str(e.changes.get("person", "")) if e.kind == "membership" else e.actor
        if e.note:
            detail = f"{detail} — {e.note}" if detail else e.note
        out.append(Event(_day(e.at), e.at, "registry", e.label, detail))
    return out


def _sources(household: Household) -> list[Event]:
    from khm.sources.models import PersonSource

    out = []
    for ps in PersonSource.objects.filter(person__household=household).select_related("source", "batch", "person"):
        at = ps.batch.committed_at or ps.batch.created_at
        title = _("On the list %(list)s, round %(round)s") % {"list": ps.source.name_th, "round": ps.source.round_label}
        out.append(Event(_day(at), at, "source", title, ps.person.full_name, ps.batch.code))
    return out


def _verifications(household: Household) -> list[Event]:
    from khm.fieldwork.models import Verification

    out = []
    for v in Verification.objects.filter(household=household).select_related("verified_by"):
        title = _("Verified: %(outcome)s") % {"outcome": v.get_outcome_display()}
        detail = f"{v.get_method_display()} · {v.verified_by}"
        if v.moved_to:
            detail += f" · → {v.moved_to}"
        out.append(
            Event(
                v.verified_on, v.received_at, "verification", title, detail, v.ref,
                _url("fieldwork:verification", v.ref), timed=False,
            )
        )  # fmt: skip
    return out


def _level_labels(instrument: Any) -> dict[int, str]:
    from khm.assessment import instruments as inst

    lang = get_language() or "th"
    d = inst.definition(instrument) or {}
    return {lv["level"]: inst.label(lv["label"], lang) for lv in d.get("levels", [])}


def _assessments(household: Household) -> list[Event]:
    from khm.assessment.models import Assessment, AssessmentResult

    found = list(Assessment.objects.filter(household=household).select_related("capitals_instrument", "assessor"))
    results = {
        r.assessment_id: r
        for r in AssessmentResult.objects.filter(household=household, current=True).only(
            "assessment_id", "level", "target_poor"
        )
    }
    labels: dict[int, dict[int, str]] = {}
    out = []
    for a in found:
        r = results.get(a.pk)
        if a.capitals_instrument_id not in labels:
            labels[a.capitals_instrument_id] = _level_labels(a.capitals_instrument)
        if r is not None and r.level is not None:
            level = labels[a.capitals_instrument_id].get(r.level, str(r.level))
            title = _("Assessed, round %(round)s: level %(n)s %(level)s") % {
                "round": a.round,
                "n": r.level,
                "level": level,
            }
        else:
            title = _("Assessed, round %(round)s (not scored yet)") % {"round": a.round}
        parts = [a.get_method_display()]
        if a.assessor:
            parts.append(str(a.assessor))
        if r is not None and r.target_poor:
            parts.append(_("target poor"))
        if a.superseded_by_id:
            parts.append(_("replaced by a later correction"))
        out.append(Event(a.assessed_on, a.created_at, "assessment", title, " · ".join(parts), a.ref, timed=False))
    return out


def _referrals(household: Household) -> list[Event]:
    out = []
    for r in (
        Referral.objects.filter(household=household)
        .select_related("agency")
        .prefetch_related("events__agency", "events__actor")
    ):
        url = _url("referrals:detail", r.ref)
        title = _("Referral %(ref)s created: %(need)s → %(agency)s") % {
            "ref": r.ref,
            "need": r.need_label,
            "agency": r.agency.name_th,
        }
        out.append(Event(_day(r.created_at), r.created_at, "referral", title, str(r.created_by), r.ref, url))
        for e in r.events.all():
            title = _("Referral %(ref)s: %(from)s → %(to)s") % {
                "ref": r.ref,
                "from": State(e.from_state).label,
                "to": State(e.to_state).label,
            }
            detail = " · ".join(x for x in (e.agency.name_th if e.agency else "", str(e.actor or ""), e.reason) if x)
            out.append(Event(_day(e.at), e.at, "referral", title, detail, r.ref, url))
    return out


def _assistance(household: Household) -> list[Event]:
    out = []
    for a in Assistance.objects.filter(household=household).select_related("agency", "person"):
        title = _("Help received: %(kind)s, %(value)s baht") % {
            "kind": a.get_kind_display(),
            "value": number_format(a.value_baht, decimal_pos=2, use_l10n=True, force_grouping=True),
        }
        parts = [a.agency.name_th, a.programme, a.person.full_name if a.person else "", a.note]
        out.append(
            Event(a.given_on, a.created_at, "assistance", title, " · ".join(p for p in parts if p), a.ref, timed=False)
        )
    return out


READERS = {
    "registry": _registry,
    "source": _sources,
    "verification": _verifications,
    "assessment": _assessments,
    "referral": _referrals,
    "assistance": _assistance,
}


def household_events(actor: Any, household: Household, *, limit: int | None = None) -> list[Event]:
    """Every event of ``household`` the actor may see, newest first (by the day it happened,
    then by when it was recorded)."""
    events: list[Event] = []
    for kind, reader in READERS.items():
        if can(actor, NEEDS[kind], household.area_code):
            events.extend(reader(household))
    events.sort(key=lambda e: (e.on, e.at), reverse=True)
    return events[:limit] if limit is not None else events


def timeline_panel(actor: Any, household: Household) -> Panel | None:
    """The household page's panel: the newest events and a link to all of them."""
    if not can(actor, "household.view", household.area_code):
        return None
    events = household_events(actor, household)
    may_record = can(actor, "assistance.record", household.area_code)
    return Panel(
        title=str(_("Everything that happened")),
        template="referrals/timeline_panel.html",
        context={
            "events": events[:PANEL_ROWS],
            "more": max(len(events) - PANEL_ROWS, 0),
            "household": household,
            "may_record": may_record,
        },
        order=90,
    )
