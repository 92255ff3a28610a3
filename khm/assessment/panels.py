"""The household page's assessment panel: the latest pentagon, level, deprivations and
needs, and the history of assessments."""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from khm.accounts.scoping import can
from khm.assessment import instruments as inst
from khm.assessment.selectors import household_history
from khm.core.panels import Panel


def panel_context(actor: Any, household: Any) -> dict[str, Any] | None:
    if not can(actor, "assessment.view", household.area_code):
        return None
    history = household_history(actor, household)
    may_assess = can(actor, "assessment.create", household.area_code)
    if not history and not may_assess:
        return None
    lang = get_language() or "th"
    latest = next((h for h in history if h.result is not None and h.assessment.superseded_by_id is None), None)
    previous = None
    if latest is not None:
        previous = next(
            (h for h in history if h.result is not None and h.assessment.round < latest.assessment.round), None
        )
    ctx: dict[str, Any] = {"history": history, "latest": latest, "previous": previous, "may_assess": may_assess}
    if latest is not None and latest.result is not None:
        run = latest.result.run
        cap_def = inst.definition(run.capitals_instrument) or {}
        bmn_def = inst.definition(run.bmn_instrument) or {}
        needs_def = inst.definition(run.needs_instrument) or {}
        detail = latest.result.detail
        levels = {lv["level"]: inst.label(lv["label"], lang) for lv in cap_def.get("levels", [])}
        axes = [(c["code"], inst.label(c["label"], lang)) for c in cap_def.get("capitals", [])]
        indicators = {i["code"]: i for i in bmn_def.get("indicators", [])}
        dims = {d["code"]: inst.label(d["label"], lang) for d in bmn_def.get("dimensions", [])}
        need_labels = {r["code"]: inst.label(r["label"], lang) for r in needs_def.get("rules", [])}
        types = {t["code"]: inst.label(t["label"], lang) for t in needs_def.get("agency_types", [])}
        deprived = []
        for code in (detail.get("bmn") or {}).get("deprived", []):
            ind = indicators.get(code, {})
            persons = [k for k, codes in detail["bmn"]["persons"].items() if code in codes]
            deprived.append(
                {
                    "code": code,
                    "number": ind.get("number"),
                    "label": inst.label(ind.get("label"), lang),
                    "dimension": dims.get(ind.get("dimension") or "", ""),
                    "level": ind.get("level"),
                    "persons": len(persons),
                }
            )
        needs = [
            {
                **n,
                "label": need_labels.get(n["code"], n["code"]),
                "agencies": [types.get(t, t) for t in n["agency_types"]],
            }
            for n in detail.get("needs", [])
        ]
        series = [
            {
                "label": f"{_('Round')} {latest.assessment.round}",
                "values": {c: detail["capitals"][c]["score"] for c, _l in axes},
                "style": "primary",
            }
        ]
        if previous is not None and previous.result is not None:
            series.append(
                {
                    "label": f"{_('Round')} {previous.assessment.round}",
                    "values": {c: previous.result.detail["capitals"][c]["score"] for c, _l in axes},
                    "style": "secondary",
                }
            )
        ctx.update(
            {
                "result": latest.result,
                "detail": detail,
                "axes": axes,
                "series": series,
                "level_label": levels.get(detail.get("level")),
                "levels": levels,
                "deprived": deprived,
                "needs": needs,
                "capital_rows": [(label, detail["capitals"][c]) for c, label in axes],
            }
        )
    return ctx


def assessment_panel(actor: Any, household: Any) -> Panel | None:
    ctx = panel_context(actor, household)
    if ctx is None:
        return None
    return Panel(
        title=str(_("Assessment: five capitals and needs")),
        template="assessment/_household_panel.html",
        context={**ctx, "household": household},
        order=20,
    )
