"""Graduation out of poverty: the versioned criteria (data), the candidates they find, and the
follow-up that returns a graduated household to the list when it falls back.

The rules themselves are evaluated by the pure engine ``khm.engines.graduation``; this module
reads the households' assessment history and the income thresholds for it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from khm.assessment import instruments as inst
from khm.assessment.models import AssessmentResult
from khm.audit.services import audit_record
from khm.core.problems import Invalid, Problem
from khm.engines import graduation as engine
from khm.engines import scoring
from khm.forums.models import GraduationCriteria, HouseholdStanding, Standing
from khm.forums.standing import standing_set
from khm.registry.models import Household

DEFAULT_FILE = Path(__file__).with_name("criteria") / "graduation.v1.json"


def criteria_current() -> GraduationCriteria:
    """The newest criteria; the shipped default is installed when there is none."""
    found = GraduationCriteria.objects.order_by("-version").first()
    if found is None:
        found, _ = GraduationCriteria.objects.get_or_create(
            version=1, defaults={"definition": json.loads(DEFAULT_FILE.read_text("utf-8")), "note": "default"}
        )
    return found


def criteria_save_version(*, actor: Any, definition: dict[str, Any], note: str) -> GraduationCriteria:
    """A new version of the criteria (old versions are never changed)."""
    bmn = inst.current_of_kind("bmn")
    codes = [i["code"] for i in (bmn.definition if bmn is not None else {}).get("indicators", [])]
    problems = engine.validate(definition, codes or None)
    if problems:
        raise Invalid([Problem(p.path, p.th, p.en) for p in problems])
    with transaction.atomic():
        version = (GraduationCriteria.objects.order_by("-version").values_list("version", flat=True).first() or 0) + 1
        c = GraduationCriteria.objects.create(version=version, definition=definition, note=note[:300], created_by=actor)
        audit_record(
            actor=actor, action="graduation_criteria.create", object_type="graduation_criteria",
            object_ref=str(version), note=note[:500],
        )  # fmt: skip
    return c


def _thresholds(rounds: Iterable[str]) -> dict[str, float]:
    bmn = inst.current_of_kind("bmn")
    definition = bmn.definition if bmn is not None else {}
    out: dict[str, float] = {}
    for r in rounds:
        t = scoring.income_threshold(definition, r)
        if t is not None:
            out[r] = float(t)
    return out


def histories(households: QuerySet[Household] | Iterable[int]) -> dict[int, list[engine.RoundResult]]:
    """Each household's current assessment results, one per round, as the engine reads them."""
    ids = list(households.values_list("pk", flat=True)) if isinstance(households, QuerySet) else list(households)
    out: dict[int, list[engine.RoundResult]] = defaultdict(list)
    for chunk in (ids[i : i + 2000] for i in range(0, len(ids), 2000)):
        rows = (
            AssessmentResult.objects.filter(household_id__in=chunk, current=True)
            .values_list("household_id", "round", "level", "target_poor", "detail", "assessment__assessed_on")
            .order_by("household_id", "round")
        )
        for hid, rnd, level, target, detail, on in rows:
            bmn = (detail or {}).get("bmn") or {}
            deprived = frozenset(k for k, v in (bmn.get("household") or {}).items() if v == 1)
            out[hid].append(
                engine.RoundResult(
                    round=rnd,
                    level=level,
                    income_per_person=bmn.get("income_per_person"),
                    deprived=deprived,
                    target_poor=bool(target),
                    assessed_on=on,
                )
            )
    return dict(out)


@dataclass
class Candidate:
    household: Household
    verdict: Any  # engine.Verdict


def candidates(households: QuerySet[Household], *, definition: dict[str, Any] | None = None) -> list[Candidate]:
    """Households (already on the list, already scoped by the caller) that meet every
    graduation criterion."""
    definition = definition or criteria_current().definition
    hist = histories(households)
    thresholds = _thresholds({r.round for rs in hist.values() for r in rs})
    eligible = {hid: v for hid, rs in hist.items() if (v := engine.evaluate(rs, definition, thresholds)).eligible}
    found = households.filter(pk__in=list(eligible)).select_related("village").order_by("area_code", "code")
    return [Candidate(h, eligible[h.pk]) for h in found]


def verdict_for(household: Household) -> Any:
    definition = criteria_current().definition
    rs = histories([household.pk]).get(household.pk, [])
    return engine.evaluate(rs, definition, _thresholds({r.round for r in rs}))


def follow_until(on: dt.date) -> dt.date:
    return engine.follow_until(on, criteria_current().definition)


def follow_up(*, area_code: str = "", today: dt.date | None = None) -> list[tuple[Household, str]]:
    """Return to the list every graduated household still followed whose assessment after
    graduation meets the fall-back rule. Returns (household, why) for each."""
    today = today or dt.date.today()
    definition = criteria_current().definition
    rows = HouseholdStanding.objects.filter(status=Standing.GRADUATED, follow_until__gte=today).select_related(
        "household"
    )
    if area_code:
        rows = rows.filter(area_code__startswith=area_code)
    rows_by_h = {r.household_id: r for r in rows}
    hist = histories(list(rows_by_h))
    back: list[tuple[Household, str]] = []
    for hid, row in rows_by_h.items():
        after = [r for r in hist.get(hid, []) if row.round and r.round > row.round]
        check = engine.fell_back(after, definition)
        if check is not None:
            why = f"{check.th} / {check.en}"
            standing_set(
                actor=None, household=row.household, to=Standing.CONFIRMED, on=today,
                reason=f"กลับเข้าบัญชีระหว่างติดตาม / back on the list during follow-up: {why}",
                round=max(r.round for r in after),
            )  # fmt: skip
            back.append((row.household, why))
    return back
