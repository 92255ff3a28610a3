"""Fieldwork endpoints of the REST API (v1), used by the phone app (khm/fieldwork/static):
download the assignments, upload photos, send verifications — every write idempotent by a
key the phone makes, so a retry after a lost answer stores nothing twice.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from khm.api.access import api_scoped
from khm.api.errors import problems_payload as _errors
from khm.fieldwork import selectors, services
from khm.fieldwork.models import Campaign, Method, Verification

router = Router(tags=["fieldwork"])


class ErrorOut(Schema):
    errors: list[dict[str, str]]


class PhotoOut(Schema):
    key: str
    stored: bool
    duplicate: bool
    bytes: int


class SubmissionIn(Schema):
    key: str
    household: str
    campaign: str = ""
    device: str = ""
    outcome: str
    verified_on: str
    notes: str = ""
    moved_to: str = ""
    duplicate_of: str = ""
    consent: bool = False
    gps: dict[str, Any] | None = None
    photos: list[str] = []
    base: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    answers: dict[str, Any] | None = None


class SubmissionOut(Schema):
    key: str
    ref: str
    duplicate: bool
    outcome: str
    conflicts: list[dict[str, Any]]
    level: int | None


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _not_found(field: str) -> dict[str, Any]:
    return {
        "errors": [
            {"field": field, "message_th": "ไม่พบ หรือไม่ได้มอบหมายให้ท่าน", "message_en": "not found or not assigned to you"}
        ]
    }


def _out(v: Verification, duplicate: bool) -> dict[str, Any]:
    level = None
    if v.assessment_id:
        r = v.assessment.results.filter(current=True).first() if v.assessment else None  # type: ignore[union-attr]
        level = r.level if r else None
    return {
        "key": v.key,
        "ref": v.ref,
        "duplicate": duplicate,
        "outcome": v.outcome,
        "conflicts": [
            {"person": c.person_ref, "field": c.field, "server": c.server_value, "device": c.device_value}
            for c in v.conflicts.all()
        ],
        "level": level,
    }


@router.post("/fieldwork/download", response=dict[str, Any])
@api_scoped("verification.submit")
def download(request: HttpRequest) -> dict[str, Any]:
    """The caller's open assignments (households, members), the current questionnaire and the
    outcomes. The phone keeps exactly these households and deletes any other it holds."""
    bundle = selectors.bundle_for(_actor(request))
    services.assignments_downloaded(actor=_actor(request), ids=[h["assignment"] for h in bundle["households"]])
    return bundle


@router.post("/fieldwork/photos", response={200: PhotoOut, 201: PhotoOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("verification.submit")
def upload_photo(request: HttpRequest, key: Form[str], household: Form[str], file: File[UploadedFile]) -> Status[Any]:
    """Store one photo (resized on the phone). Sending the same key again stores nothing."""
    hh = selectors.household_to_verify(_actor(request), household)
    if hh is None:
        return Status(404, _not_found("household"))
    try:
        photo, created = services.photo_store(actor=_actor(request), key=key, household=hh, content=file.read())
    except services.SubmissionInvalid as exc:
        return Status(422, _errors(exc.problems))
    except PermissionDenied:
        return Status(404, _not_found("household"))
    return Status(
        201 if created else 200, {"key": photo.key, "stored": True, "duplicate": not created, "bytes": photo.bytes}
    )


@router.post("/fieldwork/submissions", response={200: SubmissionOut, 201: SubmissionOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("verification.submit")
def submit(request: HttpRequest, body: SubmissionIn) -> Status[Any]:
    """Send one verification from the phone. The same ``key`` twice is stored once (200 with
    ``duplicate: true``). Fields the registry changed since the download come back in
    ``conflicts`` and wait for an officer; everything else is applied."""
    actor = _actor(request)
    known = selectors.verification_by_key(actor, body.key)
    if known is not None:
        return Status(200, _out(known, True))
    hh = selectors.household_to_verify(actor, body.household)
    campaign = Campaign.objects.filter(code=body.campaign).first() if body.campaign else None
    if hh is None or (body.campaign and campaign is None):
        return Status(404, _not_found("household" if hh is None else "campaign"))
    payload = body.dict()
    try:
        v, created = services.verification_submit(
            actor=actor,
            key=body.key,
            household=hh,
            payload=payload,
            method=Method.FIELD,
            campaign=campaign,
            device=body.device,
        )
    except services.SubmissionInvalid as exc:
        return Status(422, _errors(exc.problems))
    except PermissionDenied:
        return Status(404, _not_found("household"))
    return Status(201 if created else 200, _out(v, not created))


@router.get("/fieldwork/submissions/{key}", response={200: SubmissionOut, 404: ErrorOut})
@api_scoped("verification.submit")
def get_submission(request: HttpRequest, key: str) -> Status[Any]:
    """Did the server get this submission? (For a phone that lost the answer.)"""
    v = selectors.verification_by_key(_actor(request), key)
    if v is None:
        return Status(404, _not_found("key"))
    return Status(200, _out(v, True))
