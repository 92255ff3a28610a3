"""The household page's "Referrals and help" panel, and the needs of a household as the
referral pages see them: the needs of its current assessment result (labels from the needs
instrument the result was scored with) and which of them still wait for a referral."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Case, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can
from khm.assessment import instruments as inst
from khm.assessment.models import Instrument
from khm.assessment.selectors import household_history
from khm.core.panels import Panel
from khm.referrals.models import OPEN_STATES, Referral, State
from khm.referrals.selectors import assistance_visible, referrals_visible

HELP_ROWS = 20

# A referral in one of these states no longer covers its need: the need waits again.
UNMET_STATES = (State.CANCELLED, State.NOT_POSSIBLE)


@dataclass(frozen=True)
class Need:
    code: str
    label: str  # in the page's language
    label_th: str  # stored with a referral (agencies read Thai)
    agency_types: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()  # labels of the agency types
    priority: int | None = None
    persons: int = 0
    source: str = ""  # "assessment:<ref>" for a need found by an assessment


@dataclass
class Catalogue:
    """The needs rules and agency types of one needs instrument, labelled."""

    needs: dict[str, Need] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # agency type code → label


def catalogue(instrument: Instrument | None = None) -> Catalogue:
    """The needs and agency types of ``instrument`` (the current needs instrument when None)."""
    definition = inst.definition(instrument or inst.current_of_kind("needs")) or {}
    lang = get_language() or "th"
    types = {t["code"]: inst.label(t["label"], lang) for t in definition.get("agency_types", [])}
    needs = {}
    for rule in definition.get("rules", []):
        codes = tuple(rule.get("agency_types", []))
        needs[rule["code"]] = Need(
            code=rule["code"],
            label=inst.label(rule.get("label"), lang) or rule["code"],
            label_th=inst.label(rule.get("label"), "th") or rule["code"],
            agency_types=codes,
            agencies=tuple(types.get(c, c) for c in codes),
            priority=rule.get("priority"),
        )
    return Catalogue(needs=needs, types=types)


def household_needs(actor: Any, household: Any) -> list[Need]:
    """The needs found by the household's current assessment result (empty when none)."""
    latest = next(
        (
            h
            for h in household_history(actor, household)
            if h.result is not None and h.assessment.superseded_by_id is None
        ),
        None,
    )
    if latest is None or latest.result is None:
        return []
    cat = catalogue(latest.result.run.needs_instrument)
    out = []
    for n in latest.result.detail.get("needs", []):
        known = cat.needs.get(n["code"])
        types = tuple(n.get("agency_types") or (known.agency_types if known else ()))
        out.append(
            Need(
                code=n["code"],
                label=known.label if known else n["code"],
                label_th=known.label_th if known else n["code"],
                agency_types=types,
                agencies=tuple(cat.types.get(t, t) for t in types),
                priority=n.get("priority"),
                persons=len(n.get("persons") or []),
                source=f"assessment:{latest.assessment.ref}",
            )
        )
    return out


def with_overdue(qs: QuerySet[Referral], today: dt.date | None = None) -> QuerySet[Referral]:
    """Annotate ``overdue``: open and past its due date."""
    today = today or timezone.localdate()
    return qs.annotate(
        overdue=Case(
            When(state__in=OPEN_STATES, due_on__lt=today, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def waiting(needs: list[Need], referrals: list[Referral]) -> list[Need]:
    """The needs no live referral covers yet."""
    covered = {r.need for r in referrals if r.state not in UNMET_STATES}
    return [n for n in needs if n.code not in covered]


def referral_panel(actor: Any, household: Any) -> Panel | None:
    """Needs waiting for a referral (with a "refer" button each), the referrals and the help
    received; for people who see referrals in the household's area."""
    if not can(actor, "referral.view", household.area_code):
        return None
    referrals = list(
        with_overdue(referrals_visible(actor).filter(household=household)).select_related("agency", "service")
    )
    may_refer = can(actor, "referral.create", household.area_code)
    help_given = assistance_visible(actor).filter(household=household)
    received = list(help_given.select_related("agency")[:HELP_ROWS])
    if not referrals and not received and not may_refer:
        return None
    return Panel(
        title=str(_("Referrals and help")),
        template="referrals/_household_panel.html",
        context={
            "household": household,
            "referrals": referrals,
            "waiting": waiting(household_needs(actor, household), referrals),
            "may_refer": may_refer,
            "help": received,
            "help_count": help_given.count() if len(received) == HELP_ROWS else len(received),
            "help_total": help_given.aggregate(total=Sum("value_baht"))["total"] if received else None,
        },
        order=30,
    )
