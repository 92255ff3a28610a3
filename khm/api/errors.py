"""API errors name the field and say what is wrong in Thai and English."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation


def bilingual(message: Any) -> dict[str, str]:
    with translation.override("th"):
        th = str(message)
    with translation.override("en"):
        en = str(message)
    return {"message_th": th, "message_en": en}


def validation_payload(exc: ValidationError) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            for e in errs:
                msg = e.message % e.params if e.params else e.message
                errors.append({"field": field, **bilingual(msg)})
    else:
        for e in exc.error_list:
            errors.append({"field": "", **bilingual(e.message)})
    return {"errors": errors}


def problems_payload(problems: Any) -> dict[str, Any]:
    """A service's problems (khm.core.problems.Problem: field, th, en) as the API's errors."""
    return {"errors": [{"field": p.field, "message_th": p.th, "message_en": p.en} for p in problems]}


def not_found_payload(field: str) -> dict[str, Any]:
    """Missing and not-yours answer alike (Local Data Ownership)."""
    return {"errors": [{"field": field, "message_th": "ไม่พบ หรือไม่ใช่ของท่าน", "message_en": "not found or not yours"}]}
