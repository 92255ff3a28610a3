"""Assessment endpoints of the REST API (v1): instruments and their versions, a household's
assessments and results, recording an assessment, area aggregates, scoring runs.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from khm.api.access import api_authenticated, api_scoped
from khm.areas.models import Area
from khm.assessment import instruments as inst
from khm.assessment import selectors, services
from khm.assessment.models import Instrument, ScoringRun
from khm.registry.access import household_for

router = Router(tags=["assessment"])


class ErrorOut(Schema):
    errors: list[dict[str, str]]


class InstrumentOut(Schema):
    code: str
    kind: str
    version: int
    title_th: str
    title_en: str
    checksum: str
    note: str
    created_at: dt.datetime


class InstrumentIn(Schema):
    definition: dict[str, Any]
    note: str


class AssessmentIn(Schema):
    round: str
    assessed_on: dt.date
    method: str = "desk"
    data: dict[str, Any]


class RunIn(Schema):
    area_code: str = ""
    round: str = ""


class RunOut(Schema):
    id: int
    area_code: str
    round: str
    n_assessments: int
    instruments: list[str]
    code_version: str
    inputs_hash: str
    outputs_hash: str
    rerun_of: int | None
    reproduced: bool | None
    seconds: float | None


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _problems(problems: list[Any]) -> dict[str, Any]:
    return {"errors": [{"field": p.path, "message_th": p.th, "message_en": p.en} for p in problems]}


def _not_found(field: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message_th": "ไม่พบข้อมูล", "message_en": "not found"}]}


def _run_out(r: ScoringRun) -> dict[str, Any]:
    return {
        "id": r.pk,
        "area_code": r.area_code,
        "round": r.round,
        "n_assessments": r.n_assessments,
        "instruments": [str(i) for i in (r.capitals_instrument, r.bmn_instrument, r.needs_instrument) if i],
        "code_version": r.code_version,
        "inputs_hash": r.inputs_hash,
        "outputs_hash": r.outputs_hash,
        "rerun_of": r.rerun_of_id,
        "reproduced": r.reproduced,
        "seconds": r.seconds,
    }


@router.get("/assessment/instruments", response=list[InstrumentOut])
@api_authenticated
def list_instruments(request: HttpRequest) -> list[Instrument]:
    """Every version of every instrument, newest version first per code."""
    return list(Instrument.objects.order_by("code", "-version"))


@router.get("/assessment/instruments/{code}/{version}", response={200: dict[str, Any], 404: ErrorOut})
@api_authenticated
def get_instrument(request: HttpRequest, code: str, version: int) -> Status[dict[str, Any]]:
    """One version's full definition (the JSON format of docs/assessment.md)."""
    obj = Instrument.objects.filter(code=code, version=version).first()
    if obj is None:
        return Status(404, _not_found("version"))
    return Status(200, obj.definition)


@router.post("/assessment/instruments/{code}", response={201: InstrumentOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("instrument.edit")
def save_instrument(request: HttpRequest, code: str, body: InstrumentIn) -> Status[Any]:
    """Save an edited definition as the next version of ``code`` (never changes a version)."""
    if inst.current(code) is None:
        return Status(404, _not_found("code"))
    try:
        created = services.instrument_save_version(
            actor=_actor(request), code=code, definition=body.definition, note=body.note
        )
    except services.AssessmentInvalid as exc:
        return Status(422, _problems(exc.problems))
    return Status(201, created)


@router.get("/households/{code}/assessments", response={200: list[dict[str, Any]], 404: ErrorOut})
@api_scoped("assessment.view")
def household_assessments(request: HttpRequest, code: str) -> Status[Any]:
    """A household's assessments, newest first, with the current result of each."""
    try:
        household = household_for(_actor(request), code, "assessment.view")
    except Http404:
        return Status(404, _not_found("code"))
    out = []
    for h in selectors.household_history(_actor(request), household):
        r = h.result
        out.append(
            {
                "ref": h.assessment.ref,
                "round": h.assessment.round,
                "assessed_on": h.assessment.assessed_on.isoformat(),
                "method": h.assessment.method,
                "superseded": h.assessment.superseded_by_id is not None,
                "instrument": str(h.assessment.capitals_instrument),
                "result": None
                if r is None
                else {
                    "run": r.run_id,
                    "level": r.level,
                    "overall": r.overall,
                    "result_hash": r.result_hash,
                    **r.detail,
                },
            }
        )
    return Status(200, out)


@router.post("/households/{code}/assessments", response={201: dict[str, Any], 404: ErrorOut, 422: ErrorOut})
@api_scoped("assessment.create")
def record_assessment(request: HttpRequest, code: str, body: AssessmentIn) -> Status[Any]:
    """Record an assessment taken with the current instruments; it is scored at once.
    Every wrong answer is named by its path (e.g. ``capitals.p_tenure``) in Thai and English."""
    try:
        household = household_for(_actor(request), code, "assessment.create")
    except Http404:
        return Status(404, _not_found("code"))
    if body.method not in ("field", "desk", "import"):
        return Status(
            422,
            {
                "errors": [
                    {
                        "field": "method",
                        "message_th": "ต้องเป็น field, desk หรือ import",
                        "message_en": "must be field, desk or import",
                    }
                ]
            },
        )
    try:
        a = services.assessment_record(
            actor=_actor(request),
            household=household,
            round=body.round,
            assessed_on=body.assessed_on,
            method=body.method,
            data=body.data,
        )
    except services.AssessmentInvalid as exc:
        return Status(422, _problems(exc.problems))
    r = a.results.filter(current=True).first()
    return Status(
        201, {"ref": a.ref, "round": a.round, "level": r.level if r else None, "result": r.detail if r else None}
    )


@router.get("/assessment/areas/{code}", response={200: dict[str, Any], 404: ErrorOut})
@api_scoped("assessment.aggregate")
def area_summary(request: HttpRequest, code: str, round: str = "") -> Status[Any]:
    """Aggregates for an area within the caller's scope: levels, mean capitals, TPMAP counts,
    deprivations and the MPI (household unit) overall, by child area and by group."""
    if not Area.objects.filter(code=code).exists() or selectors.area_scope(_actor(request), code).empty:
        return Status(404, _not_found("code"))
    rnd = round or next(iter(selectors.rounds()), "")
    s = selectors.area_summary(_actor(request), code, rnd)
    return Status(
        200,
        {
            "area_code": code,
            "round": s.round,
            "households": s.n,
            "levels": {str(k): v for k, v in s.levels.items()},
            "level_unknown": s.level_unknown,
            "capitals": s.capitals,
            "overall": s.overall,
            "tpmap_poor": s.tpmap_poor,
            "target_poor": s.target_poor,
            "deprivations": [{k: v for k, v in d.items() if k != "indicator"} for d in s.deprivations],
            "mpi": s.mpi,
            "children": s.children,
        },
    )


@router.get("/assessment/runs", response=list[RunOut])
@api_scoped("assessment.score")
def list_runs(request: HttpRequest) -> list[dict[str, Any]]:
    runs = selectors.runs_visible(_actor(request)).select_related(
        "capitals_instrument", "bmn_instrument", "needs_instrument"
    )[:200]
    return [_run_out(r) for r in runs]


@router.post("/assessment/runs", response={201: RunOut, 404: ErrorOut})
@api_scoped("assessment.score")
def start_run(request: HttpRequest, body: RunIn) -> Status[Any]:
    """Score every current assessment of an area with the current instrument versions."""
    try:
        run = services.scoring_run_start(actor=_actor(request), area_code=body.area_code, round=body.round)
    except PermissionDenied:
        return Status(404, _not_found("area_code"))
    return Status(201, _run_out(run))


@router.post("/assessment/runs/{run_id}/rerun", response={201: RunOut, 404: ErrorOut})
@api_scoped("assessment.score")
def rerun(request: HttpRequest, run_id: int) -> Status[Any]:
    """Compute an old run again with its own instrument versions; ``reproduced`` says whether
    the results are identical."""
    run = selectors.runs_visible(_actor(request)).filter(pk=run_id).first()
    if run is None:
        return Status(404, _not_found("run_id"))
    try:
        again = services.scoring_run_rerun(actor=_actor(request), run=run)
    except PermissionDenied:
        raise HttpError(404, "not found") from None
    return Status(201, _run_out(again))
