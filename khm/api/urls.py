"""The versioned REST API (django-ninja) with its OpenAPI schema at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from khm.api.auth import AUTH
from khm.api.errors import validation_payload
from khm.areas.api import router as areas_router
from khm.assessment.api import router as assessment_router
from khm.fieldwork.api import router as fieldwork_router
from khm.forums.api import router as forums_router
from khm.insights.api import router as insights_open_router
from khm.livelihoods.api import router as livelihoods_router
from khm.referrals.api import router as referrals_router
from khm.registry.api import router as registry_router
from khm.sources.api import router as sources_router


class ThaiJSONRenderer(JSONRenderer):
    """UTF-8 Thai instead of \\uXXXX escapes: the phone's download is about a quarter smaller."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(title="KHM API", version="1", auth=AUTH, urls_namespace="api", renderer=ThaiJSONRenderer())
api.add_router("/", registry_router)
api.add_router("/", areas_router)
api.add_router("/", sources_router)
api.add_router("/", assessment_router)
api.add_router("/", fieldwork_router)
api.add_router("/", referrals_router)
api.add_router("/", forums_router)
api.add_router("/", livelihoods_router)
api.add_router("/", insights_open_router)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, validation_payload(exc), status=422)


def operations() -> list[tuple[str, str, Any]]:
    """(method, path, view function) of every API operation, for the access tests."""
    out = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                for method in op.methods:
                    out.append((method, prefix + path, op.view_func))
    return out
