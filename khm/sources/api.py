"""Import endpoints of the REST API (v1): upload and stage, read a batch, commit.

No ``from __future__ import annotations`` here: django-ninja reads the annotations at run
time through our access decorator, so they must be real types.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from khm.api.access import api_scoped
from khm.api.errors import bilingual, validation_payload
from khm.sources import selectors, services
from khm.sources.models import ImportBatch, MappingProfile, RowOutcome, Source

router = Router(tags=["imports"])


class BatchOut(Schema):
    code: str
    source: str
    file_name: str
    status: str
    counts: dict[str, int]
    error: str
    rejected_rows: list[dict[str, Any]]


class ErrorOut(Schema):
    errors: list[dict[str, str]]


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None)


def _out(batch: ImportBatch) -> dict[str, Any]:
    rejected = selectors.batch_rows(batch, outcome=RowOutcome.REJECTED, limit=100)
    return {
        "code": batch.code,
        "source": batch.source.code,
        "file_name": batch.file_name,
        "status": batch.status,
        "counts": batch.counts,
        "error": batch.error,
        "rejected_rows": [{"row": r.row_no, "errors": r.errors} for r in rejected],
    }


@router.post("/imports", response={201: BatchOut, 422: ErrorOut})
@api_scoped("source.import")
def upload(
    request: HttpRequest, source: Form[str], profile: Form[str], file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    """Upload a list file and stage it: parsed, validated and linked, nothing written yet.

    ``source`` is a source code (e.g. ``tpmap-2568``), ``profile`` a mapping-profile name.
    """
    from khm.sources import errors

    src = Source.objects.filter(code=source).first()
    prof = MappingProfile.objects.filter(name=profile).first()
    if src is None or prof is None:
        field = "source" if src is None else "profile"
        return Status(422, {"errors": [{"field": field, **bilingual(errors.UNKNOWN_SOURCE_OR_PROFILE)}]})
    try:
        batch = services.batch_upload(
            actor=_actor(request), source=src, profile=prof, file_name=file.name or "upload.csv", content=file.read()
        )
    except ValidationError as exc:
        return Status(422, validation_payload(exc))
    return Status(201, _out(services.batch_stage(actor=_actor(request), batch=batch)))


@router.get("/imports/{code}", response={200: BatchOut, 404: ErrorOut})
@api_scoped("source.view")
def get_batch(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    try:
        batch = selectors.batch_for(_actor(request), code)
    except Http404:
        return Status(
            404, {"errors": [{"field": "code", "message_th": "ไม่พบชุดนำเข้า", "message_en": "batch not found"}]}
        )
    return Status(200, _out(batch))


@router.post("/imports/{code}/commit", response={200: BatchOut, 404: ErrorOut, 422: ErrorOut})
@api_scoped("source.import")
def commit(request: HttpRequest, code: str) -> Status[dict[str, Any]]:
    try:
        batch = selectors.batch_for(_actor(request), code)
    except Http404:
        return Status(
            404, {"errors": [{"field": "code", "message_th": "ไม่พบชุดนำเข้า", "message_en": "batch not found"}]}
        )
    try:
        batch = services.batch_commit(actor=_actor(request), batch=batch)
    except ValidationError as exc:
        return Status(422, validation_payload(exc))
    return Status(200, _out(batch))
